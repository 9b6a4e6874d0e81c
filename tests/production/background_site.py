"""A one-page Dash app on the site's own background machinery (app.background,
app.config, app.cache), for testing background callbacks for real while no
lesson needs one: one callback that reports progress and computes through a
memoized function.

    gunicorn tests.production.background_site:server
    celery -A tests.production.background_site:celery_app worker
"""

from __future__ import annotations

import time

import dash
from dash import Input, Output, dcc, html

from app import background
from app import cache as site_cache
from app.cache import bind, cache_config, memoize
from app.config import settings

STEPS = 3

manager, celery_app = background.make_manager(settings, "background-test")
app = dash.Dash(__name__, background_callback_manager=manager)
server = app.server
site_cache.init_app(server, cache_config(settings, "background-test"))
bind(server, settings)
app.layout = html.Div([dcc.Input(id="n", value="3"), html.Progress(id="bar", max=str(STEPS)),
                       html.Div(id="out")])


@server.get("/healthz")
def healthz():
    return {"status": "ok"}


@memoize()
def square(n: int) -> int:
    time.sleep(0.3)
    return n * n


@dash.callback(
    Output("out", "children"),
    Input("n", "value"),
    background=True,
    progress=[Output("bar", "value")],
    interval=200,
)
def compute(set_progress, n):
    for step in range(1, STEPS + 1):
        set_progress((str(step),))
        time.sleep(0.3)
    try:
        number = int(n)
    except (TypeError, ValueError):
        return "not a number"
    return f"{number} squared is {square(number)}"
