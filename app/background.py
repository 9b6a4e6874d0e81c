"""Where Dash background callbacks run, chosen by the environment.

A callback that may take longer than about a second is declared with
`@dash.callback(..., background=True, progress=..., running=...)`; the page
then shows progress while a separate process computes, and the web worker
stays free for other visitors.

- `BACKGROUND=diskcache` (the default): jobs run in processes forked on this
  machine; handles and results live in a diskcache folder (`BACKGROUND_DIR`)
  that every gunicorn worker of the machine shares.
- `BACKGROUND=celery` (the default when `CELERY_BROKER_URL` is set; the
  broker defaults to `CACHE_REDIS_URL`): jobs go to Celery workers on any
  machine, started with

      celery -A app.main:celery_app worker --concurrency 2

  which import the same app, so every background callback is a task there.
- `BACKGROUND=inline`: the job runs inside the request that starts it (tests,
  debugging); the page still polls once for the answer.

Results of background callbacks are cached by their arguments and the
site's code version, like the memoized runs in app.cache. Answering a
repeated request from its stored result, and running jobs inline, override
Dash's managers' job methods: checked at start by app.dash_internals, and
without them the site uses Dash's plain managers (BACKGROUND=inline then runs
jobs in processes, as diskcache does).
"""

from __future__ import annotations

from pathlib import Path

import diskcache

from app import dash_internals
from app.config import Settings
from app.dash_internals import Internals

#: Hard limit on one background job (seconds): a job past it is stopped, so a
#: worker can never be held for ever by one visitor.
JOB_TIME_LIMIT_S = 120
#: Largest size of the diskcache folder of job results (bytes).
DISKCACHE_SIZE_LIMIT = 512 * 2**20


def celery_app_for(settings: Settings):
    """A Celery app on `settings.celery_broker_url`, results in the same Redis."""
    from celery import Celery

    url = settings.celery_broker_url
    if not url:
        raise ValueError("BACKGROUND=celery needs CELERY_BROKER_URL or CACHE_REDIS_URL")
    celery = Celery("learnscape", broker=url, backend=url)
    celery.conf.update(
        task_time_limit=JOB_TIME_LIMIT_S,
        task_soft_time_limit=JOB_TIME_LIMIT_S - 10,
        worker_prefetch_multiplier=1,           # a long job does not hold others back
        task_acks_late=True,                    # a killed worker's job is redelivered
        result_expires=settings.cache_timeout_s,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"socket_timeout": 2, "socket_connect_timeout": 2},
        redis_socket_timeout=2,
        redis_socket_connect_timeout=2,
    )
    return celery


#: The job handle of an answer that was already in the results store: no
#: process or task was started for it, so there is nothing to watch or stop.
CACHED_JOB = "cached"


class _ReusesResults:
    """Dash starts a job for every background request, even when the result of
    the same arguments is already stored (cache_by), and only then finds it.
    Answering from the store without a job saves a process fork (or a Celery
    task) per repeated request: a lecture hall replaying one step."""

    def call_job_fn(self, key, job_fn, args, context):
        if self.result_ready(key) and not self.stored_error(key):
            return CACHED_JOB
        self.clear_cache_entry(key)      # a failed job is tried again, not replayed
        return super().call_job_fn(key, job_fn, args, context)

    def stored_error(self, key) -> bool:
        raise NotImplementedError

    def job_running(self, job):
        return False if job == CACHED_JOB else super().job_running(job)

    def terminate_job(self, job):
        if job != CACHED_JOB:
            super().terminate_job(job)

    def terminate_unhealthy_job(self, job):
        return False if job == CACHED_JOB else super().terminate_unhealthy_job(job)

    def get_result(self, key, job):
        return super().get_result(key, None if job == CACHED_JOB else job)


class ResultStore(diskcache.Cache):
    """The diskcache of job results. Beside a failed job's result (Dash stores
    the error as the result) it notes that the job failed, so that checking
    needs no load of a result that is often a megabyte of figures."""

    @staticmethod
    def failure_key(key) -> str:
        return f"{key}-failed"

    def set(self, key, value, *args, **kwargs):
        stored = super().set(key, value, *args, **kwargs)
        if isinstance(value, dict) and "background_callback_error" in value:
            super().set(self.failure_key(key), True, *args, **kwargs)
        return stored


def make_manager(settings: Settings, version: str, internals: Internals | None = None):
    """(manager, celery app or None) for `settings.background`.

    version: the site's code version, part of the key of cached results.
    internals: what of Dash's private machinery may be used (app.dash_internals).
    """
    from dash import CeleryManager, DiskcacheManager

    internals = internals or dash_internals.current()
    cache_by = [lambda: version]
    if settings.background == "celery":
        celery = celery_app_for(settings)
        kind = _reusing_celery() if internals.job_methods else CeleryManager
        return kind(celery, cache_by=cache_by, expire=settings.cache_timeout_s), celery
    if settings.background not in ("diskcache", "inline"):
        raise ValueError(f"BACKGROUND must be diskcache, celery or inline, not {settings.background!r}")
    folder = Path(settings.background_dir)
    folder.mkdir(parents=True, exist_ok=True)
    handle = ResultStore(str(folder), size_limit=DISKCACHE_SIZE_LIMIT)
    if not internals.job_methods:
        kind = DiskcacheManager
    elif settings.background == "inline" and internals.progress_key is not None:
        kind = _inline(internals)
    else:
        kind = _reusing_diskcache()
    return kind(handle, cache_by=cache_by, expire=settings.cache_timeout_s), None


def _reusing_celery():
    from dash import CeleryManager

    class Celery(_ReusesResults, CeleryManager):
        def stored_error(self, key) -> bool:
            value = self.handle.backend.get(key) or b""
            return b"background_callback_error" in (value if isinstance(value, bytes) else str(value).encode())

    return Celery


def _reusing_diskcache():
    from dash import DiskcacheManager

    class Diskcache(_ReusesResults, DiskcacheManager):
        # whether a result is there, and whether it failed, without loading it
        def result_ready(self, key) -> bool:
            return key in self.handle

        def stored_error(self, key) -> bool:
            return ResultStore.failure_key(key) in self.handle

        def clear_cache_entry(self, key):
            super().clear_cache_entry(key)
            self.handle.delete(ResultStore.failure_key(key))

    return Diskcache


def _inline(internals: Internals):
    class Inline(_reusing_diskcache()):
        """Runs the job inside the request that starts it: the first poll finds
        its answer. For tests and debugging (one process, in-process cache)."""

        def call_job_fn(self, key, job_fn, args, context):
            if not (self.result_ready(key) and not self.stored_error(key)):
                self.clear_cache_entry(key)
                job_fn(key, dash_internals.progress_key(internals, key), args, context)
            return CACHED_JOB

    return Inline
