"""Soak: the attract loop runs through every step of every lesson, round and
round, with step durations scaled down; no errors, and the server's memory
stays flat once every run is cached."""

import os
import statistics
import time

import psutil
import pytest

from app.main import app
from components.site import lesson_index
from tests.browser.helpers import assert_clean, start, wait_until

pytestmark = pytest.mark.browser

LOOPS = 3  # returns to the first lesson: a cold lap, then two complete laps with every run cached
PACE = 0.01  # the fastest pace the address may ask for (presenter.js clamps `pace` there)
#: The pace the loop then runs at, set on the page's presenter state (not in
#: the address, which no visitor can take below PACE): the lessons' steps last
#: 30 to 165 s, so 0.12 to 0.66 s here. Every step is still shown, asks the
#: server for its figures and is counted; only the time spent looking at it goes.
TEST_PACE = 0.004
#: Once warm the server may grow by this much per lap (a leak of some 200 kB
#: per step fails; drawing a step allocates and frees tens of MB).
LEAK_MB_PER_LAP = 14


@pytest.mark.motion
def test_attract_loop_soak(dash_duo):
    with app.server.test_request_context():
        lessons = lesson_index()
    first = lessons[0]["path"]
    per_loop = sum(l["steps"] for l in lessons)
    start(dash_duo, app, f"{first}?present=1&pace={PACE}")
    driver = dash_duo.driver
    wait_until(lambda: driver.execute_script("return (window.learnscapePresenter || {}).pace") == PACE,
               message="the presenter at the address's pace")
    driver.execute_script("window.learnscapePresenter.pace = arguments[0];", TEST_PACE)
    # Counted from here: the lap already under way when this runs is partial;
    # `laps` holds the step changes of each one (a lap ends on coming home).
    driver.execute_script(
        "const home = arguments[0];"
        "window.__soak = {steps: 0, paths: new Set(), loops: 0, laps: [], lap: 0, last: window.location.pathname};"
        "document.addEventListener('learnscape:step', () => {"
        "  const s = window.__soak, here = window.location.pathname;"
        "  s.steps += 1; s.paths.add(here);"
        "  if (here !== s.last && here === home) { s.loops += 1; s.laps.push(s.lap); s.lap = 0; }"
        "  s.lap += 1; s.last = here; });", first)
    process = psutil.Process(os.getpid())  # the test server runs in this process
    samples = []  # (returns to the first lesson so far, RSS in MB), one a second
    deadline = time.time() + 900   # a guard against a stuck loop; the test ends when the laps are done
    while time.time() < deadline:
        loops = driver.execute_script("return window.__soak.loops")
        samples.append((loops, process.memory_info().rss / 2**20))
        if loops >= LOOPS:
            break
        time.sleep(1)
    steps = driver.execute_script("return window.__soak.steps")
    paths = driver.execute_script("return Array.from(window.__soak.paths)")
    loops = driver.execute_script("return window.__soak.loops")
    laps = driver.execute_script("return window.__soak.laps")
    assert loops >= LOOPS, f"the attract loop came back to {first} {loops} times ({steps} step changes)"
    # every complete lap shows every step of every lesson
    assert all(n >= per_loop for n in laps[1:]), f"step changes per lap {laps}, {per_loop} steps in all lessons"
    assert set(paths) >= {l["path"] for l in lessons}, f"visited {paths}"
    # Memory: the first complete lap (every run cached by the partial one before
    # it) against the last; the median of each lap's samples, as drawing a step
    # takes memory and gives it back.
    warm = statistics.median(mb for n, mb in samples if n == 1)
    end = statistics.median(mb for n, mb in samples if n == LOOPS - 1)
    growth = end - warm
    print(f"soak: {steps} step changes, laps {laps}, RSS warm {warm:.0f} MB, end {end:.0f} MB")
    assert growth < LEAK_MB_PER_LAP * (LOOPS - 2), f"server memory grew {growth:.0f} MB in {LOOPS - 2} laps"
    assert_clean(dash_duo)
