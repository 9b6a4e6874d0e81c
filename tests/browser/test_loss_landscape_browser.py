"""The loss-landscape lesson in headless Chromium, as a visitor uses it."""

import re

import pytest

from app.main import app
from pages.loss_landscape import ENGINE, STEPS
from tests.browser.helpers import assert_clean, figure_data, retype, setting_field, start, wait_until
from tests.browser.steps import DesktopAccessibility, drawn, emulate, emulate_desktop

N = len(STEPS)
pytestmark = pytest.mark.browser
#: The upper row's two figures shown (a step comparing slices shows graphs of its own there).
SURFACE = ".ls-figures-row .ls-figure:not(.ls-hidden)"
CONTOUR = ".ls-figures-row .ls-figure:not(.ls-hidden) ~ .ls-figure:not(.ls-hidden)"
#: A cold cache trains several networks for step 5 on a busy machine.
SLOW = 60


def step_of(figure: str) -> int:
    """1-based step number of the step showing `figure`."""
    return 1 + [s.figure for s in STEPS].index(figure)


def label(dash_duo) -> str:
    return dash_duo.find_element(".pl-label").text


def surface_rows(dash_duo) -> int:
    data = figure_data(dash_duo, SURFACE)
    return len(data[0]["z"]) if data and data[0].get("z") else 0


def test_every_step_renders_its_landscape_accessibly(dash_duo):
    emulate_desktop(dash_duo)
    start(dash_duo, app, "/loss-landscape")
    accessibility = DesktopAccessibility(dash_duo)
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step 1 of {N}")
    previous = None
    for k in range(1, N + 1):
        if k > 1:
            dash_duo.find_element(".ls-next").click()
            dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {k} of {N}")
        assert dash_duo.find_element(".ls-step.is-current h2").text == STEPS[k - 1].title
        contour = wait_until(lambda: (d := figure_data(dash_duo, CONTOUR)) and d != previous and d,
                             timeout=SLOW, message=f"the landscape of step {k}")
        assert surface_rows(dash_duo) >= 41
        previous = contour
        accessibility.check(k)
    assert f"step={N}" in dash_duo.driver.current_url
    accessibility.assert_none()
    assert_clean(dash_duo)


@pytest.mark.motion
def test_the_player_rolls_the_ball(dash_duo):
    start(dash_duo, app, f"/loss-landscape?step={step_of('ball')}")
    # The ball step plays by itself: the caption and the ball move without a click.
    wait_until(lambda: "step" in label(dash_duo), timeout=SLOW, message="a run")
    first = label(dash_duo)
    wait_until(lambda: label(dash_duo) != first, timeout=30, message="autoplay")
    dash_duo.find_element(".pl-reset").click()
    wait_until(lambda: label(dash_duo).startswith("step 0 "), message="reset to step 0")
    before = figure_data(dash_duo, SURFACE)
    dash_duo.find_element(".pl-step").click()
    wait_until(lambda: label(dash_duo) != "" and not label(dash_duo).startswith("step 0 "), message="one step")
    wait_until(lambda: figure_data(dash_duo, SURFACE) != before, message="the ball to move")
    after = figure_data(dash_duo, SURFACE)
    assert after[0] == before[0], "the surface itself stays"
    assert_clean(dash_duo)


def test_controls_change_the_landscape_and_the_link(dash_duo):
    start(dash_duo, app, f"/loss-landscape?step={step_of('pca')}")
    before = wait_until(lambda: figure_data(dash_duo, CONTOUR), timeout=SLOW, message="the SVM landscape")
    logistic = [el for el in dash_duo.find_elements(".ll-choices label") if "Logistic" in el.text][0]
    logistic.click()
    wait_until(lambda: figure_data(dash_duo, CONTOUR) != before, timeout=SLOW, message="the Iris landscape")
    wait_until(lambda: "case=logistic" in dash_duo.driver.current_url, message="the link to hold the case")

    dash_duo.driver.get(dash_duo.server_url + f"/loss-landscape?step={N}")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {N} of {N}")
    wait_until(lambda: surface_rows(dash_duo) == 41, timeout=SLOW, message="the default 41 × 41 grid")
    resolution = setting_field(dash_duo, "resolution")
    retype(resolution, "15")
    wait_until(lambda: surface_rows(dash_duo) == 15, timeout=SLOW, message="a 15 × 15 grid")
    wait_until(lambda: "resolution=15" in dash_duo.driver.current_url, message="the link to hold the grid")
    retype(resolution, "5000")
    wait_until(lambda: "Grid points per axis" in dash_duo.find_element(".ls-notices:not(.is-empty)").text,
               timeout=SLOW, message="a notice naming the limit")
    assert "11 to 81" in dash_duo.find_element(".ls-notices:not(.is-empty)").text
    # the reason stands beside the field, and the field shows the value used
    note = '[id*="ls-field-note"][id*="\\"resolution\\""]'
    wait_until(lambda: "11 to 81" in dash_duo.find_element(note).text, message="the note beside the field")
    wait_until(lambda: resolution.get_attribute("value") == "41", message="the field to show the value used")
    wait_until(lambda: surface_rows(dash_duo) == 41, timeout=SLOW, message="the 41 × 41 grid used")
    assert_clean(dash_duo)


def contour_title(dash_duo) -> str:
    found = dash_duo.driver.find_elements("css selector", CONTOUR + " .gtitle")
    return found[0].text if found else ""


def test_the_ball_switches_to_a_new_slice_where_it_settles(dash_duo):
    start(dash_duo, app, f"/loss-landscape?step={step_of('switch')}")
    # the step plays by itself (in a few seconds): each time the ball settles, the next slice takes its place
    wait_until(lambda: re.match(r"Slice [2-6] of 6", contour_title(dash_duo)), timeout=SLOW, message="a later slice")
    dash_duo.find_element(".pl-reset").click()
    wait_until(lambda: contour_title(dash_duo).startswith("Slice 1 of 6"), message="back to the first slice")
    assert_clean(dash_duo)


def test_the_seed_choice_shows_a_stuck_network(dash_duo):
    start(dash_duo, app, f"/loss-landscape?step={step_of('nets')}&net=10x5")
    before = wait_until(lambda: figure_data(dash_duo, CONTOUR), timeout=SLOW, message="the 10 × 5 landscape")
    seed_1 = [el for el in dash_duo.find_elements(".ll-choices label") if el.text == "seed 1"][0]
    seed_1.click()
    wait_until(lambda: figure_data(dash_duo, CONTOUR) != before, timeout=SLOW, message="seed 1's landscape")
    wait_until(lambda: "net_seed=1" in dash_duo.driver.current_url, message="the link to hold the seed")
    assert_clean(dash_duo)


def test_on_a_phone_the_3d_camera_steps_back_so_axis_titles_fit(dash_duo):
    """learnscape.js moves a 3-D scene's camera 1.4 times farther on screens up to 600 px."""
    step = next(k for k, s in enumerate(STEPS) if s.figure == "ball")
    served = ENGINE.outputs(step, {})
    eye = next(v for k, v in served.items() if "surface" in str(k) and isinstance(v, dict) and "figure" in v)[
        "figure"]["layout"]["scene"]["camera"]["eye"]
    drawn_eye = ("const gd = document.querySelector('.ls-figure:not(.ls-hidden) .js-plotly-plot');"
                 "return gd && gd._fullLayout && gd._fullLayout.scene ? gd._fullLayout.scene.camera.eye : null;")
    for width, zoom in ((1400, 1.0), (390, 1.4)):
        emulate(dash_duo, width, 844, mobile=width < 600)
        start(dash_duo, app, f"/loss-landscape?step={step + 1}")
        drawn = wait_until(lambda: dash_duo.driver.execute_script(drawn_eye), 30, "the 3-D scene")
        assert drawn == pytest.approx({axis: zoom * value for axis, value in eye.items()})
    assert_clean(dash_duo)


def test_the_3d_scene_outlasts_the_steps_seen_from_above(dash_duo):
    # Steps 7 to 10 show slices from above in graphs of their own: the switching ball's
    # surface is drawn in the scene of step 6, not in a new WebGL context.
    first, then = step_of("optimizers"), step_of("switch")
    assert all(STEPS[k - 1].figure in ("directions", "digits", "centring", "skip") for k in range(first + 1, then))
    start(dash_duo, app, f"/loss-landscape?step={first}")
    drawn(dash_duo, STEPS[first - 1].title, timeout=SLOW)
    scene = "document.querySelector(arguments[0] + ' .js-plotly-plot')._fullLayout.scene._scene"
    dash_duo.driver.execute_script(f"{scene}.__seen = true;", SURFACE)
    for k in range(first + 1, then + 1):
        dash_duo.find_element(".ls-next").click()
        drawn(dash_duo, STEPS[k - 1].title, timeout=SLOW)
    assert dash_duo.driver.execute_script(f"return {scene}.__seen === true;", SURFACE)
    assert_clean(dash_duo)
