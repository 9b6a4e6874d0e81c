"""The RNN lesson in headless Chromium, as a visitor uses it."""

import pytest

from app.main import app
from pages.rnn import SHOWN, STEPS
from tests.browser.helpers import assert_clean, figure_data, retype, setting_field, start, wait_until
from tests.browser.steps import DesktopAccessibility, emulate_desktop

N = len(STEPS)
pytestmark = pytest.mark.browser


def slot(name: str) -> str:
    """CSS selector of a figure slot of the lesson."""
    return f'[id*=\'"type":"ls-slot"\'][id*=\'"name":"{name}"\']'


def visible_figure(dash_duo, name: str):
    """The slot's figure data once the slot is shown and drawn, else None."""
    shown = dash_duo.driver.execute_script(
        "const el = document.querySelector(arguments[0]); return el && !el.classList.contains('ls-hidden');",
        slot(name))
    return figure_data(dash_duo, slot(name)) if shown else None


def label(dash_duo) -> str:
    return dash_duo.find_element(".pl-label").text


def test_every_step_renders_its_figures_without_errors_and_is_accessible(dash_duo):
    emulate_desktop(dash_duo)
    start(dash_duo, app, "/rnn")
    accessibility = DesktopAccessibility(dash_duo)
    for k in range(1, N + 1):
        if k > 1:
            dash_duo.find_element(".ls-next").click()
        dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {k} of {N}")
        assert dash_duo.find_element(".ls-step.is-current h2").text == STEPS[k - 1].title
        for name in SHOWN[STEPS[k - 1].figure]:
            wait_until(lambda: visible_figure(dash_duo, name), timeout=20, message=f"step {k}: the {name} figure")
        accessibility.check(k)
    assert f"step={N}" in dash_duo.driver.current_url
    accessibility.assert_none()
    assert_clean(dash_duo)


def test_the_step_player_moves_the_cell_through_time(dash_duo):
    cell = 1 + [i for i, s in enumerate(STEPS) if s.figure == "cell"][0]
    start(dash_duo, app, f"/rnn?step={cell}")
    before = wait_until(lambda: visible_figure(dash_duo, "cell"), timeout=20, message="the cell figure")
    wait_until(lambda: label(dash_duo).startswith("step 0 of"), message="the first frame")
    dash_duo.find_element(".pl-step").click()
    wait_until(lambda: label(dash_duo).startswith("step 1 of"), message="the next frame")
    wait_until(lambda: visible_figure(dash_duo, "cell") != before, message="the cell's numbers to change")
    assert_clean(dash_duo)


def test_the_temperature_changes_the_melody_and_the_link(dash_duo):
    generate = 1 + [i for i, s in enumerate(STEPS) if s.figure == "generate"][0]
    start(dash_duo, app, f"/rnn?step={generate}")
    before = wait_until(lambda: visible_figure(dash_duo, "roll"), timeout=20, message="the melody")
    retype(setting_field(dash_duo, "temperature"), "0.3")
    wait_until(lambda: visible_figure(dash_duo, "roll") not in (None, before), timeout=20,
               message="a new melody")
    wait_until(lambda: "temperature=0.3" in dash_duo.driver.current_url, message="the link to hold the temperature")
    assert dash_duo.find_element(".ls-progress").text == f"Step {generate} of {N}"
    field = setting_field(dash_duo, "temperature")
    retype(field, "0")                  # below the limit: told beside the field, which shows the value used
    note = '[id*="ls-field-note"][id*="\\"temperature\\""]'
    wait_until(lambda: "not allowed" in dash_duo.find_element(note).text, message="the note beside the field")
    wait_until(lambda: field.get_attribute("value") == "1.0", message="the field to show the value used")
    wait_until(lambda: "temperature=" not in dash_duo.driver.current_url, message="the link to drop the temperature")
    assert_clean(dash_duo)


def test_play_sounds_the_melody_with_a_moving_playhead_and_stop_silences_it(dash_duo):
    start(dash_duo, app, "/rnn")
    wait_until(lambda: visible_figure(dash_duo, "roll"), timeout=20, message="the tune")
    status = '[id*=\'"type":"ls-audio-status"\']'
    assert dash_duo.find_element(status).text == ""          # nothing sounds before a click
    dash_duo.find_element(".rnn-play").click()
    wait_until(lambda: dash_duo.find_element(status).text.startswith("Playing 42 notes"), message="playing")
    playhead = ".rnn-playhead"

    def position():
        return dash_duo.driver.execute_script(
            "const el = document.querySelector(arguments[0]);"
            "return el.classList.contains('is-playing') ? el.style.transform : null;", playhead)

    first = wait_until(position, message="the playhead to appear")
    wait_until(lambda: position() not in (None, first), message="the playhead to move")
    assert "/42 " in dash_duo.find_element(".rnn-playhead-label").text     # "note/notes name"
    dash_duo.find_element(".rnn-stop").click()
    wait_until(lambda: dash_duo.find_element(status).text == "Stopped.", message="stopped")
    wait_until(lambda: position() is None, message="the playhead to hide")
    assert_clean(dash_duo)


def test_a_bad_link_shows_notices_and_a_working_page(dash_duo):
    start(dash_duo, app, f"/rnn?step={N}&temperature=0&hidden=100000&tunes=twinkle.yankee_doodle")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {N} of {N}")
    notices = dash_duo.find_element(".ls-notices").text
    assert "Temperature" in notices and "Hidden units" in notices and "yankee_doodle" in notices
    wait_until(lambda: visible_figure(dash_duo, "curves"), timeout=20, message="figures despite bad input")
    note = '[id*="ls-field-note"][id*="\\"temperature\\""]'    # the link's bad value, told beside its field
    assert "not allowed" in dash_duo.find_element(note).text
    assert setting_field(dash_duo, "temperature").get_attribute("value") == "1.0"
    assert_clean(dash_duo)
