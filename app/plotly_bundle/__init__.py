"""The partial plotly.js bundle the site serves in place of the full one.

plotly.js is the heaviest file of a first visit, and the full bundle Dash
would load holds every trace type (maps, geo, finance, ...). The file here,
`plotly-learnscape.min.js`, holds only the trace types the lessons draw
(`TRACES`), plus everything plotly.js's core brings for any trace (axes,
legends, colorbars, annotations, shapes, sliders, updatemenus, hover, the
mode bar); 3-D scenes and WebGL come with scatter3d/surface/mesh3d and
scattergl (its strict variant: no eval, as the content security policy asks).
It is plotly.js at the version the installed plotly package (and so Dash)
ships, built by `build.sh` from `bundle.json`; see README.md here.

`serve(app)` puts it on every page as a component-suite script, loaded before
Dash's renderer starts: it defines `window.Plotly`, and dcc.Graph uses a
`window.Plotly` that is already there instead of fetching the full bundle
(the way Dash documents for a custom plotly.js). Served as a component suite,
the file gets a fingerprinted URL (cached for a year), is compressed at start
with Dash's other scripts (PRECOMPRESS_STATIC), and comes from the site
itself, as the content security policy asks.

A figure of a trace type missing here would not draw: tests/test_plotly_bundle.py
replays every step of every lesson and fails on such a type.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = json.loads((HERE / "bundle.json").read_text(encoding="utf-8"))
#: Trace types the bundle registers ("type" of a figure's trace).
TRACES = frozenset(MANIFEST["traces"])
#: The built file, in this folder.
FILENAME = MANIFEST["file"]
PLOTLY_JS_VERSION = MANIFEST["plotly.js"]
#: Dash puts a component suite's version in its files' fingerprinted URLs.
__version__ = PLOTLY_JS_VERSION


def serve(app) -> None:
    """Load the bundle on every page of the Dash `app` (served by the app itself)."""
    app.scripts.append_script({"relative_package_path": FILENAME, "namespace": __name__})
