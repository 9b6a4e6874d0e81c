"""The perceptron lesson in headless Chromium, as a visitor uses it."""

import pytest
from selenium.webdriver.common.keys import Keys

from app.main import app
from pages.perceptron import STEPS
from tests.browser.helpers import assert_clean, figure_data, retype, setting_field, start, wait_until
from tests.browser.steps import DesktopAccessibility, emulate_desktop

N = len(STEPS)
pytestmark = pytest.mark.browser


def progress(dash_duo):
    return dash_duo.find_element(".ls-progress").text


def current_title(dash_duo):
    return dash_duo.find_element(".ls-step.is-current h2").text


def test_home_to_perceptron_via_the_lesson_map(dash_duo):
    start(dash_duo, app)
    dash_duo.wait_for_element(".lesson-card")
    card = [c for c in dash_duo.find_elements(".lesson-card") if "perceptron" in c.get_attribute("href")][0]
    card.click()
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step 1 of {N}")
    assert current_title(dash_duo) == STEPS[0].title
    wait_until(lambda: figure_data(dash_duo, ".ls-figure"), message="the cube figure")
    assert_clean(dash_duo)


def test_every_step_by_buttons_and_by_keys_and_accessible(dash_duo):
    emulate_desktop(dash_duo)
    start(dash_duo, app, "/perceptron")
    accessibility = DesktopAccessibility(dash_duo)
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step 1 of {N}")
    accessibility.check(1)
    for k in range(2, N + 1):
        dash_duo.find_element(".ls-next").click()
        dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {k} of {N}")
        assert current_title(dash_duo) == STEPS[k - 1].title
        accessibility.check(k)
    assert "step=%d" % N in dash_duo.driver.current_url
    accessibility.assert_none()
    body = dash_duo.find_element("body")
    body.send_keys(Keys.HOME)
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step 1 of {N}")
    for key, expected in [(Keys.ARROW_RIGHT, 2), (Keys.PAGE_DOWN, 3), (Keys.SPACE, 4), (Keys.ARROW_DOWN, 5),
                          (Keys.ARROW_LEFT, 4), (Keys.PAGE_UP, 3), (Keys.ARROW_UP, 2)]:
        body.send_keys(key)
        dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {expected} of {N}")
    body.send_keys(Keys.END)
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {N} of {N}")
    assert_clean(dash_duo)


@pytest.mark.motion
def test_play_moves_the_figure(dash_duo):
    training = 1 + [i for i, s in enumerate(STEPS) if s.figure == "train"][0]
    start(dash_duo, app, f"/perceptron?step={training}")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {training} of {N}")
    wait_until(lambda: "epoch" in dash_duo.find_element(".pl-label").text, message="a run")
    # The training step autoplays: the frame caption and the bars change by themselves.
    first = dash_duo.find_element(".pl-label").text
    wait_until(lambda: dash_duo.find_element(".pl-label").text != first, message="playback")
    dash_duo.find_element(".pl-reset" if dash_duo.driver.find_elements("css selector", ".pl-reset")
                          else ".pl-play").click()
    bars_before = figure_data(dash_duo, ".ls-figures-row .ls-figure:nth-child(2)")
    dash_duo.find_element(".pl-step").click()
    wait_until(lambda: figure_data(dash_duo, ".ls-figures-row .ls-figure:nth-child(2)") != bars_before,
               message="one step to change the bars")
    assert_clean(dash_duo)


def test_free_play_change_changes_the_figure_and_the_link(dash_duo):
    start(dash_duo, app, f"/perceptron?step={N}")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {N} of {N}")
    bars = ".ls-figures-row .ls-figure:nth-child(2)"
    before = wait_until(lambda: figure_data(dash_duo, bars), message="bars")
    lr = setting_field(dash_duo, "lr")
    retype(lr, "0.01")
    wait_until(lambda: figure_data(dash_duo, bars) != before, message="the bars to change")
    wait_until(lambda: "lr=0.01" in dash_duo.driver.current_url, message="the link to hold lr")
    # Typing into a field never moves the steps.
    lr.send_keys(Keys.ARROW_LEFT, Keys.ARROW_RIGHT, Keys.SPACE)
    assert progress(dash_duo) == f"Step {N} of {N}"
    assert_clean(dash_duo)


def test_a_link_restores_step_and_settings(dash_duo):
    start(dash_duo, app, "/perceptron?step=4&lr=0.5&optimizer=adam&epochs=50")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step 4 of {N}")
    lr = setting_field(dash_duo, "lr")
    assert lr.get_attribute("value") == "0.5"
    wait_until(lambda: "Adam" in dash_duo.find_element(".ls-panel h3").text, message="update table with Adam")
    assert_clean(dash_duo)


def test_a_bad_link_shows_a_notice_and_a_working_page(dash_duo):
    start(dash_duo, app, "/perceptron?step=99&lr=-1&epochs=1000000000")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step 1 of {N}")
    def notices():
        return " ".join(n.text for n in dash_duo.find_elements(".ls-notices"))

    wait_until(lambda: "Learning rate" in notices() and "Epochs" in notices() and "Step" in notices(),
               message="notices of the step and both bad settings")
    wait_until(lambda: figure_data(dash_duo, ".ls-figure"), message="figures despite bad input")
    assert_clean(dash_duo)


def test_a_bad_value_is_told_beside_its_field_and_replaced(dash_duo):
    start(dash_duo, app, "/perceptron?step=9")
    field = setting_field(dash_duo, "lr")
    retype(field, "99999999")
    note = '[id*="ls-field-note"][id*="\\"lr\\""]'
    wait_until(lambda: "not allowed" in dash_duo.find_element(note).text, message="the note beside the field")
    wait_until(lambda: field.get_attribute("value") == "1.0", message="the field shows the value used")
    assert "lr=" not in dash_duo.driver.current_url
    assert_clean(dash_duo)


def test_clicking_a_label_focuses_its_field(dash_duo):
    start(dash_duo, app, "/perceptron?step=9")
    label = [l for l in dash_duo.find_elements(".ls-control-label") if l.text.startswith("Learning rate")][0]
    label.click()
    focused = dash_duo.driver.switch_to.active_element
    assert focused.get_attribute("id") == setting_field(dash_duo, "lr").get_attribute("id")


def test_the_best_new_song_ticks_the_predict_task(dash_duo):
    predict = 1 + [i for i, s in enumerate(STEPS) if s.figure == "predict"][0]
    start(dash_duo, app, f"/perceptron?step={predict}")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {predict} of {N}")
    prediction = ".ls-prediction"
    wait_until(lambda: "a training song: Old ballad" in dash_duo.find_element(prediction).text,
               message="the default song, a training song")
    task = ".ls-step.is-current .ls-task"
    assert "is-done" not in dash_duo.find_element(task).get_attribute("class")
    sad = [b for b in dash_duo.find_elements(".ls-checklist label") if b.text.strip() == "sad"][0]
    sad.click()                                     # piano alone: the new song rated highest
    wait_until(lambda: "16%" in dash_duo.find_element(prediction).text, message="piano alone at 16 %")
    assert "the highest of the new songs" in dash_duo.find_element(prediction).text
    wait_until(lambda: "is-done" in dash_duo.find_element(task).get_attribute("class"), message="the task ticked")
    assert_clean(dash_duo)
