"""The one place that touches private Dash and Flask-Compress names.

A few private names make the site faster; none is needed for it to work:

- Flask-Compress's `_choose_algorithm` and `_compress_data`: whole callback
  answers kept in the cache already encoded as Flask-Compress encodes
  (app.responses). Without them: no response cache; Dash answers every
  callback and Flask-Compress compresses it.
- Dash's `_callback_signing` and `Dash._get_signing_secret`: the handles of a
  background poll verified as Dash verifies them, so that the poll of a
  stored result is answered from the cache. Without them: Dash answers polls.
- The background managers' job methods (`call_job_fn`, `get_result`, ...)
  and `_make_progress_key`: a repeated background request answered from the
  stored result without starting a job; jobs run inside the request
  (BACKGROUND=inline). Without them: Dash's plain managers.
- `Dash.registered_paths`: the lazily loaded script chunks, precompressed at
  start (app.static_files). Without it: they are compressed on first request.

`check()` looks at each once, at start (it exists, is callable, has the
expected parameters, and a small probe behaves), and logs one warning naming
whatever is off; each feature then falls back to plain Dash. A use that
fails later falls back too, with one warning per feature. The versions these
were written against are pinned (pyproject.toml, requirements.txt).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

log = logging.getLogger("learnscape.dash_internals")

#: Parameters each manager method must have for app.background's overrides.
JOB_METHODS = {
    "call_job_fn": ("self", "key", "job_fn", "args", "context"),
    "get_result": ("self", "key", "job"),
    "job_running": ("self", "job"),
    "terminate_job": ("self", "job"),
    "terminate_unhealthy_job": ("self", "job"),
    "result_ready": ("self", "key"),
    "clear_cache_entry": ("self", "key"),
}


class Mismatch(Exception):
    """A private name is missing or not what this module expects."""


@dataclass(frozen=True)
class Internals:
    """What of the private machinery this process uses (None: plain Dash)."""

    choose_algorithm: Callable | None = None   # (algorithms, accept_encoding) -> name or None
    compress_data: Callable | None = None      # (flask app, data, algorithm) -> bytes
    signing: ModuleType | None = None          # dash._callback_signing
    progress_key: Callable | None = None       # (key) -> progress key of a job
    job_methods: bool = False                  # app.background may override the managers' methods
    problems: tuple[str, ...] = ()

    @property
    def encoding(self) -> bool:
        """Can answers be encoded as Flask-Compress encodes them?"""
        return self.choose_algorithm is not None and self.compress_data is not None


# --- Checks ---------------------------------------------------------------


def parameters(fn) -> tuple[str, ...]:
    """The parameter names of a callable; Mismatch if it is not one."""
    if not callable(fn):
        raise Mismatch(f"{fn!r} is not callable")
    try:
        return tuple(inspect.signature(fn).parameters)
    except (TypeError, ValueError) as error:
        raise Mismatch(f"no signature: {error}") from None


def expect(owner, name: str, params: tuple[str, ...]):
    """`owner.<name>`, a callable with exactly `params`; Mismatch otherwise."""
    fn = getattr(owner, name, None)
    if fn is None:
        raise Mismatch(f"{getattr(owner, '__name__', owner)}.{name} is missing")
    found = parameters(fn)
    if found != params:
        raise Mismatch(f"{getattr(owner, '__name__', owner)}.{name}{found} is not {name}{params}")
    return fn


def _compress_functions() -> tuple[Callable, Callable]:
    module = importlib.import_module("flask_compress.flask_compress")
    choose = expect(module, "_choose_algorithm", ("algorithms", "accept_encoding"))
    compress = expect(module, "_compress_data", ("app", "data", "algorithm"))
    if choose(("br", "gzip"), "gzip, br;q=0.5") != "gzip" or choose(("br",), "identity") is not None:
        raise Mismatch("_choose_algorithm chooses differently")
    return choose, compress


def _signing() -> ModuleType:
    import dash

    module = importlib.import_module("dash._callback_signing")
    sign = expect(module, "sign", ("secret", "scope", "value"))
    unsign = expect(module, "unsign", ("secret", "scope", "signed"))
    for name in ("cache_scope", "job_scope"):
        expect(module, name, ("end_id",))
    if not isinstance(getattr(module, "END_SCOPE", None), str):
        raise Mismatch("dash._callback_signing.END_SCOPE is missing")
    expect(dash.Dash, "_get_signing_secret", ("self",))
    if unsign(b"k", "scope", sign(b"k", "scope", "value")) != "value" or unsign(b"k", "scope", "value") is not None:
        raise Mismatch("dash._callback_signing signs differently")
    return module


def _progress_key() -> Callable:
    from dash.background_callback.managers import BaseBackgroundCallbackManager

    make = expect(BaseBackgroundCallbackManager, "_make_progress_key", ("key",))
    if not isinstance(make("k"), str):
        raise Mismatch("_make_progress_key does not make a text key")
    return make


def _job_methods() -> bool:
    from dash import DiskcacheManager

    managers = [DiskcacheManager]
    try:
        from dash import CeleryManager
        managers.append(CeleryManager)
    except ImportError:  # Celery support not installed: nothing of it to check
        pass
    for manager in managers:
        for name, params in JOB_METHODS.items():
            expect(manager, name, params)
    return True


def _probe(problems: list[str], what: str, probe: Callable):
    try:
        return probe()
    except Exception as error:  # Mismatch, ImportError, anything a changed library raises
        problems.append(f"{what} ({type(error).__name__}: {error})")
        return None


def check() -> Internals:
    """Look at every private name once; one warning names whatever is off."""
    problems: list[str] = []
    compress = _probe(problems, "Flask-Compress's encoder", _compress_functions) or (None, None)
    internals = Internals(
        choose_algorithm=compress[0],
        compress_data=compress[1],
        signing=_probe(problems, "Dash's handle signing", _signing),
        progress_key=_probe(problems, "Dash's progress key", _progress_key),
        job_methods=bool(_probe(problems, "Dash's background manager methods", _job_methods)),
        problems=tuple(problems),
    )
    if problems:
        log.warning("private Dash/Flask-Compress names changed, falling back to plain Dash (slower): %s",
                    "; ".join(problems))
    return internals


@functools.cache
def current() -> Internals:
    """This process's `check()`, done once (at start, from app.main)."""
    return check()


# --- Uses -----------------------------------------------------------------


@functools.cache
def _warn_once(feature: str, error_text: str) -> None:
    log.warning("%s failed (%s); falling back to plain Dash for it", feature, error_text)


def _failed(feature: str, error: Exception) -> None:
    _warn_once(feature, type(error).__name__)
    log.debug("%s failed", feature, exc_info=error)


def choose_encoding(internals: Internals, algorithms: tuple[str, ...], accept_encoding: str) -> str | None:
    """The encoding Flask-Compress would choose, None for none; raises Mismatch if it cannot say."""
    if internals.choose_algorithm is None:
        raise Mismatch("no encoder")
    try:
        return internals.choose_algorithm(tuple(algorithms), accept_encoding or "")
    except Exception as error:
        _failed("choosing an encoding", error)
        raise Mismatch("choosing an encoding failed") from error


def compress(internals: Internals, server, data: bytes, algorithm: str) -> bytes:
    """`data` compressed as Flask-Compress compresses; raises Mismatch if it cannot."""
    if internals.compress_data is None:
        raise Mismatch("no encoder")
    try:
        return internals.compress_data(server, data, algorithm)
    except Exception as error:
        _failed("compressing an answer", error)
        raise Mismatch("compressing failed") from error


def poll_handles(internals: Internals, app, args: dict) -> tuple[str | None, str | None]:
    """(result key, job) of a background poll's query, verified as Dash
    verifies them; (None, None) if a handle fails or cannot be verified."""
    signing = internals.signing
    if signing is None:
        return None, None
    try:
        secret = app._get_signing_secret()
        end_id = signing.unsign(secret, signing.END_SCOPE, args.get("endId"))
        return (signing.unsign(secret, signing.cache_scope(end_id), args.get("cacheKey")),
                signing.unsign(secret, signing.job_scope(end_id), args.get("job")))
    except Exception as error:
        _failed("verifying a poll's handles", error)
        return None, None


def progress_key(internals: Internals, key: str) -> str:
    """The key under which a job's progress is kept (only with `internals.progress_key`)."""
    return internals.progress_key(key)


def lazy_script_paths(app) -> dict[str, list[str]]:
    """Package -> paths of the script chunks Dash loads later (no fingerprint
    in their URL); {} if Dash does not say."""
    try:
        registered = app.registered_paths
        return {str(package): sorted(path for path in paths if isinstance(path, str)
                                     and path.endswith(".js") and "async-" in path)
                for package, paths in registered.items()}
    except Exception as error:
        _failed("listing Dash's lazily loaded scripts", error)
        return {}
