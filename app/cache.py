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
import os
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


def _fresh_slots_after_fork() -> None:
    # A background job forked while another thread held a slot would inherit a
    # taken semaphore that no one in the child ever releases.
    settings = guard.settings
    guard.slots = threading.BoundedSemaphore(settings.compute_slots if settings else 1)
    _held.depth = 0




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


def delete(key: str) -> bool:
    """Remove `key` from the cache; False if it was absent or the backend fails."""
    backend = guard.backend()
    if backend is None:
        return False
    try:
        return bool(backend.delete(key))
    except Exception as error:
        guard.failed("delete", error)
        return False


_held = threading.local()


class _Slot:
    """One of this process's slots for a computation (re-entrant per thread,
    so a memoized function may call another)."""

    def __enter__(self):
        depth = getattr(_held, "depth", 0)
        if depth == 0:
            wait = guard.settings.compute_wait_s if guard.settings else 10.0
            if not guard.slots.acquire(timeout=wait):
                _mark_transient()
                raise Busy(f"the server is busy with other visitors' runs and waited {wait:g} s "
                           "for a free slot; try again in a few seconds")
        _held.depth = depth + 1
        return self

    def __exit__(self, *exc):
        _held.depth -= 1
        if _held.depth == 0:
            guard.slots.release()
        return False


def _mark_transient() -> None:
    """This request's answer says something passing (busy): never cache it whole."""
    from flask import g, has_request_context

    if has_request_context():
        g.transient_answer = True


def compute_slot() -> _Slot:
    """Context manager: hold a computation slot of this process, or raise Busy."""
    return _Slot()


os.register_at_fork(after_in_child=_fresh_slots_after_fork)


def busy_notice(error: Exception):
    """Dash's app-wide `on_error`: a `Busy` that a lesson did not catch becomes
    a message in the lesson's notices (and no other change); any other error
    is a bug and stays one."""
    if not isinstance(error, Busy):
        raise error
    import dash

    outputs = dash.ctx.outputs_list
    for output in outputs if isinstance(outputs, list) else [outputs]:
        for item in output if isinstance(output, list) else [output]:
            id_ = item.get("id") if isinstance(item, dict) else None
            if isinstance(id_, dict) and id_.get("type") == "ls-notices":
                dash.set_props(id_, {"children": f"Not computed now: {error}.", "className": "ls-notices"})
    return dash.no_update


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


# --- Compression of static files -----------------------------------------
#
# Whole callback answers are cached, already compressed, by app.responses.

STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/")


class CompressedCache:
    """Compressed responses kept in this process for Flask-Compress
    (COMPRESS_CACHE_BACKEND), so plotly.js is compressed once per worker and
    algorithm, not once per request. Bounded by total bytes, least recently
    used out first; keys starting with "nocache" are never kept."""

    def __init__(self, limit_bytes: int = 96 * 2**20):
        from collections import OrderedDict

        self.limit = limit_bytes
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if key.split(";", 1)[-1].startswith("nocache") or len(value) > self.limit // 4:
            return
        with self.lock:
            if key in self.items:
                self.size -= len(self.items.pop(key))
            self.items[key] = value
            self.size += len(value)
            while self.size > self.limit:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped)


def compression_key(request) -> str:
    """COMPRESS_CACHE_KEY: what identifies a response's content ("nocache…" if nothing does)."""
    from flask import g

    return g.get("compress_key") or "nocache"


def compressor(server):
    """The Flask-Compress instance Dash registered on `server`."""
    for function in server.after_request_funcs.get(None, []):
        owner = getattr(function, "__self__", None)
        if hasattr(owner, "enabled_algorithms"):
            return owner
    raise LookupError("no Flask-Compress on the server")


def init_response_cache(app, settings: Settings) -> None:
    """Serve repeated callback requests from the cache (app.responses), and
    mark static files for the compression cache and the browser's cache."""
    from flask import g, request

    from app import responses      # it uses this module: imported here, not at the top

    server = app.server
    if settings.response_cache:
        responses.init(app, settings)

    @server.before_request
    def mark_static():
        g.compress_key = None
        if request.method == "GET" and request.path.startswith(STATIC_PREFIXES):
            g.compress_key = "static:" + request.full_path.rstrip("?")

    @server.after_request
    def static_cache_headers(response):
        # Fingerprinted files (Dash's versioned bundles, assets with ?m=) never
        # change under their URL; Dash's async chunks and bare asset links
        # (icons) may change on deploy, so the browser keeps them a day and
        # then revalidates.
        if request.method == "GET" and response.status_code == 200 and request.path.startswith(STATIC_PREFIXES):
            fingerprinted = "m" in request.args or response.cache_control.max_age == 31536000
            response.cache_control.no_cache = None      # Flask's send_file default
            response.cache_control.public = True
            response.cache_control.max_age = settings.static_max_age_s if fingerprinted else 86400
            if fingerprinted:
                response.cache_control.immutable = True
        return response


def precompress_static(app, log=print) -> dict:
    """Compress the static scripts the pages load (the partial plotly.js,
    Dash's bundles and their lazily loaded chunks) into this process's
    compressed cache now, for every encoding the site offers. The full
    plotly.min.js that Dash still registers is left out: no page loads it.

    Run in gunicorn's master before it forks (--preload), every worker starts
    with them, instead of the first visitors each paying seconds of CPU.
    Returns {"files": n, "seconds": s}.
    """
    import re

    start = time.perf_counter()
    client = app.server.test_client()
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'src="(/_dash-component-suites/[^"]+\.js)"', html)
    for package, paths in getattr(app, "registered_paths", {}).items():
        for path in paths:   # chunks loaded later, without a fingerprint in their URL
            if path.endswith(".js") and "async-" in path:
                urls.append(f"/_dash-component-suites/{package}/{path}")
    # the algorithms Flask-Compress really offers (Dash rewrites the config
    # value after creating it, so read them from the instance)
    algorithms = compressor(app.server).enabled_algorithms
    done = 0
    for url in dict.fromkeys(urls):
        for algorithm in algorithms:
            if client.get(url, headers={"Accept-Encoding": algorithm}).status_code == 200:
                done += 1
    seconds = time.perf_counter() - start
    log(f"precompressed {done} static files in {seconds:.1f} s")
    return {"files": done, "seconds": seconds}
