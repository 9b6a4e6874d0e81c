"""One look for every figure: a color-blind-safe palette, projector-sized type.

The palette is Okabe & Ito's (2008), distinguishable under the common forms
of color blindness. `figure_layout` gives the layout every figure starts from.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

INK = "#1f2430"
MUTED = "#6b7280"
GRID = "#e5e7eb"
PAPER = "#ffffff"

BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILION = "#D55E00"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
YELLOW = "#F0E442"
BLACK = "#000000"

PALETTE = (BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, YELLOW, BLACK)
#: Two-class meaning used across lessons: liked/positive and disliked/negative.
POSITIVE, NEGATIVE = BLUE, ORANGE
#: Diverging scale for probabilities / signed values (blue = class 1).
DIVERGING = [[0.0, ORANGE], [0.5, "#f7f7f7"], [1.0, BLUE]]
SEQUENTIAL = "Viridis"

FONT_FAMILY = "Inter, 'Segoe UI', 'Helvetica Neue', Arial, sans-serif"
FONT_SIZE = 16

pio.templates["learnscape"] = go.layout.Template(
    layout=go.Layout(
        font=dict(family=FONT_FAMILY, size=FONT_SIZE, color=INK),
        colorway=list(PALETTE),
        paper_bgcolor=PAPER,
        plot_bgcolor=PAPER,
        margin=dict(l=56, r=24, t=56, b=52),
        title=dict(font=dict(size=20), x=0.02, xanchor="left"),
        xaxis=dict(gridcolor=GRID, zerolinecolor="#c7cbd1", linecolor="#c7cbd1", ticks="outside"),
        yaxis=dict(gridcolor=GRID, zerolinecolor="#c7cbd1", linecolor="#c7cbd1", ticks="outside"),
        legend=dict(bgcolor="rgba(255,255,255,0.8)", borderwidth=0),
        hoverlabel=dict(font=dict(family=FONT_FAMILY, size=15)),
    )
)


def figure_layout(title: str = "", **overrides) -> dict:
    """Base layout dict: the house template, a title, zoom kept across frames."""
    layout = dict(template="learnscape", title=dict(text=title), uirevision="keep")
    layout.update(overrides)
    return layout


def empty_figure(message: str) -> go.Figure:
    """A blank figure carrying a message in its middle (for errors and waits)."""
    fig = go.Figure(layout=figure_layout())
    fig.add_annotation(text=message, showarrow=False, font=dict(size=18, color=MUTED),
                       xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig
