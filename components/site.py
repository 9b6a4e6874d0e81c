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
#: Where a background job (a long training run) shows its progress. It lives
#: in the site shell, not the lesson: a job may finish after the visitor has
#: left the page, and Dash then still sets these.
JOB_STATUS, JOB_TEXT, JOB_BAR = "job-status", "job-status-text", "job-status-bar"


def job_status_outputs() -> dict:
    """`progress`, `progress_default` and `running` for a background callback."""
    return dict(
        progress=[Output(JOB_TEXT, "children"), Output(JOB_BAR, "value")],
        progress_default=["Preparing the runs…", "0"],
        running=[(Output(JOB_STATUS, "className"), "site-job is-running", "site-job")],
    )


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
                    html.Nav(nav_links, className="site-nav", **{"aria-label": "Lessons"}),
                    # Phones: the same links behind one button (two taps to any lesson).
                    html.Details(
                        [html.Summary("☰ Lessons", className="site-menu-button"),
                         html.Nav([dcc.Link(p["name"], href=p["relative_path"], className="site-menu-link")
                                   for p in lessons()], className="site-menu-list",
                                  **{"aria-label": "Lessons (menu)"})],
                        className="site-menu",
                    ),
                    html.Button("?", className="site-help-button", title="Keys and presenter mode (?)",
                                **{"aria-label": "Keyboard help"}),
                ],
                className="site-header",
            ),
            html.Main(dash.page_container, className="site-main"),
            html.Div([html.Span("Preparing the runs…", id=JOB_TEXT),
                      html.Progress(id=JOB_BAR, max="1", value="0")],
                     id=JOB_STATUS, className="site-job", role="status"),
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
