"""Figures of the decision-boundary lesson, as animation payloads of runs.

Inputs are plain arrays computed by app.ml.decision_runs (no model code here):
per run and frame the predicted class (R, R) and confidence (R, R) of every
grid cell, the data points, loss and accuracy curves, and the outputs of
hidden neurons on a grid.

A decision area is drawn as one heatmap whose value packs class and
confidence: z = LEVELS * class + level, level 0..LEVELS-1 from undecided to
sure, and a colorscale that runs from a pale to a full tint of each class's
color. One number per cell keeps the per-frame patches small.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.figure_fit import legend_below
from components.player import animation, compact
from components.theme import (BLACK, BLUE, GREEN, INK, MUTED, ORANGE, PURPLE, SKY, VERMILION,
                              figure_layout)

#: Class colors: class 1 is blue and class 0 orange, as in the perceptron lesson.
CLASS_COLORS = (ORANGE, BLUE, GREEN, PURPLE, SKY)
CLASS_SYMBOLS = ("circle", "diamond", "square", "triangle-up", "cross")
LEVELS = 10
#: Tint of a cell: PALE for an undecided network, FULL for a sure one.
PALE, FULL = 0.10, 0.58
#: Steps of a neuron map's color from zero to its largest value.
NEURON_LEVELS = 10


def _mix(color: str, amount: float) -> str:
    """`color` (#rrggbb) mixed with white: amount 0 = white, 1 = the color."""
    rgb = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    return "rgb({},{},{})".format(*(round(255 - (255 - c) * amount) for c in rgb))


def area_colorscale(classes: int) -> list:
    """Colorscale for z in [-0.5, LEVELS * classes - 0.5]: a pale-to-full band per class."""
    scale = []
    for c in range(classes):
        color = CLASS_COLORS[c % len(CLASS_COLORS)]
        scale.append([c / classes, _mix(color, PALE)])
        scale.append([(c + 1) / classes - 1e-6, _mix(color, FULL)])
    scale[-1][0] = 1.0
    return scale


def area_z(grid_class: np.ndarray, confidence: np.ndarray, discretize: bool = False) -> np.ndarray:
    """Heatmap values (..., R, R) int: LEVELS * class + confidence level (the top level if discretize)."""
    level = np.full(np.shape(grid_class), LEVELS - 1) if discretize else \
        np.minimum((np.asarray(confidence) * LEVELS).astype(int), LEVELS - 1)
    return np.asarray(grid_class, dtype=int) * LEVELS + level


def _heatmap(xs, z, classes: int) -> go.Heatmap:
    return go.Heatmap(x=compact(xs), y=compact(xs), z=np.asarray(z), zmin=-0.5, zmax=LEVELS * classes - 0.5,
                      colorscale=area_colorscale(classes), showscale=False, hoverinfo="skip", zsmooth="fast")


def _points(X, y, classes: int, *, test: bool, size: float, show_legend: bool, class_names) -> list:
    traces = []
    for c in range(classes):
        mask = np.asarray(y) == c
        color, symbol = CLASS_COLORS[c % len(CLASS_COLORS)], CLASS_SYMBOLS[c % len(CLASS_SYMBOLS)]
        name = f"{class_names[c]} (test)" if test else class_names[c]
        marker = (dict(size=size, color="white", symbol=symbol, line=dict(width=2, color=color))
                  if test else
                  dict(size=size, color=color, symbol=symbol, line=dict(width=1, color="white")))
        traces.append(go.Scatter(
            x=compact(np.asarray(X)[mask, 0]), y=compact(np.asarray(X)[mask, 1]), mode="markers",
            name=name, legendgroup=name, showlegend=show_legend, marker=marker,
            hovertemplate=f"{name}<br>(%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
        ))
    return traces


def areas_figure(panels: Sequence[dict], classes: int, labels: list[str], *, columns: int | None = None,
                 cells: Sequence[tuple[int, int]] | None = None, class_names: Sequence[str] | None = None,
                 point_size: float | None = None) -> dict:
    """Decision areas of one or more runs, animated over the frames of `labels`.

    panels: dicts with title, xs (R,), z (F, R, R) int (see area_z), X (n, 2),
      y (n,), optional X_test, y_test, and captions: F strings (e.g. loss and
      accuracy at that frame) shown as the panel's title.
    cells: (row, col) 1-based of each panel in a grid of subplots (default: one row).
    """
    class_names = list(class_names or [f"class {c}" for c in range(classes)])
    if cells is None:
        columns = columns or len(panels)
        cells = [(i // columns + 1, i % columns + 1) for i in range(len(panels))]
    rows = max(r for r, _ in cells)
    cols = max(c for _, c in cells)
    specs = [[None] * cols for _ in range(rows)]
    for r, c in cells:
        specs[r - 1][c - 1] = {}
    fig = make_subplots(rows=rows, cols=cols, specs=specs, horizontal_spacing=0.03 if cols > 1 else 0.0,
                        vertical_spacing=0.05 if rows > 1 else 0.0)
    many = len(panels) > 1
    size = point_size or (4 if len(panels) > 4 else 5.5 if many else 8)
    heatmaps, axes = [], []
    for i, (panel, (r, c)) in enumerate(zip(panels, cells)):
        fig.add_trace(_heatmap(panel["xs"], panel["z"][0], classes), row=r, col=c)
        heatmaps.append(len(fig.data) - 1)
        axes.append((fig.data[-1].xaxis or "x", fig.data[-1].yaxis or "y"))
        for trace in _points(panel["X"], panel["y"], classes, test=False, size=size,
                             show_legend=i == 0, class_names=class_names):
            fig.add_trace(trace, row=r, col=c)
        if panel.get("X_test") is not None and len(panel["X_test"]):
            for trace in _points(panel["X_test"], panel["y_test"], classes, test=True, size=size,
                                 show_legend=i == 0, class_names=class_names):
                fig.add_trace(trace, row=r, col=c)
        window = float(panel["xs"][-1] + (panel["xs"][1] - panel["xs"][0]) / 2)
        axis = dict(range=[-window, window], showgrid=False, zeroline=False, ticks="",
                    showticklabels=not many, constrain="domain")
        fig.update_xaxes(axis, row=r, col=c)
        fig.update_yaxes(dict(axis, scaleanchor=axes[-1][0], scaleratio=1), row=r, col=c)

    def titles(k: int) -> list[dict]:
        notes = []
        for i, panel in enumerate(panels):
            xref, yref = f"{axes[i][0]} domain", f"{axes[i][1]} domain"
            captions = panel.get("captions") or [""]
            caption = captions[min(k, len(captions) - 1)]
            text = f"<b>{panel['title']}</b>" + (f"  {caption}" if caption else "")
            notes.append(dict(text=text, xref=xref, yref=yref, x=0.5, y=1.0,
                              xanchor="center", yanchor="bottom", showarrow=False,
                              font=dict(size=15 if many else 17, color=INK)))
        return notes

    frames_n = len(labels)
    fig.update_layout(**figure_layout(
        "", height=None, margin=dict(l=10 if many else 40, r=10, t=34, b=10 if many else 30),
        showlegend=True, annotations=titles(0),
        legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.02, yanchor="top", font=dict(size=15)) if many
        else legend_below(x=0.5, xanchor="center", font=dict(size=15)),   # clear of the tick labels
        plot_bgcolor="white",
    ))
    frames = []
    for k in range(frames_n):
        frames.append({
            "traces": heatmaps,
            "data": [{"z": panel["z"][min(k, len(panel["z"]) - 1)]} for panel in panels],
            "layout": {"annotations": titles(k)},
        })
    return animation(fig, frames, labels=labels)


#: Line styles of runs in the width-and-depth curves: color by width, dash by depth.
WIDTH_COLORS = {5: ORANGE, 20: GREEN, 100: BLUE}
DEPTH_DASHES = {0: "solid", 1: "solid", 5: "dash", 10: "dot", 20: "longdashdot"}
SERIES_COLORS = (BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, BLACK)


def curves_figure(series: Sequence[dict], frame_epochs: Sequence[int], labels: list[str], *,
                  log_loss: bool = True, stacked: bool = False, loss_name: str = "cross-entropy") -> dict:
    """Loss (log scale) and accuracy over epochs, a line at the current frame.

    series: dicts with name, epochs (C,), loss (C,), accuracy (C,), optional
      color, dash, and test_loss / test_accuracy (C,) drawn dotted.
    stacked: loss above accuracy (for a narrow column) instead of side by side.
    """
    titles = (f"Loss ({loss_name})", "Accuracy")
    losses = np.concatenate([np.asarray(s["loss"], dtype=float) for s in series]) if series else np.ones(1)
    losses = losses[np.isfinite(losses) & (losses > 0)]
    # A log scale only when the loss spans more than two decades (else its labels crowd).
    log_loss = log_loss and losses.size > 0 and losses.max() / max(losses.min(), 1e-6) > 100
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.14, shared_xaxes=True, subplot_titles=titles) \
        if stacked else \
        make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=titles)
    second = dict(row=2, col=1) if stacked else dict(row=1, col=2)
    for i, s in enumerate(series):
        color = s.get("color") or SERIES_COLORS[i % len(SERIES_COLORS)]
        dash = s.get("dash", "solid")
        epochs = np.asarray(s["epochs"])
        loss = np.maximum(np.asarray(s["loss"], dtype=float), 1e-6) if log_loss else np.asarray(s["loss"])
        common = dict(legendgroup=s["name"], line=dict(color=color, width=3, dash=dash))
        fig.add_trace(go.Scatter(x=epochs.tolist(), y=compact(loss), name=s["name"], **common,
                                 hovertemplate=f"{s['name']}<br>epoch %{{x}}: loss %{{y:.4g}}<extra></extra>"),
                      row=1, col=1)
        fig.add_trace(go.Scatter(x=epochs.tolist(), y=compact(s["accuracy"]), name=s["name"], showlegend=False,
                                 **common,
                                 hovertemplate=f"{s['name']}<br>epoch %{{x}}: %{{y:.1%}}<extra></extra>"),
                      **second)
        if s.get("test_loss") is not None and np.isfinite(s["test_loss"]).any():
            test = dict(legendgroup=s["name"] + " test", line=dict(color=color, width=2.5, dash="dot"))
            test_loss = np.maximum(np.asarray(s["test_loss"], dtype=float), 1e-6) if log_loss else s["test_loss"]
            fig.add_trace(go.Scatter(x=epochs.tolist(), y=compact(test_loss), name=f"{s['name']} (test)",
                                     **test), row=1, col=1)
            fig.add_trace(go.Scatter(x=epochs.tolist(), y=compact(s["test_accuracy"]), showlegend=False,
                                     name=f"{s['name']} (test)", **test), **second)
    legend = dict(orientation="h", x=0, xanchor="left", y=-0.1, yanchor="top", font=dict(size=14)) if stacked \
        else dict(orientation="v", x=1.01, xanchor="left", y=1.0, yanchor="top", font=dict(size=14))
    fig.update_layout(**figure_layout("", height=None, margin=dict(l=64, r=16, t=40, b=40), legend=legend,
                                      hovermode="closest"))
    fig.update_yaxes(type="log" if log_loss else "linear", exponentformat="power", nticks=6, row=1, col=1)
    fig.update_yaxes(range=[0, 1.03], tickformat=".0%", **second)
    if not stacked:  # (stacked, the legend sits where an axis title would; the player says "epoch")
        fig.update_xaxes(title_text="epoch")
    line = dict(type="line", yref="paper", y0=0, y1=1, line=dict(color=MUTED, width=1.5, dash="dot"))

    def now(epoch: int) -> dict:
        return {"shapes": [dict(line, xref="x", yref="y domain", x0=epoch, x1=epoch),
                           dict(line, xref="x2", yref="y2 domain", x0=epoch, x1=epoch)]}

    fig.update_layout(now(int(frame_epochs[0]) if len(frame_epochs) else 0))
    frames = [{"layout": now(int(e))} for e in frame_epochs]
    return animation(fig, frames or [{}], labels=labels)


def seeds_figure(groups: Sequence[dict], *, title: str, threshold: float, threshold_name: str) -> dict:
    """Every seed's final training loss, one column of dots per group, on a log scale (one frame).

    groups: dicts with name, color, seeds (S,) ints, loss (S,) final losses and
    accuracy (S,) final shares right; threshold: a dashed line named threshold_name
    (e.g. the loss above which a run counts as stuck). Dots of one group spread
    sideways in seed order, so that equal losses do not hide each other. A name's
    ": " breaks its label under the axis in two lines (narrow screens keep both).
    """
    fig = go.Figure(layout=figure_layout(
        title, height=None, showlegend=False, hovermode="closest", margin=dict(l=64, r=16, t=52, b=48),
        xaxis=dict(tickvals=list(range(len(groups))), ticktext=[g["name"].replace(": ", "<br>") for g in groups],
                   range=[-0.6, len(groups) - 0.4], showgrid=False, zeroline=False),
        yaxis=dict(title="final training loss", type="log", exponentformat="power", nticks=6),
    ))
    for i, group in enumerate(groups):
        seeds = np.asarray(group["seeds"])
        spread = 0.55 * (np.arange(len(seeds)) / max(len(seeds) - 1, 1) - 0.5)
        fig.add_trace(go.Scatter(
            x=compact(i + spread), y=compact(np.maximum(np.asarray(group["loss"], dtype=float), 1e-6)),
            mode="markers", name=group["name"],
            marker=dict(size=11, color=group["color"], line=dict(width=1, color="white")),
            customdata=[[int(s), float(a)] for s, a in zip(seeds, group["accuracy"])],
            hovertemplate=f"{group['name']}<br>seed %{{customdata[0]}}: loss %{{y:.3g}}, "
                          "%{customdata[1]:.0%} right<extra></extra>"))
    fig.add_hline(y=threshold, line=dict(color=MUTED, width=1.5, dash="dash"),
                  annotation_text=threshold_name, annotation_position="top right",
                  annotation_font=dict(size=14, color=MUTED))
    return animation(fig, [{}], labels=[""])


def neurons_figure(maps: np.ndarray, names: Sequence[str], window: float, labels: list[str], *,
                   columns: int = 8, activation: str = "relu") -> dict:
    """What each hidden neuron outputs over the plane, one small heatmap per neuron.

    maps: (F, H, r, r) neuron outputs per frame; names: H titles. Each map is
    scaled by its largest |value| in that frame, so its shape shows whatever
    its size: blue where the neuron is positive, orange negative, white zero.
    """
    maps = np.nan_to_num(np.asarray(maps, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    frames_n, H, r, _ = maps.shape
    columns = max(1, min(columns, H))
    rows = math.ceil(H / columns)
    axis = compact(np.linspace(-window, window, r))
    scale = np.abs(maps).max(axis=(2, 3), keepdims=True)
    scaled = np.round(NEURON_LEVELS * np.divide(maps, scale, out=np.zeros_like(maps), where=scale > 0)).astype(int)
    colorscale = [[0.0, ORANGE], [0.5, "#ffffff"], [1.0, BLUE]]
    # A grid of small square plots, laid out by hand (make_subplots is slow for many panels).
    gap_x, gap_y = 0.012, 0.1 / rows
    layout = figure_layout(f"Each hidden neuron's output ({activation})", height=None,
                           margin=dict(l=8, r=8, t=56, b=8), showlegend=False)
    layout["title"]["font"] = dict(size=17)
    data, notes = [], []
    for h in range(H):
        row, col = divmod(h, columns)
        n = "" if h == 0 else str(h + 1)
        x0, x1 = col / columns + gap_x, (col + 1) / columns - gap_x
        y1, y0 = 1 - row / rows - gap_y, 1 - (row + 1) / rows + 0.01
        layout[f"xaxis{n}"] = dict(domain=[x0, x1], visible=False, anchor=f"y{n}", constrain="domain")
        layout[f"yaxis{n}"] = dict(domain=[y0, y1], visible=False, anchor=f"x{n}", scaleanchor=f"x{n}",
                                   constrain="domain")
        data.append(go.Heatmap(x=axis, y=axis, z=scaled[0, h], zmin=-NEURON_LEVELS, zmax=NEURON_LEVELS,
                               colorscale=colorscale, showscale=False, zsmooth="best", hoverinfo="skip",
                               xaxis=f"x{n}", yaxis=f"y{n}"))
        notes.append(dict(text=names[h], xref="paper", yref="paper", x=(x0 + x1) / 2, y=y1, xanchor="center",
                          yanchor="bottom", showarrow=False, font=dict(size=14, color=MUTED)))
    layout["annotations"] = notes
    fig = go.Figure(data=data, layout=layout)
    frames = [{"traces": list(range(H)), "data": [{"z": scaled[k, h]} for h in range(H)]} for k in range(frames_n)]
    return animation(fig, frames, labels=labels)
