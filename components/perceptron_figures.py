"""Figures of the perceptron lesson, as animation payloads of a training run.

Inputs are plain arrays (no model code here): songs X (n, 3), y (n,), titles,
and per frame the weights w (3,), bias b, predictions p (n,), loss, and the
decision plane's polygon (k, 3) computed by the model module.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components.player import animation, compact
from components.theme import BLUE, GREEN, MUTED, NEGATIVE, ORANGE, POSITIVE, PURPLE, VERMILION, figure_layout

FEATURES = ("modern", "sad", "piano")
WEIGHT_COLORS = (BLUE, VERMILION, GREEN, PURPLE)


def _polygon_patch(polygon: np.ndarray) -> dict:
    k = len(polygon)
    return {
        "x": compact(polygon[:, 0]), "y": compact(polygon[:, 1]), "z": compact(polygon[:, 2]),
        "i": [0] * max(k - 2, 0), "j": list(range(1, k - 1)), "k": list(range(2, k)),
    }


def cube_figure(X, y, titles, polygons: list[np.ndarray] | None, labels: list[str]) -> dict:
    """The feature cube with the songs and (if polygons) the decision plane per frame."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    fig = go.Figure(layout=figure_layout(
        "Songs in the feature cube",
        margin=dict(l=0, r=0, t=48, b=0),
        legend=dict(orientation="h", x=0.0, xanchor="left", y=1.0, yanchor="top"),
        scene=dict(
            xaxis=dict(title="modern", range=[-0.3, 1.3], tickvals=[0, 1]),
            yaxis=dict(title="sad", range=[-0.3, 1.3], tickvals=[0, 1]),
            zaxis=dict(title="piano", range=[-0.3, 1.3], tickvals=[0, 1]),
            aspectmode="cube",
            domain=dict(x=[0, 1], y=[0, 0.9]),
            camera=dict(eye=dict(x=1.6, y=-1.6, z=1.0)),
        ),
    ))
    first = polygons[0] if polygons else np.zeros((0, 3))
    fig.add_trace(go.Mesh3d(name="decision plane (p = 50 %)", color=PURPLE, opacity=0.35,
                            showlegend=True, hoverinfo="skip", **_polygon_patch(first)))
    # Jitter identical corners slightly so every song stays visible.
    for label, color, symbol, name in ((1, POSITIVE, "circle", "liked"), (0, NEGATIVE, "diamond", "disliked")):
        mask = y == label
        fig.add_trace(go.Scatter3d(
            x=X[mask, 0], y=X[mask, 1], z=X[mask, 2], mode="markers+text", name=name,
            text=[titles[i] for i in np.flatnonzero(mask)], textposition="top center",
            textfont=dict(size=13, color=color),
            marker=dict(size=9, color=color, symbol=symbol, line=dict(width=1, color="white")),
        ))
    frames = [{"traces": [0], "data": [_polygon_patch(p)]} for p in polygons] if polygons else [{}]
    return animation(fig, frames, labels=labels if polygons else None)


def prediction_bars(y, titles, probs: np.ndarray, losses: np.ndarray, labels: list[str]) -> dict:
    """Predicted probability of a like per song (bars) against Ben's answer (diamonds).

    probs: (frames, n); losses: (frames,).
    """
    y = np.asarray(y, dtype=float)
    colors = [POSITIVE if v == 1 else NEGATIVE for v in y]
    titles = [t.replace(" ", "<br>", 1) if len(t) > 9 else t for t in titles]
    fig = go.Figure(layout=figure_layout(
        f"Predictions — loss {losses[0]:.3f}",
        yaxis=dict(title="p(like)", range=[0, 1.05], tickformat=".0%"),
        xaxis=dict(tickangle=0),
        margin=dict(t=96),
        legend=dict(orientation="h", y=1.04, x=0, xanchor="left", yanchor="bottom"),
        shapes=[dict(type="line", xref="paper", x0=0, x1=1, y0=0.5, y1=0.5,
                     line=dict(color=MUTED, dash="dot", width=1))],
    ))
    fig.add_trace(go.Bar(x=list(titles), y=compact(probs[0]), name="predicted p(like)",
                         marker=dict(color=colors, opacity=0.85),
                         texttemplate="%{y:.0%}", textposition="auto", textfont=dict(size=15), cliponaxis=False))
    fig.add_trace(go.Scatter(x=list(titles), y=y, mode="markers", name="Ben's answer",
                             marker=dict(symbol="diamond", size=14, color="white",
                                         line=dict(width=2.5, color=[c for c in colors]))))
    frames = [
        {"traces": [0], "data": [{"y": compact(p)}], "layout": {"title": {"text": f"Predictions — loss {l:.3f}"}}}
        for p, l in zip(probs, losses)
    ]
    return animation(fig, frames, labels=labels)


def training_curves(epochs: np.ndarray, losses: np.ndarray, weights: np.ndarray, bias: np.ndarray,
                    frame_epochs: np.ndarray, labels: list[str], feature_names=FEATURES) -> dict:
    """Loss (top) and weights and bias (bottom) over epochs, a marker at the current frame.

    epochs: (T,), losses: (T,), weights: (T, d), bias: (T,), frame_epochs: (F,) epoch per frame.
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=("Loss (binary cross-entropy)", "Weights and bias"))
    fig.update_layout(**figure_layout("", showlegend=True, height=None,
                                      legend=dict(orientation="h", y=-0.18, x=0)))
    fig.add_trace(go.Scatter(x=epochs, y=compact(losses), name="loss", line=dict(color=ORANGE, width=3)),
                  row=1, col=1)
    for i, name in enumerate(feature_names):
        fig.add_trace(go.Scatter(x=epochs, y=compact(weights[:, i]), name=f"w {name}",
                                 line=dict(color=WEIGHT_COLORS[i % 4], width=2.5)), row=2, col=1)
    fig.add_trace(go.Scatter(x=epochs, y=compact(bias), name="bias b",
                             line=dict(color=MUTED, width=2, dash="dash")), row=2, col=1)
    fig.add_trace(go.Scatter(x=[frame_epochs[0]], y=[losses[0]], mode="markers", name="now",
                             marker=dict(size=12, color=ORANGE, line=dict(width=2, color="white")),
                             showlegend=False), row=1, col=1)
    marker = len(fig.data) - 1
    fig.update_xaxes(title_text="epoch", row=2, col=1)
    line = dict(type="line", yref="paper", y0=0, y1=1, line=dict(color=MUTED, width=1, dash="dot"))
    frames = [
        {"traces": [marker], "data": [{"x": [int(e)], "y": [float(losses[min(int(e), len(losses) - 1)])]}],
         "layout": {"shapes": [dict(line, x0=int(e), x1=int(e))]}}
        for e in frame_epochs
    ]
    return animation(fig, frames, labels=labels)
