"""Headless Chromium for the production checks: a fresh profile each time,
and what came over the wire (the browser's Resource Timing) once a page is still."""

from __future__ import annotations

import tempfile
import time

ENTRIES_JS = """
const nav = performance.getEntriesByType('navigation');
const res = performance.getEntriesByType('resource');
return [...nav, ...res].map(e => ({name: e.name, transfer: e.transferSize,
                                   encoded: e.encodedBodySize, decoded: e.decodedBodySize}));
"""


def browser():
    """A headless Chrome (selenium) with an empty profile and console logging."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,900", f"--user-data-dir={tempfile.mkdtemp(prefix='learnscape-chrome-')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options)


def settled_entries(driver, timeout: float = 40.0, quiet: float = 2.0, files_only: bool = False) -> list[dict]:
    """Resource entries once no new resource arrived for `quiet` seconds.

    files_only: wait only for files (scripts, styles, chunks), not for the
    answers of callbacks still computing.
    """
    end = time.monotonic() + timeout
    last_count, last_change = -1, time.monotonic()
    entries = []
    while time.monotonic() < end:
        entries = driver.execute_script(ENTRIES_JS)
        count = len([e for e in entries if not files_only or "/_dash-update-component" not in e["name"]])
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > quiet:
            break
        time.sleep(0.25)
    return entries


def console_errors(driver) -> list[str]:
    """SEVERE console entries since the last call (CSP violations, failed loads, errors)."""
    return [e["message"][:300] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


#: True once a page has drawn a Plotly figure (so plotly.js has arrived).
FIGURE_DRAWN_JS = "return document.querySelectorAll('.js-plotly-plot .main-svg').length > 0"


def wait_for(driver, script: str, timeout: float = 40.0) -> bool:
    """Poll a JS condition until it is true (or `timeout` s pass)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if driver.execute_script(script):
            return True
        time.sleep(0.25)
    return False


def first_visit(driver, url: str, files_only: bool = False, ready_js: str = "") -> list[dict]:
    """Open `url` with an empty browser cache; its resource entries once still
    (and, with ready_js, once that condition held first)."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get(url)
    if ready_js:
        wait_for(driver, ready_js)
    return settled_entries(driver, files_only=files_only)
