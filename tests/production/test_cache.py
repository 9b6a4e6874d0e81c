"""The cache in one process: memoized runs, compressed static files, and what
happens when the backend fails or the worker is busy (whole callback answers:
test_responses.py; exact memo keys: tests/test_cache_memo.py)."""

from __future__ import annotations

import re
import threading
import time

import flask
import pytest

from app import cache as site_cache
from app import compute_slots, static_files, warmup
from app.cache import Busy, cache, cache_config, compute_slot, memoize
from app.config import load
from app.main import app
from app.static_files import CompressedCache

CLIENT = app.server.test_client()


def counted():
    calls = []

    @memoize()
    def square(x: int, scale: float = 1.0) -> dict:
        calls.append(x)
        return {"value": x * x * scale}

    return square, calls


def test_memoize_computes_once_per_arguments_in_the_app():
    square, calls = counted()
    with app.server.app_context():
        assert square(3) == {"value": 9.0}
        assert square(3) == {"value": 9.0}
        assert square(3, scale=2.0) == {"value": 18.0}
    assert calls == [3, 3]


def test_memoize_keys_differ_by_function_and_arguments():
    square, _ = counted()
    assert square.cache_key(1) != square.cache_key(2)
    assert square.cache_key(1) != square.cache_key(1, scale=2.0)
    # one key per call, however its arguments are spelled
    assert square.cache_key(1) == square.cache_key(x=1) == square.cache_key(1, scale=1.0)


def test_code_version_is_part_of_every_key():
    settings = load()
    assert cache_config(settings, "abc")["CACHE_KEY_PREFIX"] == "learnscape:abc:"
    assert re.fullmatch(r"[0-9a-f]{12}", site_cache.code_version())


@pytest.mark.parametrize("kind", ["filesystem", "simple"])
def test_another_code_version_on_the_same_cache_sees_none_of_its_entries(kind, tmp_path, monkeypatch):
    """A deploy on the same cache folder must not answer with the old code's results."""
    monkeypatch.setenv("CACHE_TYPE", kind)
    monkeypatch.setenv("CACHE_DIR", str(tmp_path))
    settings = load()
    apps = {}
    for version in ("old", "new"):
        apps[version] = flask.Flask(f"deploy-{version}")
        site_cache.init_app(apps[version], cache_config(settings, version))
    if kind == "simple":      # one process's memory, shared here only to be able to test it
        apps["new"].extensions["cache"][cache] = apps["old"].extensions["cache"][cache]
    with apps["old"].app_context():
        assert site_cache.set("answer", "from the old code")
        assert site_cache.get("answer") == (True, "from the old code")
    with apps["new"].app_context():
        assert site_cache.get("answer") == (False, None)
        assert site_cache.set("answer", "from the new code")
    with apps["old"].app_context():
        assert site_cache.get("answer") == (True, "from the old code")
        assert site_cache.delete("answer")
    with apps["new"].app_context():
        assert site_cache.get("answer") == (True, "from the new code")


@pytest.fixture
def dead_redis_app():
    """A Flask app whose cache is a Redis nobody listens on; the guard is reset after."""
    from tests.production.servers import free_port

    broken = flask.Flask("broken")
    settings = load()
    config = cache_config(settings, "test")
    config.update({"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
                   "CACHE_OPTIONS": {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}})
    cache.init_app(broken, config=config)
    yield broken
    site_cache.guard.skip_until = 0.0


def test_a_dead_backend_means_computing_not_failing(dead_redis_app):
    square, calls = counted()
    with dead_redis_app.app_context():
        start = time.perf_counter()
        assert square(4) == {"value": 16.0}
        assert site_cache.guard.skip_until > time.monotonic()     # the backend rests ...
        assert square(4) == {"value": 16.0}                        # ... and is not asked again
        assert time.perf_counter() - start < 5
    assert calls == [4, 4]


def test_busy_when_no_slot_frees_in_time(monkeypatch):
    monkeypatch.setattr(compute_slots.slots, "settings", load().__class__(**{**load().__dict__, "compute_wait_s": 0.2}))
    holding, release = threading.Event(), threading.Event()

    def hold():
        with compute_slot():
            holding.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    holding.wait(5)
    try:
        with pytest.raises(Busy, match="busy.*try again"):
            with compute_slot():
                pass
        assert issubclass(Busy, ValueError)   # lessons show ValueErrors as messages
    finally:
        release.set()
        worker.join(5)
    with compute_slot():
        with compute_slot():                   # re-entrant: a memoized function may call another
            pass


def test_compressed_cache_is_bounded_and_skips_uncacheable():
    store = CompressedCache(limit_bytes=100)
    store.set("br;nocache", b"x" * 10)
    assert store.get("br;nocache") is None
    for i in range(6):
        store.set(f"br;static:{i}", bytes(20))
    store.set("br;static:big", bytes(90))          # more than a quarter of the limit: not kept
    assert store.get("br;static:big") is None
    assert store.size <= 100
    assert store.get("br;static:0") is None and store.get("br;static:5") == bytes(20)


def test_static_files_are_compressed_once_and_cached_by_the_browser():
    html = CLIENT.get("/").get_data(as_text=True)
    path = re.search(r'src="(/_dash-component-suites/[^"]+dash_renderer[^"]+)"', html).group(1)
    first = CLIENT.get(path, headers={"Accept-Encoding": "br, gzip"})
    assert first.headers["Content-Encoding"] == "br"
    assert static_files.compressor(app.server).cache.get(f"br;static:{path}") == first.get_data()
    assert first.headers["Cache-Control"].count("max-age=31536000") == 1
    asset = re.search(r'href="(/assets/[^"]+\.css\?m=[^"]+)"', html).group(1)
    assert CLIENT.get(asset).headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert CLIENT.get("/assets/learnscape.css").headers["Cache-Control"] == "public, max-age=86400"


def test_a_busy_server_tells_the_visitor_instead_of_failing(monkeypatch):
    """With every computation slot taken, a run nobody asked for yet gets a
    message on the page (from the lesson, or app-wide from `busy_notice`)."""
    from tests.production.hostile import fresh_run_bodies

    settings = load()
    monkeypatch.setattr(compute_slots.slots, "settings", settings.__class__(**{**settings.__dict__, "compute_wait_s": 0.05}))
    monkeypatch.setattr(compute_slots.slots, "semaphore", threading.BoundedSemaphore(1))
    compute_slots.slots.semaphore.acquire()
    bodies = fresh_run_bodies(app, len(warmup.lesson_pages()), per_lesson=True)
    assert bodies
    for body in bodies:
        response = CLIENT.post(warmup.UPDATE_URL, json=body)
        assert response.status_code == 200, body["output"][:80]
        assert "busy" in response.get_data(as_text=True), body["output"][:80]
    # a passing "busy" is never kept as the answer: once free, the run is computed
    compute_slots.slots.semaphore.release()
    again = CLIENT.post(warmup.UPDATE_URL, json=bodies[0])
    assert again.status_code == 200 and "busy" not in again.get_data(as_text=True)


def test_busy_notice_leaves_other_errors_alone():
    with pytest.raises(KeyError):
        compute_slots.busy_notice(KeyError("a bug"))


def test_a_forked_job_gets_its_own_free_slots(monkeypatch):
    """A background job forked while a slot is taken can still compute."""
    import os

    settings = load()
    monkeypatch.setattr(compute_slots.slots, "settings", settings.__class__(**{**settings.__dict__, "compute_wait_s": 0.2}))
    with compute_slot():
        pid = os.fork()
        if pid == 0:  # the child: must not wait for the parent's slot
            try:
                with compute_slot():
                    pass
                os._exit(0)
            except Busy:
                os._exit(3)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
