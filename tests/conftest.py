"""Shared test settings: headless Chromium options for dash_duo, browser tests last."""


def pytest_setup_options():
    """Chromium flags that work on a closed, sandboxed, GPU-less machine."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for flag in (
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
    ):
        options.add_argument(flag)
    return options


def pytest_collection_modifyitems(items):
    """Browser tests run last: starting the app with dev tools changes it for
    the rest of the process (debug on, tracebacks in error pages), which the
    production tests, using the same app through a test client, must not see."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)
