"""Background callbacks for real, on the managers app.background chooses:
Celery with Redis (a redis-server and a Celery worker started here) and
diskcache processes on one machine. Each job reports progress, its result
reaches the page, and the memoized work inside lands in the shared cache.
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.production.servers import redis_available, start_celery, start_gunicorn, start_redis
from tests.production.test_redis_gunicorn import redis_command

pytestmark = pytest.mark.production
SITE = "tests.production.background_site"
BODY_OUT = {"id": "out", "property": "children"}


def body(n: str) -> dict:
    return {"output": "out.children", "outputs": BODY_OUT,
            "inputs": [{"id": "n", "property": "value", "value": n}], "state": [], "changedPropIds": ["n.value"]}


def post(url: str, data: dict, query: str = "") -> dict:
    request = urllib.request.Request(f"{url}/_dash-update-component{query}", data=json.dumps(data).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read()
        return json.loads(text) if text else {}


def run_job(url: str, n: str, wait: float = 60.0) -> tuple[str, list, str]:
    """Start the job as the browser does, poll until done: (result, progress seen, job handle)."""
    handle = post(url, body(n))
    assert "cacheKey" in handle and "job" in handle, handle
    query = "?" + urllib.parse.urlencode({"cacheKey": handle["cacheKey"], "job": handle["job"]})
    progress, end = [], time.monotonic() + wait
    while time.monotonic() < end:
        time.sleep(0.2)
        answer = post(url, body(n), query)
        if "progress" in answer:
            progress.append(answer["progress"])
        if "response" in answer:
            return answer["response"]["out"]["children"], progress, handle["job"]
    raise AssertionError(f"no result after {wait} s")


@pytest.mark.skipif(not redis_available(), reason="redis-server is not installed (.ci/run installs it)")
def test_celery_worker_runs_the_job_with_progress():
    redis = start_redis()
    env = {"CACHE_REDIS_URL": redis.url, "CELERY_BROKER_URL": redis.url}
    worker = web = None
    try:
        worker = start_celery(app=f"{SITE}:celery_app", **env)
        web = start_gunicorn(workers=1, app=f"{SITE}:server", **env)
        result, progress, job = run_job(web.url, "7")
        assert result == "7 squared is 49" and not job.startswith("cached~")
        assert progress and all(list(p.values())[0] in ("1", "2", "3") for p in progress)
        assert worker.log_text().count("succeeded") == 1, worker.log_text()[-2000:]
        # the same request again is answered from the stored result: no second task
        again, _, job = run_job(web.url, "7")
        assert again == result and job.startswith("cached~")
        assert worker.log_text().count("succeeded") == 1
        keys = redis_command(redis.url, "KEYS", "learnscape:background-test:memo:*")
        assert "memo:" in keys, "the job's memoized work is not in the shared cache"
    finally:
        for server in (web, worker, redis):
            if server is not None:
                server.stop()


def test_diskcache_processes_run_the_job_with_progress():
    web = start_gunicorn(workers=2, app=f"{SITE}:server", BACKGROUND="diskcache",
                         BACKGROUND_DIR=tempfile.mkdtemp(prefix="learnscape-jobs-"),
                         CACHE_TYPE="filesystem", CACHE_DIR=tempfile.mkdtemp(prefix="learnscape-cache-"))
    try:
        result, progress, job = run_job(web.url, "12")
        assert result == "12 squared is 144" and progress and not job.startswith("cached~")
        again, _, job = run_job(web.url, "12")
        assert again == result and job.startswith("cached~")     # no second process
        # hostile input still answers (the callback checks it)
        assert run_job(web.url, "<script>")[0] == "not a number"
    finally:
        web.stop()


def test_stored_results_are_checked_without_loading_them(tmp_path, monkeypatch):
    """A repeated request learns that a result is there, and did not fail,
    without reading the result (often a megabyte of figures); a failed one is
    computed again."""
    import dataclasses

    from app import background
    from app.config import load

    settings = dataclasses.replace(load(), background="diskcache", background_dir=str(tmp_path))
    manager, _ = background.make_manager(settings, "store-test")
    store = manager.handle
    store.set("good", {"figures": [0] * 1000})
    store.set("bad", {"background_callback_error": {"msg": "boom", "tb": ""}})

    def no_load(*_args, **_kwargs):
        raise AssertionError("a result was loaded")

    monkeypatch.setattr(store, "get", no_load)
    assert manager.result_ready("good") and not manager.stored_error("good")
    assert manager.result_ready("bad") and manager.stored_error("bad")
    assert not manager.result_ready("absent")
    assert manager.call_job_fn("good", None, (), {}) == background.CACHED_JOB

    manager.clear_cache_entry("bad")         # what happens before it is computed again
    assert not manager.result_ready("bad") and not manager.stored_error("bad")
