"""The site as a visitor's browser gets it from gunicorn run as the Procfile
says (debug off, security headers and content security policy on): every
page renders with no console error (a blocked script would be one), a first
visit stays within its weight over the wire, and fingerprinted static files
come from the browser's cache on the next visit."""

from __future__ import annotations

import os
import tempfile
import time
import urllib.request

import dash
import pytest

from app import plotly_bundle
from app.main import app  # noqa: F401  (registers the pages)
from tests.production.chrome import FIGURE_DRAWN_JS, browser, console_errors, first_visit, settled_entries
from tests.production.servers import start_gunicorn

pytestmark = [pytest.mark.browser, pytest.mark.production]
#: First visit, compressed, headers included (the issue's goal for a page).
GOAL_BYTES = 1.8e6
PATHS = [p["path"] for p in sorted(dash.page_registry.values(), key=lambda p: p.get("order", 0))]
#: The page whose whole first visit is weighed (the first lesson: quick to
#: compute, and it loads what every lesson loads: plotly.js, MathJax, tables).
WEIGHED = next(p["path"] for p in sorted(dash.page_registry.values(), key=lambda p: p.get("order", 0))
               if p.get("lesson"))


def _wait_for_figures(driver, timeout: float) -> int:
    """Plotly figures drawn in the page (waits up to `timeout` s for the first)."""
    end = time.monotonic() + timeout
    count = 0
    while time.monotonic() < end:
        count = driver.execute_script("return document.querySelectorAll('.js-plotly-plot .main-svg').length")
        if count:
            return count
        time.sleep(0.25)
    return count


@pytest.fixture(scope="module")
def visits():
    """Every page visited once: {path: ([], console errors, figures drawn)}, and the
    first lesson weighed with an empty browser cache ("weight") and visited again ("again")."""
    # The session's shared cache folder (tests/conftest.py): what this server computes
    # the browser tests' servers then read, and the other way round.
    server = start_gunicorn(workers=2, PRECOMPRESS_STATIC=1,
                            CACHE_TYPE="filesystem", CACHE_DIR=os.environ["LEARNSCAPE_TEST_CACHE_DIR"],
                            BACKGROUND_DIR=tempfile.mkdtemp(prefix="learnscape-jobs-"))
    driver = browser()
    try:
        found = {}
        lessons = {p["path"] for p in dash.page_registry.values() if p.get("lesson")}
        for path in PATHS:
            if path == "/":     # the home page weighed on an empty browser cache
                entries = first_visit(driver, server.url + path)
            else:
                entries = []
                driver.get(server.url + path)
            graphs = _wait_for_figures(driver, 30.0) if path in lessons else 0
            found[path] = (entries, console_errors(driver), graphs)
        # the weight of a whole first visit (empty browser cache), its runs included
        found["weight"] = (first_visit(driver, server.url + WEIGHED, ready_js=FIGURE_DRAWN_JS),
                           console_errors(driver), 0)
        driver.get(server.url + "/")
        driver.get(server.url + WEIGHED)
        found["again"] = (settled_entries(driver, quiet=1.0), [], 0)
        with urllib.request.urlopen(server.url + "/perceptron", timeout=30) as response:
            found["headers"] = dict(response.headers)
        found["log"] = server.log_text()
        yield found
    finally:
        driver.quit()
        server.stop()


def test_every_page_renders_with_the_policy_on_and_no_console_error(visits):
    assert "Content-Security-Policy" in visits["headers"]
    errors = {path: visits[path][1] for path in [*PATHS, "weight"] if visits[path][1]}
    assert not errors, errors


def test_lessons_draw_their_figures_under_the_policy(visits):
    lessons = [p["path"] for p in dash.page_registry.values() if p.get("lesson")]
    assert lessons
    for path in lessons:
        assert visits[path][2] > 0, f"{path}: no plotly figure drawn"


def test_first_visit_weight(visits):
    home = sum(e["transfer"] for e in visits["/"][0])
    assert home > 0
    lesson = sum(e["transfer"] for e in visits["weight"][0])
    print(f"first visit over the wire: / {home / 1e6:.2f} MB, {WEIGHED} {lesson / 1e6:.2f} MB")
    assert home <= GOAL_BYTES
    names = [e["name"] for e in visits["weight"][0]]
    assert any(f"/{plotly_bundle.__name__}/" in n for n in names), "the partial plotly.js was not loaded"
    assert not any("package_data/plotly" in n for n in names), "the full plotly.js was loaded as well"
    assert lesson <= GOAL_BYTES, f"{WEIGHED}: {lesson / 1e6:.2f} MB"


def test_static_files_were_compressed_before_the_first_visitor(visits):
    assert "precompressed" in visits["log"], visits["log"][-1000:]


def test_fingerprinted_static_files_come_from_the_browser_cache(visits):
    static = [e for e in visits["again"][0] if ".v" in e["name"].rsplit("/", 1)[-1] or "?m=" in e["name"]]
    assert static
    refetched = [e["name"] for e in static if e["transfer"] > 0]
    assert not refetched, refetched
