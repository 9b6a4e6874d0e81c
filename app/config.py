"""Settings read from the environment, and nothing else.

Every setting has a safe default: debug off, an in-process cache, limits on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class Settings:
    """The site's settings.

    cache_type: "simple" (in-process), "filesystem" (shared by workers on one
    machine, in cache_dir) or "redis" (shared by machines, at cache_redis_url).
    """

    debug: bool
    port: int
    host: str
    cache_type: str
    cache_dir: str
    cache_redis_url: str
    cache_timeout_s: int
    max_request_bytes: int


def load() -> Settings:
    redis_url = os.environ.get("CACHE_REDIS_URL", "")
    default_type = "redis" if redis_url else "simple"
    return Settings(
        debug=_flag("LEARNSCAPE_DEBUG"),
        port=_int("PORT", 8050),
        host=os.environ.get("HOST", "127.0.0.1"),
        cache_type=os.environ.get("CACHE_TYPE", default_type).strip().lower(),
        cache_dir=os.environ.get("CACHE_DIR", ".cache/learnscape"),
        cache_redis_url=redis_url,
        cache_timeout_s=_int("CACHE_TIMEOUT", 24 * 3600),
        max_request_bytes=_int("MAX_REQUEST_BYTES", 2_000_000),
    )


settings = load()
