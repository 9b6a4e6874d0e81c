"""The graph-layout lesson in headless Chromium: steps, the player, the playground."""

import random
import threading

import pytest

from app import cache as site_cache
from app.lessons import graph_layout as experiments
from app.main import app
from components.ids import dom_id, lesson_id
from pages import graph_layout as page
from pages.graph_layout import STEPS
from tests.browser.helpers import assert_clean, retype, setting_field, start, wait_until
from tests.browser.steps import DesktopAccessibility, emulate_desktop

N = len(STEPS)
pytestmark = pytest.mark.browser


def open_lesson(dash_duo, query=""):
    """Start the app and open this lesson."""
    start(dash_duo, app, "/graph-layout" + query)
    dash_duo.wait_for_element(".ls-lesson")


def circles(dash_duo):
    """x of the circles of every panel (the circles traces have markers and no lines)."""
    data = dash_duo.driver.execute_script(
        "const gd = document.querySelector('.gl-layout-graph .js-plotly-plot');"
        "return gd && gd.data ? gd.data.filter(t => t.mode === 'markers').map(t => Array.from(t.x || [])) : null;")
    return data or None


def metric_names(dash_duo):
    """The run names of the metrics table (read at once: playback redraws the rows)."""
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.gl-metrics tbody tr:not(.ls-hidden) td:first-child'))"
        ".map(td => td.innerText.split('\\n')[0].trim());")


def scene_signature(dash_duo):
    """(traces, panels whose links path draws every link of the graph, circles of the
    first panel, steps of the run) of the drawn scene."""
    return dash_duo.driver.execute_script(
        "const gd = document.querySelector('.gl-layout-graph .js-plotly-plot');"
        "if (!gd || !gd.data || !gd._glScene) return null;"
        "const first = gd.data.find(t => t.mode === 'markers');"
        "const links = gd._glScene.edges.length / 2;"
        "const drawn = gd.querySelectorAll('.shapelayer path').length;"
        "const full = (gd.layout.shapes || []).filter(s => s.path.split('M').length - 1 === links).length;"
        "return [gd.data.length, drawn === full ? full : -drawn, first ? first.x.length : 0,"
        " document.querySelector('.pl-label').textContent.split(' of ')[1]];")


def circles_to_scale(dash_duo):
    """Whether every panel's circles are drawn at the true radius: marker diameter (px) =
    2 r times the pixels per unit of its x axis as drawn."""
    return dash_duo.driver.execute_script(
        "const gd = document.querySelector('.gl-layout-graph .js-plotly-plot');"
        "const scene = gd && gd._glScene;"
        "if (!scene || !gd._fullLayout) return false;"
        "return scene.panels.every(p => {"
        "  const ax = gd._fullLayout['xaxis' + p.axis.slice(1)];"
        "  const scale = ax._length / Math.abs(ax.range[1] - ax.range[0]);"
        "  return Math.abs(gd._fullData[p.circles].marker.size - 2 * scene.radius * scale) < 0.5; });")


def page_requests(dash_duo):
    """What the page has fetched, but for the health check every page makes
    every 10 s (the offline badge), which comes whatever the visitor does."""
    return dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(name => new URL(name).pathname !== '/healthz');")


SIGNATURES = {  # traces (circles, arrows per panel), links paths (one per panel), circles, steps of the run
    "intro": [1, 1, 16, "300"], "objective": [2, 1, 16, "0"], "descent": [2, 1, 16, "300"],
    "momentum": [3, 3, 16, "300"], "adaptive": [3, 3, 16, "300"], "tangle": [4, 4, 12, "300"],
    "big": [1, 1, 2000, "200"], "smart": [2, 2, 2000, "200"], "race": [4, 4, 300, "300"], "free": [1, 1, 40, "300"],
}


def test_every_step_shows_its_scene_accessibly(dash_duo):
    emulate_desktop(dash_duo)
    open_lesson(dash_duo)
    accessibility = DesktopAccessibility(dash_duo)
    for k in range(1, N + 1):
        if k > 1:
            dash_duo.find_element(".ls-next").click()
        # A cold cache computes the step's runs first (seconds, more on a loaded machine).
        dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {k} of {N}", timeout=30)
        expected = SIGNATURES[STEPS[k - 1].figure]
        wait_until(lambda: scene_signature(dash_duo) == expected, timeout=30, message=f"the scene of step {k}")
        wait_until(lambda: circles_to_scale(dash_duo), message=f"the circles of step {k} to scale")
        accessibility.check(k)
    assert "step=%d" % N in dash_duo.driver.current_url
    accessibility.assert_none()
    assert_clean(dash_duo)


@pytest.mark.motion
def test_the_player_scrubs_the_layout_in_the_browser(dash_duo):
    descent = 1 + [s.figure for s in STEPS].index("descent")
    open_lesson(dash_duo, f"?step={descent}")
    wait_until(lambda: "of 300" in dash_duo.find_element(".pl-label").text, timeout=30,
               message="a run of 300 steps")
    first = dash_duo.find_element(".pl-label").text
    wait_until(lambda: dash_duo.find_element(".pl-label").text != first, message="autoplay")
    dash_duo.find_element(".pl-reset").click()
    wait_until(lambda: dash_duo.find_element(".pl-label").text == "step 0 of 300", message="reset")
    before = circles(dash_duo)
    requests = page_requests(dash_duo)
    for _ in range(3):
        dash_duo.find_element(".pl-step").click()
    wait_until(lambda: dash_duo.find_element(".pl-label").text == "step 6 of 300", message="three steps")
    wait_until(lambda: circles(dash_duo) != before, message="the circles to move")
    # Scrubbing is drawn in the browser: no request to the server.
    assert page_requests(dash_duo) == requests
    assert metric_names(dash_duo) == ["SGD"]
    assert_clean(dash_duo)


def test_playground_run_new_graph_and_race(dash_duo):
    open_lesson(dash_duo, f"?step={N}")
    wait_until(lambda: circles(dash_duo) and len(circles(dash_duo)[0]) == 40, timeout=30,
               message="the default 40 circles")
    retype(setting_field(dash_duo, "n"), "25")
    wait_until(lambda: "is-stale" in dash_duo.find_element(".gl-run").get_attribute("class"),
               message="Run to ask for a run")
    dash_duo.find_element(".gl-run").click()
    wait_until(lambda: len(circles(dash_duo)[0]) == 25, timeout=30, message="25 circles")
    wait_until(lambda: "is-stale" not in dash_duo.find_element(".gl-run").get_attribute("class"),
               timeout=30, message="ran")
    wait_until(lambda: "n=25" in dash_duo.driver.current_url, message="the link to hold n")
    old = circles(dash_duo)
    dash_duo.find_element(".gl-new").click()
    wait_until(lambda: setting_field(dash_duo, "seed").get_attribute("value") == "1", message="the next seed")
    wait_until(lambda: circles(dash_duo) != old, timeout=30, message="a new graph")
    dash_duo.find_element('input[type="radio"][value="race"]').click()
    dash_duo.find_element(".gl-run").click()
    wait_until(lambda: len(circles(dash_duo)) == 3, timeout=30, message="three racers")
    wait_until(lambda: metric_names(dash_duo) == ["SGD", "Momentum", "Adam"], message="a metrics row per racer")
    assert_clean(dash_duo)


def test_a_bad_link_and_a_diverging_run_explain_themselves(dash_duo):
    open_lesson(dash_duo, f"?step={N}&n=0&lr=NaN&optimizer=sgd&steps=99999")
    wait_until(lambda: "Circles" in dash_duo.find_element(".ls-notices").text, timeout=30, message="notices")
    text = dash_duo.find_element(".ls-notices").text
    assert "1 to 5000" in text and "Learning rate" in text and "Steps" in text
    wait_until(lambda: circles(dash_duo), timeout=30, message="a figure despite bad input")
    retype(setting_field(dash_duo, "lr"), "5")
    dash_duo.find_element(".gl-run").click()
    wait_until(lambda: "diverged at step" in dash_duo.find_element(
        '[id*="ls-notices"]').text, timeout=30, message="the divergence notice")
    assert_clean(dash_duo)


def test_a_bad_value_is_told_beside_its_field_and_replaced(dash_duo):
    open_lesson(dash_duo, f"?step={N}")
    wait_until(lambda: circles(dash_duo) and len(circles(dash_duo)[0]) == 40, timeout=30,
               message="the default 40 circles")
    field = setting_field(dash_duo, "n")
    retype(field, "0")
    dash_duo.find_element(".gl-run").click()
    note = '[id*="ls-field-note"][id*="\\"name\\":\\"n\\""]'
    wait_until(lambda: "not allowed" in dash_duo.find_element(note).text, timeout=30,
               message="the note beside the field")
    wait_until(lambda: field.get_attribute("value") == "40", message="the field shows the value used")
    wait_until(lambda: "is-stale" not in dash_duo.find_element(".gl-run").get_attribute("class"),
               message="the run shown is that of the fields")
    assert "n=" not in dash_duo.driver.current_url.split("?")[-1]
    assert_clean(dash_duo)


def test_the_first_scene_of_a_visit_is_drawn_to_scale_without_motion(dash_duo):
    # With reduced motion (these tests' default) the first figure goes out at once, often
    # before its graph is on the page: it must still be watched and its circles brought to scale.
    open_lesson(dash_duo, "?step=1")
    wait_until(lambda: scene_signature(dash_duo) == SIGNATURES[STEPS[0].figure], timeout=30,
               message="the first scene")
    wait_until(lambda: circles_to_scale(dash_duo), message="its circles to scale")
    assert_clean(dash_duo)


def tangle_counts(dash_duo):
    """The count on each tangle bar as drawn ("" for a bar still computed)."""
    return dash_duo.driver.execute_script(
        "const box = document.getElementById(arguments[0]);"
        "const gd = box && box.querySelector('.js-plotly-plot');"
        "return gd && gd.data ? Array.from(gd.data[0].text) : null;", dom_id(lesson_id("tangle-graph", "graph-layout")))


def test_the_tangle_bars_fill_in_one_by_one_or_come_at_once_when_stored(dash_duo, monkeypatch):
    """Cold: each optimizer's rate on a request of its own, the bars drawn as each arrives.
    Warm (every rate stored): the first answer brings them all, and nothing more is asked."""
    names = list(experiments.TANGLE_OPTIMIZERS)
    computed, last_may_finish = [], threading.Event()

    def tangle_result(name, lr, stored=None):
        if site_cache._cached_only.get() and not stored:
            raise site_cache.NotCached(name)
        if not site_cache._cached_only.get():
            computed.append(name)
        if name == names[-1] and not stored:
            last_may_finish.wait(30)     # held until the test has seen three bars of four
        return {"optimizer": name, "tangled": names.index(name), "trials": 50, "rate": names.index(name) / 50,
                "with_crossings": 0, "high_energy": 0, "diverged": 0}

    tangle = 1 + [s.figure for s in STEPS].index("tangle")
    monkeypatch.setattr(page, "tangle_result", tangle_result)
    open_lesson(dash_duo, f"?step={tangle}")
    wait_until(lambda: tangle_counts(dash_duo) == ["0 of 50", "1 of 50", "2 of 50", ""], timeout=30,
               message="three bars drawn while the fourth is computed")
    saying = wait_until(lambda: [el.text for el in dash_duo.driver.find_elements("css selector", ".ls-computing")
                                 if el.is_displayed()], timeout=30, message="the page saying what it computes")
    assert saying == ["Laying out 50 random trees with each optimizer…"]
    last_may_finish.set()
    wait_until(lambda: tangle_counts(dash_duo) == ["0 of 50", "1 of 50", "2 of 50", "3 of 50"], timeout=30,
               message="the fourth bar")
    wait_until(lambda: not [el for el in dash_duo.driver.find_elements("css selector", ".ls-computing")
                            if el.is_displayed()], message="the indicator to go")
    assert computed == names
    assert_clean(dash_duo)

    computed.clear()
    monkeypatch.setattr(page, "tangle_result", lambda name, lr: tangle_result(name, lr, stored=True))
    open_lesson(dash_duo, f"?step={tangle}")
    wait_until(lambda: tangle_counts(dash_duo) == ["0 of 50", "1 of 50", "2 of 50", "3 of 50"], timeout=30,
               message="every bar from the cache")
    assert computed == names[:1]      # only the first answer's own rate; the others were not asked for
    assert_clean(dash_duo)


#: Counts in the page the drawings of the layout graph (`window.__drawn`), the animation
#: frames (`window.__frames`) since it was first run, the drawings before the last click
#: (`window.__drawnAtClick`), and whether the run was still short of its end then.
COUNT_DRAWINGS = """
if (window.__drawn === undefined) {
  window.__drawn = 0; window.__frames = 0;
  const react = window.Plotly.react;
  window.Plotly.react = function (gd) {
    if (gd && gd.closest && gd.closest('.gl-layout-graph')) window.__drawn++;
    return react.apply(this, arguments);
  };
  const tick = () => { window.__frames++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  document.addEventListener('click', () => {
    window.__drawnAtClick = window.__drawn;
    const handle = document.querySelector('.pl-slider [role=slider]');
    window.__playingAtClick = Number(handle.getAttribute('aria-valuenow')) < Number(handle.getAttribute('aria-valuemax'));
  }, true);
}
return [window.__drawn, window.__frames, window.__drawnAtClick, window.__playingAtClick];
"""


@pytest.mark.motion
def test_a_big_scene_stops_playing_once_the_next_step_is_asked_for(dash_duo, monkeypatch):
    """Without a GPU a frame of 2,000 circles takes 0.2-0.5 s to draw: once the visitor
    asks for the next step, the scene on screen draws none (here while the next step is
    held on the server), so the next step's figures are drawn without waiting for it."""
    big = 1 + [s.figure for s in STEPS].index("smart")
    following = STEPS[big].figure
    real = page.ENGINE.views[following]
    release, entered = threading.Event(), threading.Event()

    def held(ctx):
        entered.set()
        release.wait(60)
        return real(ctx)

    monkeypatch.setitem(page.ENGINE.views, following, held)
    # a seed no other test asks for: the next step's answer cannot come from a cache
    open_lesson(dash_duo, f"?step={big}&seed={random.randint(1, 10**6)}")
    label = lambda: dash_duo.find_element(".pl-label").text  # noqa: E731
    wait_until(lambda: "of 200" in label(), timeout=30, message="the run")
    count = lambda: dash_duo.driver.execute_script(COUNT_DRAWINGS)  # noqa: E731
    try:
        dash_duo.find_element(".pl-reset").click()       # the whole run ahead of it, at half speed
        for _ in range(3):
            dash_duo.find_element(".pl-speed").click()    # 1× → 2× → 4× → 0.5×
        dash_duo.wait_for_text_to_equal(".pl-speed", "0.5×")
        dash_duo.find_element(".pl-play").click()
        count()
        wait_until(lambda: count()[0] >= 2, timeout=30, message="frames drawn while playing")
        frames = count()[1]
        dash_duo.find_element(".ls-next").click()
        wait_until(entered.is_set, 30, "the next step's view to be called")
        wait_until(lambda: count()[1] >= frames + 60, message="60 animation frames")
        drawn, _, at_click, playing = count()
        assert playing, "the run was still playing when Next was pressed"
        assert drawn == at_click, "the old scene drew a frame after Next"
    finally:
        release.set()
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {big + 1} of {N}", timeout=30)
    wait_until(lambda: scene_signature(dash_duo) == SIGNATURES[following], timeout=30, message="the next scene")
    wait_until(lambda: count()[0] > drawn, message="the next scene drawn")
    assert_clean(dash_duo)
