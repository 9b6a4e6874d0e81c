"""Presenter mode and the guided tour, in headless Chromium."""

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from app.main import app
from components.site import lesson_index
from tests.browser.helpers import assert_clean, start, wait_until

pytestmark = pytest.mark.browser


def progress(dash_duo):
    return dash_duo.find_element(".ls-progress").text


def press(dash_duo, *keys):
    ActionChains(dash_duo.driver).send_keys(*keys).perform()


def visible(dash_duo, css):
    return dash_duo.driver.execute_script(
        "const el = document.querySelector(arguments[0]); return Boolean(el && !el.hidden);", css)


def test_clicker_keys_blackout_and_help_in_presenter_mode(dash_duo):
    start(dash_duo, app, "/perceptron?present=1&auto=0")
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 1 of 9")
    assert "presenting" in dash_duo.find_element("body").get_attribute("class")
    assert not dash_duo.find_element(".pl-player").is_displayed(), "controls hide in presenter mode"
    press(dash_duo, Keys.PAGE_DOWN)
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 2 of 9")
    press(dash_duo, "n")
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 3 of 9")
    press(dash_duo, Keys.PAGE_UP)
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 2 of 9")
    press(dash_duo, ".")
    wait_until(lambda: visible(dash_duo, "#pr-blackout"), message="blackout on")
    press(dash_duo, "b")
    wait_until(lambda: not visible(dash_duo, "#pr-blackout"), message="blackout off")
    press(dash_duo, "?")
    wait_until(lambda: visible(dash_duo, "#pr-help"), message="help overlay")
    press(dash_duo, Keys.ESCAPE)
    wait_until(lambda: not visible(dash_duo, "#pr-help"), message="help closed by Esc")
    press(dash_duo, Keys.F5)  # a clicker's "start": back to step 1, auto-advance on, no reload
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 1 of 9")
    assert_clean(dash_duo)


def test_auto_advance_goes_from_a_lessons_last_step_to_the_next_and_from_the_last_lesson_to_the_first(dash_duo):
    """The two joints of the attract loop (the soak walks all of it, 500 steps)."""
    lessons = lesson_index_from_app()
    first, second, last = lessons[0], lessons[1 % len(lessons)], lessons[-1]
    path = lambda: dash_duo.driver.execute_script("return window.location.pathname")
    # pace 0.2: a 12 s step lasts 2.4 s, long enough to see each step 1 arrive.
    start(dash_duo, app, f"{first['path']}?present=1&pace=0.2&step={first['steps']}")
    wait_until(lambda: path() == second["path"] and progress(dash_duo).startswith("Step 1 "), timeout=30,
               message=f"auto-advance from {first['path']} to {second['path']}")
    dash_duo.driver.get(f"{dash_duo.server_url}{last['path']}?present=1&pace=0.2&step={last['steps']}")
    wait_until(lambda: path() == first["path"] and progress(dash_duo).startswith("Step 1 "), timeout=30,
               message=f"the loop from {last['path']} back to {first['path']}")
    assert_clean(dash_duo)


def test_captions_longer_than_their_box_scroll_during_the_step(dash_duo):
    start(dash_duo, app, "/rnn?present=1&step=3&pace=0.5")
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 3 of 11")
    box = "const b = document.querySelector('.ls-steps'); return "
    wait_until(lambda: dash_duo.driver.execute_script(box + "b.scrollHeight > b.clientHeight"),
               timeout=20, message="narration longer than the caption box")
    wait_until(lambda: dash_duo.driver.execute_script(box + "b.scrollTop") > 0, timeout=20,
               message="the captions to scroll")
    assert_clean(dash_duo)


def lesson_index_from_app():
    with app.server.test_request_context():
        return lesson_index()


def test_idle_countdown_appears_resets_and_returns_to_the_start(dash_duo):
    start(dash_duo, app, "/perceptron?present=1&auto=0&idle=10&countdown=3&step=4")
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 4 of 9")
    wait_until(lambda: visible(dash_duo, "#pr-idle"), timeout=20, message="the idle countdown")
    press(dash_duo, Keys.SHIFT)  # any input cancels it
    wait_until(lambda: not visible(dash_duo, "#pr-idle"), message="the countdown to go away")
    wait_until(lambda: visible(dash_duo, "#pr-idle"), timeout=20, message="the countdown again")
    wait_until(lambda: progress(dash_duo) == "Step 1 of 9" or progress(dash_duo).startswith("Step 2"),
               timeout=20, message="the return to the start")
    assert_clean(dash_duo)


def test_tour_progress_survives_a_reload(dash_duo):
    start(dash_duo, app, "/perceptron")
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 1 of 9")
    for k in (2, 3):
        dash_duo.find_element(".ls-next").click()
        dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {k} of 9")
    dash_duo.driver.get(dash_duo.server_url + "/")
    badge = '.lesson-card-progress'
    wait_until(lambda: "3 of 9 steps seen" in dash_duo.find_element(badge).text, message="progress on the map")
    resume = dash_duo.find_element("#tour-resume")
    assert resume.is_displayed() and resume.get_attribute("href").endswith("/perceptron?step=3")
    resume.click()
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 3 of 9")
    assert_clean(dash_duo)


def test_presenter_paces_every_step_by_its_caption_and_says_formulas_in_words(dash_duo):
    from components.narration import _FORMULA
    from components.spoken_math import spoken
    from pages.perceptron import STEPS

    k = next(i for i, s in enumerate(STEPS) if _FORMULA.search(s.body)) + 1
    start(dash_duo, app, f"/perceptron?step={k}&present=1&auto=0")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {k} of {len(STEPS)}")
    driver = dash_duo.driver
    wait_until(lambda: driver.execute_script("return (window.learnscapePresenter.steps || []).length"),
               message="the presenter to know the steps")
    # the pacing rule (components/narration.py): every step stays up its presenter_seconds
    durations = driver.execute_script("return window.learnscapePresenter.steps.map(s => s.duration)")
    assert durations == [s.presenter_seconds for s in STEPS]
    # what speech says: the narration with each formula in words, no TeX left
    said = driver.execute_script("return window.learnscapePresenter.narrationText().text")
    formulas = [m.group(1) or m.group(2) for m in _FORMULA.finditer(STEPS[k - 1].body)]
    assert formulas
    for tex in formulas:
        assert " ".join(spoken(tex).split()) in said, (tex, said[:300])
    assert "$" not in said and "\\" not in said
    assert_clean(dash_duo)
