"""Load: simulated visitors replay the real callback requests of every lesson
against gunicorn (the Procfile's command, 2 workers, loopback only).

A visitor opens a lesson (the page and the callbacks that fire on load),
walks through every step, then plays with each setting (a few valid values
each, at the last step) and moves to the next lesson. Requests are the ones
the browser sends, built from the pages' real layouts (app.warmup), sent as
Chromium sends them: with the page load's `endId` (each visitor loads the
site once, untimed), Chromium's Accept-Encoding, and a background callback's
polls with the inputs' values left out. Visitors are threads of this process
on keep-alive connections of a light client (bench/http_client.py), since
they share the machine's cores with the server; each phase reports the CPU
the client used (client_cpu_cores).

Phases, each bounded in time:
1. warm: one visitor per lesson replays it once (fills the cache);
2. cached: 1, 10 and 50 concurrent visitors replay it for --seconds each;
3. peer: the same at 10 visitors against gunicorn without the whole-response
   cache (plain Dash with memoized runs), the figure to compare with;
4. burst: 50 visitors at once each ask for a training run nobody asked for
   (a fresh seed): queued, or refused with a message, never an error, and
   no worker killed by its timeout.

Prints one JSON line per phase:

    python bench/bench_load.py [--seconds 10] [--cache filesystem|redis]
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import brotli

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.http_client import Connection  # noqa: E402
from tests.production.hostile import fresh_run_bodies  # noqa: E402
from tests.production.servers import redis_available, start_gunicorn, start_redis  # noqa: E402

# What Chromium sends with a callback request (the server offers br and gzip).
HEADERS = (b"Content-Type: application/json\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
           b"Accept: application/json\r\n")
END_ID = re.compile(rb'"end_id":\s*"([^"]+)"')
POLL_S = 0.5   # how often a background callback is polled (Dash's default is 1 s)
ONCE_LIMIT_S = 900.0   # a one-pass phase (warm-up, burst) is stopped after this long
REQUEST_TIMEOUT_S = 60.0
GOALS = {"requests_per_s": 300, "p99_ms": 250, "errors": 0}


def setting_overrides(view, schema, name: str, value) -> dict:
    from app.warmup import stringify

    for id_, _props in view.components.values():
        if isinstance(id_, dict) and id_.get("type") == "ls-setting" and id_.get("name") == name:
            return {f"{stringify(id_)}.value": value}
    return {}


def alternatives(setting) -> list:
    """Another valid value of a setting near its default (what a visitor tries)."""
    if setting.kind == "choice":
        return [c for c in setting.choices if c != setting.default][:1]
    if setting.kind == "bool":
        return [not setting.default]
    if setting.kind not in ("int", "float") or not isinstance(setting.default, (int, float)):
        return []
    values = []
    for factor in (0.5,):
        value = setting.default * factor if setting.default else (setting.low or 0) + 1
        value = min(max(value, setting.low), setting.high)
        value = int(round(value)) if setting.kind == "int" else round(value, 6)
        if value != setting.default and value not in values:
            values.append(value)
    return values


def decompress(data: bytes, encoding: str | None) -> bytes:
    if encoding == "br":
        return brotli.decompress(data)
    return gzip.decompress(data) if encoding == "gzip" else data


def poll_body(body: bytes) -> bytes:
    """What the browser sends when it polls a background callback: the same
    request with each input's and state's value left out (null)."""
    request = json.loads(body)
    for part in ("inputs", "state"):
        for entry in request.get(part) or []:
            if isinstance(entry, dict):     # the renderer's loop leaves a pattern's list as it is
                entry["value"] = None
    return json.dumps(request).encode()


def lesson_script(app, page, callbacks) -> list[bytes]:
    """Every request one visitor of `page` sends, as JSON bodies."""
    from app import warmup
    from tests.production.hostile import page_schema

    requests = [body for _label, body in warmup.page_load(app, page, callbacks)]
    requests += [body for _label, body in warmup.step_requests(app, page, callbacks)]
    view = warmup.Page.render(app, page)
    key, schema = warmup.step_key(view), page_schema(page)
    if key and schema:
        last = {key: int(page.get("steps") or 1) - 1}
        for setting in schema.settings:
            for value in alternatives(setting):
                change = setting_overrides(view, schema, setting.name, value)
                if not change:
                    continue
                changed = list(change)
                for callback in callbacks:
                    if any(warmup.triggered_by(callback, view, k) for k in changed) and not callback.background:
                        requests += warmup.request_bodies(view, callback, {**last, **change}, changed)
    return [json.dumps(body).encode() for body in requests]


class Visitor(threading.Thread):
    """Sends its bodies in a loop over one keep-alive connection until `stop`."""

    def __init__(self, url: str, bodies: list[bytes], stop: threading.Event, once: bool = False,
                 retry_busy: bool = False):
        super().__init__(daemon=True)
        host, port = url.split("//")[1].split(":")
        self.host, self.port = host, int(port)
        self.bodies, self.stop, self.once, self.retry_busy = bodies, stop, once, retry_busy
        self.latencies: list[float] = []
        self.statuses: dict = {}
        self.busy = 0
        self.background_latencies: list[float] = []
        self.samples: dict = {}
        self.http_requests = 0
        self.connection = None
        self.query = ""

    def send(self, body: bytes, handle: dict | None = None, decode: bool = False) -> tuple[object, bytes]:
        query = self.query
        if handle:
            query += ("&" if query else "?") + urllib.parse.urlencode(handle)
        try:
            if self.connection is None:
                self.connection = Connection(self.host, self.port, REQUEST_TIMEOUT_S)
            status, fields, data = self.connection.request("POST", "/_dash-update-component" + query, body, HEADERS)
            if decode:
                data = decompress(data, fields.get("content-encoding"))
            self.http_requests += 1
            return status, data
        except (OSError, ValueError) as error:
            if self.connection is not None:
                self.connection.close()
            self.connection = None
            return type(error).__name__, b""

    def load_site(self) -> None:
        """Load the site as a browser does once (not timed): its page carries
        the `endId` every callback request of this page load repeats."""
        connection = Connection(self.host, self.port, REQUEST_TIMEOUT_S)
        try:
            found = END_ID.search(connection.request("GET", "/")[2])
        finally:
            connection.close()
        self.query = "?endId=" + found.group(1).decode() if found else ""

    def run(self):
        self.connection = None
        index = 0
        while not self.stop.is_set() and (not self.once or index < len(self.bodies)):
            body = self.bodies[index % len(self.bodies)]
            index += 1
            start = time.perf_counter()
            status, data = self.send(body, decode=self.once)
            polled = status == 200 and data.startswith(b'{"cacheKey"')   # handles are short: never compressed
            if polled:
                # a background callback: poll as the browser does until its answer
                handle = json.loads(data)
                handle = {"cacheKey": handle["cacheKey"], "job": handle["job"]}
                polling = poll_body(body)
                end = time.perf_counter() + REQUEST_TIMEOUT_S
                while status == 200 and time.perf_counter() < end:
                    time.sleep(POLL_S)
                    status, data = self.send(polling, handle, decode=True)
                    if status != 200 or b'"response"' in data:
                        break
            if b"busy" in data and self.once:
                self.busy += 1
                if self.retry_busy and self.busy < 10 * len(self.bodies):
                    index -= 1          # warming: ask again until it is computed
                    time.sleep(1.0)
                    continue
            elapsed = time.perf_counter() - start
            (self.background_latencies if polled else self.latencies).append(elapsed)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status not in (200, 204) and str(status) not in self.samples:
                self.samples[str(status)] = (body[:200] + b" -> " + data[:300]).decode(errors="replace")
        if self.connection is not None:
            self.connection.close()


def run_phase(url: str, scripts: list[list[bytes]], visitors: int, seconds: float, once: bool = False,
              retry_busy: bool = False) -> dict:
    stop = threading.Event()
    crowd = []
    for i in range(visitors):
        if once:      # one pass over its own script
            bodies = scripts[i % len(scripts)]
        else:         # the lessons over and over, each visitor in its own order
            order = scripts[i % len(scripts):] + scripts[:i % len(scripts)]
            bodies = [b for script in order for b in script]
        crowd.append(Visitor(url, bodies, stop, once, retry_busy))
    for visitor in crowd:
        visitor.load_site()
    start, client_start = time.perf_counter(), time.process_time()
    for visitor in crowd:
        visitor.start()
    deadline = start + (ONCE_LIMIT_S if once else seconds)
    for visitor in crowd:
        visitor.join(max(0.0, deadline - time.perf_counter()))
    stop.set()
    for visitor in crowd:
        visitor.join(REQUEST_TIMEOUT_S)
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - client_start
    latencies = sorted(x for v in crowd for x in v.latencies)
    polled = sorted(x for v in crowd for x in v.background_latencies)
    statuses: dict = {}
    for visitor in crowd:
        for status, count in visitor.statuses.items():
            statuses[str(status)] = statuses.get(str(status), 0) + count
    errors = sum(c for s, c in statuses.items() if not s.isdigit() or int(s) >= 500)

    def pct(values, q):
        return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1) if values else None

    http_requests = sum(v.http_requests for v in crowd)
    samples = {}
    for visitor in crowd:
        samples.update(visitor.samples)
    return {"visitors": visitors, "seconds": round(elapsed, 1), "requests": len(latencies) + len(polled),
            "requests_per_s": round((len(latencies) + len(polled)) / elapsed, 1) if elapsed else 0,
            "http_requests_per_s": round(http_requests / elapsed, 1) if elapsed else 0,
            "p50_ms": pct(latencies, 0.50), "p95_ms": pct(latencies, 0.95), "p99_ms": pct(latencies, 0.99),
            "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else None,
            "background_requests": len(polled),
            "background_p50_ms": pct(polled, 0.50), "background_p99_ms": pct(polled, 0.99),
            "errors": errors, "statuses": statuses, "error_samples": samples,
            "busy_messages": sum(v.busy for v in crowd),
            "client_cpu_cores": round(client_cpu / elapsed, 2) if elapsed else None}


def worker_restarts(log: str) -> dict:
    return {"worker_timeouts": log.count("WORKER TIMEOUT"), "workers_booted": log.count("Booting worker")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each cached phase (s)")
    parser.add_argument("--cache", choices=("filesystem", "redis"), default="filesystem")
    parser.add_argument("--burst", type=int, default=50, help="visitors in the uncached burst")
    args = parser.parse_args()

    from app import warmup
    from app.main import app

    callbacks = warmup.server_callbacks(app)
    scripts = [lesson_script(app, page, callbacks) for page in warmup.lesson_pages()]
    print(json.dumps({"bench": "load", "lessons": len(scripts), "requests_per_visit": sum(map(len, scripts))}),
          flush=True)

    redis = None
    env = {"BACKGROUND_DIR": tempfile.mkdtemp(prefix="learnscape-jobs-")}
    if args.cache == "redis" and redis_available():
        redis = start_redis()
        env["CACHE_REDIS_URL"] = redis.url
    else:
        env.update(CACHE_TYPE="filesystem", CACHE_DIR=tempfile.mkdtemp(prefix="learnscape-cache-"))
    server = start_gunicorn(workers=2, PRECOMPRESS_STATIC=1, **env)
    try:
        # one visitor per lesson, once through: fills the cache (both workers busy)
        warm = run_phase(server.url, scripts, len(scripts), 0, once=True, retry_busy=True)
        print(json.dumps({"bench": "load", "phase": "warm", **warm}), flush=True)
        for visitors in (1, 10, 50):
            result = run_phase(server.url, scripts, visitors, args.seconds)
            print(json.dumps({"bench": "load", "phase": "cached", "cache": args.cache, **result,
                              "goals": GOALS if visitors == 50 else None}), flush=True)
        fresh = [json.dumps(b).encode() for b in fresh_run_bodies(app, args.burst)]
        burst = run_phase(server.url, [[body] for body in fresh], len(fresh), 0, once=True)
        print(json.dumps({"bench": "load", "phase": "uncached burst", **burst,
                          **worker_restarts(server.log_text())}), flush=True)
    finally:
        server.stop()

    peer = start_gunicorn(workers=2, RESPONSE_CACHE="0", **env)
    try:
        run_phase(peer.url, scripts, len(scripts), 0, once=True, retry_busy=True)
        result = run_phase(peer.url, scripts, 10, args.seconds)
        print(json.dumps({"bench": "load", "phase": "cached", "peer": "Dash with memoized runs only",
                          **result}), flush=True)
    finally:
        peer.stop()
        if redis is not None:
            redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
