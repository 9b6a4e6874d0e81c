"""One app server and one headless Chromium for all the tests of a module.

Dash's own `dash_duo` starts both for every test, and `start` then had to open
the home page before the page under test: seconds per test spent before it
does anything. Here `dash_duo` is shared by the tests of a module, and between
two tests the browser leaves the page (so no timer or request of the last test
runs on into the next), forgets everything the site stored (local and session
storage, cookies: a fresh visitor again), an emulated screen size is dropped, and its console is emptied (so each
test sees only its own errors). Only the browser's HTTP cache stays: the site's
scripts are not what these tests are about (tests/production weighs a first
visit with an empty cache).

A test sees the site as a visitor who asked for reduced motion: each step shows
its result at once, without playing (learnscape.js). Playing a step's frames in
this GPU-less browser costs more CPU than everything else a test does (a walk
through the loss-landscape steps: 85 s of browser CPU with motion, 34 s
without). A test about motion (a step that plays by itself, and the soak's
attract loop) is marked `motion` and sees the site as most visitors do.
"""

from __future__ import annotations

import pytest
from dash.testing.application_runners import ThreadedRunner
from dash.testing.composite import DashComposite
from selenium.common.exceptions import WebDriverException


@pytest.fixture(scope="module")
def shared_dash_duo(request, tmp_path_factory):
    """Dash's `dash_duo`, made once per module (the server starts on the first `start`)."""
    config = request.config
    with ThreadedRunner() as server, DashComposite(
        server=server,
        browser=config.getoption("webdriver"),
        remote=config.getoption("remote"),
        remote_url=config.getoption("remote_url"),
        headless=config.getoption("headless"),
        options=config.hook.pytest_setup_options(),
        download_path=str(tmp_path_factory.mktemp("download")),
        percy_assets_root=config.getoption("percy_assets"),
        percy_finalize=config.getoption("nopercyfinalize"),
        pause=config.getoption("pause"),
    ) as duo:
        yield duo


@pytest.fixture
def dash_duo(shared_dash_duo, request):
    """The module's browser and server, as a fresh visitor's for this test."""
    forget(shared_dash_duo)
    reduce_motion(shared_dash_duo, request.node.get_closest_marker("motion") is None)
    yield shared_dash_duo
    forget(shared_dash_duo)


def reduce_motion(duo, reduce: bool) -> None:
    """The browser's `prefers-reduced-motion` answer, for this tab until changed."""
    value = "reduce" if reduce else "no-preference"
    duo.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-reduced-motion", "value": value}]})


def forget(duo) -> None:
    """Leave the page, clear what the site stored and empty the console."""
    driver = duo.driver
    if duo.server.started:
        try:  # session storage belongs to the tab: clear it while still on the site
            driver.execute_script("try { sessionStorage.clear(); localStorage.clear(); } catch (e) {}")
        except WebDriverException:
            pass
    driver.get("about:blank")
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})   # a phone test's screen size
    if duo.server.started:
        driver.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": duo.server.url, "storageTypes": "all"})
    driver.get_log("browser")  # read and so emptied
