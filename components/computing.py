"""What a visitor sees while a step's figures are computed on the server.

`computing(children, what)` wraps the figures in a dcc.Loading whose
indicator, shown once a request has taken `delay_show` ms, is a moving bar
and a sentence saying what is being computed ("Computing the loss
landscape…"), over the dimmed figures it will replace. A lesson whose steps
run as background jobs (decision boundaries) shows its progress in the site's
job bar instead, with the epoch it has reached.
"""

from __future__ import annotations

from dash import dcc, html

#: The figures being replaced stay in view, dimmed.
DIMMED = {"visibility": "visible", "opacity": 0.35}


def computing(children, what: str, *, delay_show: int = 300, parent_className: str = "") -> dcc.Loading:
    """`children` under an indicator that says "`what`…" while they are being computed."""
    indicator = html.Div([html.Progress(className="ls-computing-bar"), html.Span(f"{what}…")],
                         className="ls-computing", role="status")
    return dcc.Loading(children, custom_spinner=indicator, delay_show=delay_show, overlay_style=DIMMED,
                       parent_className=parent_className)
