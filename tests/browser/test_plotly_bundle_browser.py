"""The partial plotly.js bundle in headless Chromium: it is the Plotly the
graphs use, it registers exactly the trace types bundle.json lists, the full
plotly.js is never fetched, and WebGL traces draw under the content security
policy."""

import urllib.request

import pytest

from app import plotly_bundle
from app.main import app
from pages.graph_layout import STEPS as LAYOUT_STEPS
from tests.browser.helpers import assert_clean, start, wait_until

pytestmark = pytest.mark.browser

PLOTLY_JS = """
const P = window.Plotly;
return P ? {version: P.version, traces: Object.keys(P.PlotSchema.get().traces).sort(),
            fetched: performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('plotly'))}
         : null;
"""
HAS_WEBGL = "const c = document.createElement('canvas'); return !!(c.getContext('webgl') || c.getContext('experimental-webgl'));"
#: Whether this browser draws WebGL on a graphics card (not in software, as without a GPU).
HARDWARE_WEBGL = """
const gl = document.createElement('canvas').getContext('webgl');
if (!gl) return false;
const info = gl.getExtension('WEBGL_debug_renderer_info');
return !/swiftshader|llvmpipe|softpipe|software|basic render/i.test(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
"""
#: Draws 1,000 WebGL points into a new div of the page (under its policy).
DRAW_WEBGL = """
const div = document.createElement('div');
div.id = 'webgl-probe'; div.style.width = '400px'; div.style.height = '300px';
document.body.appendChild(div);
const x = Array.from({length: 1000}, (_, i) => i);
window.Plotly.newPlot(div, [{type: 'scattergl', mode: 'markers', x: x, y: x.map(v => Math.sin(v))}])
  .then(() => { window.__glDrawn = true; });
"""
#: Draws a surface of n × n points into a new div; its grid is refined by what factor per axis.
REFINED = """
const [n, done] = [arguments[0], arguments[arguments.length - 1]];
const div = document.createElement('div');
div.style.width = '400px'; div.style.height = '300px';
document.body.appendChild(div);
const axis = Array.from({length: n}, (_, i) => i);
const z = axis.map(y => axis.map(x => Math.sin(x / 3) * Math.cos(y / 4)));
window.Plotly.newPlot(div, [{type: 'surface', x: axis, y: axis, z: z}]).then(() => {
  const trace = Object.values(div._fullLayout.scene._scene.traces)[0];
  done([trace.dataScaleX, trace.dataScaleY]);
  window.Plotly.purge(div);
  div.remove();
});
"""
#: Trace types of the graph-layout scene as drawn, once its 2,000 circles are there.
LAYOUT_TYPES = """
const gd = document.querySelector('.gl-layout-graph .js-plotly-plot');
if (!gd || !gd.data || !gd.data.some(t => t.x && t.x.length === 2000)) return null;
return {types: gd.data.map(t => t.type), noWebgl: document.querySelectorAll('.no-webgl').length};
"""


def test_graphs_draw_with_the_partial_bundle_alone(dash_duo):
    # The loss landscape draws a 3-D surface, a contour map and lines.
    start(dash_duo, app, "/loss-landscape")
    wait_until(lambda: len(dash_duo.find_elements(".js-plotly-plot .main-svg")) >= 2, 60, "the figures")
    found = dash_duo.driver.execute_script(PLOTLY_JS)
    assert found["version"] == plotly_bundle.PLOTLY_JS_VERSION
    assert found["traces"] == sorted(plotly_bundle.TRACES)
    assert found["fetched"] and all(f"/{plotly_bundle.__name__}/" in name for name in found["fetched"]), found
    assert dash_duo.find_elements(".js-plotly-plot .gl-container canvas"), "no 3-D scene drawn"
    assert_clean(dash_duo)


def test_webgl_traces_draw_under_the_policy(dash_duo):
    # scattergl's regular variant compiles WebGL code with Function(), which the
    # policy forbids: plotly.js then shows "no WebGL". The bundle holds its strict
    # variant (precompiled programs).
    big = 1 + [s.figure for s in LAYOUT_STEPS].index("big")
    start(dash_duo, app, f"/graph-layout?step={big}")
    with urllib.request.urlopen(dash_duo.server_url + "/graph-layout", timeout=30) as response:
        assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    if not dash_duo.driver.execute_script(HAS_WEBGL):
        pytest.skip("this browser has no WebGL at all")
    dash_duo.driver.execute_script(DRAW_WEBGL)
    wait_until(lambda: dash_duo.driver.execute_script("return window.__glDrawn === true;"), 60, "a WebGL drawing")
    drawn = dash_duo.driver.execute_script(
        "const gd = document.getElementById('webgl-probe');"
        "return {types: gd._fullData.map(t => t.type), canvases: gd.querySelectorAll('canvas').length,"
        "        noWebgl: gd.querySelectorAll('.no-webgl').length};")
    assert drawn == {"types": ["scattergl"], "canvases": drawn["canvases"], "noWebgl": 0} and drawn["canvases"] > 0, drawn
    assert_clean(dash_duo)


def test_a_big_graph_layout_draws_webgl_only_on_a_graphics_card(dash_duo):
    # Drawn in software (no GPU), WebGL circles take twice as long as SVG ones.
    big = 1 + [s.figure for s in LAYOUT_STEPS].index("big")
    start(dash_duo, app, f"/graph-layout?step={big}")
    wait_until(lambda: dash_duo.driver.execute_script(LAYOUT_TYPES), 60, "the 2,000 circles")
    drawn = dash_duo.driver.execute_script(LAYOUT_TYPES)
    expected = "scattergl" if dash_duo.driver.execute_script(HARDWARE_WEBGL) else "scatter"
    assert drawn["noWebgl"] == 0 and set(drawn["types"]) == {expected}, drawn
    assert_clean(dash_duo)


def test_surfaces_are_refined_only_up_to_the_bundles_limit(dash_duo):
    # plotly.js would resample a 51 × 51 grid 4 times per axis (205 × 205 vertices);
    # the bundle refines a grid only up to `surface_refine_points` points per axis.
    start(dash_duo, app, "/loss-landscape")
    if not dash_duo.driver.execute_script(HAS_WEBGL):
        pytest.skip("this browser has no WebGL at all")
    limit = plotly_bundle.MANIFEST["surface_refine_points"]
    for n in (11, 51, 81):
        scale = max(1, (limit - 1) // (n - 1))
        assert dash_duo.driver.execute_async_script(REFINED, n) == [scale, scale], f"{n} x {n} points"
    assert_clean(dash_duo)
