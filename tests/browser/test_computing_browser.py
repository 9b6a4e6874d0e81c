"""While a step's figures are computed, the page says so: a moving bar and what is being
computed, over the dimmed figures, gone once the figures arrive (components/computing.py)."""

import random
import threading

import pytest

from app.main import app
from pages import graph_layout, loss_landscape, optimizer_lab, rnn
from tests.browser.helpers import assert_clean, start, wait_until

#: lesson module, a step (1-based) whose view is held back, an int setting to make the request new,
#: and what the page must say meanwhile.
CASES = [
    (loss_landscape, 2, "seed", "Computing the loss landscape…"),
    (graph_layout, 3, "seed", "Laying out the circles…"),
    (optimizer_lab, 2, "seed", "Running the optimizers…"),
    (rnn, 2, "seed", "Training the network and writing its melodies…"),
]


@pytest.mark.parametrize("module, step, setting, words", CASES, ids=[c[0].LESSON for c in CASES])
def test_a_step_being_computed_says_what_is_being_computed(dash_duo, monkeypatch, module, step, setting, words):
    engine = module.ENGINE
    figure = engine.steps[step - 1].figure
    real = engine.views[figure]
    release, entered = threading.Event(), threading.Event()

    def held(ctx):
        entered.set()
        release.wait(60)          # until the page has been seen saying what it computes
        return real(ctx)

    monkeypatch.setitem(engine.views, figure, held)
    # a setting value no other test asks for: the answer cannot come from a cache
    value = random.randint(1, engine.schema.get(setting).high)
    try:
        start(dash_duo, app, f"/{module.LESSON}?step={step}&{setting}={value}")
        wait_until(entered.is_set, 30, "the step's view to be called")
        indicator = wait_until(lambda: [el for el in dash_duo.driver.find_elements("css selector", ".ls-computing")
                                        if el.is_displayed()], 30, "the computing indicator")
        assert indicator[0].text == words
        assert indicator[0].get_attribute("role") == "status"
        assert indicator[0].find_elements("css selector", "progress.ls-computing-bar")
    finally:
        release.set()
    title = engine.steps[step - 1].title
    wait_until(lambda: dash_duo.find_element(".ls-step.is-current h2").text == title, 30, "the step")
    wait_until(lambda: not [el for el in dash_duo.driver.find_elements("css selector", ".ls-computing")
                            if el.is_displayed()], 30, "the indicator to go")
    assert_clean(dash_duo)
