"""Every step of every lesson on a small phone (360 × 740): no sideways scrolling,
every player and step control on screen, at least 44 px and apart, and no serious
or critical accessibility violation (axe-core, WCAG 2.2 A and AA)."""

import pytest

from app.main import app
from tests.browser.helpers import assert_clean, start
from tests.browser.steps import LESSONS, axe_violations, emulate, layout_problems, walk

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", LESSONS)
def test_every_step_fits_a_phone_and_passes_axe(dash_duo, path):
    emulate(dash_duo, 360, 740)
    start(dash_duo, app, path)
    found = {}

    def check(k):
        problems = layout_problems(dash_duo) + axe_violations(dash_duo)
        if problems:
            found[k] = problems

    assert walk(dash_duo, check) > 1
    assert found == {}, "\n".join(f"step {k}: {p}" for k, ps in found.items() for p in ps)
    assert_clean(dash_duo)


def test_the_lesson_menu_reaches_every_lesson_in_two_taps(dash_duo):
    emulate(dash_duo, 390, 844)
    start(dash_duo, app, "/perceptron")
    for path in LESSONS[::-1]:
        dash_duo.find_element(".site-menu-button").click()
        link = [a for a in dash_duo.find_elements(".site-menu-link") if a.get_attribute("href").endswith(path)][0]
        link.click()
        dash_duo.wait_for_element(f'.ls-lesson[data-lesson="{path.strip("/")}"]')
        assert not dash_duo.find_element(".site-menu").get_attribute("open")
