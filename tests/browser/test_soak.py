"""Soak: the attract loop runs through every lesson for 500 step changes
with step durations scaled down; no errors, and the server's memory stays flat."""

import os
import time

import psutil
import pytest

from app.main import app
from components.site import lesson_index
from tests.browser.helpers import assert_clean, start

pytestmark = pytest.mark.browser

STEP_CHANGES = 500
PACE = 0.015  # a 12 s step lasts 0.18 s


def test_attract_loop_soak(dash_duo):
    with app.server.test_request_context():
        first = lesson_index()[0]["path"]
    start(dash_duo, app, f"{first}?present=1&pace={PACE}")
    driver = dash_duo.driver
    driver.execute_script(
        "const home = arguments[0];"
        "window.__soak = {steps: 0, paths: new Set(), loops: 0, last: window.location.pathname};"
        "document.addEventListener('learnscape:step', () => {"
        "  const s = window.__soak, here = window.location.pathname;"
        "  s.steps += 1; s.paths.add(here);"
        "  if (here !== s.last && here === home) s.loops += 1;"
        "  s.last = here; });", first)
    process = psutil.Process(os.getpid())  # the test server runs in this process
    samples = []
    deadline = time.time() + 420
    while time.time() < deadline:
        steps = driver.execute_script("return window.__soak.steps")
        samples.append((steps, process.memory_info().rss / 2**20))
        if steps >= STEP_CHANGES:
            break
        time.sleep(2)
    steps = driver.execute_script("return window.__soak.steps")
    paths = driver.execute_script("return Array.from(window.__soak.paths)")
    loops = driver.execute_script("return window.__soak.loops")
    assert steps >= STEP_CHANGES, f"only {steps} step changes in the time allowed"
    with app.server.test_request_context():
        assert set(paths) >= {l["path"] for l in lesson_index()}, f"visited {paths}"
    assert loops >= 2, f"the attract loop came back to {first} {loops} times"
    # Memory after the first full loop (everything cached) against the end.
    warm = next(mb for s, mb in samples if s >= STEP_CHANGES // 4)
    growth = samples[-1][1] - warm
    print(f"soak: {steps} step changes, {loops} loops, RSS warm {warm:.0f} MB, end {samples[-1][1]:.0f} MB")
    assert growth < 80, f"server memory grew {growth:.0f} MB over the soak"
    assert_clean(dash_duo)
