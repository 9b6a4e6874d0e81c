"""The optimizer lab in headless Chromium, as a visitor uses it."""

import pytest

from app.main import app
from pages.optimizer_lab import STEPS
from tests.browser.helpers import assert_clean, figure_data, retype, setting_field, start, wait_until
from tests.browser.steps import DesktopAccessibility, emulate_desktop

N = len(STEPS)
FIGURE_OF_STEP = [s.figure for s in STEPS]
PATH = "/optimizer-lab"
pytestmark = pytest.mark.browser


def slot(name: str) -> str:
    """CSS of the box of graph `name` (its id is a dict, rendered as JSON)."""
    return f"div[id*='\"name\":\"{name}\"'][id*='pl-box']"


def label(dash_duo) -> str:
    return dash_duo.find_element(".pl-label").text


def test_every_step_renders_without_errors_and_is_accessible(dash_duo):
    emulate_desktop(dash_duo)
    start(dash_duo, app, PATH)
    accessibility = DesktopAccessibility(dash_duo)
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step 1 of {N}")
    wait_until(lambda: figure_data(dash_duo, slot("right")), message="the loss surface")
    accessibility.check(1)
    for k in range(2, N + 1):
        dash_duo.find_element(".ls-next").click()
        dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {k} of {N}")
        assert dash_duo.find_element(".ls-step.is-current h2").text == STEPS[k - 1].title
        # each step's first figure arrives (the comparison and the race take a few seconds when cold)
        first = "cmp" if FIGURE_OF_STEP[k - 1] == "compare" else "left"
        wait_until(lambda: dash_duo.driver.find_elements("css selector", f"{slot(first)}:not(.ls-hidden)")
                   and figure_data(dash_duo, slot(first)), timeout=30, message=f"step {k}'s figure")
        accessibility.check(k)
    assert f"step={N}" in dash_duo.driver.current_url
    accessibility.assert_none()
    assert_clean(dash_duo)


def test_the_step_player_moves_the_update_arrow(dash_duo):
    adam = 1 + FIGURE_OF_STEP.index("inside-adam")
    start(dash_duo, app, f"{PATH}?step={adam}")
    wait_until(lambda: label(dash_duo).startswith("step 0"), timeout=20, message="Adam's run")
    before = wait_until(lambda: figure_data(dash_duo, slot("right")), message="Adam's path")
    assert before[-1]["x"] == []        # no update drawn before the first step
    dash_duo.find_element(".pl-step").click()
    wait_until(lambda: label(dash_duo).startswith("step 1"), message="one step")
    wait_until(lambda: len(figure_data(dash_duo, slot("right"))[-1]["x"]) == 2, message="the arrow of step 1")
    first = figure_data(dash_duo, slot("right"))[-1]
    dash_duo.find_element(".pl-step").click()
    wait_until(lambda: figure_data(dash_duo, slot("right"))[-1] != first, message="the arrow of step 2")
    assert_clean(dash_duo)


def test_a_free_play_control_changes_the_figure_and_the_link(dash_duo):
    start(dash_duo, app, f"{PATH}?step={N}")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {N} of {N}")
    before = wait_until(lambda: figure_data(dash_duo, slot("right")), timeout=20, message="the surface")
    retype(setting_field(dash_duo, "lr"), "0.02")
    wait_until(lambda: figure_data(dash_duo, slot("right")) != before, timeout=20, message="a new run")
    wait_until(lambda: "lr=0.02" in dash_duo.driver.current_url, message="the link to hold lr")
    assert dash_duo.find_element(".ls-progress").text == f"Step {N} of {N}"   # typing never moves steps
    assert_clean(dash_duo)


def note(dash_duo, name: str) -> str:
    """The text beside the field of setting `name`."""
    return dash_duo.find_element(f'[id*="ls-field-note"][id*="\\"name\\":\\"{name}\\""]').text


def test_a_bad_link_shows_notices_beside_the_fields_and_a_working_page(dash_duo):
    start(dash_duo, app, f"{PATH}?step={N}&lr=-1&momentum=abc&epochs=99999&rule=turbo")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {N} of {N}")

    def notices():
        return " ".join(n.text for n in dash_duo.find_elements(".ls-notices"))

    wait_until(lambda: all(word in notices() for word in ("Learning rate", "Epochs", "Adaptive rule")),
               message="a notice for each bad setting")
    wait_until(lambda: figure_data(dash_duo, slot("left")), timeout=20, message="figures despite bad input")
    assert "not allowed" in note(dash_duo, "lr") and "not allowed" in note(dash_duo, "epochs")
    assert setting_field(dash_duo, "lr").get_attribute("value") == "0.05"
    assert_clean(dash_duo)


def test_a_bad_value_typed_is_told_beside_its_field_and_replaced(dash_duo):
    start(dash_duo, app, f"{PATH}?step={N}")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {N} of {N}")
    wait_until(lambda: figure_data(dash_duo, slot("right")), timeout=20, message="the surface")
    field = setting_field(dash_duo, "batch")
    retype(field, "0")
    wait_until(lambda: "not allowed" in note(dash_duo, "batch"), timeout=20, message="the note beside the field")
    wait_until(lambda: field.get_attribute("value") == "50", message="the field shows the value used")
    assert "batch=" not in dash_duo.driver.current_url
    assert_clean(dash_duo)
