"""The one flask-caching Cache of the site, bound to the server in app.main.

Expensive pure computations are memoized on scalar arguments (seed, sizes,
names, rates) with `@memoize()` below. Called outside a Flask application
(unit tests, scripts), memoized functions simply compute.

The cache is an optimisation, never a dependency: when its backend fails
(Redis gone, disk full) a call computes and the site goes on serving; the
backend is then left alone for `settings.cache_retry_s` seconds so that a
dead server does not cost a timeout per request. A miss that must compute
waits for one of `settings.compute_slots` slots of its worker process and,
after `settings.compute_wait_s` seconds, gives up with `Busy` (a ValueError,
which every lesson already shows to the visitor as a message).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import pickle
import threading
import time
from pathlib import Path

from flask import current_app, has_app_context
from flask_caching import Cache

from app.config import Settings

cache = Cache()
log = logging.getLogger("learnscape.cache")

ROOT = Path(__file__).resolve().parent.parent
#: Folders whose code decides what a cached value is; any change of it on
#: deploy starts a fresh key space (old entries simply expire).
CODE_FOLDERS = ("app", "components", "pages")


class Busy(ValueError):
    """Too many computations at once in this worker; the visitor may retry."""


def code_version() -> str:
    """A short hash of the site's code (Python files and narration)."""
    digest = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".md") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cache_config(settings: Settings, version: str | None = None) -> dict:
    """flask-caching configuration for the chosen backend."""
    common = {
        "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout_s,
        "CACHE_KEY_PREFIX": f"learnscape:{version or code_version()}:",
    }
    if settings.cache_type == "redis":
        # Short socket timeouts: a stalled Redis must not stall a request.
        return {**common, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.cache_redis_url,
                "CACHE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5,
                                  "health_check_interval": 30}}
    if settings.cache_type == "filesystem":
        return {**common, "CACHE_TYPE": "FileSystemCache", "CACHE_DIR": settings.cache_dir,
                "CACHE_THRESHOLD": 5000}
    return {**common, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 2000}


class _Guard:
    """Per-process health of the backend and the slots for computing misses.

    Not visitor state: it only says whether to try the backend, and how many
    computations this process runs at once.
    """

    def __init__(self):
        self.app = None
        self.settings: Settings | None = None
        self.skip_until = 0.0
        self.slots = threading.BoundedSemaphore(1)

    def bind(self, app, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.slots = threading.BoundedSemaphore(settings.compute_slots)

    def backend(self):
        """The cache backend to use now, or None (no app, or backend resting)."""
        if time.monotonic() < self.skip_until:
            return None
        app = current_app._get_current_object() if has_app_context() else self.app
        if app is None or cache not in app.extensions.get("cache", {}):
            return None
        return app.extensions["cache"][cache]

    def failed(self, action: str, error: Exception) -> None:
        retry = self.settings.cache_retry_s if self.settings else 15.0
        if time.monotonic() >= self.skip_until:
            log.warning("cache %s failed (%s: %s); computing without the cache for %.0f s",
                        action, type(error).__name__, error, retry)
        self.skip_until = time.monotonic() + retry


guard = _Guard()


def bind(app, settings: Settings) -> None:
    """Use `app`'s cache also outside a request (background jobs, warm-up)."""
    guard.bind(app, settings)


def get(key: str) -> tuple[bool, object]:
    """(found, value) from the cache; (False, None) if absent or the backend fails."""
    backend = guard.backend()
    if backend is None:
        return False, None
    try:
        value = backend.get(key)
        if value is None:
            return False, None
        return True, value
    except Exception as error:  # any backend failure: redis, pickle, disk
        guard.failed("read", error)
        return False, None


def set(key: str, value, timeout: int | None = None) -> bool:  # noqa: A001 - mirrors the cache API
    backend = guard.backend()
    if backend is None:
        return False
    try:
        return bool(backend.set(key, value, timeout=timeout))
    except Exception as error:
        guard.failed("write", error)
        return False


_held = threading.local()


class _Slot:
    """One of this process's slots for a computation (re-entrant per thread,
    so a memoized function may call another)."""

    def __enter__(self):
        depth = getattr(_held, "depth", 0)
        if depth == 0:
            wait = guard.settings.compute_wait_s if guard.settings else 20.0
            if not guard.slots.acquire(timeout=wait):
                raise Busy(f"the server is busy with other visitors' runs and waited {wait:g} s "
                           "for a free slot; try again in a few seconds")
        _held.depth = depth + 1
        return self

    def __exit__(self, *exc):
        _held.depth -= 1
        if _held.depth == 0:
            guard.slots.release()
        return False


def compute_slot() -> _Slot:
    """Context manager: hold a computation slot of this process, or raise Busy."""
    return _Slot()


def memo_key(fn, args: tuple, kwargs: dict) -> str:
    """A key stable across processes: function name and the repr of its scalar arguments."""
    text = repr((args, sorted(kwargs.items())))
    return f"memo:{fn.__module__}.{fn.__qualname__}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def memoize(timeout: int | None = None):
    """Memoize a pure function in the site's cache.

    Use only on functions whose arguments are scalars (and strings, tuples of
    scalars): the cache key is built from their repr. Exceptions (e.g. a
    ValueError naming a limit) are not cached.
    """

    def decorate(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            if guard.backend() is None and not has_app_context():
                return fn(*args, **kwargs)
            key = memo_key(fn, args, kwargs)
            found, value = get(key)
            if found:
                return value
            with compute_slot():
                found, value = get(key)      # another request may have finished it meanwhile
                if not found:
                    value = fn(*args, **kwargs)
                    set(key, value, timeout)
            return value

        call.uncached = fn
        call.cache_key = lambda *args, **kwargs: memo_key(fn, args, kwargs)
        return call

    return decorate


def pickled_size(value) -> int:
    """Bytes a value takes in the cache (for benchmarks and limits)."""
    return len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
