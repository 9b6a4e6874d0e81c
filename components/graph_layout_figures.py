"""Figures of the graph-layout lesson: circles and links, the loss curves, tangle rates.

Inputs are plain arrays the lesson's experiments (`app.lessons.graph_layout`,
over `app.ml.graph_layout`) compute (no model code here): edges (m, 2) int, per run the positions of the shown
frames (F, n, 2) in units of the circle radius, the energy E at every step,
and quality metrics at some of the frames.

The layout figure is drawn in the browser by `app/assets/graph-layout.js`
from a *scene*: a base figure (one panel per run; per panel a circles trace
and, on top, an optional arrows trace) plus the positions of every frame.
Links are drawn there from the edge list (a path shape under each panel's
circles), so a frame costs 2n coordinates instead of 6m (whole quanta, each
frame as its change from the one before, see `quantize`), and circle markers
are sized from the current axis scale so that they stay circles of the true
radius when zooming. Circles are SVG markers up to `WEBGL_FROM` circles and
WebGL markers beyond where the browser draws WebGL on a graphics card.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from components import figure_fit as fit
from components.player import animation, compact, placeholder
from components.theme import BLUE, GREEN, MUTED, ORANGE, PURPLE, VERMILION, figure_layout

#: Colors of the runs of a race, in order (Okabe–Ito).
RUN_COLORS = (BLUE, ORANGE, GREEN, PURPLE)
#: More circles than this are drawn with WebGL (Scattergl).
WEBGL_FROM = 1_000
#: Plot width assumed for the first drawing, before the browser measures it (px).
NOMINAL_PLOT_PX = 760
#: Energies below this are drawn at this value on the log-scale loss axis.
ENERGY_FLOOR = 1e-6

#: Positions are sent rounded to 1/QUANTA of the scene's extent: 3.6 significant digits,
#: a third of a pixel on a figure 1,400 px wide.
QUANTA = 4096

LINK_COLOR = "#4b5563"
ARROW_COLOR = VERMILION


def quantum(xrange: list[float], yrange: list[float]) -> float:
    """The rounding step of a scene's positions (radii): 1/QUANTA of its wider extent."""
    return max(xrange[1] - xrange[0], yrange[1] - yrange[0], 1e-9) / QUANTA


def quantize(coords: np.ndarray, step: float) -> list[list[int]]:
    """Coordinates (F, n) of F frames as whole steps: frame 0 as round(c / step), every later
    frame as its change from the frame before (small numbers, which compress well).

    Decoding is a running sum: frame k = step * (q_0 + ... + q_k), within step / 2 of coords.
    Coordinates far off (a diverged run, NaN) are held within ±2**50 steps (exact in JSON numbers).
    """
    whole = np.round(np.nan_to_num(np.asarray(coords, dtype=float) / step, posinf=2.0**50, neginf=-2.0**50))
    whole = np.clip(whole, -2.0**50, 2.0**50).astype(np.int64)
    return np.diff(whole, axis=0, prepend=np.zeros((1, whole.shape[1]), dtype=np.int64)).tolist()


def dequantize(changes, step: float) -> np.ndarray:
    """(F, n) coordinates from `quantize`'s lists (what the browser computes)."""
    return step * np.cumsum(np.asarray(changes, dtype=np.int64), axis=0)


def _fill(color: str, alpha: float) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _grid(k: int) -> tuple[int, int]:
    """(rows, cols) of k panels: side by side up to three, else two by two."""
    return (1, k) if k <= 3 else (2, 2)


def _extent(positions: np.ndarray, arrows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) corners holding a run's circles (and arrows) while it stays in place.

    A diverging run flies apart; frames wider than 10 times the start are left
    out, so the picture keeps the scale of the others and the circles fly out
    of view instead of shrinking everything else to a dot.
    """
    P = positions if arrows is None else np.concatenate([positions, positions + arrows], axis=1)
    lo, hi = P.min(axis=1), P.max(axis=1)                  # (F, 2) each
    span = (hi - lo).max(axis=1)
    keep = span <= 10.0 * max(float(span[0]), 1.0)
    return lo[keep].min(axis=0), hi[keep].max(axis=0)


def _bounds(panels: list[dict], radius: float) -> tuple[list[float], list[float]]:
    """x and y ranges (shared by every panel) holding every run's circles and arrows."""
    corners = [_extent(panel["positions"], panel.get("arrows")) for panel in panels]
    lo = np.min([c[0] for c in corners], axis=0)
    hi = np.max([c[1] for c in corners], axis=0)
    pad = 1.5 * radius
    return [float(lo[0] - pad), float(hi[0] + pad)], [float(lo[1] - pad), float(hi[1] + pad)]


def layout_scene(panels: list[dict], edges: np.ndarray, *, radius: float, frame_steps: np.ndarray,
                 uirevision: str, height: int) -> dict:
    """The scene the browser draws: circles and links of every panel at every frame.

    panels: one dict per run with
      "title"      str, the run's name,
      "positions"  (F, n, 2) float, circle centres at the F shown frames,
      "arrows"     None or (F, n, 2) float, an arrow per circle (drawn from its centre),
      "energy"     (F,) float, E at each shown frame,
      "metrics"    {"frames": [frame index, ...], "steps": [...], "overlaps": [...],
                    "edge_ratio": [...], "crossings": [...], "exact": [...]},
      "status"     (F,) str, a note per frame ("" or "diverged at step 11"),
    edges: (m, 2) int; frame_steps: (F,) int, the step of each frame.
    Returns a JSON-ready dict (see app/assets/graph-layout.js); a panel's "x" and "y" are its
    frames' coordinates as `quantize`d to the scene's "quantum".
    """
    n = panels[0]["positions"].shape[1]
    webgl = n > WEBGL_FROM
    scatter = go.Scattergl if webgl else go.Scatter
    rows, cols = _grid(len(panels))
    xrange, yrange = _bounds(panels, radius)
    step = quantum(xrange, yrange)
    gap = 0.02
    fig = go.Figure()
    layout = figure_layout(
        "", uirevision=uirevision, showlegend=False, dragmode="pan", hovermode="closest",
        margin=dict(l=8, r=8, t=64 if len(panels) > 1 else 12, b=8), height=height,
        plot_bgcolor="#f8fafc",
    )
    annotations, scene_panels = [], []
    plot_px = NOMINAL_PLOT_PX / cols
    for p, panel in enumerate(panels):
        row, col = divmod(p, cols)
        suffix = "" if p == 0 else str(p + 1)
        x0, x1 = col / cols + gap, (col + 1) / cols - gap
        y1 = 1 - row / rows - (gap if rows > 1 else 0)
        y0 = 1 - (row + 1) / rows + (gap if rows > 1 else 0)
        axis = dict(visible=False, showgrid=False, zeroline=False, fixedrange=False)
        layout[f"xaxis{suffix}"] = dict(axis, domain=[x0, x1], range=xrange, anchor=f"y{suffix}",
                                        **({} if p == 0 else {"matches": "x"}))
        layout[f"yaxis{suffix}"] = dict(axis, domain=[y0, y1], range=yrange, anchor=f"x{suffix}",
                                        **({"scaleanchor": "x", "scaleratio": 1} if p == 0 else {"matches": "y"}))
        color = RUN_COLORS[p % len(RUN_COLORS)]
        traces = {"circles": len(fig.data)}
        size0 = 2 * radius * plot_px / (xrange[1] - xrange[0])
        fig.add_trace(scatter(   # positions come from the frames, in the browser
            x=[], y=[], mode="markers", xaxis=f"x{suffix}",
            yaxis=f"y{suffix}", hovertemplate="circle %{pointNumber}<extra></extra>",
            marker=dict(size=size0, color=_fill(color, 0.35), line=dict(color=color, width=1.5 if n <= 200 else 1)),
        ))
        if panel.get("arrows") is not None:   # on top of the circles
            traces["arrows"] = len(fig.data)
            fig.add_trace(go.Scatter(
                x=[], y=[], mode="lines+markers", hoverinfo="skip", xaxis=f"x{suffix}", yaxis=f"y{suffix}",
                line=dict(color=ARROW_COLOR, width=3),
                marker=dict(symbol="arrow", angleref="previous", color=ARROW_COLOR, size=0)))
        if len(panels) > 1:
            annotations.append(dict(text=f"<b>{panel['title']}</b>", x=(x0 + x1) / 2, y=y1, xref="paper",
                                    yref="paper", xanchor="center", yanchor="bottom", showarrow=False,
                                    font=dict(size=17, color=color)))
        scene_panels.append({
            **traces,
            "axis": f"x{suffix}",
            "title": panel["title"],
            "name": panel.get("name", panel["title"]),
            "color": color,
            "links": {"color": LINK_COLOR, "width": 2 if n <= 200 else 1},
            "x": quantize(panel["positions"][:, :, 0], step),
            "y": quantize(panel["positions"][:, :, 1], step),
            "ax": None if panel.get("arrows") is None else [compact(A[:, 0], 3) for A in panel["arrows"]],
            "ay": None if panel.get("arrows") is None else [compact(A[:, 1], 3) for A in panel["arrows"]],
            "energy": [float(f"{e:.4g}") for e in panel["energy"]],
            "metrics": panel["metrics"],
            "status": list(panel["status"]),
        })
    layout["annotations"] = annotations
    fig.update_layout(**layout)
    return {
        "figure": fig.to_plotly_json(),
        "panels": scene_panels,
        "edges": np.asarray(edges, dtype=int).ravel().tolist(),
        "radius": float(radius),
        "quantum": step,
        "steps": [int(s) for s in frame_steps],
        "webgl": webgl,
    }


def blank_scene() -> dict:
    """A scene with nothing to draw: no panels, an empty figure (while a step cannot be computed)."""
    return {"figure": placeholder()["figure"], "panels": [], "edges": [], "radius": 1.0, "quantum": 1.0, "steps": [0],
            "webgl": False, "frames": 1}


def loss_curves(runs: list[dict], frame_steps: np.ndarray, labels: list[str], *, height: int = 300) -> dict:
    """Energy E over the steps of every run (log scale), a marker per run at the current frame.

    runs: [{"title": str, "loss": (S_i + 1,) float}] (a diverged run is shorter);
    frame_steps: (F,) int. Returns an animation payload.
    """
    # The y range holds every run's start and the floor; a diverging run leaves it at the top.
    top = max(float(np.max(np.asarray(run["loss"][:1], dtype=float))) for run in runs)
    low = min(max(float(np.min(run["loss"])), ENERGY_FLOOR) for run in runs)
    y0, y1 = math.log10(low) - 0.3, math.log10(max(top, low * 10)) + 0.3
    fig = go.Figure(layout=figure_layout(
        "", height=height, margin=dict(l=72, r=16, t=16, b=52), showlegend=len(runs) > 1,
        legend=dict(orientation="h", x=0, y=1.02, xanchor="left", yanchor="bottom"),
        xaxis=dict(title="step", rangemode="tozero"),
        yaxis=dict(title="energy E (log scale)", type="log", exponentformat="power", range=[y0, y1],
                   dtick=max(1, math.ceil((y1 - y0) / 6))),
    ))
    for r, run in enumerate(runs):
        loss = np.maximum(np.asarray(run["loss"], dtype=float), ENERGY_FLOOR)
        steps = np.arange(len(loss))
        keep = np.unique(np.linspace(0, len(loss) - 1, min(len(loss), 600)).round().astype(int))
        fig.add_trace(go.Scatter(x=steps[keep].tolist(), y=compact(loss[keep], 5), mode="lines",
                                 name=run["title"], line=dict(color=RUN_COLORS[r % len(RUN_COLORS)], width=3),
                                 hovertemplate="step %{x}: E = %{y:.4g}<extra></extra>"))
    markers = []
    for r, run in enumerate(runs):
        markers.append(len(fig.data))
        fig.add_trace(go.Scatter(x=[0], y=[max(float(run["loss"][0]), ENERGY_FLOOR)], mode="markers",
                                 showlegend=False, hoverinfo="skip",
                                 marker=dict(size=13, color=RUN_COLORS[r % len(RUN_COLORS)],
                                             line=dict(width=2, color="white"))))
    frames = []
    for s in frame_steps:
        data = []
        for run in runs:
            t = min(int(s), len(run["loss"]) - 1)
            data.append({"x": [t], "y": [max(float(run["loss"][t]), ENERGY_FLOOR)]})
        frames.append({"traces": markers, "data": data, "layout": {"shapes": [dict(
            type="line", xref="x", yref="paper", x0=int(s), x1=int(s), y0=0, y1=1,
            line=dict(color=MUTED, width=1.5, dash="dot"))]}})
    return animation(fig, frames, labels=labels)


def tangle_bars(results: list[dict | None], labels: list[str], *, trials: int, n: int, steps: int,
                height: int = 340) -> go.Figure:
    """Share of runs that ended tangled, one bar per optimizer, with its standard error.

    results: per optimizer a `tangle_rate` dict, or None while it is computed.
    """
    rates = [r["rate"] if r else 0.0 for r in results]
    errors = [math.sqrt(r["rate"] * (1 - r["rate"]) / r["trials"]) if r else 0.0 for r in results]
    text = [f"{r['tangled']} of {r['trials']}" if r else "" for r in results]
    colors = [RUN_COLORS[i % len(RUN_COLORS)] if r else "#e5e7eb" for i, r in enumerate(results)]
    fig = go.Figure(layout=fit.layout(   # its title wrapped to fit a phone
        f"Tangled runs on {trials} random trees of {n} circles, {steps} steps each"
        + ("" if all(results) else " — computing…"),
        height=height, margin=dict(l=64, r=16, t=8, b=48), showlegend=False,
        # Upright names, the optimizer over its step size: four side by side fit a phone's figure.
        xaxis=dict(tickangle=0, tickfont=dict(size=13), tickvals=labels,
                   ticktext=["<br>".join(label.split(", ", 1)) for label in labels]),
        yaxis=dict(title="ended tangled", range=[0, 1.08], tickformat=".0%"),
    ))
    fig.add_trace(go.Bar(
        # Counts upright at the foot of each bar, clear of its error bar.
        x=labels, y=rates, text=text, textposition="inside", insidetextanchor="start", textangle=0,
        textfont=dict(size=16, color="white"),
        marker=dict(color=colors), cliponaxis=False,
        error_y=dict(type="data", array=errors, visible=True, color=MUTED, thickness=1.5, width=8),
        hovertemplate="%{x}: %{y:.0%} tangled<extra></extra>",
    ))
    return fig


__all__ = ["RUN_COLORS", "WEBGL_FROM", "blank_scene", "dequantize", "layout_scene", "quantize", "loss_curves", "tangle_bars"]
