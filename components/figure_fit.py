"""Figure text that fits every screen a lesson is read on.

The same figure is drawn about 350 px wide on a phone, 450-900 px on a
desktop and up to 1900 px on an exhibit screen, where the site's script
raises the type to at least 18 px (ticks), 20 px (legends, labels) and 28 px
(titles). Plotly neither wraps a title nor keeps a legend clear of an axis
title, so the figure builders take these pieces:

- `wrap`: text broken with <br> into lines that fit a phone's figure;
- `layout`: the house layout with a wrapped title and room for its lines;
- `legend_below`: a horizontal legend in a band of its own under everything
  else, with as many rows as the width of the screen needs.
"""

from __future__ import annotations

import re

from components.theme import figure_layout

#: Characters of a 20 px title line that fit a phone's figure (about 340 px of text).
TITLE_CHARS = 34
#: Smallest font size, px, of any text a figure draws.
MIN_TEXT_PX = 12
#: Room for a title's first line at the exhibit's 28 px (a gap above it and below it),
#: and for each further line.
TITLE_FIRST_PX, TITLE_LINE_PX = 44, 37
TITLE_PAD_PX = 10
#: Plotly sets a one-line title's baseline 0.7 em below its anchor but a longer title's
#: first baseline at the anchor itself: a longer title gets this much more room above.
FIRST_BASELINE_PX = 24

_PIECE = re.compile(r"<[^>]*>|[^<]+")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def visible_length(text: str) -> float:
    """About how many characters wide one line of plotly text is drawn: tags do not
    count, characters inside <sub> or <sup> (drawn smaller) count 0.7."""
    length, small = 0.0, 0
    for piece in _PIECE.findall(text):
        if piece.startswith("<"):
            name = piece.strip("</>").split()[0].lower() if piece.strip("</>") else ""
            if name in ("sub", "sup"):
                small = max(small + (-1 if piece.startswith("</") else 1), 0)
        else:
            length += len(piece) * (0.7 if small else 1.0)
    return length


def lines_of(text: str) -> list[str]:
    """The lines of plotly text, split at its <br>."""
    return _BREAK.split(text)


def _words(line: str) -> list[str]:
    """A line split at its spaces, but never inside a tag (<span style='...'>)."""
    words, current, depth = [], "", 0
    for char in line:
        depth += (char == "<") - (char == ">")
        if char == " " and depth == 0:
            words.append(current)
            current = ""
        else:
            current += char
    return words + [current]


def _greedy(words: list[str], width: float) -> list[str]:
    """Words joined into lines of at most `width` visible characters, each as full as it can be."""
    lines, current = [], ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and visible_length(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return lines + [current]


def wrap(text: str, width: int = TITLE_CHARS) -> str:
    """`text` with spaces turned into <br> so that no line passes `width` visible
    characters, in as few lines as that takes and with lines of about equal length
    (no last line of one word). Existing <br> are kept; a word longer than `width`
    stays whole; a tag's own spaces are never broken."""
    out = []
    for line in lines_of(text):
        words = _words(line)
        fewest = len(_greedy(words, width))
        narrowest = next((w for w in range(int(visible_length(line) / fewest), width)
                          if len(_greedy(words, w)) == fewest), width)
        out += _greedy(words, narrowest)
    return "<br>".join(out)


def wrap_all(texts: list[str], width: int = TITLE_CHARS) -> list[str]:
    """Each text wrapped, then padded with blank lines to as many lines as the longest,
    so that a title changing from frame to frame never moves the plot below it."""
    wrapped = [wrap(t, width) for t in texts]
    most = max((len(lines_of(t)) for t in wrapped), default=1)
    return [t + "<br> " * (most - len(lines_of(t))) for t in wrapped]


def title_px(lines: int) -> int:
    """Height in px a title of `lines` lines takes at the top of a figure, at the
    largest size it is drawn (an exhibit's 28 px)."""
    return TITLE_FIRST_PX + (lines - 1) * TITLE_LINE_PX if lines else 0


def title_pad(lines: int) -> int:
    """The gap in px between the top of the figure and a title of `lines` lines."""
    return TITLE_PAD_PX + (FIRST_BASELINE_PX if lines > 1 else 0)


def title(text: str, *, width: int = TITLE_CHARS) -> dict:
    """A layout title wrapped to `width` characters a line, at the top left of the figure
    (the plot below it starts `title_px` lower: see `layout`). Frames that change the
    title's text must keep its number of lines (`wrap_all`)."""
    text = wrap(text, width)
    return dict(text=text, x=0.02, xanchor="left", yref="container", y=1, yanchor="top",
                pad=dict(t=title_pad(len(lines_of(text)))))


def layout(text: str = "", *, width: int = TITLE_CHARS, **overrides) -> dict:
    """The house layout (`theme.figure_layout`) with `title(text)` and room for it: the
    top margin given in `overrides` (default 8 px) is the gap between title and plot.

    The room is reserved here rather than by plotly's title automargin, which moves the
    axes but not a heatmap's image when it redraws.
    """
    margin = dict(overrides.pop("margin", {}))
    out = figure_layout("", **overrides)
    out["title"] = title(text, width=width) if text else dict(text="")
    lines = len(lines_of(out["title"]["text"])) if text else 0
    out["margin"] = {**margin, "t": margin.get("t", 8) + title_px(lines)}
    return out


def legend_below(**overrides) -> dict:
    """A horizontal legend at the bottom of the figure, in a band the plot area
    makes room for: clear of the x-axis title, the ticks and the plot itself."""
    legend = dict(orientation="h", xref="container", x=0.02, xanchor="left", yref="container", y=0,
                  yanchor="bottom", bgcolor="rgba(0,0,0,0)", traceorder="normal")
    legend.update(overrides)
    return legend
