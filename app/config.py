"""Settings read from the environment, and nothing else.

Every setting has a safe default: debug and dev tools off, an in-process
cache, security headers and limits on. See README ("Deploying", "Production").
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int, low: int = 0) -> int:
    try:
        return max(low, int(os.environ.get(name, default)))
    except ValueError:
        return default


def _float(name: str, default: float, low: float = 0.0) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return max(low, value) if value == value else default


@dataclass(frozen=True)
class Settings:
    """The site's settings.

    cache_type: "simple" (in-process), "filesystem" (shared by workers on one
    machine, in cache_dir) or "redis" (shared by machines, at cache_redis_url).
    background: where callbacks marked `background=True` run: "diskcache"
    (processes on this machine, results in background_dir) or "celery"
    (Celery workers, broker and results at celery_broker_url).
    """

    debug: bool
    dev_tools: bool
    port: int
    host: str
    cache_type: str
    cache_dir: str
    cache_redis_url: str
    cache_timeout_s: int
    cache_retry_s: float          # after a cache backend error, skip the cache this long
    response_cache: bool          # cache whole callback responses (callbacks are pure)
    compute_slots: int            # cache misses computed at once per worker process
    compute_wait_s: float         # how long a miss waits for a slot before "busy"
    prefetch: bool                # compute a lesson's next steps while the visitor reads (app.prefetch)
    background: str
    background_dir: str
    celery_broker_url: str
    max_request_bytes: int
    csp: bool
    secret_key: str
    static_max_age_s: int
    prepare_at_start: bool        # set Dash up before the first request (under gunicorn)
    precompress_static: bool      # and compress the static scripts then


def load() -> Settings:
    redis_url = os.environ.get("CACHE_REDIS_URL", "").strip()
    default_type = "redis" if redis_url else "simple"
    broker = os.environ.get("CELERY_BROKER_URL", "").strip()
    debug = _flag("LEARNSCAPE_DEBUG")
    return Settings(
        debug=debug,
        dev_tools=_flag("LEARNSCAPE_DEV_TOOLS", debug),
        port=_int("PORT", 8050),
        host=os.environ.get("HOST", "127.0.0.1"),
        cache_type=os.environ.get("CACHE_TYPE", default_type).strip().lower(),
        cache_dir=os.environ.get("CACHE_DIR", ".cache/learnscape"),
        cache_redis_url=redis_url,
        cache_timeout_s=_int("CACHE_TIMEOUT", 24 * 3600),
        cache_retry_s=_float("CACHE_RETRY_SECONDS", 15.0),
        response_cache=_flag("RESPONSE_CACHE", True),
        compute_slots=_int("COMPUTE_SLOTS", 1, low=1),
        compute_wait_s=_float("COMPUTE_WAIT_SECONDS", 10.0),
        prefetch=_flag("PREFETCH", True),
        background=os.environ.get("BACKGROUND", "celery" if broker else "diskcache").strip().lower(),
        background_dir=os.environ.get("BACKGROUND_DIR", ".cache/learnscape-jobs"),
        celery_broker_url=broker or redis_url,
        max_request_bytes=_int("MAX_REQUEST_BYTES", 2_000_000, low=1024),
        csp=_flag("SECURITY_CSP", True),
        secret_key=os.environ.get("SECRET_KEY", ""),
        static_max_age_s=_int("STATIC_MAX_AGE", 365 * 24 * 3600),
        prepare_at_start="gunicorn.arbiter" in sys.modules,
        precompress_static=_flag("PRECOMPRESS_STATIC", True),
    )


settings = load()
