"""The guided tour on the home page: start, resume, and progress per lesson.

Progress lives in the browser (see `components.site.TOUR_STORE`); the home
page only reads it, clientside.
"""

from __future__ import annotations

from dash import ALL, ClientsideFunction, Input, Output, clientside_callback, dcc, html

from components.site import TOUR_STORE


def progress_badge(path: str) -> html.Span:
    """Where a lesson card shows "4 of 9 steps · 1 task ✓" for this visitor."""
    return html.Span("", id={"type": "tour-progress-badge", "path": path}, className="lesson-card-progress")


def tour_actions(first_path: str) -> html.Div:
    """Start the tour, resume it, and enter presenter mode."""
    return html.Div(
        [
            dcc.Link("Start the tour →", href=f"{first_path}?step=1", className="home-start",
                     id="tour-start"),
            dcc.Link("Resume where you left off", href=first_path, className="home-resume is-hidden",
                     id="tour-resume"),
            dcc.Link("Presenter mode", href=f"{first_path}?present=1", className="home-present",
                     title="Full-screen exhibit: large type, auto-advance, attract loop"),
        ],
        className="home-actions",
    )


clientside_callback(
    ClientsideFunction("learnscape", "tourShow"),
    Output({"type": "tour-progress-badge", "path": ALL}, "children"),
    Output("tour-resume", "href"),
    Output("tour-resume", "className"),
    Input(TOUR_STORE, "data"),
    Input({"type": "tour-progress-badge", "path": ALL}, "id"),
)
