"""The step player: play/pause, single step, reset, a scrub slider and a speed.

A run is computed once on the server and sent to the browser as an
*animation payload* (see `animation`): a base figure plus one small patch per
frame. Every figure tied to a player is redrawn clientside from the slider's
value, so playing and scrubbing never ask the server.
"""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
from dash import ALL, MATCH, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from components.ids import dom_id, player_id
from components.run_files import figure_tools

#: Speed choices: label -> milliseconds per frame.
SPEEDS = {"0.5×": 240, "1×": 120, "2×": 60, "4×": 30}
#: The order the speed button steps through them, from 1×.
SPEED_CYCLE = [(label, SPEEDS[label]) for label in ("1×", "2×", "4×", "0.5×")]


def animation(figure: go.Figure | dict, frames: list[dict], *, labels: list[str] | None = None,
              autoplay: bool = False, start: str = "first") -> dict:
    """The payload an `animated_graph` store holds.

    figure: the figure as it is drawn before any frame is applied.
    frames: one dict per frame, {"traces": [i, ...], "data": [patch, ...],
        "layout": {...}} (all keys optional): trace `traces[j]` is updated
        with `data[j]`; `layout` is merged into the figure's layout.
    labels: a caption per frame (e.g. "epoch 12, loss 0.31").
    start: "first" or "last", the frame shown when the payload arrives.
    """
    base = figure.to_plotly_json() if isinstance(figure, go.Figure) else dict(figure)
    base.pop("frames", None)
    return {
        "figure": base,
        "frames": [_jsonable(f) for f in frames],
        "labels": list(labels) if labels is not None else [],
        "autoplay": bool(autoplay),
        "start": start,
    }


def static(figure: go.Figure | dict) -> dict:
    """A payload with a single frame: a figure that does not animate."""
    return animation(figure, [{}], start="first")


def placeholder(text: str = "") -> dict:
    """A payload for a figure that has nothing to show, with `text` in its middle."""
    figure = go.Figure(layout={
        "xaxis": {"visible": False}, "yaxis": {"visible": False}, "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "annotations": [{"text": text, "showarrow": False, "x": 0.5, "y": 0.5, "xref": "paper", "yref": "paper",
                         "font": {"size": 16}}] if text else [],
    })
    return static(figure)


def compact(values, digits: int = 4) -> list:
    """An array rounded to `digits` significant-ish decimals, as nested lists."""
    array = np.asarray(values, dtype=float)
    scale = np.nanmax(np.abs(array)) if array.size and np.isfinite(array).any() else 1.0
    decimals = int(max(0, digits - np.floor(np.log10(scale if scale > 0 else 1.0)) - 1))
    return np.round(array, decimals).tolist()


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def animated_graph(player: str, name: str, *, height: int = 420, config: dict | None = None,
                   className: str = "") -> html.Div:
    """A graph redrawn clientside from its player's frame, its payload store, and its
    text alternative (what a screen reader reads in place of the picture)."""
    alt = player_id("alt", player, name=name)
    return html.Div(
        [
            dcc.Store(id=player_id("frames", player, name=name)),
            html.P(id=alt, className="ls-sr-only"),
            dcc.Graph(
                id=player_id("graph", player, name=name),
                style={"height": f"{height}px"},
                config={"displaylogo": False, "displayModeBar": False, "responsive": True, **(config or {})},
            ),
            figure_tools(name),
        ],
        id=player_id("box", player, name=name),
        className=f"ls-figure {className}".strip(),
        role="figure", **{"aria-describedby": dom_id(alt)},
    )


def step_player(player: str, *, label: str = "step") -> html.Div:
    """The controls of one player (any number of `animated_graph`s follow it)."""
    return html.Div(
        [
            html.Button("▶ Play", id=player_id("play", player), className="pl-button pl-play",
                        title="Play / pause"),
            html.Button("Step ›", id=player_id("step", player), className="pl-button pl-step", title="One step forward"),
            html.Button("↺ Reset", id=player_id("reset", player), className="pl-button pl-reset", title="Back to the start"),
            html.Div(
                dcc.Slider(id=player_id("slider", player), min=0, max=0, step=1, value=0,
                           updatemode="drag", marks=None, allow_direct_input=False,
                           tooltip={"always_visible": False}),
                className="pl-slider",
            ),
            html.Span("", id=player_id("label", player), className="pl-label"),
            # One button that cycles through the speeds: no menu to open, one tap on a phone.
            html.Button("1×", id=player_id("speed", player), className="pl-button pl-speed",
                        title="Playing speed (press for the next)", **{"aria-label": "Playing speed 1×"}),
            dcc.Interval(id=player_id("interval", player), interval=SPEEDS["1×"], disabled=True),
            dcc.Store(id=player_id("meta", player), data={"label": label}),
        ],
        className="pl-player",
        **{"data-player": player},
    )


clientside_callback(
    ClientsideFunction("learnscape", "playerControl"),
    Output(player_id("slider", MATCH), "value"),
    Output(player_id("slider", MATCH), "max"),
    Output(player_id("interval", MATCH), "disabled"),
    Output(player_id("play", MATCH), "children"),
    Output(player_id("play", MATCH), "disabled"),
    Output(player_id("step", MATCH), "disabled"),
    Output(player_id("reset", MATCH), "disabled"),
    Input(player_id("play", MATCH), "n_clicks"),
    Input(player_id("step", MATCH), "n_clicks"),
    Input(player_id("reset", MATCH), "n_clicks"),
    Input(player_id("interval", MATCH), "n_intervals"),
    Input(player_id("frames", MATCH, name=ALL), "data"),
    State(player_id("slider", MATCH), "value"),
    State(player_id("interval", MATCH), "disabled"),
    State(player_id("interval", MATCH), "interval"),
)

clientside_callback(
    """function (n) {
        const speeds = %s;
        const [label, ms] = speeds[(Number(n) || 0) %% speeds.length];
        return [ms, label, "Playing speed " + label];
    }""" % json.dumps(SPEED_CYCLE),
    Output(player_id("interval", MATCH), "interval"),
    Output(player_id("speed", MATCH), "children"),
    Output(player_id("speed", MATCH), "aria-label"),
    Input(player_id("speed", MATCH), "n_clicks"),
)

clientside_callback(
    ClientsideFunction("learnscape", "playerRender"),
    Output(player_id("graph", MATCH, name=ALL), "figure"),
    Output(player_id("label", MATCH), "children"),
    Input(player_id("slider", MATCH), "value"),
    Input(player_id("frames", MATCH, name=ALL), "data"),
    State(player_id("meta", MATCH), "data"),
)
