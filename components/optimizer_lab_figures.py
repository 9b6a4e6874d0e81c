"""Figures of the optimizer lab, as animation payloads (see components.player).

Inputs are plain arrays computed by the page from app.ml (no model code here):
the data x (n,), y (n,); lines or parameter paths [m, b] (k, 2); a loss
grid Z (len(bs), len(ms)) over slopes ms and intercepts bs; per-epoch losses,
step sizes and angles; per-step optimizer internals (T, 2). Frames index
epochs (or optimizer steps) through `frames` (F,) arrays of indices.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components import figure_fit as fit
from components.player import animation, static
from components.theme import BLACK, BLUE, FONT_FAMILY, GREEN, GRID, INK, MUTED, ORANGE, PURPLE, SKY, VERMILION

PARAMETERS = ("slope m", "intercept b")
LOSS_FLOOR = 1e-6  # excess losses below this are drawn at it (a log axis cannot show 0)
SURFACE_SCALE = [[0.0, "#9ecae1"], [0.35, "#deebf7"], [1.0, "#ffffff"]]
EXCESS_TITLE = "loss above<br>the best line's"   # two short lines: a short plot's axis holds them
LEGEND_CHARS = 30   # characters of a legend entry's line (16 px) that fit a phone's figure

#: Colour and dash of every optimizer wherever several are drawn together (the race): no
#: two share a colour, and optimizers whose colours are near (blue and sky, vermilion,
#: orange and wine, green and olive, black and grey) differ in dash, so that a reader who
#: cannot tell the colours apart tells the lines apart. The colours are Okabe & Ito's
#: (but their yellow, too pale for a line on white) and four of Tol's muted ones.
INDIGO, WINE, OLIVE = "#332288", "#882255", "#999933"
OPTIMIZER_STYLES = {
    "sgd": (BLACK, "solid"),
    "momentum": (BLUE, "solid"),
    "nesterov": (SKY, "dash"),
    "kochenderfer_nesterov": (INDIGO, "dot"),
    "adagrad": (GREEN, "solid"),
    "rmsprop": (OLIVE, "dash"),
    "adadelta": (PURPLE, "dashdot"),
    "adam": (VERMILION, "solid"),
    "adamw": (ORANGE, "dash"),
    "hypergradient_sgd": (MUTED, "longdash"),
    "hypergradient_adam": (WINE, "dot"),
}


def optimizer_style(name: str, index: int = 0) -> tuple[str, str]:
    """(colour, dash) of the optimizer `name`; one not in the table gets a dash of its own
    by its `index`, so that it still differs from the others."""
    dashes = ("longdashdot", "dashdot", "longdash", "dot", "dash")
    return OPTIMIZER_STYLES.get(name, (INK, dashes[index % len(dashes)]))


def _entry(name: str, narrow: bool = False) -> str:
    """A legend entry's name in lines that fit a phone: a whole row, or half of one."""
    return fit.wrap(name, 10 if narrow else LEGEND_CHARS)


def _legible(fig: go.Figure) -> go.Figure:
    """Every axis makes room for its ticks and title at any font size (an exhibit's are larger)."""
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def _points(values, digits: int = 5) -> list:
    """Values rounded to `digits` significant digits each (so that small
    values on a log axis keep their size), as nested lists; nan stays nan."""
    a = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.abs(a)))
        scale = np.where(np.isfinite(exponent), 10.0 ** (digits - 1 - exponent), 1.0)
        rounded = np.where(np.isfinite(a) & (a != 0), np.round(a * scale) / scale, a)
    return rounded.tolist()


def _floor(values) -> np.ndarray:
    return np.maximum(np.asarray(values, dtype=float), LOSS_FLOOR)


def log_axis(*series, most: int = 5) -> dict:
    """A log axis: labels at powers of ten when the values span decades (about `most`
    labels at most), else at 1, 2, 5."""
    values = np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in series]) if series else np.ones(1)
    values = values[np.isfinite(values) & (values > 0)]
    span = np.log10(values.max() / values.min()) if values.size else 0.0
    return dict(type="log", exponentformat="power",
                dtick=int(np.ceil(span / max(most - 1, 1))) if span >= 1.5 else "D2")


def factor_axis_layout(values) -> dict:
    """A log axis for a factor (a learning-rate multiple), ticks at powers of two, written plainly."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    low, high = (values.min(), values.max()) if values.size else (1.0, 1.0)
    k0, k1 = int(np.floor(np.log2(min(low, 1.0)))), int(np.ceil(np.log2(max(high, 1.0))))
    step = max(1, int(np.ceil((k1 - k0) / 5)))
    ticks = [2.0**k for k in range(k0, k1 + 1, step)]
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks],
                range=[np.log10(min(low, 1.0)) - 0.1, np.log10(max(high, 1.0)) + 0.1])


def _marker_line(frame_x, **line) -> list[dict]:
    return [dict(type="line", xref="x", yref="paper", x0=float(frame_x), x1=float(frame_x), y0=0, y1=1,
                 line=dict(color=MUTED, width=1.5, dash="dot"), **line)]


# --------------------------------------------------------------------------
# The line and its data


def line_figure(x, y, lines, labels: list[str], *, title: str = "Data and the line y = m·x + b",
                truth: tuple[float, float] | None = None) -> dict:
    """Data points and the model's line, one line [m, b] per frame: lines (F, 2)."""
    x, y, lines = np.asarray(x, float), np.asarray(y, float), np.asarray(lines, float)
    xs = np.array([x.min(), x.max()])
    span = max(float(np.ptp(y)), 1.0)
    fig = go.Figure(layout=fit.layout(
        title, xaxis=dict(title="x", zeroline=False),
        yaxis=dict(title="y", range=[y.min() - 0.6 * span, y.max() + 0.6 * span]),
        legend=fit.legend_below(), margin=dict(l=60, r=20, t=8, b=8),
    ))
    fig.add_trace(go.Scatter(x=_points(x), y=_points(y), mode="markers", name="data",
                             marker=dict(size=9, color=SKY, line=dict(width=1, color="white"))))
    fig.add_trace(go.Scatter(x=_points(xs), y=_points(lines[0, 0] * xs + lines[0, 1]), mode="lines",
                             name="model m·x + b", line=dict(color=VERMILION, width=4)))
    if truth is not None:
        fig.add_trace(go.Scatter(x=_points(xs), y=_points(truth[0] * xs + truth[1]), mode="lines",
                                 name="line the data came from", line=dict(color=MUTED, width=2, dash="dash")))
    frames = [{"traces": [1], "data": [{"y": _points(m * xs + b)}]} for m, b in lines]
    return animation(_legible(fig), frames, labels=labels)


# --------------------------------------------------------------------------
# The loss surface over (m, b) with paths


def surface_figure(ms, bs, Z, paths: list[dict], minimum, labels: list[str], *,
                   title: str = "Loss over (m, b)", arrows=None, n_frames: int | None = None,
                   path_legend: bool | None = None) -> dict:
    """Contours of log10(loss) over the (m, b) plane, paths and a moving marker per path.

    ms (a,), bs (b,), Z (b, a) losses; paths: dicts with name, color, points
    (k, 2) (the whole path, drawn faintly) and at (F, 2) (the marker per
    frame), optional dash; minimum (2,): the best [m, b]; arrows: None or
    (F, 2, 2), a segment [from, to] per frame (the current update);
    path_legend: name the paths in the legend, each by its line (colour and
    dash); default: yes.
    """
    if path_legend is None:
        path_legend = True
    many = len(paths) > 2   # names in two columns, each name in lines of a few words
    Z = np.log10(np.maximum(np.asarray(Z, dtype=float), 1e-12))
    finite = Z[np.isfinite(Z)]
    zmin, zmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    fig = go.Figure(layout=fit.layout(
        title, xaxis=dict(title="slope m", range=[float(ms[0]), float(ms[-1])], showgrid=False, zeroline=False),
        yaxis=dict(title="intercept b", range=[float(bs[0]), float(bs[-1])], showgrid=False, zeroline=False),
        legend=fit.legend_below(**(dict(entrywidth=0.5, entrywidthmode="fraction") if many else {})),
        margin=dict(l=64, r=20, t=8, b=8),
    ))
    fig.add_trace(go.Contour(
        x=_points(ms), y=_points(bs), z=_points(Z, 4), colorscale=SURFACE_SCALE, showscale=False,
        contours=dict(start=zmin, end=zmax, size=max((zmax - zmin) / 14, 1e-3), coloring="heatmap"),
        line=dict(color="#94a3b8", width=1), hoverinfo="skip", name="log₁₀ loss", showlegend=False))
    fig.add_trace(go.Scatter(x=[float(minimum[0])], y=[float(minimum[1])], mode="markers", name="lowest loss",
                             marker=dict(symbol="star", size=18, color=INK, line=dict(width=1, color="white"))))
    marker_traces = []
    view = np.array([[ms[0], bs[0]], [ms[-1], bs[-1]]], dtype=float)
    for path in paths:
        points = _until_far_outside(np.asarray(path["points"], dtype=float), view)
        # The line carries the legend entry: its swatch shows the colour and the dash.
        fig.add_trace(go.Scatter(x=_points(points[:, 0]), y=_points(points[:, 1]), mode="lines",
                                 line=dict(color=path["color"], width=2.5 if len(paths) <= 2 else 2,
                                           dash=path.get("dash", "solid")),
                                 opacity=0.6 if len(paths) <= 2 else 0.75, name=_entry(path["name"], many),
                                 legendgroup=path["name"], showlegend=path_legend, hoverinfo="skip"))
        at = np.asarray(path["at"], dtype=float)
        fig.add_trace(go.Scatter(x=[float(at[0, 0])], y=[float(at[0, 1])], mode="markers", name=path["name"],
                                 legendgroup=path["name"], showlegend=False,
                                 marker=dict(size=13, color=path["color"], line=dict(width=2, color="white"))))
        marker_traces.append((len(fig.data) - 1, at))
    arrow_trace = None
    if arrows is not None:
        arrows = np.asarray(arrows, dtype=float)
        moves = bool(np.any(arrows[0, 0] != arrows[0, 1]))
        fig.add_trace(go.Scatter(x=_points(arrows[0, :, 0]) if moves else [],
                                 y=_points(arrows[0, :, 1]) if moves else [], mode="lines+markers",
                                 name="this update Δθ", line=dict(color=VERMILION, width=5),
                                 marker=dict(size=[0, 14], symbol="arrow", angleref="previous",
                                             color=VERMILION)))
        arrow_trace = len(fig.data) - 1
    count = n_frames or max([len(at) for _, at in marker_traces] + [len(arrows) if arrows is not None else 1])
    frames = []
    for f in range(count):
        traces, data = [], []
        for index, at in marker_traces:
            k = min(f, len(at) - 1)
            traces.append(index)
            data.append({"x": [float(at[k, 0])], "y": [float(at[k, 1])]})
        if arrow_trace is not None:
            k = min(f, len(arrows) - 1)
            traces.append(arrow_trace)
            moves = bool(np.any(arrows[k, 0] != arrows[k, 1]))
            data.append({"x": _points(arrows[k, :, 0]) if moves else [], "y": _points(arrows[k, :, 1]) if moves else []})
        frames.append({"traces": traces, "data": data})
    return animation(_legible(fig), frames, labels=labels)


# --------------------------------------------------------------------------
# Curves over epochs


def curves_figure(epochs, loss, params, frames, labels: list[str], *,
                  loss_title: str = "Loss (mean squared error)") -> dict:
    """Loss (top, log scale) and the parameters m, b (bottom) over epochs; frames (F,) epochs."""
    epochs, loss, params = np.asarray(epochs), np.asarray(loss, float), np.asarray(params, float)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.16,
                        subplot_titles=(fit.wrap(loss_title), "Parameters"))
    fig.update_layout(**fit.layout("", legend=fit.legend_below(), margin=dict(l=64, r=20, t=56, b=8)))
    fig.add_trace(go.Scatter(x=epochs, y=_points(loss), name="loss", line=dict(color=ORANGE, width=3.5)), 1, 1)
    for i, (name, color) in enumerate(zip(PARAMETERS, (BLUE, GREEN))):
        fig.add_trace(go.Scatter(x=epochs, y=_points(params[:, i]), name=name, line=dict(color=color, width=3)), 2, 1)
    fig.add_trace(go.Scatter(x=[int(frames[0])], y=[float(loss[frames[0]])], mode="markers", showlegend=False,
                             marker=dict(size=13, color=ORANGE, line=dict(width=2, color="white"))), 1, 1)
    fig.update_yaxes(**log_axis(loss), row=1, col=1)
    fig.update_xaxes(title_text="epoch", row=2, col=1)
    marker = len(fig.data) - 1
    out = [{"traces": [marker], "data": [{"x": [int(e)], "y": [float(loss[e])]}],
            "layout": {"shapes": _marker_line(e)}} for e in frames]
    return animation(_legible(fig), out, labels=labels)


def loss_curves_figure(epochs, runs: list[dict], frames, labels: list[str], *, title: str,
                       yaxis_title: str = EXCESS_TITLE) -> dict:
    """One log-scale panel of loss curves, a marker per run at the frame's epoch; the
    legend below the plot names each curve by its colour and dash.

    runs: dicts with name, color, loss (E+1,) (nan after a divergence), optional dash.
    """
    epochs = np.asarray(epochs)
    fig = go.Figure(layout=fit.layout(
        title, xaxis=dict(title="epoch"), yaxis=dict(title=yaxis_title, **log_axis(*[_floor(r["loss"]) for r in runs])),
        legend=fit.legend_below(), margin=dict(l=70, r=20, t=8, b=8)))
    markers = []
    for run in runs:
        loss = _floor(run["loss"])
        fig.add_trace(go.Scatter(x=epochs, y=_points(loss), name=_entry(run["name"]), mode="lines",
                                 line=dict(color=run["color"], width=3, dash=run.get("dash", "solid"))))
    for run in runs:
        loss = _floor(run["loss"])
        fig.add_trace(go.Scatter(x=[int(frames[0])], y=[float(loss[frames[0]])], mode="markers",
                                 showlegend=False, hoverinfo="skip",
                                 marker=dict(size=11, color=run["color"], line=dict(width=2, color="white"))))
        markers.append((len(fig.data) - 1, loss))
    out = []
    for e in frames:
        data = []
        for _, loss in markers:
            value = loss[min(int(e), len(loss) - 1)]
            data.append({"x": [int(e)] if np.isfinite(value) else [], "y": [float(value)] if np.isfinite(value) else []})
        out.append({"traces": [i for i, _ in markers], "data": data, "layout": {"shapes": _marker_line(e)}})
    return animation(_legible(fig), out, labels=labels)


RANK_NAME_CHARS = 19   # characters of a bar's name per line


def ranking_figure(names: list[str], colors: list[str], values, frames, labels: list[str], *, title: str,
                   axis_title: str = "loss above the best line's") -> dict:
    """Horizontal bars, one per run, of a value per epoch on a log axis; the bars
    grow or shrink frame by frame. Runs are listed best (lowest at the end) first,
    each named in at most two short lines (a phone leaves the bars little width).

    values: (R, E+1) per run and epoch (nan after a divergence); frames (F,) epochs.
    """
    values = _floor(values)
    final = np.where(np.isfinite(values[:, -1]), values[:, -1], np.inf)
    order = np.argsort(final, kind="stable")
    ys = [fit.wrap(names[i], RANK_NAME_CHARS) for i in order]
    finite = values[np.isfinite(values)]
    axis = log_axis(finite, most=4)
    if finite.size:   # one scale for every frame: a bar that grows is seen to grow
        axis["range"] = [float(np.log10(finite.min())) - 0.2, float(np.log10(finite.max())) + 0.2]

    def at(e) -> list:
        return _points(values[order, min(int(e), values.shape[1] - 1)])

    fig = go.Figure(layout=fit.layout(
        title, xaxis=dict(title=axis_title, **axis), showlegend=False,
        yaxis=dict(autorange="reversed", tickfont=dict(size=14)), margin=dict(l=10, r=24, t=8, b=8)))
    fig.add_trace(go.Bar(x=at(frames[0]), y=ys, orientation="h", marker=dict(color=[colors[i] for i in order]),
                         customdata=[names[i] for i in order], hovertemplate="%{customdata}: %{x:.3g}<extra></extra>"))
    return animation(_legible(fig), [{"traces": [0], "data": [{"x": at(e)}]} for e in frames], labels=labels)


# --------------------------------------------------------------------------
# Inside one optimizer step


def _number(value) -> str:
    if isinstance(value, str):
        return value
    value = float(value)
    if value == 0:
        return "0"
    if not math.isfinite(value):
        return str(value)
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:+.4f}"
    return f"{value:+.3e}"


def algorithm_figure(lines: list[list[str]], values: list[list[list]], titles: list[str], labels: list[str]) -> dict:
    """The algorithm's lines beside the numbers of the current step, as a table.

    lines: per frame, the text of each line (R strings; it may carry numbers
    such as 1 − β₁ᵗ); values: per frame, R rows of [value for m, value for b]
    (numbers or text); titles: per frame.
    """
    header = dict(values=["<b>line of the algorithm</b>", "<b>slope m</b>", "<b>intercept b</b>"],
                  fill_color="#eef2f7", align=["left", "right", "right"], height=34,
                  font=dict(size=16, color=INK), line_color=GRID)

    def cells(f: int) -> dict:
        rows = values[f]
        mono = "'DejaVu Sans Mono', Menlo, Consolas, monospace"
        return dict(values=[lines[f], [_number(r[0]) for r in rows], [_number(r[1]) for r in rows]],
                    align=["left", "right", "right"], height=33,
                    font=dict(size=16, color=INK, family=[FONT_FAMILY, mono, mono]),
                    fill_color=[["#ffffff", "#f8fafc"] * (len(rows) // 2 + 1)], line_color=GRID)

    titles = fit.wrap_all(titles)
    fig = go.Figure(layout=fit.layout(titles[0], margin=dict(l=10, r=10, t=8, b=10)))
    fig.add_trace(go.Table(header=header, cells=cells(0), columnwidth=[1.7, 1, 1]))
    frames = [{"traces": [0], "data": [{"cells": cells(f)}], "layout": {"title": {"text": titles[f]}}}
              for f in range(len(values))]
    return animation(fig, frames, labels=labels)


def internals_figure(t, top: list[dict], bottom: list[dict], frames, labels: list[str], *,
                     top_title: str, bottom_title: str = "the update Δθ", title: str = "") -> dict:
    """Per-step internals for both parameters: 2 x 2 panels (rows: top/bottom
    quantities, columns: m and b), a dotted line at the frame's step.

    t (T,) step numbers 1..T; top, bottom: dicts with name, color, values (T, 2),
    optional dash; frames (F,) step numbers (0 = before the first step).
    """
    t = np.asarray(t, dtype=float)
    # Each panel is half the figure wide: its title in two short lines, what, then of which parameter.
    fig = make_subplots(rows=2, cols=2, shared_xaxes=True, vertical_spacing=0.2, horizontal_spacing=0.14,
                        subplot_titles=[f"{what}<br>{parameter}" for what in (top_title, bottom_title)
                                        for parameter in PARAMETERS])
    fig.update_layout(**fit.layout(title, legend=fit.legend_below(), margin=dict(l=64, r=20, t=56, b=8)))
    for row, group in ((1, top), (2, bottom)):
        for col in (1, 2):
            for item in group:
                values = np.asarray(item["values"], dtype=float)[:, col - 1]
                fig.add_trace(go.Scatter(x=t, y=_points(values), name=item["name"], legendgroup=item["name"],
                                         showlegend=col == 1, mode="lines",
                                         line=dict(color=item["color"], width=item.get("width", 3),
                                                   dash=item.get("dash", "solid"))), row, col)
    for col in (1, 2):
        fig.update_xaxes(title_text="step t", row=2, col=col)
    for annotation in fig.layout.annotations:
        annotation.font = dict(size=15)
    _legible(fig)

    def shapes(step) -> list[dict]:
        return [dict(type="line", xref=f"x{k if k > 1 else ''}", yref=f"y{k if k > 1 else ''} domain",
                     x0=float(step), x1=float(step), y0=0, y1=1, line=dict(color=MUTED, width=1.5, dash="dot"))
                for k in range(1, 5)]

    fig.update_layout(shapes=shapes(frames[0]))
    return animation(fig, [{"layout": {"shapes": shapes(s)}} for s in frames], labels=labels)


# --------------------------------------------------------------------------
# Step sizes and angles per epoch


def sizes_figure(epochs, runs: list[dict], frames, labels: list[str], *, title: str) -> dict:
    """Size |Δθ| of every epoch's change (top, log) and the angle to the previous
    epoch's change (bottom, 0–180°). runs: dicts with name, color, norm (E,), angle (E,)."""
    epochs = np.asarray(epochs)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.16,
                        subplot_titles=("Size of each epoch's change ‖Δθ‖₂",
                                        fit.wrap("Angle between consecutive epoch changes")))
    fig.update_layout(**fit.layout(title, legend=fit.legend_below(), margin=dict(l=64, r=20, t=36, b=8)))
    for run in runs:
        fig.add_trace(go.Scatter(x=epochs, y=_points(np.maximum(run["norm"], 1e-12)), name=_entry(run["name"]),
                                 legendgroup=run["name"], mode="lines",
                                 line=dict(color=run["color"], width=3, dash=run.get("dash", "solid"))), 1, 1)
        angle = np.asarray(run["angle"], dtype=float)
        fig.add_trace(go.Scatter(x=epochs, y=[None if not np.isfinite(a) else round(float(a), 2) for a in angle],
                                 name=run["name"], legendgroup=run["name"], showlegend=False,
                                 mode="lines+markers", marker=dict(size=5),
                                 line=dict(color=run["color"], width=2, dash=run.get("dash", "solid"))), 2, 1)
    fig.update_yaxes(**log_axis(*[np.maximum(r["norm"], 1e-12) for r in runs]), row=1, col=1)
    fig.update_yaxes(title_text="degrees", range=[0, 180], tickvals=[0, 45, 90, 135, 180], row=2, col=1)
    fig.update_xaxes(title_text="epoch", row=2, col=1)
    guides = [dict(type="line", xref="x2 domain", yref="y2", x0=0, x1=1, y0=90, y1=90,
                   line=dict(color=INK, width=1, dash="dash"))]
    fig.add_annotation(text="90°: unrelated", xref="x2 domain", yref="y2", x=1, y=90, xanchor="right",
                       yanchor="bottom", showarrow=False, font=dict(size=14, color=MUTED))
    _legible(fig)

    def shapes(e) -> list[dict]:
        return guides + [dict(type="line", xref=axis, yref=f"{yaxis} domain", x0=float(e), x1=float(e), y0=0, y1=1,
                              line=dict(color=MUTED, width=1.5, dash="dot"))
                         for axis, yaxis in (("x", "y"), ("x2", "y2"))]

    fig.update_layout(shapes=shapes(frames[0]))
    return animation(fig, [{"layout": {"shapes": shapes(e)}} for e in frames], labels=labels)


# --------------------------------------------------------------------------
# A rule at work: loss with and without, and the rule's factor


def rule_figure(epochs, runs: list[dict], factor, frames, labels: list[str], *, factor_title: str,
                factor_label: str) -> dict:
    """Top: loss above the best line's (log) with and without the rule; bottom:
    the rule's factor per epoch (log2 axis). runs: dicts with name, color, loss (E+1,)."""
    epochs = np.asarray(epochs)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.18, row_heights=[0.62, 0.38],
                        subplot_titles=("Loss above the best line's", fit.wrap(factor_title)))
    fig.update_layout(**fit.layout("", legend=fit.legend_below(), margin=dict(l=70, r=20, t=36, b=8)))
    for run in runs:
        fig.add_trace(go.Scatter(x=epochs, y=_points(_floor(run["loss"])), name=_entry(run["name"]), mode="lines",
                                 line=dict(color=run["color"], width=3.5, dash=run.get("dash", "solid"))), 1, 1)
    factor = np.asarray(factor, dtype=float)
    fig.add_trace(go.Scatter(x=epochs[1:len(factor) + 1], y=_points(factor), name=factor_label, mode="lines",
                             line=dict(color=PURPLE, width=3, shape="hv"), showlegend=False), 2, 1)
    fig.update_yaxes(**log_axis(*[_floor(r["loss"]) for r in runs]), row=1, col=1)
    fig.update_yaxes(**factor_axis_layout(factor), title_text=factor_label, row=2, col=1)
    fig.update_xaxes(title_text="epoch", row=2, col=1)
    _legible(fig)

    def shapes(e) -> list[dict]:
        return [dict(type="line", xref=axis, yref=f"{yaxis} domain", x0=float(e), x1=float(e), y0=0, y1=1,
                     line=dict(color=MUTED, width=1.5, dash="dot")) for axis, yaxis in (("x", "y"), ("x2", "y2"))]

    fig.update_layout(shapes=shapes(frames[0]))
    return animation(fig, [{"layout": {"shapes": shapes(e)}} for e in frames], labels=labels)


# --------------------------------------------------------------------------
# With and without, over many seeds


def compare_figure(epochs, excess, names: list[str], colors: list[str], target: float, *, title: str) -> dict:
    """One panel per rule: the loss above the best line's, median and range
    over seeds, without the rule (gray) and with it (color); a dashed target.

    excess: (V, S, E+1), variant 0 is "without"; names, colors: per variant.
    """
    epochs = np.asarray(epochs)
    rules = list(range(1, len(names)))
    # A panel per rule: on a phone a third of 350 px, so each panel's title in short lines.
    panel_titles = fit.wrap_all([names[v] for v in rules] or [names[0]], 12)
    fig = make_subplots(rows=1, cols=max(len(rules), 1), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=panel_titles)
    lines = len(fit.lines_of(panel_titles[0]))
    fig.update_layout(**fit.layout(title, legend=fit.legend_below(),
                                   margin=dict(l=70, r=20, t=12 + 22 * lines, b=8)))
    for col, v in enumerate(rules or [0], start=1):
        for variant, color, show in ((0, MUTED, col == 1), (v, colors[v], True)):
            if variant == v and v == 0:
                continue
            values = _floor(excess[variant])
            with np.errstate(all="ignore"):
                low, mid, high = (np.nanmin(values, axis=0), np.nanmedian(values, axis=0),
                                  np.nanmax(values, axis=0))
            name = names[variant]
            fig.add_trace(go.Scatter(x=epochs, y=_points(low), mode="lines", line=dict(width=0), hoverinfo="skip",
                                     showlegend=False, legendgroup=name), 1, col)
            fig.add_trace(go.Scatter(x=epochs, y=_points(high), mode="lines", line=dict(width=0), fill="tonexty",
                                     fillcolor=_alpha(color, 0.2), hoverinfo="skip", showlegend=False,
                                     legendgroup=name), 1, col)
            fig.add_trace(go.Scatter(x=epochs, y=_points(mid), mode="lines", name=f"{name} (median, range)",
                                     legendgroup=name, showlegend=show, line=dict(color=color, width=3.5)), 1, col)
        fig.add_hline(y=target, line=dict(color=INK, width=1.5, dash="dash"), row=1, col=col)
        fig.update_xaxes(title_text="epoch", row=1, col=col)
    if len(rules) > 1:   # side by side, a phone's panels are too narrow for Plotly's four labels upright
        fig.update_xaxes(tickvals=[0, _round_below(0.8 * float(epochs[-1]))], tickangle=0)
    axis = log_axis(_floor(excess))
    fig.update_yaxes(**axis, row=1, col=1, title_text=EXCESS_TITLE)
    for c in range(2, len(rules) + 1):
        fig.update_yaxes(**axis, row=1, col=c)
    for annotation in fig.layout.annotations:
        annotation.font = dict(size=16)
    return static(_legible(fig))


def _round_below(top: float) -> float:
    """The largest of 1, 2, 5, 10, 20, 50, ... at most `top` (`top` itself below 1)."""
    if top < 1:
        return top
    power = 10 ** math.floor(math.log10(top))
    return max(m * power for m in (1, 2, 5) if m * power <= top)


def targets_figure(epochs_to, names: list[str], colors: list[str], epochs: int, *, title: str) -> dict:
    """Epochs each seed needed to reach the target, per variant (a dot per seed,
    a bar at the median); seeds that never reached it sit at the right edge as ×.

    epochs_to: (V, S) float, nan = not reached within `epochs`.
    """
    epochs_to = np.asarray(epochs_to, dtype=float)
    V, S = epochs_to.shape
    never = epochs * 1.06
    fig = go.Figure(layout=fit.layout(
        title, xaxis=dict(title="epochs to reach the target", range=[-0.02 * epochs, epochs * 1.12]),
        # Reversed, the first variant on top, with a row above it for the "not reached" label.
        yaxis=dict(range=[V - 0.5, -1.1], tickvals=list(range(V)), ticktext=[fit.wrap(n, 16) for n in names],
                   zeroline=False),
        showlegend=False, margin=dict(l=10, r=20, t=8, b=8)))
    jitter = (np.arange(S) - (S - 1) / 2) / max(S, 1) * 0.5
    for v in range(V):
        reached = np.isfinite(epochs_to[v])
        fig.add_trace(go.Scatter(x=_points(epochs_to[v][reached]), y=_points(v + jitter[reached]), mode="markers",
                                 marker=dict(size=10, color=colors[v], opacity=0.8, line=dict(width=1, color="white")),
                                 name=names[v], hovertemplate="%{x} epochs<extra></extra>"))
        if (~reached).any():
            fig.add_trace(go.Scatter(x=[never] * int((~reached).sum()), y=_points(v + jitter[~reached]),
                                     mode="markers", marker=dict(size=11, symbol="x-thin", color=colors[v],
                                                                 line=dict(width=2.5, color=colors[v])),
                                     name=f"{names[v]}: not reached", hovertemplate="not reached<extra></extra>"))
        if reached.sum() * 2 > S:  # a median exists among the seeds
            median = float(np.median(np.where(reached, epochs_to[v], np.inf)))
            fig.add_shape(type="line", x0=median, x1=median, y0=v - 0.35, y1=v + 0.35,
                          line=dict(color=INK, width=4))
    fig.add_vline(x=epochs, line=dict(color=MUTED, width=1, dash="dot"))
    fig.add_annotation(text="not reached", x=never, y=-0.75, yref="y", showarrow=False, xanchor="right",
                       yanchor="middle", font=dict(size=14, color=MUTED))
    return static(_legible(fig))


def _until_far_outside(points: np.ndarray, view: np.ndarray) -> np.ndarray:
    """The path up to and including its first point outside the view grown by half
    its size on every side (a diverging path is drawn only as it leaves)."""
    size = view[1] - view[0]
    outside = np.any((points < view[0] - 0.5 * size) | (points > view[1] + 0.5 * size), axis=1)
    return points[:int(np.argmax(outside)) + 1] if outside.any() else points


def _alpha(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"
