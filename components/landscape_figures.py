"""Figures of the loss-landscape lesson, as animation payloads (see components.player).

Inputs are plain arrays computed by the page from app.ml (no model code here):
a loss grid Z (nb, na) over plane coordinates alphas (na,) and betas (nb,);
paths on that plane, each as coordinates (k, 2) and heights (k,) (the loss
drawn for each point); and `frames`, an (F,) array of indices into the
paths' points, one per animation frame. A ball (a marker) sits at the
frame's point of every path; everything else is drawn once, so the
per-frame patches stay a few numbers each.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import plotly.graph_objects as go

from components.player import animation, compact
from components.theme import (BLACK, BLUE, GREEN, INK, MUTED, ORANGE, PURPLE, SKY, VERMILION,
                              figure_layout)

#: Loss colors: low loss dark (a valley), high loss pale, so that paths in
#: the palette's warm colors read on every part of it.
LOSS_SCALE = [[0.0, "#08306b"], [0.25, "#2b6ca3"], [0.5, "#6fa8cf"], [0.75, "#c6dbe9"], [1.0, "#f7f4ea"]]
LOG_FLOOR = 1e-8          # losses below this are drawn at it on a log scale
CLASS_COLORS = (ORANGE, BLUE, GREEN)
CLASS_SYMBOLS = ("circle", "diamond", "square")
TRACE_COLORS = (VERMILION, ORANGE, PURPLE, GREEN, SKY, BLACK)
#: Legends of the 2-D figures: a row under the x axis, clear of the title.
BELOW = dict(orientation="h", x=0.0, xanchor="left", y=0.0, yanchor="bottom", yref="container",
             font=dict(size=15))


# --------------------------------------------------------------------------
# Helpers


def heights(values, log: bool) -> np.ndarray:
    """Loss values as drawn: as they are, or log10 (at least LOG_FLOOR) on a log scale."""
    values = np.asarray(values, dtype=float)
    if not log:
        return values
    with np.errstate(invalid="ignore"):
        return np.log10(np.where(np.isfinite(values), np.maximum(values, LOG_FLOOR), values))


def loss_title(log: bool) -> str:
    return "log₁₀ loss" if log else "loss"


def finite_list(values, digits: int = 4) -> list:
    """`compact` values with every NaN or ±inf replaced by None (JSON has no inf; plotly leaves a gap)."""
    array = np.asarray(values, dtype=float)
    finite = np.isfinite(array)
    rounded = np.asarray(compact(np.where(finite, array, 0.0), digits), dtype=object)
    rounded[~finite] = None
    return rounded.tolist()


def _z_range(Z: np.ndarray, extra: Sequence[np.ndarray] = ()) -> tuple[float, float]:
    values = [np.asarray(Z, dtype=float).ravel()] + [np.asarray(e, dtype=float).ravel() for e in extra]
    finite = np.concatenate(values)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    return (low, high) if high > low else (low - 0.5, high + 0.5)


def _at(points: np.ndarray, frame: int) -> int:
    return int(min(max(frame, 0), len(points) - 1))


# --------------------------------------------------------------------------
# The surface in 3-D


def _axis_3d(title: str = "") -> dict:
    """An axis of a 3-D landscape: title and ticks small enough to stay inside the figure."""
    return dict(title=dict(text=title, font=dict(size=15)), tickfont=dict(size=12), nticks=5)


def _eye(alphas, betas, paths: Sequence[dict]) -> dict:
    """A camera on the side where the first path ends, looking back along it
    from its right at 55°, so that the slope it came down faces the
    viewer (from the high side, a steep slope hides behind its own crest)."""
    direction = np.array([1.0, 1.0])
    if paths:
        coords = np.asarray(paths[0]["coords"], dtype=float)
        span = np.array([np.ptp(alphas), np.ptp(betas)], dtype=float)
        travel = (coords[-1] - coords[0]) / np.where(span > 0, span, 1.0)
        if np.all(np.isfinite(travel)) and np.hypot(*travel) > 1e-9:
            direction = travel
    angle = math.atan2(direction[1], direction[0]) - math.radians(55)
    # far enough that the loss axis's title and the front axis's stay inside the figure's box
    return dict(x=round(2.0 * math.cos(angle), 3), y=round(2.0 * math.sin(angle), 3), z=1.2)


def surface_figure(alphas, betas, Z, paths: Sequence[dict], frames, labels: list[str], *,
                   title: str, axis_titles: tuple[str, str], log: bool = False,
                   revision: str = "surface", autoplay: bool = False, start: str = "first") -> dict:
    """The loss over a plane as a 3-D surface, each path as a line on it and a ball on the line.

    alphas (na,), betas (nb,), Z (nb, na) losses (non-finite values leave holes);
    paths: dicts with name, color, coords (k, 2), heights (k,) the loss drawn
    for each point, optional dash; frames (F,) indices into every path's points.
    The camera is the visitor's: `revision` (the figure's uirevision) only
    changes when the content does, so orbiting survives playing.
    """
    shown = heights(Z, log)
    drawn = [heights(p["heights"], log) for p in paths]
    low, high = _z_range(shown, drawn)
    lift = 0.04 * (high - low)    # lines and balls just above the surface, so it does not hide them
    fig = go.Figure(layout=figure_layout(
        title,
        uirevision=revision,
        margin=dict(l=8, r=8, t=56, b=4),
        legend=dict(orientation="h", x=0.0, xanchor="left", y=0.0, yanchor="bottom", font=dict(size=15)),
        scene=dict(
            xaxis=_axis_3d(axis_titles[0]), yaxis=_axis_3d(axis_titles[1]), zaxis=_axis_3d(loss_title(log)),
            aspectmode="manual", aspectratio=dict(x=1.0, y=1.0, z=0.7),
            camera=dict(eye=_eye(alphas, betas, paths), center=dict(x=0, y=0, z=-0.12)),
            domain=dict(x=[0, 1], y=[0.06, 1]),
        ),
    ))
    fig.add_trace(go.Surface(
        x=compact(alphas), y=compact(betas), z=finite_list(shown), colorscale=LOSS_SCALE,
        cmin=low, cmax=high, showscale=False, name=loss_title(log),
        contours=dict(z=dict(show=True, usecolormap=False, color="rgba(31,36,48,0.25)", width=1,
                             start=low, end=high, size=(high - low) / 12 or 1.0)),
        hovertemplate=f"{axis_titles[0]} %{{x:.3g}}<br>{axis_titles[1]} %{{y:.3g}}<br>"
                      f"{loss_title(log)} %{{z:.4g}}<extra></extra>",
    ))
    balls = []
    for path, z in zip(paths, drawn):
        coords = np.asarray(path["coords"], dtype=float)
        fig.add_trace(go.Scatter3d(
            x=compact(coords[:, 0]), y=compact(coords[:, 1]), z=finite_list(z + lift), mode="lines",
            line=dict(color=path["color"], width=8, dash=path.get("dash", "solid")),
            name=path["name"], legendgroup=path["name"], hoverinfo="skip",
        ))
        k = _at(coords, int(frames[0]))
        fig.add_trace(go.Scatter3d(
            x=[float(coords[k, 0])], y=[float(coords[k, 1])], z=finite_list([z[k] + 1.6 * lift]), mode="markers",
            marker=dict(size=10, color=path["color"], line=dict(width=2, color="white")),
            name=f"{path['name']} (ball)", legendgroup=path["name"], showlegend=False,
            hovertemplate=f"{path['name']}<br>{loss_title(log)} %{{z:.4g}}<extra></extra>",
        ))
        balls.append((len(fig.data) - 1, coords, z))
    patches = []
    for f in frames:
        traces, data = [], []
        for index, coords, z in balls:
            k = _at(coords, int(f))
            traces.append(index)
            data.append({"x": [float(coords[k, 0])], "y": [float(coords[k, 1])],
                         "z": finite_list([z[k] + 2 * lift])})
        patches.append({"traces": traces, "data": data})
    return animation(fig, patches, labels=labels, autoplay=autoplay, start=start)


# --------------------------------------------------------------------------
# The same plane from above


def contour_figure(alphas, betas, Z, paths: Sequence[dict], frames, labels: list[str], *,
                   title: str, axis_titles: tuple[str, str], log: bool = False, grid_points: bool = False,
                   marks: Sequence[dict] = (), lines: Sequence[dict] = (), z_range: tuple[float, float] | None = None,
                   autoplay: bool = False, start: str = "first") -> dict:
    """Contours of the loss over the plane, each path as a line with a ball, seen from above.

    grid_points: also draw every grid point the loss was computed at (the
    seed's "grid of sampled points"); marks: extra fixed points, dicts with
    name, x, y, symbol, color (e.g. the center of the plane); lines: fixed
    dashed lines, dicts with name, x (2,), y (2,), color; z_range: the
    (low, high) losses of the color scale, to put several slices on one scale
    (default: this slice's own). Several paths get no legend here: the 3-D
    figure beside it names them in the same colors.
    """
    shown = heights(Z, log)
    low, high = _z_range(shown) if z_range is None else (float(z_range[0]), float(z_range[1]))
    fig = go.Figure(layout=figure_layout(
        title,
        xaxis=dict(title=axis_titles[0], range=[float(alphas[0]), float(alphas[-1])], showgrid=False,
                   zeroline=False),
        yaxis=dict(title=axis_titles[1], range=[float(betas[0]), float(betas[-1])], showgrid=False,
                   zeroline=False),
        legend=BELOW, showlegend=len(paths) == 1 or grid_points or bool(marks) or bool(lines),
        margin=dict(l=72, r=84, t=52, b=116),
    ))
    fig.add_trace(go.Contour(
        x=compact(alphas), y=compact(betas), z=finite_list(shown), colorscale=LOSS_SCALE, zmin=low, zmax=high,
        contours=dict(start=low, end=high, size=(high - low) / 14 or 1.0, coloring="heatmap"),
        line=dict(color="rgba(31,36,48,0.35)", width=1), name=loss_title(log), showlegend=False,
        colorbar=dict(title=dict(text=loss_title(log), side="right"), thickness=14, len=1.0, x=1.02,
                      xanchor="left", tickfont=dict(size=13)),
        hovertemplate=f"{axis_titles[0]} %{{x:.3g}}<br>{axis_titles[1]} %{{y:.3g}}<br>"
                      f"{loss_title(log)} %{{z:.4g}}<extra></extra>",
    ))
    if grid_points:
        A, B = np.meshgrid(alphas, betas)
        fig.add_trace(go.Scatter(x=compact(A.ravel()), y=compact(B.ravel()), mode="markers",
                                 name=f"grid points ({len(alphas)} × {len(betas)})",
                                 marker=dict(size=3, color=BLACK, opacity=0.55), hoverinfo="skip"))
    for mark in marks:
        fig.add_trace(go.Scatter(x=[float(mark["x"])], y=[float(mark["y"])], mode="markers", name=mark["name"],
                                 marker=dict(size=15, symbol=mark.get("symbol", "x"),
                                             color=mark.get("color", INK), line=dict(width=1, color="white"))))
    for line in lines:
        fig.add_trace(go.Scatter(x=compact(line["x"]), y=compact(line["y"]), mode="lines", name=line["name"],
                                 line=dict(color=line.get("color", INK), width=2.5, dash="dash"), hoverinfo="skip"))
    balls = []
    for path in paths:
        coords = np.asarray(path["coords"], dtype=float)
        fig.add_trace(go.Scatter(x=compact(coords[:, 0]), y=compact(coords[:, 1]), mode="lines",
                                 line=dict(color=path["color"], width=3.5, dash=path.get("dash", "solid")),
                                 name=path["name"], legendgroup=path["name"], hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=compact(coords[:1, 0]), y=compact(coords[:1, 1]), mode="markers",
                                 marker=dict(size=9, color="white", line=dict(width=2.5, color=path["color"])),
                                 name="start", legendgroup=path["name"], showlegend=False, hoverinfo="skip"))
        k = _at(coords, int(frames[0]))
        fig.add_trace(go.Scatter(x=[float(coords[k, 0])], y=[float(coords[k, 1])], mode="markers",
                                 marker=dict(size=15, color=path["color"], line=dict(width=2, color="white")),
                                 name=f"{path['name']} now", legendgroup=path["name"], showlegend=False,
                                 hoverinfo="skip"))
        balls.append((len(fig.data) - 1, coords))
    patches = []
    for f in frames:
        traces, data = [], []
        for index, coords in balls:
            k = _at(coords, int(f))
            traces.append(index)
            data.append({"x": [float(coords[k, 0])], "y": [float(coords[k, 1])]})
        patches.append({"traces": traces, "data": data})
    return animation(fig, patches, labels=labels, autoplay=autoplay, start=start)


# --------------------------------------------------------------------------
# Slices that take turns: the ball that switches landscapes


def switching_figures(stages: Sequence[dict], frames: Sequence[tuple[int, int]], labels: list[str], *,
                      color: str = VERMILION, autoplay: bool = False, start: str = "first") -> tuple[dict, dict]:
    """A ball rolling through several slices, one after another: (3-D surface, contours from above).

    stages: dicts with axis_titles (2,), alphas (na,), betas (nb,), loss (nb, na),
    coords (k, 2) the ball's points on that slice and heights (k,) the loss there;
    frames: (stage, point) of every animation frame. A slice is shown while the ball
    is on it (each frame patches which slice is visible, the axes and the title).
    """
    low_high = [_z_range(stage["loss"], [stage["heights"]]) for stage in stages]
    ranges = [(float(st["alphas"][0]), float(st["alphas"][-1]), float(st["betas"][0]), float(st["betas"][-1]))
              for st in stages]
    first_stage, first_point = frames[0]

    def title(s: int) -> str:
        return f"Slice {s + 1} of {len(stages)}"

    surface = go.Figure(layout=figure_layout(
        title(first_stage), uirevision="switching", margin=dict(l=8, r=8, t=56, b=4), showlegend=False,
        scene=dict(xaxis=_axis_3d(), yaxis=_axis_3d(), zaxis=_axis_3d(),
                   aspectmode="manual", aspectratio=dict(x=1.0, y=1.0, z=0.7),
                   camera=dict(eye=dict(x=1.85, y=-1.85, z=1.35), center=dict(x=0, y=0, z=-0.12))),
    ))
    contour = go.Figure(layout=figure_layout(title(first_stage), showlegend=False,
                                             margin=dict(l=72, r=84, t=52, b=72)))
    for s, stage in enumerate(stages):
        low, high = low_high[s]
        lift = 0.04 * (high - low)
        coords, z = np.asarray(stage["coords"], dtype=float), np.asarray(stage["heights"], dtype=float)
        a_title, b_title = stage["axis_titles"]
        hover = f"{a_title} %{{x:.3g}}<br>{b_title} %{{y:.3g}}<br>loss %{{z:.4g}}<extra></extra>"
        surface.add_trace(go.Surface(
            x=compact(stage["alphas"]), y=compact(stage["betas"]), z=finite_list(stage["loss"]),
            colorscale=LOSS_SCALE, cmin=low, cmax=high, showscale=False, name=f"slice {s + 1}",
            visible=s == first_stage, hovertemplate=hover,
            contours=dict(z=dict(show=True, usecolormap=False, color="rgba(31,36,48,0.25)", width=1,
                                 start=low, end=high, size=(high - low) / 12 or 1.0))))
        surface.add_trace(go.Scatter3d(x=compact(coords[:, 0]), y=compact(coords[:, 1]), z=finite_list(z + lift),
                                       mode="lines", line=dict(color=color, width=8), visible=s == first_stage,
                                       name=f"the ball's path on slice {s + 1}", hoverinfo="skip"))
        contour.add_trace(go.Contour(
            x=compact(stage["alphas"]), y=compact(stage["betas"]), z=finite_list(stage["loss"]),
            colorscale=LOSS_SCALE, zmin=low, zmax=high, visible=s == first_stage, name=f"slice {s + 1}",
            contours=dict(start=low, end=high, size=(high - low) / 14 or 1.0, coloring="heatmap"),
            line=dict(color="rgba(31,36,48,0.35)", width=1), hovertemplate=hover,
            colorbar=dict(title=dict(text="loss", side="right"), thickness=14, len=1.0, x=1.02, xanchor="left",
                          tickfont=dict(size=13))))
        contour.add_trace(go.Scatter(x=compact(coords[:, 0]), y=compact(coords[:, 1]), mode="lines+markers",
                                     line=dict(color=color, width=3), marker=dict(size=4, color=color),
                                     visible=s == first_stage, name=f"the ball's path on slice {s + 1}",
                                     hoverinfo="skip"))
    balls = []
    for fig, is_3d in ((surface, True), (contour, False)):
        x, y = stages[first_stage]["coords"][first_point]
        marker = dict(size=10 if is_3d else 15, color=color, line=dict(width=2, color="white"))
        if is_3d:
            fig.add_trace(go.Scatter3d(x=[float(x)], y=[float(y)], z=[0.0], mode="markers", marker=marker,
                                       name="the ball", hoverinfo="skip"))
        else:
            fig.add_trace(go.Scatter(x=[float(x)], y=[float(y)], mode="markers", marker=marker, name="the ball",
                                     hoverinfo="skip"))
        balls.append(len(fig.data) - 1)

    def patch(is_3d: bool, s: int, k: int) -> dict:
        stage = stages[s]
        low, high = low_high[s]
        x, y = (float(v) for v in stage["coords"][k])
        ball = {"x": [x], "y": [y]}
        if is_3d:
            ball["z"] = finite_list([stage["heights"][k] + 0.08 * (high - low)])
        if s == first_stage:       # the base figure already shows this slice: move the ball only
            return {"traces": [balls[0 if is_3d else 1]], "data": [ball]}
        toggled = [2 * first_stage, 2 * first_stage + 1, 2 * s, 2 * s + 1]
        a0, a1, b0, b1 = ranges[s]
        a_title, b_title = stage["axis_titles"]
        if is_3d:
            layout = {"scene": {"xaxis": {"range": [a0, a1], "title": {"text": a_title}},
                                "yaxis": {"range": [b0, b1], "title": {"text": b_title}},
                                "zaxis": {"range": [low, high + 0.1 * (high - low)], "title": {"text": "loss"}}}}
        else:
            layout = {"xaxis": {"range": [a0, a1], "title": {"text": a_title}},
                      "yaxis": {"range": [b0, b1], "title": {"text": b_title}}}
        layout["title"] = {"text": title(s)}
        return {"traces": toggled + [balls[0 if is_3d else 1]],
                "data": [{"visible": t // 2 == s} for t in toggled] + [ball], "layout": layout}

    for fig, is_3d in ((surface, True), (contour, False)):
        stage, (low, high) = stages[first_stage], low_high[first_stage]
        a0, a1, b0, b1 = ranges[first_stage]
        fig.data[balls[0 if is_3d else 1]].update(patch(is_3d, first_stage, first_point)["data"][0])
        if is_3d:
            fig.update_layout(scene=dict(xaxis=dict(range=[a0, a1], title=dict(text=stage["axis_titles"][0])),
                                         yaxis=dict(range=[b0, b1], title=dict(text=stage["axis_titles"][1])),
                                         zaxis=dict(range=[low, high + 0.1 * (high - low)], title=dict(text="loss"))))
        else:
            fig.update_layout(xaxis=dict(range=[a0, a1], title=dict(text=stage["axis_titles"][0])),
                              yaxis=dict(range=[b0, b1], title=dict(text=stage["axis_titles"][1])))
    payloads = tuple(animation(fig, [patch(is_3d, s, k) for s, k in frames], labels=labels, autoplay=autoplay,
                               start=start)
                     for fig, is_3d in ((surface, True), (contour, False)))
    return payloads


# --------------------------------------------------------------------------
# Side figures


def _frame_line(x: float, marks: Sequence[float] = ()) -> list[dict]:
    """The dotted line at the frame's step, after thin solid lines at the fixed `marks`."""
    fixed = [dict(type="line", xref="x", yref="paper", x0=float(m), x1=float(m), y0=0, y1=1,
                  line=dict(color=INK, width=1, dash="solid"), opacity=0.35) for m in marks]
    return fixed + [dict(type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1,
                         line=dict(color=MUTED, width=1.5, dash="dot"))]


def curves_figure(steps, curves: Sequence[dict], frames, labels: list[str], *, title: str,
                  y_title: str = "loss", x_title: str = "training step", log: bool = False,
                  marks: Sequence[float] = (), autoplay: bool = False, start: str = "first") -> dict:
    """Values over training steps, a dotted line at the frame's step.

    steps (k,) the step of each point; curves: dicts with name, values (k,),
    color, optional dash and width; frames (F,) indices into steps;
    marks: steps with a fixed thin line (e.g. where something changes).
    """
    steps = np.asarray(steps)
    fig = go.Figure(layout=figure_layout(
        title, xaxis=dict(title=x_title, range=[float(steps[0]), float(steps[-1])]),
        yaxis=dict(title=y_title, type="log" if log else "linear"),
        legend=BELOW,
        margin=dict(l=72, r=20, t=52, b=116), shapes=_frame_line(float(steps[_at(steps, int(frames[0]))]), marks),
    ))
    for curve in curves:
        values = np.asarray(curve["values"], dtype=float)
        if log:
            values = np.maximum(values, LOG_FLOOR)
        fig.add_trace(go.Scatter(x=compact(steps), y=finite_list(values), mode="lines", name=curve["name"],
                                 line=dict(color=curve["color"], width=curve.get("width", 3.5),
                                           dash=curve.get("dash", "solid"))))
    patches = [{"layout": {"shapes": _frame_line(float(steps[_at(steps, int(f))]), marks)}} for f in frames]
    return animation(fig, patches, labels=labels, autoplay=autoplay, start=start)


def parameters_figure(steps, values, names: Sequence[str], highlight: Sequence[int], frames,
                      labels: list[str], *, title: str, autoplay: bool = False, start: str = "first") -> dict:
    """Every parameter's value over training; the `highlight`ed ones thick and colored.

    steps (k,), values (k, p), names p strings; frames (F,) indices into steps.
    """
    steps = np.asarray(steps)
    values = np.asarray(values, dtype=float)
    fig = go.Figure(layout=figure_layout(
        title, xaxis=dict(title="training step", range=[float(steps[0]), float(steps[-1])]),
        yaxis=dict(title="parameter value"),
        legend=BELOW,
        margin=dict(l=72, r=20, t=52, b=116), shapes=_frame_line(float(steps[_at(steps, int(frames[0]))])),
    ))
    others = [i for i in range(values.shape[1]) if i not in highlight]
    for n, i in enumerate(others):
        fig.add_trace(go.Scatter(x=compact(steps), y=finite_list(values[:, i]), mode="lines",
                                 line=dict(color="#b8bec9", width=1.5), name="the other parameters",
                                 legendgroup="others", showlegend=n == 0,
                                 hovertemplate=f"{names[i]}: %{{y:.3g}}<extra></extra>"))
    for n, i in enumerate(highlight):
        fig.add_trace(go.Scatter(x=compact(steps), y=finite_list(values[:, i]), mode="lines",
                                 line=dict(color=TRACE_COLORS[n % len(TRACE_COLORS)], width=4.5), name=names[i]))
    patches = [{"layout": {"shapes": _frame_line(float(steps[_at(steps, int(f))]))}} for f in frames]
    return animation(fig, patches, labels=labels, autoplay=autoplay, start=start)


def _segment_in_box(w, b: float, box: tuple[float, float, float, float]) -> tuple[list, list]:
    """Ends of the line w[0] x + w[1] y + b = 0 inside box (x0, x1, y0, y1); empty if it misses."""
    x0, x1, y0, y1 = box
    points = []
    if abs(w[1]) > 1e-12:
        for x in (x0, x1):
            y = -(w[0] * x + b) / w[1]
            if y0 <= y <= y1:
                points.append((x, y))
    if abs(w[0]) > 1e-12:
        for y in (y0, y1):
            x = -(w[1] * y + b) / w[0]
            if x0 <= x <= x1:
                points.append((x, y))
    if len(points) < 2:
        return [], []
    points = sorted(set(points))
    return [points[0][0], points[-1][0]], [points[0][1], points[-1][1]]


def features_figure(F, y, class_names: Sequence[str], weights, biases, frames, labels: list[str], *,
                    title: str, axis_titles: tuple[str, str], autoplay: bool = False, start: str = "first") -> dict:
    """Data in two features and the model's boundary w·x + b = 0 at each frame.

    F (n, 2), y (n,) int in 0..1; weights (k, 2) and biases (k,) of the
    boundary at each point of the path; frames (F,) indices into them.
    """
    F = np.asarray(F, dtype=float)
    weights, biases = np.asarray(weights, dtype=float), np.asarray(biases, dtype=float)
    pad = 0.15 * np.ptp(F, axis=0)
    box = (F[:, 0].min() - pad[0], F[:, 0].max() + pad[0], F[:, 1].min() - pad[1], F[:, 1].max() + pad[1])
    fig = go.Figure(layout=figure_layout(
        title,
        xaxis=dict(title=axis_titles[0], range=list(box[:2]), zeroline=False),
        yaxis=dict(title=axis_titles[1], range=list(box[2:]), zeroline=False),
        legend=BELOW,
        margin=dict(l=72, r=20, t=52, b=116),
    ))
    for c, name in enumerate(class_names):
        mask = np.asarray(y) == c
        fig.add_trace(go.Scatter(x=compact(F[mask, 0]), y=compact(F[mask, 1]), mode="markers", name=name,
                                 marker=dict(size=10, color=CLASS_COLORS[c % 3], symbol=CLASS_SYMBOLS[c % 3],
                                             line=dict(width=1, color="white"))))
    xs, ys = _segment_in_box(weights[int(frames[0])], biases[int(frames[0])], box)
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="boundary: p = 50 %",
                             line=dict(color=VERMILION, width=4)))
    line = len(fig.data) - 1
    patches = []
    for f in frames:
        xs, ys = _segment_in_box(weights[int(f)], biases[int(f)], box)
        patches.append({"traces": [line], "data": [{"x": [round(v, 4) for v in xs], "y": [round(v, 4) for v in ys]}]})
    return animation(fig, patches, labels=labels, autoplay=autoplay, start=start)


def percent(share: float | None) -> str:
    """A share 0..1 as a percentage with one decimal ("—" for None or NaN)."""
    if share is None or not math.isfinite(share):
        return "—"
    return f"{100 * share:.1f} %"
