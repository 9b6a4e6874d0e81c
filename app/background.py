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

Results of background callbacks are cached by their arguments and the
site's code version, like the memoized runs in app.cache.
"""

from __future__ import annotations

from pathlib import Path

from app.config import Settings

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


def make_manager(settings: Settings, version: str):
    """(manager, celery app or None) for `settings.background`.

    version: the site's code version, part of the key of cached results.
    """
    from dash import CeleryManager, DiskcacheManager

    cache_by = [lambda: version]
    if settings.background == "celery":
        celery = celery_app_for(settings)
        return CeleryManager(celery, cache_by=cache_by, expire=settings.cache_timeout_s), celery
    if settings.background != "diskcache":
        raise ValueError(f"BACKGROUND must be diskcache or celery, not {settings.background!r}")
    import diskcache

    folder = Path(settings.background_dir)
    folder.mkdir(parents=True, exist_ok=True)
    handle = diskcache.Cache(str(folder), size_limit=DISKCACHE_SIZE_LIMIT)
    return DiskcacheManager(handle, cache_by=cache_by, expire=settings.cache_timeout_s), None
