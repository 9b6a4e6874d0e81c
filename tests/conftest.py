"""Shared test settings: headless Chromium options for dash_duo, browser tests last."""

import os
import shutil
import tempfile

# Test modules import numpy before the app: importing it here first gives them
# the app's single BLAS thread. With the default thread per core, the small
# matrices of the lessons' models run several times slower on a busy machine.
import app  # noqa: F401

# Background jobs' results are kept on disk by their arguments: every test
# session starts with none, so that no earlier run answers this one's jobs.
if "BACKGROUND_DIR" not in os.environ:
    os.environ["BACKGROUND_DIR"] = _JOBS_DIR = tempfile.mkdtemp(prefix="learnscape-test-jobs-")
else:
    _JOBS_DIR = None

#: The memo cache folder the browser tests' servers share (tests/browser/helpers.py):
#: a run computed for one test file is read by every other, on either xdist worker.
#: Empty at the start of each session, like the job folder above.
SHARED_CACHE_ENV = "LEARNSCAPE_TEST_CACHE_DIR"
if SHARED_CACHE_ENV not in os.environ:
    os.environ[SHARED_CACHE_ENV] = _CACHE_DIR = tempfile.mkdtemp(prefix="learnscape-test-cache-")
else:
    _CACHE_DIR = None


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


#: Browser test files that take longest (the soak by far), first among the
#: browser files so that both workers end at about the same time; the other
#: browser files follow in collection order.
LONGEST_BROWSER_FILES = ("test_soak.py", "test_loss_landscape_browser.py", "test_graph_layout_browser.py")


def pytest_configure(config):
    """Under `--dist loadfile` xdist hands out files in collection order only
    with its reordering off: by default it starts with the files that hold the
    most tests, which would run some browser files before production ones."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def _order(item) -> tuple[bool, int]:
    path = item.nodeid.split("::", 1)[0]
    browser = "tests/browser/" in path
    name = path.rsplit("/", 1)[-1]
    longest = LONGEST_BROWSER_FILES.index(name) if browser and name in LONGEST_BROWSER_FILES else None
    return browser, len(LONGEST_BROWSER_FILES) if longest is None else longest


def pytest_collection_modifyitems(items):
    """Browser tests run last: starting the app with dev tools changes it for
    the rest of the process (debug on, tracebacks in error pages), which the
    production tests, using the same app through a test client, must not see."""
    items.sort(key=_order)


def pytest_unconfigure(config):
    """The session's job and cache folders go with it (xdist workers share the controller's)."""
    if not hasattr(config, "workerinput"):
        for folder in (_JOBS_DIR, _CACHE_DIR):
            if folder:
                shutil.rmtree(folder, ignore_errors=True)
