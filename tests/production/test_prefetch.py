"""The step prefetch (app.prefetch) under gunicorn: asking for a step computes the
lesson's next steps in a child process, so that a later step's quick answer comes
from the cache without anyone asking for it first."""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request

import pytest

from app import warmup
from app.main import app
from tests.production.servers import start_gunicorn

pytestmark = pytest.mark.production


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url + warmup.UPDATE_URL, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return json.loads(response.read())


def handed_over(answer: dict) -> bool:
    """Does a decision-boundaries quick answer hand the step to the background job?"""
    return any("ls-compute" in output for output in answer["response"])


def test_asking_for_a_step_computes_the_next_one_in_the_background():
    page = next(p for p in warmup.lesson_pages() if p["path"] == "/decision-boundaries")
    bodies = [body for _label, body in warmup.step_requests(app, page, warmup.server_callbacks(app))]
    ninth, last = bodies[-2], bodies[-1]          # the whole grid, then free play (one small network)
    folder = tempfile.mkdtemp(prefix="learnscape-cache-")
    server = start_gunicorn(workers=1, CACHE_TYPE="filesystem", CACHE_DIR=folder, PREFETCH=1,
                            BACKGROUND_DIR=tempfile.mkdtemp(prefix="learnscape-jobs-"))
    try:
        assert handed_over(post(server.url, last))     # nothing computed yet
        assert handed_over(post(server.url, ninth))    # handed over (not run here): the prefetch starts
        deadline = time.monotonic() + 120
        while handed_over(answer := post(server.url, last)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not handed_over(answer), "the next step was not computed in the background"
        figures = [output for output in answer["response"] if "pl-frames" in output]
        assert figures, answer["response"].keys()
    finally:
        server.stop()
