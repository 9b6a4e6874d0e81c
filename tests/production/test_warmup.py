"""The warm-up command: it computes a lesson's default runs into a shared
cache, and a server started afterwards answers them without computing."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest

from app import warmup
from app.main import app
from tests.production.servers import ROOT, base_env, start_gunicorn


pytestmark = pytest.mark.production


def entries(folder: str) -> int:
    return sum(1 for p in Path(folder).iterdir() if p.is_file())


def run_warmup(*args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.warmup", *args], cwd=ROOT, env=base_env(**env),
                          capture_output=True, text=True, timeout=300)


def test_warmup_fills_the_cache_that_a_server_then_answers_from():
    lesson = warmup.lesson_pages()[0]
    folder = tempfile.mkdtemp(prefix="learnscape-cache-")
    env = {"CACHE_TYPE": "filesystem", "CACHE_DIR": folder,
           "BACKGROUND_DIR": tempfile.mkdtemp(prefix="learnscape-jobs-")}
    done = run_warmup("--only", lesson["path"], **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"warm-up: {lesson['path']}:" in done.stdout and ", 0 errors" in done.stdout
    warmed = entries(folder)
    assert warmed > 0

    server = start_gunicorn(workers=1, **env)
    try:
        callbacks = warmup.server_callbacks(app)
        for _label, body in warmup.step_requests(app, lesson, callbacks):
            request = urllib.request.Request(server.url + warmup.UPDATE_URL, data=json.dumps(body).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as response:
                assert response.status == 200
        assert entries(folder) == warmed, "the server computed runs the warm-up had stored"
    finally:
        server.stop()


def test_warmup_explains_an_in_process_cache_and_refuses_unknown_lessons():
    done = run_warmup(CACHE_TYPE="simple")
    assert done.returncode == 0 and "in-process" in done.stdout
    done = run_warmup("--only", "/no-such-lesson", CACHE_TYPE="filesystem", CACHE_DIR=tempfile.mkdtemp())
    assert done.returncode == 2 and "no such lesson" in done.stderr


def test_replay_covers_every_lesson_and_step():
    callbacks = warmup.server_callbacks(app)
    for page in warmup.lesson_pages():
        labels = {label for label, _body in warmup.step_requests(app, page, callbacks)}
        assert labels == {f"{page['path']} step {i + 1}" for i in range(page["steps"])}, page["path"]
        assert any(label.endswith("layout") for label, _ in warmup.page_load(app, page, callbacks))


def test_the_warmup_does_the_work_a_step_needs_beyond_its_answer(monkeypatch):
    """Graph layout's tangle rates are asked for by the browser one after another, beyond
    the step's answer: the warm-up computes them through the lesson's `ahead` work."""
    from pages import graph_layout

    done = []
    monkeypatch.setitem(graph_layout.ENGINE.ahead, "tangle", lambda: done.append("tangle"))
    page = next(p for p in warmup.lesson_pages() if p["path"] == "/graph-layout")
    warmup.work_ahead(page)
    assert done == ["tangle"]
