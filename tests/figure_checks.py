"""Checks on animation payloads that need no browser: type sizes, title lengths, legends.

A payload is `components.player.animation`'s dict: a base figure and frames that
patch it. `shown(payload)` gives the figure as each frame draws it.
"""

from __future__ import annotations

import copy

from components import figure_fit as fit
from components.theme import FONT_SIZE


def _merge(base: dict, patch: dict) -> dict:
    out = dict(base)
    for key, value in patch.items():
        out[key] = _merge(base[key], value) if isinstance(base.get(key), dict) and isinstance(value, dict) else value
    return out


def shown(payload: dict) -> list[dict]:
    """The figure as every frame draws it (as the site's script applies a frame)."""
    figures = []
    for frame in payload["frames"] or [{}]:
        figure = copy.deepcopy(payload["figure"])
        for index, patch in zip(frame.get("traces", range(len(frame.get("data", [])))), frame.get("data", [])):
            figure["data"][index] = {**figure["data"][index], **patch}
        figure["layout"] = _merge(figure["layout"], frame.get("layout", {}))
        figures.append(figure)
    return figures


def font_sizes(figure: dict) -> list[tuple[str, float]]:
    """(where, size) of every font size the figure sets, explicitly or by default."""
    layout = figure["layout"]
    base = (layout.get("font") or {}).get("size", FONT_SIZE)
    sizes = [("layout.font", base)]

    def add(where: str, font) -> None:
        if isinstance(font, dict) and font.get("size") is not None:
            sizes.append((where, font["size"]))

    title = layout.get("title")
    if isinstance(title, dict):
        add("title", title.get("font"))
    add("legend", (layout.get("legend") or {}).get("font"))
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            add(f"{key}.tickfont", axis.get("tickfont"))
            if isinstance(axis.get("title"), dict):
                add(f"{key}.title", axis["title"].get("font"))
        if key.startswith("scene") and isinstance(axis, dict):
            for name in ("xaxis", "yaxis", "zaxis"):
                add(f"{key}.{name}.tickfont", (axis.get(name) or {}).get("tickfont"))
            for i, note in enumerate(axis.get("annotations") or []):
                add(f"{key}.annotations[{i}]", note.get("font"))
    for i, note in enumerate(layout.get("annotations") or []):
        add(f"annotations[{i}]", note.get("font"))
    for i, trace in enumerate(figure["data"]):
        add(f"data[{i}].textfont", trace.get("textfont"))
        for part in ("header", "cells"):
            add(f"data[{i}].{part}.font", (trace.get(part) or {}).get("font"))
    flat = []
    for where, size in sizes:
        for value in size if isinstance(size, (list, tuple)) else [size]:
            flat.append((where, float(value)))
    return flat


def assert_legible(payload: dict, *, title_chars: int = fit.TITLE_CHARS) -> None:
    """Every frame: no text under 12 px, title lines a phone's figure holds, the same
    number of title lines in every frame, and any legend in a band below the plot."""
    lines = set()
    for k, figure in enumerate(shown(payload)):
        small = [(where, size) for where, size in font_sizes(figure) if size < fit.MIN_TEXT_PX]
        assert not small, f"frame {k}: text under {fit.MIN_TEXT_PX} px: {small}"
        layout = figure["layout"]
        title = layout.get("title") or {}
        text = title.get("text", "") if isinstance(title, dict) else str(title)
        if text:
            long = [line for line in fit.lines_of(text) if fit.visible_length(line) > title_chars]
            assert not long, f"frame {k}: title lines over {title_chars} characters: {long}"
            lines.add(len(fit.lines_of(text)))
        if layout.get("showlegend", True) and any(t.get("showlegend", True) is not False for t in figure["data"]):
            legend = layout.get("legend") or {}
            if legend:
                assert_legend_below(legend)
    assert len(lines) <= 1, f"the title's number of lines changes from frame to frame: {sorted(lines)}"


def assert_legend_below(legend: dict) -> None:
    """A horizontal legend at the bottom of the figure, in a band of its own."""
    assert legend.get("orientation") == "h", legend
    assert legend.get("yref") == "container" and legend.get("y") == 0 and legend.get("yanchor") == "bottom", legend


def every_step(page) -> list[dict]:
    """The engine's outputs of every step of a lesson page, at its default settings."""
    from app.main import app

    with app.server.test_request_context():
        return [page.ENGINE.outputs(i, page.SCHEMA.defaults()) for i in range(len(page.STEPS))]


def assert_every_step_legible(steps: list[dict], graphs, **options) -> None:
    """`assert_legible` for each shown figure of `graphs` at every step, naming the step."""
    for step, out in enumerate(steps):
        for name in graphs:
            payload = out[f"figure:{name}"]
            if payload is None or "ls-hidden" in out.get(f"box:{name}", ""):
                continue
            try:
                assert_legible(payload, **options)
            except AssertionError as error:
                raise AssertionError(f"step {step + 1}, {name}: {error}") from None
