"""The partial plotly.js bundle (app/plotly_bundle) can draw every figure of the site.

A trace type missing from the bundle fails silently in the browser (the
figure stays empty), so the trace types are checked here, without a browser:
- every figure a first visit and every step of every lesson produce (the
  requests a visitor's browser makes, replayed as the cache warm-up does),
- every trace class the figure builders name (settings may pick figures the
  default steps do not show), and every trace type the clientside scripts set.
Also: the committed file was built from bundle.json, at the plotly.js version
the installed plotly package ships (the one Dash would load otherwise), and
pages load it from the site, fingerprinted and compressed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import BaseTraceType

from app import plotly_bundle
from app.main import app
from app.warmup import Page, handed_over, lesson_pages, page_load, post, server_callbacks, step_requests

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = Path(plotly_bundle.__file__).parent
REBUILD = "set it in app/plotly_bundle/bundle.json and run app/plotly_bundle/build.sh (see its README)"
#: Trace types plotly.js offers a strict variant of (no eval at run time).
STRICT_VARIANTS = {"scattergl", "splom", "parcoords", "scatterpolargl"}
#: Every trace type plotly knows: {type name}.
ALL_TRACE_TYPES = {cls().type for cls in (getattr(go, n) for n in dir(go))
                   if isinstance(cls, type) and issubclass(cls, BaseTraceType)}


def trace_types(value, found: set[str] | None = None) -> set[str]:
    """Trace types of every figure within `value` (a callback response, a
    component's props): figures ({"data": [...], "layout": {...}}, a trace
    without "type" is a scatter) and frame patches ({"traces", "data"})."""
    found = set() if found is None else found
    if isinstance(value, dict):
        data = value.get("data")
        figure = isinstance(data, list) and isinstance(value.get("layout"), dict)
        if figure or (isinstance(data, list) and "traces" in value):
            for trace in data:
                if isinstance(trace, dict) and (figure or "type" in trace):
                    found.add(trace.get("type", "scatter"))
        for item in value.values():
            trace_types(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            trace_types(item, found)
    return found


def test_the_bundle_is_the_plotly_js_that_dash_would_serve():
    from plotly.offline import get_plotlyjs_version

    assert plotly_bundle.PLOTLY_JS_VERSION == get_plotlyjs_version(), \
        f"the installed plotly ships plotly.js {get_plotlyjs_version()}: {REBUILD}"
    pinned = json.loads((BUNDLE / "package.json").read_text())["dependencies"]["plotly.js"]
    assert pinned == plotly_bundle.PLOTLY_JS_VERSION, "package.json and bundle.json name different plotly.js versions"


def test_the_committed_file_was_built_from_the_manifest():
    head = (BUNDLE / plotly_bundle.FILENAME).read_bytes()[:600].decode("utf-8")
    name, version = plotly_bundle.MANIFEST["name"], plotly_bundle.PLOTLY_JS_VERSION
    assert f"plotly.js ({name} - minified) v{version}" in head, f"the built file is not plotly.js {version}: {REBUILD}"
    assert "Licensed under the MIT license" in head        # plotly.js's license header is kept
    listed = re.search(r"/\* traces: ([^*]*) \*/", head)
    assert listed and listed.group(1).split(", ") == plotly_bundle.MANIFEST["traces"], \
        f"the built file holds other traces than bundle.json lists: {REBUILD}"
    assert plotly_bundle.TRACES <= ALL_TRACE_TYPES
    # The content security policy forbids eval: WebGL traces that have a strict
    # variant (precompiled programs) must be built from it.
    strict = re.search(r"/\* strict variants: ([^*]*) \*/", head).group(1).split(", ")
    assert STRICT_VARIANTS & plotly_bundle.TRACES <= set(strict), f"build with \"strict\": true; {REBUILD}"
    refine = re.search(r"/\* surface refinement: up to (\d+) points per axis \*/", head)
    assert refine and int(refine.group(1)) == plotly_bundle.MANIFEST["surface_refine_points"], \
        f"the built file refines surfaces otherwise than bundle.json says: {REBUILD}"


def test_pages_load_the_bundle_from_the_site_not_the_full_plotly_js():
    client = app.server.test_client()
    scripts = re.findall(r'<script src="([^"]+)"', client.get("/perceptron").get_data(as_text=True))
    ours = [s for s in scripts if f"/{plotly_bundle.__name__}/" in s]
    assert len(ours) == 1 and ours[0].startswith("/_dash-component-suites/"), scripts
    assert not [s for s in scripts if "package_data/plotly" in s], scripts
    assert scripts.index(ours[0]) < next(i for i, s in enumerate(scripts) if "dash_renderer" in s)
    response = client.get(ours[0], headers={"Accept-Encoding": "br"})
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers.get("Content-Encoding") == "br"
    assert response.cache_control.max_age == 31536000 and response.cache_control.immutable


def test_trace_classes_named_by_the_figure_builders_are_bundled():
    named = set()
    for path in [*ROOT.glob("components/*.py"), *ROOT.glob("pages/*.py")]:
        for name in re.findall(r"\bgo\.([A-Z]\w*)\b", path.read_text(encoding="utf-8")):
            cls = getattr(go, name)
            if isinstance(cls, type) and issubclass(cls, BaseTraceType):
                named.add(cls().type)
    assert named, "no trace class found in components/ and pages/"
    assert named <= plotly_bundle.TRACES, f"not in the plotly.js bundle: {sorted(named - plotly_bundle.TRACES)}; {REBUILD}"


def test_clientside_scripts_set_only_bundled_trace_types():
    written = set()
    for path in ROOT.glob("app/assets/*.js"):
        written |= set(re.findall(r"""\btype\s*(?::|===?)\s*["'](\w+)["']""", path.read_text(encoding="utf-8")))
    used = written & ALL_TRACE_TYPES
    assert used <= plotly_bundle.TRACES, f"not in the plotly.js bundle: {sorted(used - plotly_bundle.TRACES)}; {REBUILD}"


@pytest.fixture(scope="module")
def callbacks():
    return server_callbacks(app)


@pytest.mark.parametrize("page", lesson_pages(), ids=lambda p: p["path"])
def test_every_step_of_every_lesson_draws_only_bundled_trace_types(page, callbacks):
    client = app.server.test_client()
    found = set()
    for _id, props in Page.render(app, page).components.values():
        trace_types(props, found)
    view = Page.render(app, page)
    for label, body in page_load(app, page, callbacks) + step_requests(app, page, callbacks):
        response = post(client, body)
        for handed in handed_over(view, callbacks, response):   # a background lesson's step computed elsewhere
            response = post(client, handed)
        assert response.status_code in (200, 204), f"{label}: HTTP {response.status_code}"
        if response.status_code == 200:
            trace_types(response.get_json(), found)
    assert found, f"{page['path']}: no figure found"
    assert found <= plotly_bundle.TRACES, \
        f"{page['path']} draws {sorted(found - plotly_bundle.TRACES)}, not in the plotly.js bundle; {REBUILD}"
