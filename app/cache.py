"""The memo cache: the one flask-caching Cache of the site, bound in app.main.

Expensive pure computations are memoized on scalar arguments (seed, sizes,
names, rates) with `@memoize()` below. Called outside a Flask application
(unit tests, scripts), memoized functions simply compute.

Keys are exact: an argument is keyed by the exact text of its value (None,
bool, int, float, str, bytes, numpy scalars, and tuples, lists and dicts of
them); anything else (a numpy array, an arbitrary object) is refused with a
TypeError naming the argument, since no short text stands for it exactly.
A stored None is a value like any other; removing an entry is `delete`.

The cache is an optimisation, never a dependency: when its backend fails
(Redis gone, disk full) a call computes and the site goes on serving; the
backend is then left alone for `settings.cache_retry_s` seconds so that a
dead server does not cost a timeout per request. A miss computes in one of
the worker's slots (app.compute_slots), or gives up with `Busy`. A miss that
another process is computing (it holds the key's claim) waits for its value.
"""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import functools
import hashlib
import inspect
import logging
import threading
import time
from pathlib import Path

import numpy as np
from flask import current_app, has_app_context
from flask_caching import Cache

from app import compute_slots
from app.compute_slots import Busy, compute_slot  # noqa: F401 - the names pages import from here
from app.config import Settings

cache = Cache()
log = logging.getLogger("learnscape.cache")

ROOT = Path(__file__).resolve().parent.parent
#: Folders whose code decides what a cached value is; any change of it on
#: deploy starts a fresh key space (old entries simply expire).
CODE_FOLDERS = ("app", "components", "pages")
#: Values keyed by their repr, which is exact for these types.
SCALARS = (type(None), bool, int, float, str, bytes)


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
    """Per-process health of the backend.

    Not visitor state: it only says whether to try the backend now.
    """

    def __init__(self):
        self.app = None
        self.settings: Settings | None = None
        self.skip_until = 0.0

    def backend(self):
        """The cache backend to use now, or None (no app, or backend resting)."""
        found = self.backend_and_prefix()
        return found[0] if found else None

    def backend_and_prefix(self) -> tuple[object, str] | None:
        """The cache backend to use now and what to put before a key so that it is in
        this code version's key space, or None (no app, or backend resting).

        flask-caching hands CACHE_KEY_PREFIX to the Redis backend, which adds it to
        every key itself; the filesystem and in-process backends take no prefix, so
        it is added here (see init_app; without it a deploy on the same cache folder
        would answer with the old code's results)."""
        if time.monotonic() < self.skip_until:
            return None
        app = current_app if has_app_context() else self.app
        if app is None or cache not in app.extensions.get("cache", {}):
            return None
        backend = app.extensions["cache"][cache]
        prefix = "" if getattr(backend, "key_prefix", "") else app.extensions.get(PREFIX_EXTENSION, "")
        return backend, prefix

    def failed(self, action: str, error: Exception) -> None:
        retry = self.settings.cache_retry_s if self.settings else 15.0
        if time.monotonic() >= self.skip_until:
            log.warning("cache %s failed (%s: %s); computing without the cache for %.0f s",
                        action, type(error).__name__, error, retry)
        self.skip_until = time.monotonic() + retry


guard = _Guard()


class NotCached(Exception):
    """Inside `cached_only()`, a value the cache does not hold yet (the key)."""


_cached_only = contextvars.ContextVar("cached_only", default=False)


@contextlib.contextmanager
def cached_only():
    """Within this block a cache miss raises NotCached instead of computing:
    a quick answer from what is stored, or word that the work must go elsewhere
    (the lesson engine then hands the step to a background worker)."""
    token = _cached_only.set(True)
    try:
        yield
    finally:
        _cached_only.reset(token)


#: Where init_app keeps a server's key prefix (flask-caching keeps its config nowhere we can read).
PREFIX_EXTENSION = "learnscape.cache_key_prefix"


def init_app(server, config: dict) -> None:
    """Bind the site's cache to `server` with `config` (see cache_config): every key then
    lives in the config's CACHE_KEY_PREFIX space (the code version's), whatever the backend."""
    cache.init_app(server, config=config)
    server.extensions[PREFIX_EXTENSION] = config.get("CACHE_KEY_PREFIX", "")


def bind(app, settings: Settings) -> None:
    """Use `app`'s cache also outside a request (background jobs, warm-up),
    and size this process's computation slots."""
    guard.app, guard.settings = app, settings
    compute_slots.bind(settings)


# Entries are stored boxed, `(value,)`, so that a stored None is told apart
# from a miss (the backends answer None for both).

def get(key: str) -> tuple[bool, object]:
    """(found, value) from the cache; (False, None) if absent or the backend
    fails, or NotCached raised instead within `cached_only()`."""
    found, value = _lookup(key)
    if not found and _cached_only.get():
        raise NotCached(key)
    return found, value


def peek(key: str) -> tuple[bool, object]:
    """(found, value) from the cache, also within `cached_only()` (never raises NotCached)."""
    return _lookup(key)


def _lookup(key: str) -> tuple[bool, object]:
    found = guard.backend_and_prefix()
    if found is None:
        return False, None
    backend, prefix = found
    try:
        box = backend.get(prefix + key)
    except Exception as error:  # any backend failure: redis, pickle, disk
        guard.failed("read", error)
        return False, None
    if isinstance(box, tuple) and len(box) == 1:
        return True, box[0]
    return False, None


def _write(action: str, method: str, key: str, *args, **kwargs) -> bool:
    """backend.<method>(prefixed key, ...) as a bool; False if the backend fails (or is resting)."""
    found = guard.backend_and_prefix()
    if found is None:
        return False
    backend, prefix = found
    try:
        return bool(getattr(backend, method)(prefix + key, *args, **kwargs))
    except Exception as error:  # any backend failure: redis, pickle, disk
        guard.failed(action, error)
        return False


def set(key: str, value, timeout: int | None = None) -> bool:  # noqa: A001 - mirrors the cache API
    """Store `value` (None included) under `key`; False if the backend fails."""
    return _write("write", "set", key, (value,), timeout=timeout)


def add(key: str, value, timeout: int | None = None) -> bool:
    """Store `value` under `key` only if no entry is there: True for the one process that
    stored it (near enough: on the filesystem two may both win; they then merely both
    compute). False if present or the backend fails."""
    return _write("write", "add", key, (value,), timeout=timeout)


def delete(key: str) -> bool:
    """Remove `key` from the cache; False if it was absent or the backend fails."""
    return _write("delete", "delete", key)


# --- Claims: one process computes a value, the others wait for it ---------------

#: A claim lapses after this many seconds unless renewed (a process that died holds nothing).
CLAIM_S = 60
#: How often a process waiting for a claimed value looks for it (seconds).
CLAIM_POLL_S = 0.05
#: The claims this thread holds (keys).
_claims = threading.local()


def claim_key(key: str) -> str:
    return f"claim:{key}"


def claim_or_wait(key: str, hold_s: int = CLAIM_S) -> tuple[bool, object]:
    """(True, value) once `key` is stored, waiting while another process holds its claim
    (it is computing the value: a visitor's request and the step prefetch, app.prefetch);
    (False, None) when this caller now holds the claim, for `hold_s` seconds unless it
    renews it, and must compute, store the value and `release` it. Nothing waits without
    a shared cache, or inside a computation (its nested values are computed, not awaited)."""
    while True:
        found, value = _lookup(key)
        if found:
            return True, value
        if guard.backend() is None or compute_slots.holding():
            return False, None
        if add(claim_key(key), True, timeout=hold_s):
            _claims.__dict__.setdefault("keys", builtins.set()).add(key)
            return False, None
        if not _lookup(claim_key(key))[0]:
            # Released just now, or lapsed: a lapsed file stays on disk (and keeps `add` from
            # storing) until removed. Removing a claim taken meanwhile only means both compute.
            delete(claim_key(key))
        time.sleep(CLAIM_POLL_S)


def _holds(key: str) -> bool:
    return key in _claims.__dict__.get("keys", ())


def renew(key: str, hold_s: int = CLAIM_S) -> None:
    """Keep this thread's claim on `key` for another `hold_s` seconds (long computations)."""
    if _holds(key):
        set(claim_key(key), True, timeout=hold_s)


def release(key: str) -> None:
    """Give up this thread's claim on `key` (if it holds one)."""
    if _holds(key):
        _claims.keys.discard(key)
        delete(claim_key(key))


# --- Exact keys -----------------------------------------------------------


def key_text(value, where: str) -> str:
    """The exact text of a keyable value; TypeError naming `where` otherwise.

    Floats are exact through repr (it round-trips); containers are keyed by
    their type and items, dict items in key order.
    """
    kind = type(value)
    if kind in SCALARS:
        return repr(value)
    if isinstance(value, np.generic) and kind.__module__ == "numpy":
        return f"numpy.{kind.__name__}({value.item()!r})"
    if kind in (tuple, list):
        items = ",".join(key_text(item, f"{where}[{i}]") for i, item in enumerate(value))
        return f"{kind.__name__}({items})"
    if isinstance(value, tuple) and hasattr(kind, "_fields"):   # a NamedTuple
        items = ",".join(f"{name}={key_text(item, f'{where}.{name}')}" for name, item in zip(kind._fields, value))
        return f"{kind.__module__}.{kind.__qualname__}({items})"
    if kind is dict:
        items = sorted((key_text(k, f"{where} key"), key_text(v, f"{where}[{k!r}]")) for k, v in value.items())
        return "dict(" + ",".join(f"{k}:{v}" for k, v in items) + ")"
    raise TypeError(f"argument {where} is a {kind.__module__}.{kind.__qualname__}, which has no exact "
                    "cache key: memoized functions take None, bool, int, float, str, bytes and numpy "
                    "scalars, and tuples, lists and dicts of them (pass a seed or a size, not an array)")


def _name(fn) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def memo_key(fn, args: tuple, kwargs: dict, signature: inspect.Signature | None = None) -> str:
    """A key stable across processes: the function's name and the exact text
    of its arguments, bound to its parameters (defaults filled in, so f(1),
    f(x=1) and f(1, scale=<its default>) share one key)."""
    bound = (signature or inspect.signature(fn)).bind(*args, **kwargs)
    bound.apply_defaults()
    try:
        text = ";".join(f"{name}={key_text(value, repr(name))}" for name, value in bound.arguments.items())
    except TypeError as error:
        raise TypeError(f"cannot memoize {_name(fn)}: {error}") from None
    return f"memo:{_name(fn)}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def memoize(timeout: int | None = None):
    """Memoize a pure function in the site's cache.

    Its arguments must be keyable (see `key_text`); a call with an argument
    that is not raises TypeError before computing. Exceptions (e.g. a
    ValueError naming a limit) are not cached. `fn.forget(*args, **kwargs)`
    removes one call's entry.
    """

    def decorate(fn):
        signature = inspect.signature(fn)

        def key_of(*args, **kwargs) -> str:
            return memo_key(fn, args, kwargs, signature)

        @functools.wraps(fn)
        def call(*args, **kwargs):
            key = key_of(*args, **kwargs)           # refuses unkeyable arguments, in or out of the app
            if guard.backend() is None and not has_app_context():
                return fn(*args, **kwargs)
            found, value = get(key)
            if found:
                return value
            found, value = claim_or_wait(key)   # another process may be computing it
            if found:
                return value
            try:
                with compute_slot():
                    found, value = get(key)      # another request may have finished it meanwhile
                    if not found:
                        value = fn(*args, **kwargs)
                        set(key, value, timeout)
            finally:
                release(key)
            return value

        call.uncached = fn
        call.cache_key = key_of
        call.forget = lambda *args, **kwargs: delete(key_of(*args, **kwargs))
        return call

    return decorate
