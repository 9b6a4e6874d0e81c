"""Every lesson's narration is on screen before any script runs: the first
answer holds it (components/first_paint.py), so a slow connection or a script
that arrives late never leaves the reader with a blank page."""

import re
import sys

import pytest

from app.main import app
from components.narration_html import markdown_html
from components.site import lessons
from tests.browser.helpers import start

pytestmark = pytest.mark.browser

with app.server.test_request_context():
    LESSONS = [(page["relative_path"], page["module"]) for page in lessons()]


def letters(text: str) -> str:
    """Text without white space (a tag boundary may or may not read as a space)."""
    return re.sub(r"\s+", "", text)


def opening(markdown: str) -> str:
    """The first 40 letters of a step's narration, as the server renders it."""
    return letters(re.sub(r"<[^>]+>", "", markdown_html(markdown)))[:40]


@pytest.mark.parametrize("path, module", LESSONS, ids=[p for p, _ in LESSONS])
def test_the_steps_narration_shows_with_scripts_switched_off(dash_duo, path, module):
    steps = sys.modules[module].STEPS
    start(dash_duo, app, "/")
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        for step in (1, len(steps)):
            driver.get(f"{dash_duo.server_url}{path}?step={step}")
            current = driver.find_element("css selector", ".ls-step.is-current")
            assert current.is_displayed()
            assert current.find_element("css selector", "h2").text == steps[step - 1].title
            assert opening(steps[step - 1].body) in letters(current.text), current.text[:200]
            assert driver.find_element("css selector", ".ls-progress").text == f"Step {step} of {len(steps)}"
    finally:
        driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
