"""A figure's text alternative, built from its data: what it shows and its key numbers.

Screen readers read it in place of the picture (the lesson engine puts it
beside every animated graph). It says the figure's title, its axes and their
ranges, its traces by name with their sizes and last values, and the caption
of the frame shown first (e.g. "epoch 300 · loss 0.21").
"""

from __future__ import annotations

import math
import re

_TAG = re.compile(r"<[^>]+>")


def _text(title) -> str:
    if isinstance(title, dict):
        title = title.get("text", "")
    return _TAG.sub(" ", str(title or "")).replace("  ", " ").strip()


def _number(x: float) -> str:
    return f"{x:.3g}"


def _numbers(values) -> list[float]:
    if not isinstance(values, (list, tuple)):
        return []
    flat: list = []
    for v in values:
        flat.extend(v if isinstance(v, (list, tuple)) else [v])
    return [float(v) for v in flat if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]


def _axis(name: str, axis: dict, data: list[dict], key: str) -> str:
    title = _text(axis.get("title"))
    values = [v for trace in data for v in _numbers(trace.get(key))]
    span = axis.get("range")
    if not (isinstance(span, (list, tuple)) and len(span) == 2 and all(isinstance(v, (int, float)) for v in span)):
        span = (min(values), max(values)) if values else None
    words = f"{name} axis" + (f" “{title}”" if title else "")
    return words + (f" from {_number(span[0])} to {_number(span[1])}" if span else "")


def _trace(trace: dict) -> str:
    kind = trace.get("type", "scatter")
    name = _text(trace.get("name")) or kind
    ys = _numbers(trace.get("y") if "y" in trace else trace.get("z"))
    words = f"{name} ({kind}"
    if ys:
        words += f", {len(ys)} values, last {_number(ys[-1])}"
    return words + ")"


def describe(payload: dict | None, *, limit: int = 8) -> str:
    """The text alternative of an animation payload (`components.player.animation`)."""
    if not payload or not isinstance(payload.get("figure"), dict):
        return ""
    figure = payload["figure"]
    layout, data = figure.get("layout") or {}, [t for t in figure.get("data") or [] if isinstance(t, dict)]
    parts = [_text(layout.get("title")) or "A figure"]
    axes = [_axis(key[0], layout.get(key) or {}, data, key[0]) for key in ("xaxis", "yaxis")
            if any(key[0] in t for t in data)]
    parts += axes
    named = [_trace(t) for t in data if t.get("showlegend", True) is not False or t.get("name")]
    if named:
        shown = named[:limit]
        more = f" and {len(named) - limit} more" if len(named) > limit else ""
        parts.append("shows " + "; ".join(shown) + more)
    labels = payload.get("labels") or []
    if labels:
        parts.append(f"shown at {labels[-1] if payload.get('start') == 'last' else labels[0]}")
        if len(labels) > 1:
            parts.append(f"{len(labels)} frames to play, the last at {labels[-1]}")
    return ". ".join(p for p in parts if p) + "."
