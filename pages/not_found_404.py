"""The page for addresses that are not lessons."""

from dash import dcc, html

PAGE = dict(path="/404", name="Not found", title="Not found — Learnscape", order=999)


def layout(**_query) -> html.Div:
    return html.Div(
        [
            html.H1("This page does not exist"),
            html.P("The address may be mistyped, or the lesson may have moved."),
            dcc.Link("← Back to the lessons", href="/", className="home-start"),
        ],
        className="not-found",
    )
