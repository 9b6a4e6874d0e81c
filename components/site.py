"""The frame around every page: header with the lesson navigation, footer,
and what the tour and presenter mode need on every page.

Navigation is built from `dash.page_registry`, so a page registered in
`app.main.PAGE_MODULES` appears in it without a hand-kept list.
"""

from __future__ import annotations

import json

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

#: Progress of the guided tour, kept in the browser's local storage:
#: {"lessons": {path: {"seen": [step, ...], "tasks": [step, ...], "step": int}},
#:  "last": {"path": str, "step": int}}
TOUR_STORE = "tour-progress"


def lessons() -> list[dict]:
    """Registered lesson pages, in their order."""
    pages = [p for p in dash.page_registry.values() if p.get("lesson")]
    return sorted(pages, key=lambda p: p.get("order", 0))


def lesson_index() -> list[dict]:
    """What the browser needs to walk the lessons: path, name, number of steps."""
    return [{"path": p["relative_path"], "name": p["name"], "steps": p.get("steps", 0)} for p in lessons()]


def site_layout() -> html.Div:
    nav_links = [
        dcc.Link(p["name"], href=p["relative_path"], className="site-nav-link")
        for p in lessons()
    ]
    return html.Div(
        [
            dcc.Store(id=TOUR_STORE, storage_type="local"),
            html.Div(id="site-lessons", hidden=True, **{"data-lessons": json.dumps(lesson_index())}),
            html.Header(
                [
                    dcc.Link([html.Span("◆", className="site-logo-mark"), "Learnscape"], href="/",
                             className="site-logo"),
                    html.Nav(nav_links, className="site-nav"),
                    html.Button("?", className="site-help-button", title="Keys and presenter mode (?)",
                                **{"aria-label": "Keyboard help"}),
                ],
                className="site-header",
            ),
            html.Main(dash.page_container, className="site-main"),
            html.Footer(
                "Learnscape — every figure here is computed by a small numpy model, live.",
                className="site-footer",
            ),
        ],
        className="site",
    )


clientside_callback(
    ClientsideFunction("learnscape", "tourRecord"),
    Output(TOUR_STORE, "data"),
    Input({"type": "ls-step", "lesson": ALL}, "data"),
    Input({"type": "ls-achieved", "lesson": ALL}, "data"),
    State(TOUR_STORE, "data"),
)
