"""Figures of the perceptron lesson, as animation payloads of a training run.

Inputs are plain arrays (no model code here): songs X (n, 3), y (n,), titles,
and per frame the weights w (3,), bias b, predictions p (n,), loss, and the
decision plane's polygon (k, 3) computed by the model module.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from components import figure_fit as fit
from components.player import animation, compact
from components.theme import BLUE, GREEN, INK, MUTED, NEGATIVE, ORANGE, POSITIVE, PURPLE, VERMILION, figure_layout

FEATURES = ("modern", "sad", "piano")
WEIGHT_COLORS = (BLUE, VERMILION, GREEN, PURPLE)


def _polygon_patch(polygon: np.ndarray) -> dict:
    k = len(polygon)
    return {
        "x": compact(polygon[:, 0]), "y": compact(polygon[:, 1]), "z": compact(polygon[:, 2]),
        "i": [0] * max(k - 2, 0), "j": list(range(1, k - 1)), "k": list(range(2, k)),
    }


#: Where the camera looks at the cube from (scene units, the cube's centre at 0): far enough
#: that the axis names stay inside a phone's narrow figure, and off the diagonal so that
#: no two corners of the cube are drawn one above the other.
CAMERA_EYE = np.array([2.3, -1.55, 1.25])
CUBE_PX = 185          # about how far apart opposite corners are drawn on a phone or a desktop
LABEL_PX = 30          # how far a song's name sits from its corner
CHAR_PX, LINE_PX = 8.5, 19   # a 16 px name: width of a character, height of a line
#: Where a name may sit around its corner: screen direction (right, up) -> (xanchor, yanchor).
PLACES = {(0, 1): ("center", "bottom"), (0, -1): ("center", "top"), (1, 0): ("left", "middle"),
          (-1, 0): ("right", "middle"), (1, 1): ("left", "bottom"), (-1, 1): ("right", "bottom"),
          (1, -1): ("left", "top"), (-1, -1): ("right", "top")}


def _on_screen(points: np.ndarray) -> np.ndarray:
    """Points of the unit cube (k, 3) as seen along CAMERA_EYE with z up: (k, 2) px
    (x right, y up) from the cube's centre, orthographic, CUBE_PX across."""
    forward = -CAMERA_EYE / np.linalg.norm(CAMERA_EYE)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    centred = np.asarray(points, dtype=float) - 0.5
    return np.stack([centred @ right, centred @ up], axis=1) * CUBE_PX / np.sqrt(3)


def _box(at, direction, text: str) -> np.ndarray:
    """[left, bottom, right, top] px of a name set off from `at` (2,) in `direction` (2,)."""
    lines = text.split("<br>")
    width, height = CHAR_PX * max(len(line) for line in lines), LINE_PX * len(lines)
    x, y = np.asarray(at) + LABEL_PX * np.asarray(direction) / np.linalg.norm(direction)
    left = x - width / 2 * (1 - direction[0])   # anchored at its near edge, centred if straight up/down
    bottom = y - height / 2 * (1 - direction[1])
    return np.array([left, bottom, left + width, bottom + height])


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _side(at: np.ndarray, text: str, taken: list[np.ndarray]) -> tuple[int, int]:
    """The side of PLACES for a name of the corner drawn at `at` (2,) px: the one where it
    covers least of the boxes `taken`, and of equals the one facing away from the centre."""
    def cost(direction):
        outward = np.dot(direction, at) / (np.linalg.norm(direction) * (np.linalg.norm(at) + 1e-9))
        return sum(_overlap(_box(at, direction, text), box) for box in taken) - 40 * float(outward)
    return min(PLACES, key=cost)


def _song_labels(X: np.ndarray, titles) -> list[dict]:
    """One scene annotation per occupied corner naming its songs (songs sharing a corner
    share it), each beside its corner on the side `_side` finds free of the cube's corners
    and of the names placed before it (the highest and lowest corners first)."""
    corners: dict[tuple, list[str]] = {}
    for point, title in zip(X, titles):
        corners.setdefault(tuple(point), []).append(fit.wrap(str(title), 10))
    if not corners:
        return []
    every_corner = _on_screen(np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)]))
    taken = [np.array([x - 14, y - 14, x + 14, y + 14]) for x, y in every_corner]  # a marker and a gap
    notes = []
    named = sorted(zip(corners.items(), _on_screen(np.array(list(corners)))), key=lambda c: -abs(c[1][1]))
    for (corner, names), at in named:
        text = "<br>".join(names)
        direction = _side(at, text, taken)
        taken.append(_box(at, direction, text))
        step = LABEL_PX * np.asarray(direction) / np.linalg.norm(direction)
        xanchor, yanchor = PLACES[direction]
        notes.append(dict(
            x=corner[0], y=corner[1], z=corner[2], text=text, ax=float(step[0]), ay=float(-step[1]),
            xanchor=xanchor, yanchor=yanchor, showarrow=True, arrowhead=0, arrowwidth=1, arrowcolor=MUTED,
            standoff=8, font=dict(color=INK), bgcolor="rgba(255,255,255,0.75)",
        ))
    return notes


def cube_figure(X, y, titles, polygons: list[np.ndarray] | None, labels: list[str]) -> dict:
    """The feature cube with the songs and (if polygons) the decision plane per frame.

    Songs are named beside their corners in the figure's own font size (16 px, 20 px on
    an exhibit screen), in ink; the marker carries the song's class colour.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    eye = dict(zip("xyz", map(float, CAMERA_EYE)))
    fig = go.Figure(layout=fit.layout(
        "Songs in the feature cube",
        margin=dict(l=0, r=0, t=8, b=4),
        legend=fit.legend_below(),
        scene=dict(
            xaxis=dict(title="modern", range=[-0.3, 1.3], tickvals=[0, 1]),
            yaxis=dict(title="sad", range=[-0.3, 1.3], tickvals=[0, 1]),
            zaxis=dict(title="piano", range=[-0.3, 1.3], tickvals=[0, 1]),
            aspectmode="cube",
            domain=dict(x=[0, 1], y=[0, 1]),
            camera=dict(eye=eye, projection=dict(type="orthographic")),
            annotations=_song_labels(X, titles),
        ),
    ))
    first = polygons[0] if polygons else np.zeros((0, 3))
    fig.add_trace(go.Mesh3d(name="decision plane (p = 50 %)", color=PURPLE, opacity=0.35,
                            showlegend=True, hoverinfo="skip", **_polygon_patch(first)))
    for label, color, symbol, name in ((1, POSITIVE, "circle", "liked"), (0, NEGATIVE, "diamond", "disliked")):
        mask = y == label
        fig.add_trace(go.Scatter3d(
            x=X[mask, 0], y=X[mask, 1], z=X[mask, 2], mode="markers", name=name,
            text=[titles[i] for i in np.flatnonzero(mask)], hoverinfo="text",
            marker=dict(size=9, color=color, symbol=symbol, line=dict(width=1, color="white")),
        ))
    frames = [{"traces": [0], "data": [_polygon_patch(p)]} for p in polygons] if polygons else [{}]
    return animation(fig, frames, labels=labels if polygons else None)


def prediction_bars(y, titles, probs: np.ndarray, losses: np.ndarray, labels: list[str]) -> dict:
    """Predicted probability of a like per song (bars, coloured by Ben's answer) against
    Ben's answer (diamonds).

    probs: (frames, n); losses: (frames,).
    """
    y = np.asarray(y, dtype=float)
    colors = [POSITIVE if v == 1 else NEGATIVE for v in y]
    names = [fit.wrap(t, 8) for t in titles]  # a name a line per word or two: four fit a phone
    fig = go.Figure(layout=fit.layout(
        f"Predictions — loss {losses[0]:.3f}",
        yaxis=dict(title="p(like)", range=[0, 1.05], tickformat=".0%", automargin=True),
        xaxis=dict(tickangle=0, automargin=True),
        margin=dict(t=8, b=8),
        legend=fit.legend_below(),
        shapes=[dict(type="line", xref="paper", x0=0, x1=1, y0=0.5, y1=0.5,
                     line=dict(color=MUTED, dash="dot", width=1))],
    ))
    fig.add_trace(go.Bar(x=names, y=compact(probs[0]), name="predicted p(like)", showlegend=False,
                         marker=dict(color=colors, opacity=0.85),
                         texttemplate="%{y:.0%}", textposition="auto", cliponaxis=False))
    # Legend entries of their own: a bar trace's swatch would take only its first bar's colour.
    for color, name in ((POSITIVE, "p(like), a liked song"), (NEGATIVE, "p(like), a disliked song")):
        fig.add_trace(go.Bar(x=[None], y=[None], name=name, marker=dict(color=color, opacity=0.85),
                             hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=names, y=y, mode="markers", name="Ben's answer",
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
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=("Loss (binary cross-entropy)", "Weights and bias"))
    fig.update_layout(**figure_layout("", showlegend=True, height=None, legend=fit.legend_below(),
                                      margin=dict(t=36, b=8)))
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
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    line = dict(type="line", yref="paper", y0=0, y1=1, line=dict(color=MUTED, width=1, dash="dot"))
    frames = [
        {"traces": [marker], "data": [{"x": [int(e)], "y": [float(losses[min(int(e), len(losses) - 1)])]}],
         "layout": {"shapes": [dict(line, x0=int(e), x1=int(e))]}}
        for e in frame_epochs
    ]
    return animation(fig, frames, labels=labels)
