"""A figure on screen has its box's size, and is drawn no more often than that
needs (app/assets/figure-size.js): without a GPU a 3-D figure takes 0.1-0.5 s
to draw."""

import pytest

from app.main import app
from pages.loss_landscape import STEPS
from tests.browser.helpers import assert_clean, start, wait_until
from tests.browser.steps import drawn, emulate, emulate_desktop

pytestmark = pytest.mark.browser

#: Counts, per figure of the page (by its name), the drawings plotly.js ends
#: (`plotly_afterplot`) since `window.__plots` was set up, and the animation frames.
COUNT_PLOTS = """
if (window.__plots === undefined) {
  window.__plots = {}; window.__frames = 0;
  const tick = () => { window.__frames++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}
document.querySelectorAll('.js-plotly-plot').forEach((gd) => {
  if (gd.__counted) return;
  gd.__counted = true;
  const name = JSON.parse(gd.closest('[id]').id).name;
  gd.on('plotly_afterplot', () => { window.__plots[name] = (window.__plots[name] || 0) + 1; });
});
return [window.__plots, window.__frames];
"""
#: Each figure on screen: [its width, its box's width, its height, its box's height] (px).
SIZES = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).filter(gd => gd.offsetParent !== null)
  .map(gd => { const s = getComputedStyle(gd);
               return [gd._fullLayout.width, parseFloat(s.width), gd._fullLayout.height, parseFloat(s.height)]; });
"""


def fits(sizes) -> bool:
    return bool(sizes) and all(abs(w - box_w) <= 1 and abs(h - box_h) <= 1 for w, box_w, h, box_h in sizes)


def test_a_step_that_hides_figures_draws_only_those_it_shows(dash_duo):
    # From the 3-D surface and its contour map to a step comparing slices in figures of
    # its own: the upper row changes, and the hidden surface is not drawn again.
    emulate_desktop(dash_duo)
    before = [s.figure for s in STEPS].index("directions")     # 0-based: the step before it
    start(dash_duo, app, f"/loss-landscape?step={before}")
    drawn(dash_duo, STEPS[before - 1].title)
    dash_duo.driver.execute_script(COUNT_PLOTS)
    dash_duo.find_element(".ls-next").click()
    drawn(dash_duo, STEPS[before].title)
    count = lambda: dash_duo.driver.execute_script(COUNT_PLOTS)  # noqa: E731
    frames = count()[1]
    # what a resize would draw comes within 0.2 s of the change: 60 animation frames are more
    wait_until(lambda: count()[1] >= frames + 60, message="60 animation frames")
    plots = count()[0]
    assert not plots.get("surface") and not plots.get("contour"), f"hidden figures drawn: {plots}"
    assert plots.get("top_left") and plots.get("top_right"), f"the step's own figures: {plots}"
    assert fits(dash_duo.driver.execute_script(SIZES))
    assert_clean(dash_duo)


def test_figures_follow_their_boxes_when_the_screen_changes_size(dash_duo):
    emulate_desktop(dash_duo)
    start(dash_duo, app, "/loss-landscape")
    drawn(dash_duo, STEPS[0].title)
    first = dash_duo.driver.execute_script(SIZES)
    assert fits(first), first
    emulate(dash_duo, 900, 800, mobile=False)
    wait_until(lambda: fits(sizes := dash_duo.driver.execute_script(SIZES)) and sizes != first,
               timeout=30, message="the figures at their new boxes' sizes")
    assert dash_duo.driver.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1;")
    assert_clean(dash_duo)
