"""The decision-boundaries lesson in headless Chromium, as a visitor uses it."""

import pytest

from app.main import app
from pages.decision_boundaries import STEPS
from tests.browser.helpers import assert_clean, figure_data, retype, setting_field, start, wait_until
from tests.browser.steps import DesktopAccessibility, emulate_desktop

N = len(STEPS)
PATH = "/decision-boundaries"
AREAS = ".db-figures .ls-figure"          # the first figure of the row: the decision areas
pytestmark = pytest.mark.browser


def heatmap_z(dash_duo):
    data = figure_data(dash_duo, AREAS) or []
    return data[0]["z"] if data and data[0].get("z") else None


def areas_text(dash_duo):
    """The titles drawn in the decision-areas figure."""
    found = dash_duo.driver.find_elements("css selector", AREAS + " .infolayer")
    return found[0].text if found else ""


def title(dash_duo):
    return dash_duo.find_element(".ls-step.is-current h2").text


def field_note(name: str) -> str:
    """The css selector of the note beside the field of setting `name`."""
    return f'[id*="ls-field-note"][id*="\\"{name}\\""]'


def test_every_step_from_the_plane_to_free_play_and_accessible(dash_duo):
    emulate_desktop(dash_duo)
    start(dash_duo, app, PATH)
    accessibility = DesktopAccessibility(dash_duo)
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step 1 of {N}")
    wait_until(lambda: (figure_data(dash_duo, AREAS) or [{}])[0].get("z"), 30, "the plane in the song cube")
    link = wait_until(lambda: dash_duo.driver.find_elements("css selector", '.ls-step.is-current a[href="/perceptron"]'),
                      20, "the link to the perceptron lesson")
    assert link[0].text == "the perceptron lesson"
    accessibility.check(1)
    for k in range(2, N + 1):
        dash_duo.find_element(".ls-next").click()
        dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {k} of {N}")
        assert title(dash_duo) == STEPS[k - 1].title
        accessibility.check(k)
    assert f"step={N}" in dash_duo.driver.current_url
    wait_until(lambda: "Your network: 2 × 8" in areas_text(dash_duo), 60, "the free-play decision areas")
    accessibility.assert_none()
    panel = [h for h in dash_duo.find_elements(".ls-panel h3") if h.text == "Your network"]
    assert panel and panel[0].is_displayed()
    assert_clean(dash_duo)


def test_the_step_player_moves_the_decision_areas(dash_duo):
    start(dash_duo, app, f"{PATH}?step=2")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step 2 of {N}")
    wait_until(lambda: "Logistic regression" in areas_text(dash_duo), 60, "the logistic regression run")
    assert dash_duo.find_element(".pl-label").text == "epoch 0"
    before = wait_until(lambda: heatmap_z(dash_duo), 10, "a heatmap")
    dash_duo.find_element(".pl-step").click()
    wait_until(lambda: dash_duo.find_element(".pl-label").text == "epoch 5", 10, "one frame on")
    wait_until(lambda: heatmap_z(dash_duo) != before, 10, "the areas to change")
    dash_duo.find_element(".pl-play").click()
    wait_until(lambda: dash_duo.find_element(".pl-label").text == "epoch 200", 30, "playing to the end")
    assert_clean(dash_duo)


def test_free_play_controls_change_the_network_and_the_link(dash_duo):
    start(dash_duo, app, f"{PATH}?step={N}")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {N} of {N}")
    wait_until(lambda: "Your network: 2 × 8" in areas_text(dash_duo), 60, "the default network")
    before = heatmap_z(dash_duo)
    retype(setting_field(dash_duo, "layers"), "1")
    retype(setting_field(dash_duo, "width"), "60")
    # A bigger run: the page says how far training has got, then draws the new areas.
    wait_until(lambda: "Your network: 1 × 60" in areas_text(dash_duo), 60, "the new network's areas")
    assert heatmap_z(dash_duo) != before
    wait_until(lambda: "layers=1" in dash_duo.driver.current_url and "width=60" in dash_duo.driver.current_url,
               10, "the link to hold the settings")
    assert progress_of_steps_untouched(dash_duo)
    assert_clean(dash_duo)


def progress_of_steps_untouched(dash_duo) -> bool:
    """Typing into the settings never moves the steps."""
    return dash_duo.find_element(".ls-progress").text == f"Step {N} of {N}"


def test_a_bad_link_gives_notices_with_the_limits_and_a_working_page(dash_duo):
    start(dash_duo, app, f"{PATH}?step={N}&layers=0&width=0&noise=nan&epochs=1000000")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {N} of {N}")
    notices = dash_duo.find_element(".ls-notices").text
    assert "Neurons per layer" in notices and "1 to 256" in notices
    assert "Noise" in notices and "Epochs" in notices
    wait_until(lambda: "1 to 256" in dash_duo.find_element(field_note("width")).text, 10,
               "the note beside the field of the bad width")
    wait_until(lambda: "no hidden layer" in areas_text(dash_duo), 60, "areas despite the bad link")
    assert heatmap_z(dash_duo)
    assert_clean(dash_duo)


def test_a_bad_value_is_told_beside_its_field_and_replaced(dash_duo):
    start(dash_duo, app, f"{PATH}?step={N}")
    wait_until(lambda: "Your network: 2 × 8" in areas_text(dash_duo), 60, "the default network")
    field = setting_field(dash_duo, "width")
    retype(field, "0")
    wait_until(lambda: "not allowed" in dash_duo.find_element(field_note("width")).text, 60,
               "the note beside the field")
    wait_until(lambda: field.get_attribute("value") == "8", 10, "the field to show the value used")
    assert "width=" not in dash_duo.driver.current_url
    assert "Your network: 2 × 8" in areas_text(dash_duo)
    assert_clean(dash_duo)


def test_skip_connections_side_by_side_and_every_seed_on_request(dash_duo):
    step = [s.figure for s in STEPS].index("skip") + 1
    start(dash_duo, app, f"{PATH}?step={step}")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {step} of {N}")
    wait_until(lambda: "with skip connections" in areas_text(dash_duo), 120, "the plain and the residual network")
    assert "plain 20 × 5" in areas_text(dash_duo)
    button = wait_until(lambda: [b for b in dash_duo.find_elements("button") if b.text.startswith("Train all 20")
                                 and b.is_displayed()], 10, "the button that trains every seed")
    button[0].click()
    # 40 networks take a while: the page says which one it trains (then the visitor may leave)
    wait_until(lambda: "seed" in dash_duo.find_element(".site-job").text, 60, "progress naming the seed")
    dash_duo.find_element(".ls-nav .ls-prev").click()
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {step - 1} of {N}")
    assert_clean(dash_duo)
