"""Shared test settings: headless Chromium options for dash_duo."""


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
