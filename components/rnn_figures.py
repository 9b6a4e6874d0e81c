"""Figures of the RNN lesson, as animation payloads (see components.player).

Inputs are plain arrays the page computed with app.ml.rnn (no model code
here): notes as (pitch, beats) with MIDI pitches; per frame the rows of the
cell's equation (R, H), hidden states (T, H), next-note probabilities (V,),
losses and gradient norms. Frames are time steps of a tune, training steps,
temperatures or generated notes; `labels` caption them in the step player.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from app.ml.melodies import pitch_name
from components import figure_fit as fit
from components.player import animation, static
from components.theme import BLUE, DIVERGING, GREEN, INK, MUTED, ORANGE, PURPLE, SKY, VERMILION

#: Pitches drawn on every piano roll (MIDI; G3 .. A4 hold every note of the tunes).
PITCH_LOW, PITCH_HIGH = 55, 69
BLACK_KEYS = {1, 3, 6, 8, 10}           # pitch classes of the black keys
#: Pitch classes named on the pitch axis: the white keys but B and F, so that no two names
#: are a semitone apart (a row of a short roll is less high than its name).
NAMED_KEYS = {0, 2, 4, 7, 9}
NOTE_WIDTH = 0.78                       # height of a note bar, in semitones
TRUTH = "#c9ced6"                       # notes of the tune when predictions are drawn over them
HIGHLIGHT = "rgba(230,159,0,0.28)"      # the current column / note
#: Colours of the tunes a generated note was copied from; a note in no run is MUTED.
TUNE_COLORS = (BLUE, ORANGE, GREEN, VERMILION, PURPLE, SKY, "#8c6d1f")


def sig(values, digits: int = 4) -> list:
    """Values rounded to `digits` significant digits each (small values on a
    log axis keep their size), as nested lists."""
    a = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        exponent = np.floor(np.log10(np.abs(a)))
        usable = np.isfinite(exponent) & (np.abs(exponent) < 290)     # 10 ** exponent stays finite
        scale = 10.0 ** (digits - 1 - np.where(usable, exponent, 0.0))
        rounded = np.where(usable & (a != 0), np.round(a * scale) / scale, a)
    return rounded.tolist()


def beats_text(beats: float) -> str:
    return "1 beat" if beats == 1 else f"{beats:g} beats"


# --------------------------------------------------------------------------
# Piano roll: time in beats across, pitch up


def beat_labels(total_beats: float, most: int = 8) -> int:
    """Beats between labels of the time axis: a whole number of 4-beat bars, at most
    `most` labels (a phone has room for about eight)."""
    return next((d for d in (4, 8, 16, 32, 64) if total_beats / d <= most), 128)


def _roll_layout(title: str, total_beats: float, *, legend: bool = True, **overrides) -> dict:
    """A piano roll's layout: a grid line at every bar of 4 beats, a row per pitch."""
    pitches = list(range(PITCH_LOW, PITCH_HIGH + 1))
    named = [p for p in pitches if p % 12 in NAMED_KEYS]
    end = max(float(total_beats), 4.0)
    keys = [dict(type="rect", xref="paper", x0=0, x1=1, yref="y", y0=p - 0.5, y1=p + 0.5, layer="below",
                 fillcolor="#eef0f4", line=dict(width=0)) for p in pitches if p % 12 in BLACK_KEYS]
    layout = fit.layout(
        title,
        barmode="overlay",
        xaxis=dict(title="time (beats; a grid line every 4)", range=[-0.3, end + 0.3],
                   dtick=beat_labels(end), tick0=0, showgrid=True, gridcolor="#d5d9e0", zeroline=False,
                   minor=dict(dtick=4, tick0=0, showgrid=True, gridcolor="#d5d9e0"), automargin=True),
        yaxis=dict(title="pitch", range=[PITCH_LOW - 0.6, PITCH_HIGH + 0.6], tickvals=named,
                   ticktext=[pitch_name(p) for p in named], showgrid=False, zeroline=False,
                   tickfont=dict(size=14), automargin=True),
        shapes=keys,
        showlegend=legend,
        legend=fit.legend_below(),
        margin=dict(l=64, r=24, t=8, b=8),
        hovermode="closest",
    )
    layout.update(overrides)
    return layout


def _starts(notes) -> np.ndarray:
    beats = np.array([b for _, b in notes], dtype=float)
    return np.concatenate([[0.0], np.cumsum(beats)[:-1]]) if len(beats) else beats


def _note_bars(notes, starts, *, name: str, color, hover: list[str], width: float = NOTE_WIDTH,
               opacity: float = 1.0, line_color: str = "white", showlegend: bool = True) -> go.Bar:
    return go.Bar(
        orientation="h", base=sig(starts), x=[b for _, b in notes], y=[p for p, _ in notes], width=width,
        name=name, marker=dict(color=color, opacity=opacity, line=dict(width=1, color=line_color)),
        hovertext=hover, hoverinfo="text", showlegend=showlegend,
    )


def _bar_patch(notes, starts, hover, colors=None) -> dict:
    patch = {"base": sig(starts), "x": [b for _, b in notes], "y": [p for p, _ in notes], "hovertext": hover}
    if colors is not None:
        patch["marker"] = {"color": colors}
    return patch


def tune_roll(notes, title: str, hover: list[str], *, name: str = "notes") -> dict:
    """A tune on the piano roll (static). notes: n (pitch, beats); hover: n texts."""
    starts = _starts(notes)
    fig = go.Figure(layout=_roll_layout(title, starts[-1] + notes[-1][1] if notes else 4, legend=False))
    fig.add_trace(_note_bars(notes, starts, name=name, color=BLUE, hover=hover))
    return static(fig)


def reading_roll(notes, title: str, hover: list[str], current: list[int], titles: list[str],
                 labels: list[str]) -> dict:
    """The tune with the note read at each frame highlighted.

    current: per frame the index of the note being read, or -1 for the start marker.
    """
    starts = _starts(notes)
    total = starts[-1] + notes[-1][1]
    titles = fit.wrap_all(titles)
    fig = go.Figure(layout=_roll_layout(titles[0], total))
    fig.add_trace(_note_bars(notes, starts, name="the tune", color=SKY, hover=hover))
    fig.add_trace(_note_bars([], [], name="the note read now (input)", color=ORANGE, hover=[],
                             line_color=INK))
    frames = []
    for i, text in zip(current, titles):
        band = []
        if i >= 0:
            band = [dict(type="rect", xref="x", yref="paper", x0=float(starts[i]), x1=float(starts[i] + notes[i][1]),
                         y0=0, y1=1, fillcolor=HIGHLIGHT, line=dict(width=0), layer="below")]
        patch = _bar_patch([notes[i]], [starts[i]], [hover[i]]) if i >= 0 else _bar_patch([], [], [])
        frames.append({"traces": [1], "data": [patch],
                       "layout": {"title": {"text": text}, "shapes": fig.layout.to_plotly_json()["shapes"] + band}})
    return animation(fig, frames, labels=labels)


def prediction_roll(notes, predicted: list[list], right: list[list[bool]], hover_truth: list[str],
                    hover_predicted: list[list[str]], titles: list[str], labels: list[str]) -> dict:
    """The tune (grey) and, per frame, the network's guess of each next note drawn at
    that note's time: green where it is the true next note, vermilion where not.

    predicted: per frame a list of n (pitch, beats) or None (it guessed the end marker).
    """
    starts = _starts(notes)
    titles = fit.wrap_all(titles)
    fig = go.Figure(layout=_roll_layout(titles[0], starts[-1] + notes[-1][1]))
    fig.add_trace(_note_bars(notes, starts, name="the tune", color=TRUTH, hover=hover_truth))
    traces = []
    for ok, name, color in ((True, "guess of the next note: right", GREEN),
                            (False, "guess of the next note: wrong", VERMILION)):
        fig.add_trace(_note_bars([], [], name=name, color=color, hover=[], width=0.42, line_color=color))
        traces.append(ok)

    def patch(guesses, oks, texts, want):
        keep = [i for i, (g, o) in enumerate(zip(guesses, oks)) if g is not None and o == want]
        return _bar_patch([guesses[i] for i in keep], starts[keep], [texts[i] for i in keep])

    frames = [{"traces": [1, 2], "data": [patch(g, o, h, want) for want in traces],
               "layout": {"title": {"text": t}}}
              for g, o, h, t in zip(predicted, right, hover_predicted, titles)]
    return animation(fig, frames, labels=labels)


def generated_roll(notes, sources: list[int], source_names: list[str], hover: list[str], titles: list[str],
                   labels: list[str], *, start: str = "first") -> dict:
    """A generated melody, revealed one note per frame, each note coloured by the
    training tune whose run of notes it continues (sources[i] = -1: none).

    Frame k shows notes[:k + 1]; there are len(titles) frames (a last frame may repeat
    the whole melody, e.g. to show the end marker being drawn).
    """
    starts = _starts(notes)
    total = starts[-1] + notes[-1][1] if notes else 4.0
    colors = [TUNE_COLORS[s % len(TUNE_COLORS)] if s >= 0 else MUTED for s in sources]
    titles = fit.wrap_all(titles)
    fig = go.Figure(layout=_roll_layout(titles[0], max(total, 16.0)))
    fig.add_trace(_note_bars(notes[:1], starts[:1], name="melody", color=colors[:1], hover=hover[:1],
                             line_color=INK, showlegend=False))
    shown = sorted({s for s in sources if s >= 0})
    for s in shown:
        fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name=f"copied from {source_names[s]}",
                             marker=dict(color=TUNE_COLORS[s % len(TUNE_COLORS)]), hoverinfo="skip"))
    if any(s < 0 for s in sources):
        fig.add_trace(go.Bar(x=[None], y=[None], orientation="h", name="in no 4-note run of a tune",
                             marker=dict(color=MUTED), hoverinfo="skip"))
    frames = []
    for k, text in enumerate(titles):
        n = min(k + 1, len(notes))
        frames.append({"traces": [0], "data": [_bar_patch(notes[:n], starts[:n], hover[:n], colors[:n])],
                       "layout": {"title": {"text": text}}})
    return animation(fig, frames, labels=labels, start=start)


# --------------------------------------------------------------------------
# The cell: the vectors of its equation for one time step


#: Characters of a line of the cell's equation that fit under a phone's figure (16 px).
EQUATION_CHARS = 40
CELL_LABELS_PX = 150    # the column of row names left of the cell's vectors


def cell_figure(rows: np.ndarray, unit: int, equations: list[str], titles: list[str], labels: list[str],
                *, span: float = 4.0) -> dict:
    """The hidden-layer equation of one step as coloured vectors, one frame per step.

    rows: (F, 6, H): h_{t-1}, W_xh x_t, W_hh h_{t-1}, b_h, a_t, h_t for each frame.
    unit: 0-based hidden unit whose numbers `equations` spell out (framed in the figure).
    span: colour range of the pre-activation rows (h rows use [-1, 1]).
    The equation is written under the vectors from the figure's left edge, wrapped to
    lines that fit a phone; every frame's title and equation take as many lines as the longest.
    """
    rows = np.asarray(rows, dtype=float)
    H = rows.shape[2]
    units = list(range(1, H + 1))
    titles = fit.wrap_all(titles)
    equations = fit.wrap_all(equations, EQUATION_CHARS)
    note_lines = len(fit.lines_of(equations[0]))
    names_pre = ["W<sub>xh</sub> x<sub>t</sub>  (input)", "W<sub>hh</sub> h<sub>t−1</sub>  (memory)",
                 "b<sub>h</sub>  (bias)", "a<sub>t</sub>  (their sum)"]
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.1, row_heights=[0.17, 0.58, 0.25])
    fig.update_layout(**fit.layout(
        titles[0], margin=dict(l=CELL_LABELS_PX, r=64, t=8, b=76 + 22 * note_lines),
        coloraxis=dict(colorscale=DIVERGING, cmin=-span, cmax=span, cmid=0,
                       colorbar=dict(title=dict(text="a", side="top"), len=0.5, y=0.6, yanchor="middle",
                                     thickness=12, x=1.01, tickvals=[-span, 0, span])),
        coloraxis2=dict(colorscale=DIVERGING, cmin=-1, cmax=1, cmid=0,
                        colorbar=dict(title=dict(text="h", side="top"), len=0.3, y=0.13, yanchor="middle",
                                      thickness=12, x=1.01, tickvals=[-1, 1])),
    ))
    hover = "%{y}<br>unit %{x}: %{z:.3f}<extra></extra>"
    fig.add_trace(go.Heatmap(z=[sig(rows[0, 0])], x=units, y=["h<sub>t−1</sub>  (last step)"],
                             coloraxis="coloraxis2", xgap=1, ygap=1, hovertemplate=hover), row=1, col=1)
    fig.add_trace(go.Heatmap(z=sig(rows[0, 1:5]), x=units, y=names_pre, coloraxis="coloraxis", xgap=1, ygap=1,
                             hovertemplate=hover), row=2, col=1)
    fig.add_trace(go.Heatmap(z=[sig(rows[0, 5])], x=units, y=["h<sub>t</sub> = tanh(a<sub>t</sub>)"],
                             coloraxis="coloraxis2", xgap=1, ygap=1, hovertemplate=hover), row=3, col=1)
    for r in (1, 2, 3):
        fig.update_yaxes(autorange="reversed", tickfont=dict(size=15), automargin=True, row=r, col=1)
    fig.update_xaxes(title_text="hidden unit", row=3, col=1)
    outline = [dict(type="rect", xref=f"x{'' if r == 1 else r}", yref=f"y{'' if r == 1 else r} domain",
                    x0=unit + 0.5, x1=unit + 1.5, y0=0, y1=1, line=dict(color=INK, width=2.5))
               for r in (1, 2, 3)]
    fig.update_layout(shapes=outline)

    def note(text):
        return [dict(text=text, xref="paper", yref="paper", x=0, y=0, xshift=-CELL_LABELS_PX + 8, yshift=-70,
                     xanchor="left", yanchor="top", showarrow=False, align="left", font=dict(size=16, color=INK),
                     bgcolor="#f6f7f9", borderpad=6)]

    fig.update_layout(annotations=list(fig.layout.annotations) + note(equations[0]))
    frames = [{"traces": [0, 1, 2], "data": [{"z": [sig(r[0])]}, {"z": sig(r[1:5])}, {"z": [sig(r[5])]}],
               "layout": {"title": {"text": t}, "annotations": note(e)}}
              for r, e, t in zip(rows, equations, titles)]
    return animation(fig, frames, labels=labels)


# --------------------------------------------------------------------------
# Unrolled: the hidden state over time


def hidden_heatmap(hs: np.ndarray, inputs: list[str], current: list[int], titles: list[str],
                   labels: list[str]) -> dict:
    """Hidden units (rows) by time steps (columns), revealed up to the current step.

    hs: (T, H) hidden states; inputs: T labels of the notes read; current: step per frame.
    The time axis is a category axis, so that on a narrow screen plotly names only every
    second or fourth step instead of writing the names over each other.
    """
    hs = np.asarray(hs, dtype=float)
    T, H = hs.shape
    titles = fit.wrap_all(titles)
    # A category per step; zero-width spaces keep a note read twice two categories.
    steps = [f"{name}{chr(0x200B) * t}" for t, name in enumerate(inputs)]
    fig = go.Figure(layout=fit.layout(
        titles[0], margin=dict(l=70, r=30, t=8, b=8),
        xaxis=dict(title="time step t (the note read)", type="category", tickangle=-90, tickfont=dict(size=14),
                   showgrid=False, range=[-0.5, T - 0.5], automargin=True),
        yaxis=dict(title="hidden unit", autorange="reversed", showgrid=False, automargin=True),
    ))
    fig.add_trace(go.Heatmap(
        z=sig(hs.T, 3), x=steps, y=list(range(1, H + 1)), colorscale=DIVERGING, zmin=-1, zmax=1, zmid=0,
        colorbar=dict(title=dict(text="h", side="top"), thickness=14),
        customdata=[[f"step {t}, reading {name}" for t, name in enumerate(inputs)]] * H,
        hovertemplate="%{customdata}<br>unit %{y}: h = %{z:.3f}<extra></extra>",
    ))

    def shapes(k):
        return [dict(type="rect", xref="x", yref="paper", x0=k + 0.5, x1=T - 0.5, y0=0, y1=1,
                     fillcolor="rgba(255,255,255,0.93)", line=dict(width=0)),
                dict(type="rect", xref="x", yref="paper", x0=k - 0.5, x1=k + 0.5, y0=0, y1=1,
                     line=dict(color=INK, width=2.5))]

    fig.update_layout(shapes=shapes(current[0]))
    frames = [{"layout": {"shapes": shapes(k), "title": {"text": t}}} for k, t in zip(current, titles)]
    return animation(fig, frames, labels=labels)


# --------------------------------------------------------------------------
# Next-note probabilities


def probability_bars(probs: np.ndarray, tokens: list[str], marked: list[int], titles: list[str],
                     labels: list[str], *, marked_name: str, hover_names: list[str],
                     reference: np.ndarray | None = None, reference_name: str = "",
                     start: str = "first") -> dict:
    """Bars of p(next token) over the vocabulary, one distribution per frame.

    probs: (F, V); tokens: V labels; marked: per frame a token drawn in orange
    (the target, or the note drawn), -1 for none; reference: (V,) drawn as ticks.
    """
    probs = np.asarray(probs, dtype=float)
    V = probs.shape[1]

    def colors(m):
        return [ORANGE if i == m else BLUE for i in range(V)]

    def texts(p):
        return [f"{v:.0%}" if v >= 0.02 else "" for v in p]

    titles = fit.wrap_all(titles)
    fig = go.Figure(layout=fit.layout(
        titles[0], margin=dict(l=64, r=24, t=8, b=8), bargap=0.18,
        xaxis=dict(title="next token (pitch:beats; | = the end)", tickangle=-60,
                   tickfont=dict(size=14), type="category", automargin=True),
        yaxis=dict(title="probability", range=[0, 1.12], tickformat=".0%", automargin=True),
        legend=fit.legend_below(),
    ))
    fig.add_trace(go.Bar(x=tokens, y=sig(probs[0], 3), name="p(next token)", marker=dict(color=colors(marked[0])),
                         showlegend=False,
                         text=texts(probs[0]), textposition="outside", textfont=dict(size=14), cliponaxis=False,
                         constraintext="none",
                         customdata=hover_names, hovertemplate="%{customdata}: %{y:.1%}<extra></extra>"))
    # legend entries of their own: the bars' legend swatch would take the first bar's colour
    fig.add_trace(go.Bar(x=[None], y=[None], name="p(next token)", marker=dict(color=BLUE), hoverinfo="skip"))
    if marked_name:
        fig.add_trace(go.Bar(x=[None], y=[None], name=marked_name, marker=dict(color=ORANGE), hoverinfo="skip"))
    if reference is not None:
        fig.add_trace(go.Scatter(x=tokens, y=sig(reference, 3), mode="markers", name=reference_name,
                                 marker=dict(symbol="line-ew", size=22, line=dict(width=3, color=INK)),
                                 customdata=hover_names,
                                 hovertemplate="%{customdata}: %{y:.1%} at temperature 1<extra></extra>"))
    frames = [{"traces": [0], "data": [{"y": sig(p, 3), "text": texts(p), "marker": {"color": colors(m)}}],
               "layout": {"title": {"text": t}}}
              for p, m, t in zip(probs, marked, titles)]
    return animation(fig, frames, labels=labels, start=start)


# --------------------------------------------------------------------------
# Curves over training steps


def log_ticks(lo: float, hi: float, most: int = 8) -> list[float]:
    """Tick values for a log axis from lo to hi (> 0): 1-2-5, 1-3 or powers of ten, at most `most`."""
    decades = range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
    for mantissas in ((1, 2, 5), (1, 3), (1,)):
        ticks = [float(f"{m * 10.0 ** e:.12g}") for e in decades for m in mantissas if lo <= m * 10.0 ** e <= hi]
        if len(ticks) <= most:
            return ticks
    return ticks[::int(np.ceil(len(ticks) / most))]


def _tick_text(v: float) -> str:
    return f"{v:g}" if 1e-3 <= v < 1e5 else f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")


def _axis_for(values: list[np.ndarray], log: bool, most: int = 8) -> dict:
    """A fixed y axis (range, ticks) that holds every value, so curves can grow into it."""
    finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.array([1.0])
    if log:
        positive = finite[finite > 0]
        lo, hi = (float(positive.min()), float(positive.max())) if positive.size else (1e-3, 1.0)
        lo, hi = lo / 1.4, hi * 1.4
        ticks = log_ticks(lo, hi, most)
        return dict(type="log", range=[np.log10(lo), np.log10(hi)], tickvals=ticks,
                    ticktext=[_tick_text(t) for t in ticks])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = 0.08 * (hi - lo or 1.0)
    return dict(range=[min(lo - pad, 0.0), hi + pad])


PANEL_TITLE_CHARS = 34      # characters of a 16 px panel title that fit a phone's figure
PANEL_TITLE_LINE_PX = 26    # a panel title's line at the figure's font size (20 px on an exhibit)


def curves_figure(panels: list[dict], labels: list[str], *, frame_x=None, title: str = "",
                  x_title: str = "training step", start: str = "first") -> dict:
    """Panels of curves over training steps, stacked, sharing the x axis.

    panels: [{"title", "ytitle", "log": bool, "series": [{"name", "x", "y", "color", "dash"?, "width"?}],
              "hlines": [{"y", "text", "color"?}]}]; a name used again is one legend entry.
    frame_x: (F,) step up to which every curve is drawn at each frame, or None (static).
    """
    n = len(panels)
    # Panel titles in lines that fit a phone, all as many lines as the longest.
    panel_titles = fit.wrap_all([p["title"] for p in panels], PANEL_TITLE_CHARS)
    panel_lines = len(fit.lines_of(panel_titles[0]))
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.1 + 0.06 * panel_lines if n > 1 else 0.1,
                        subplot_titles=panel_titles)
    fig.update_layout(**fit.layout(title, legend=fit.legend_below(),
                                   margin=dict(l=72, r=24, t=10 + PANEL_TITLE_LINE_PX * panel_lines, b=8)))
    for annotation in fig.layout.annotations:   # the figure's own size: 16 px, 20 px on an exhibit
        annotation.font = dict(color=INK)
    x_max = max(float(np.max(s["x"])) for p in panels for s in p["series"] if len(s["x"]))
    traces, series_all, named = [], [], set()
    shapes, notes = [], []
    for row, panel in enumerate(panels, start=1):
        ys = [np.asarray(s["y"], dtype=float) for s in panel["series"]]
        ys += [np.array([float(h["y"])]) for h in panel.get("hlines", [])]
        axis = _axis_for(ys, panel.get("log", False))
        fig.update_yaxes(title_text=panel["ytitle"], row=row, col=1, **axis)
        for s in panel["series"]:
            x, y = np.asarray(s["x"], dtype=float), np.asarray(s["y"], dtype=float)
            fig.add_trace(go.Scatter(x=sig(x), y=sig(y), mode="lines", name=s["name"], legendgroup=s["name"],
                                     showlegend=s["name"] not in named,
                                     line=dict(color=s["color"], width=s.get("width", 3), dash=s.get("dash", "solid")),
                                     hovertemplate=f"{s['name']}<br>step %{{x}}: %{{y:.4g}}<extra></extra>"),
                          row=row, col=1)
            named.add(s["name"])
            traces.append(len(fig.data) - 1)
            series_all.append((x, y))
        yref = "y" if row == 1 else f"y{row}"
        for h in panel.get("hlines", []):
            color = h.get("color", MUTED)
            shapes.append(dict(type="line", xref="paper", x0=0, x1=1, yref=yref, y0=h["y"], y1=h["y"],
                               line=dict(color=color, width=2, dash="dash")))
            # annotations on a log axis are placed in log10 units; under the line, at the right,
            # where the panel's title above cannot be
            at = float(np.log10(h["y"])) if panel.get("log") else float(h["y"])
            notes.append(dict(text=h["text"], xref="paper", x=1, xanchor="right", yref=yref, y=at,
                              yanchor="top", showarrow=False, font=dict(size=14, color=color),
                              bgcolor="rgba(255,255,255,0.8)"))
    fig.update_layout(shapes=shapes, annotations=list(fig.layout.annotations) + notes)
    fig.update_xaxes(range=[0, x_max * 1.01 or 1], automargin=True)
    fig.update_xaxes(title_text=x_title, row=n, col=1)
    fig.update_yaxes(automargin=True)
    if frame_x is None:
        return static(fig)

    def cursor(at):
        return shapes + [dict(type="line", xref="x", yref="paper", x0=at, x1=at, y0=0, y1=1,
                              line=dict(color=MUTED, width=1.5, dash="dot"))]

    frames = []
    for at in frame_x:
        data = []
        for x, y in series_all:
            keep = x <= at
            data.append({"x": sig(x[keep]), "y": sig(y[keep])})
        frames.append({"traces": traces, "data": data, "layout": {"shapes": cursor(float(at))}})
    return animation(fig, frames, labels=labels, start=start)


def flow_figure(k, flows: np.ndarray, reference: np.ndarray, titles: list[str], labels: list[str], *,
                current_name: str, reference_name: str, start: str = "first") -> dict:
    """||dL_t/dh_{t-k}|| against k (log scale): the reference curve and, per frame, the current one.

    k: (K,) steps back; flows: (F, K); reference: (K,).
    """
    flows, reference = np.asarray(flows, dtype=float), np.asarray(reference, dtype=float)
    values = np.concatenate([flows.ravel(), reference])
    values = values[np.isfinite(values) & (values > 0)]
    titles = fit.wrap_all(titles)
    fig = go.Figure(layout=fit.layout(
        titles[0], margin=dict(l=80, r=24, t=8, b=8),
        xaxis=dict(title="k: how many steps back", range=[-0.5, float(np.max(k)) + 0.5], automargin=True),
        yaxis=dict(title="‖∂L<sub>t</sub> / ∂h<sub>t−k</sub>‖ (log scale)", automargin=True,
                   **_axis_for([values], log=True, most=5)),
        legend=fit.legend_below(),
    ))
    hover = "%{fullData.name}<br>k = %{x} steps back: %{y:.3g}<extra></extra>"
    fig.add_trace(go.Scatter(x=list(map(int, k)), y=sig(reference), mode="lines+markers", name=reference_name,
                             line=dict(color=MUTED, width=3, dash="dash"), marker=dict(size=6), hovertemplate=hover))
    fig.add_trace(go.Scatter(x=list(map(int, k)), y=sig(flows[0]), mode="lines+markers", name=current_name,
                             line=dict(color=VERMILION, width=4), marker=dict(size=7), hovertemplate=hover))
    frames = [{"traces": [1], "data": [{"y": sig(f)}], "layout": {"title": {"text": t}}}
              for f, t in zip(flows, titles)]
    return animation(fig, frames, labels=labels, start=start)


__all__ = ["beats_text", "cell_figure", "log_ticks", "curves_figure", "flow_figure", "generated_roll", "hidden_heatmap",
           "prediction_roll", "probability_bars", "reading_roll", "sig", "tune_roll"]
