"""Several machines sharing one Redis, for real: a redis-server on loopback and
two gunicorn instances (the Procfile's command) using it as their cache.

A run computed by one instance is served from the cache by the other; Redis
going away leaves both serving (computing instead); a worker killed in the
middle of requests is replaced while the site goes on answering.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request

import psutil
import pytest

from app import pure_callbacks, warmup
from app.main import app
from tests.production.servers import LOOPBACK, redis_available, start_gunicorn, start_redis

pytestmark = [pytest.mark.production,
              pytest.mark.skipif(not redis_available(), reason="redis-server is not installed (.ci/run installs it)")]


def redis_command(url: str, *words: str) -> str:
    """One Redis command over a raw socket (RESP), the reply as text."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    payload = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(payload.encode())
        chunks, end = [], time.monotonic() + 5
        s.settimeout(0.5)
        while time.monotonic() < end:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")


def redis_stat(url: str, name: str) -> int:
    for line in redis_command(url, "INFO", "all").splitlines():
        if line.startswith(name + ":"):
            value = line.split(":", 1)[1]
            return int(value.split("calls=")[1].split(",")[0]) if "calls=" in value else int(value)
    return 0


def post(server_url: str, body: dict, timeout: float = 60) -> tuple[int, bytes]:
    request = urllib.request.Request(server_url + warmup.UPDATE_URL, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def fresh_request(tag: str) -> dict:
    """A realistic lesson request no one has sent before (its step changed, and a unique marker),
    of the lesson's step callback (pure: its answers are cached whole)."""
    page = warmup.lesson_pages()[0]
    view = warmup.Page.render(app, page)
    key = warmup.step_key(view)
    for callback in warmup.server_callbacks(app):
        if not callback.background and warmup.triggered_by(callback, view, key) \
                and pure_callbacks.is_pure(app.callback_map[callback.output]):
            body = warmup.request_bodies(view, callback, {key: 1}, [key])[0]
            return {**body, "changedPropIds": body["changedPropIds"] + [f"{tag}-{time.time_ns()}.value"]}
    raise AssertionError("no lesson callback follows the step")


@pytest.fixture(scope="module")
def cluster():
    redis = start_redis()
    jobs = tempfile.mkdtemp(prefix="learnscape-jobs-")
    env = {"CACHE_REDIS_URL": redis.url, "CACHE_RETRY_SECONDS": "1", "BACKGROUND_DIR": jobs}
    servers = []
    try:
        servers = [start_gunicorn(workers=2, **env), start_gunicorn(workers=1, **env)]
        yield redis, servers
    finally:
        for server in servers:
            server.stop()
        redis.stop()


def test_a_run_computed_by_one_instance_is_served_from_the_cache_by_the_other(cluster):
    redis, (first, second) = cluster
    body = fresh_request("shared")
    keys_before = int(redis_command(redis.url, "DBSIZE").strip(":\r\n") or 0)
    status, computed = post(first.url, body)
    assert status == 200
    keys_after = int(redis_command(redis.url, "DBSIZE").strip(":\r\n"))
    assert keys_after > keys_before, "the first instance stored nothing in Redis"
    sets, hits = redis_stat(redis.url, "cmdstat_setex") + redis_stat(redis.url, "cmdstat_set"), \
        redis_stat(redis.url, "keyspace_hits")
    status, served = post(second.url, body)
    assert status == 200 and served == computed
    assert redis_stat(redis.url, "keyspace_hits") > hits, "the second instance did not read the cache"
    assert redis_stat(redis.url, "cmdstat_setex") + redis_stat(redis.url, "cmdstat_set") == sets, \
        "the second instance computed and stored again"


def test_redis_going_away_leaves_the_site_serving(cluster):
    redis, (first, second) = cluster
    port = int(redis.url.rsplit(":", 1)[1].split("/")[0])
    redis.stop()
    try:
        for server in (first, second):
            status, _ = post(server.url, fresh_request("no-redis"))
            assert status == 200
            with urllib.request.urlopen(server.url + "/perceptron", timeout=30) as page:
                assert page.status == 200
        assert "cache read failed" in first.log_text() + second.log_text()
    finally:
        restarted = start_redis(port=port)
        cluster[0].process, cluster[0].log = restarted.process, restarted.log
    time.sleep(1.2)                      # CACHE_RETRY_SECONDS=1: the backend is tried again
    post(first.url, fresh_request("redis-back"))
    status, _ = post(first.url, fresh_request("redis-back"))
    assert status == 200
    assert int(redis_command(redis.url, "DBSIZE").strip(":\r\n")) > 0, "the cache was not used again"


def test_a_worker_killed_mid_request_leaves_the_site_serving(cluster):
    _redis, (first, _second) = cluster
    master = psutil.Process(first.process.pid)
    gunicorn_master = next(p for p in [master, *master.children(recursive=True)]
                           if "gunicorn" in " ".join(p.cmdline()) and len(p.children()) >= 2)
    workers = gunicorn_master.children()
    results = []

    def visitor():
        for _ in range(5):
            try:
                results.append(post(first.url, fresh_request("kill"), timeout=30)[0])
            except OSError:
                results.append("dropped")

    threads = [threading.Thread(target=visitor) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    os.kill(workers[0].pid, signal.SIGKILL)
    for thread in threads:
        thread.join(60)
    end = time.monotonic() + 30
    while time.monotonic() < end and len(gunicorn_master.children()) < len(workers):
        time.sleep(0.2)
    assert len(gunicorn_master.children()) == len(workers), "the killed worker was not replaced"
    after = [post(first.url, fresh_request("after-kill"))[0] for _ in range(6)]
    assert after == [200] * 6
    assert all(r in (200, "dropped") for r in results), results
    assert 500 not in results
