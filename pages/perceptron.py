"""Lesson: the song-preference perceptron (seed: visualizing neural networks).

The lesson engine runs the steps; this module holds the layout and one view
per figure of the narration. Training runs come from app.lessons.perceptron
(memoized here); playing and scrubbing them happen in the browser.
"""

from __future__ import annotations

from pathlib import Path

import dash
import numpy as np
from dash import Input, Output, State, dash_table, dcc, html

from app.cache import memoize
from app.lessons import perceptron as experiments
from app.lessons.perceptron import LEARNABLE, PRESETS, UNLEARNABLE, decode_songs, encode_songs, song_titles
from app.ml import optim
from app.ml.datasets import SONG_FEATURES
from app.ml.perceptron import MAX_SONGS, check_songs, plane_in_box
from components import perceptron_figures as figures
from components.engine import Lesson, View, step_index
from components.ids import lesson_id, setting_id
from components.narration import load_steps
from components.settings_schema import Schema, Setting

LESSON = "perceptron"
STEPS = load_steps(Path(__file__).with_suffix(".md"))
MAX_FRAMES = 120

SCHEMA = Schema((
    Setting("optimizer", "Optimizer", "choice", "sgd", choices=tuple(optim.OPTIMIZERS),
            labels=tuple(spec.label for spec in optim.OPTIMIZERS.values())),
    Setting("lr", "Learning rate η", "float", 1.0, low=1e-5, high=100.0, help="10⁻⁵ to 100"),
    Setting("epochs", "Epochs", "int", 300, low=1, high=5000),
    Setting("seed", "Seed", "int", 0, low=0, high=1_000_000, help="starting weights"),
    Setting("songs", "Songs", "text", UNLEARNABLE, widget="hidden",
            pattern=r"[01]{4}(\.[01]{4}){0,%d}" % (MAX_SONGS - 1),
            pattern_help=f"1 to {MAX_SONGS} songs, each four digits 0/1: modern, sad, piano, like"),
))

PAGE = dict(
    path="/perceptron", name="The perceptron", order=1, lesson=True, icon="perceptron.svg",
    title="The perceptron — Learnscape", steps=len(STEPS),
    description="Will Ben like this song? One neuron, three features, and how it learns from four songs.",
)

# Which songs each narrated step trains on; free play uses the table.
STEP_SONGS = {"learnable": LEARNABLE, "predict": LEARNABLE}

training_run = memoize()(experiments.training_run)


def frame_indices(n_params: int, limit: int = MAX_FRAMES) -> np.ndarray:
    """At most `limit` evenly spread indices into 0..n_params-1, first and last included."""
    return np.unique(np.linspace(0, n_params - 1, min(n_params, limit)).round().astype(int))


def songs_for_step(figure: str, table_songs: str) -> str:
    if figure == "free":
        return table_songs
    return STEP_SONGS.get(figure, UNLEARNABLE)


def run_of(values: dict, figure: str) -> tuple[str, dict]:
    """The songs and the training run a step shows (ValueError for songs the model refuses)."""
    songs = songs_for_step(figure, values["songs"])
    try:
        run = training_run(songs, values["optimizer"], float(values["lr"]), int(values["epochs"]),
                           int(values["seed"]))
    except ValueError as error:
        raise ValueError(f"cannot train on these songs: {error}") from error
    return songs, run


# -- views ----------------------------------------------------------------------------------


def training_view(ctx) -> View:
    """Every figure but the update table: the cube, the prediction bars and the curves."""
    songs, run = run_of(ctx.values, ctx.figure)
    notices = [f"Training stopped: {run['message']}. Try a smaller learning rate."] if run["message"] else []
    own_songs_learned = ctx.figure == "free" and songs not in PRESETS and run["loss"][-1] < 0.05
    panels = {"predict": ("predict", "free"), "songs": ("free",)}
    return View(figures=_payloads(ctx.figure, songs, run), notices=notices, achieved=own_songs_learned,
                panels=[name for name, figs in panels.items() if ctx.figure in figs])


def update_view(ctx) -> View:
    """The first update, weight by weight, beside the figures."""
    songs, run = run_of(ctx.values, ctx.figure)
    return View(figures=_payloads(ctx.figure, songs, run), panels=["update"],
                outputs={"update": _update_table(run, ctx.values)})


VIEWS = {"data": training_view, "predictions": training_view, "update": update_view, "train": training_view,
         "why": training_view, "learnable": training_view, "predict": training_view, "free": training_view}

ENGINE = Lesson(
    LESSON, SCHEMA, STEPS, VIEWS,
    graphs={"cube": 460, "bars": 460, "curves": 460},
    panels={"update": "ls-panel", "predict": "ls-panel", "songs": "ls-panel"},
    outputs={"update": (Output(lesson_id("panel", LESSON, name="update"), "children"), [])},
)
show_step = ENGINE.register()


def _payloads(figure: str, songs: str, run: dict) -> dict[str, dict]:
    X, y = decode_songs(songs)
    titles = song_titles(songs)
    T = len(run["loss"]) - 1
    if figure in ("data", "predictions"):
        frames = np.array([0])
    elif figure == "update":
        frames = np.array([0, min(1, T)])
    else:
        frames = frame_indices(T + 1)
    labels = [f"epoch {int(e)} · loss {run['loss'][e]:.3f}" for e in frames]
    polygons = None if figure == "data" else [plane_in_box(run["w"][e], run["b"][e]) for e in frames]
    payloads = {
        "cube": figures.cube_figure(X, y, titles, polygons, labels),
        "bars": figures.prediction_bars(y, titles, run["probs"][frames], run["loss"][frames], labels),
        "curves": figures.training_curves(np.arange(T + 1), run["loss"], run["w"], run["b"], frames, labels),
    }
    start = "last" if figure in ("why", "predict", "free") else "first"
    for payload in payloads.values():
        payload["start"] = start
    return payloads


def _update_table(run: dict, values: dict) -> list:
    """The first update, weight by weight: value, gradient, change, new value."""
    rows = []
    names = [*SONG_FEATURES, "bias"]
    before = [*run["w"][0], run["b"][0]]
    after = [*run["w"][min(1, len(run["w"]) - 1)], run["b"][min(1, len(run["b"]) - 1)]]
    grads = [*run["grads_w"][0], run["grads_b"][0]] if len(run["grads_w"]) else [0.0] * 4
    for name, w0, g, w1 in zip(names, before, grads, after):
        rows.append(html.Tr([html.Td(name), html.Td(f"{w0:+.3f}"), html.Td(f"{g:+.3f}"),
                             html.Td(f"{w1 - w0:+.3f}"), html.Td(f"{w1:+.3f}")]))
    loss0, loss1 = run["loss"][0], run["loss"][min(1, len(run["loss"]) - 1)]
    return [
        html.H3(f"One update with {optim.OPTIMIZERS[values['optimizer']].label}, η = {values['lr']:g}"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in ("", "before", "gradient ∂L/∂w",
                                                             "change", "after")])),
                    html.Tbody(rows)], className="ls-table"),
        html.P(f"Loss before: {loss0:.4f} → after: {loss1:.4f}"),
    ]


# -- layout ---------------------------------------------------------------------------------


def layout(**query) -> html.Div:
    return ENGINE.page(query, stage)


def stage(values: dict, hidden: set) -> list:
    return [
        ENGINE.step_player(label="epoch"),
        html.Div([ENGINE.graph("cube"), ENGINE.graph("bars")], className="ls-figures-row"),
        html.Div(id=ENGINE.panel_id("update"), className="ls-panel ls-hidden"),
        _predict_panel(),
        _songs_panel(values["songs"]),
        ENGINE.graph("curves"),
        html.Div([html.H3("Settings"),
                  html.Div(ENGINE.controls(values, hidden), className="ls-controls")], className="ls-panel"),
    ]


def _predict_panel() -> html.Div:
    return html.Div(
        [
            html.H3("A new song"),
            dcc.Checklist(id=lesson_id("new-song", LESSON), options=list(SONG_FEATURES),
                          value=["sad", "piano"], inline=True, className="ls-checklist"),
            html.P(id=lesson_id("prediction", LESSON), className="ls-prediction"),
        ],
        id=ENGINE.panel_id("predict"), className="ls-panel ls-hidden",
    )


def _songs_panel(songs: str) -> html.Div:
    X, y = decode_songs(songs)
    rows = [{"song": t, **{f: int(v) for f, v in zip(SONG_FEATURES, x)}, "likes": int(l)}
            for t, x, l in zip(song_titles(songs), X, y)]
    columns = [{"name": "song", "id": "song", "editable": False}] + [
        {"name": c, "id": c, "type": "numeric"} for c in (*SONG_FEATURES, "likes")
    ]
    return html.Div(
        [
            html.H3("Songs"),
            dash_table.DataTable(id=lesson_id("songs-table", LESSON), data=rows, columns=columns,
                                 editable=True, row_deletable=True,
                                 style_cell={"fontFamily": "inherit", "fontSize": 16, "padding": "6px"},
                                 style_header={"fontWeight": 600}),
            html.Button("+ Add a song", id=lesson_id("add-song", LESSON), className="ls-prev"),
            html.P(id=lesson_id("songs-message", LESSON), className="ls-message"),
        ],
        id=ENGINE.panel_id("songs"), className="ls-panel ls-hidden",
    )


@dash.callback(
    Output(lesson_id("prediction", LESSON), "children"),
    Output(lesson_id("achieved", LESSON), "data", allow_duplicate=True),
    Input(lesson_id("new-song", LESSON), "value"),
    Input(lesson_id("step", LESSON), "data"),
    *[Input(setting_id(LESSON, name), "value") for name in SCHEMA.names],
    prevent_initial_call="initial_duplicate",
)
def predict_new_song(features, step, *raw):
    values, _ = SCHEMA.clean(dict(zip(SCHEMA.names, raw)))
    index, _ = step_index(step, len(STEPS))
    try:
        songs, run = run_of(values, STEPS[index].figure)
    except ValueError as error:
        return f"Cannot predict: {error}.", []
    chosen = {f for f in features if isinstance(f, str)} & set(SONG_FEATURES) if isinstance(features, list) else set()
    x = np.array([1.0 if f in chosen else 0.0 for f in SONG_FEATURES])
    p = experiments.predict(run, x)
    described = ", ".join(f for f in SONG_FEATURES if f in chosen) or "none of the features"
    verdict = "can't tell" if abs(p - 0.5) < 0.05 else "likes it" if p > 0.5 else "does not like it"
    who = "the perceptron" if verdict == "can't tell" else "Ben"
    best_new = experiments.is_best_new_song(run, songs, x)
    return [f"A song with {described} ({_song_origin(songs, x, best_new)}): {who} {verdict} — p(like) = ",
            html.Strong(f"{p:.0%}")], [index] if best_new and STEPS[index].figure == "predict" else []


def _song_origin(songs: str, x: np.ndarray, best_new: bool) -> str:
    """Whether the song `x` (3,) is one the perceptron was trained on, in words."""
    X, _ = decode_songs(songs)
    same = np.flatnonzero((X == x).all(axis=1))
    if same.size:
        return f"a training song: {song_titles(songs)[same[0]]}"
    return "not in the data; the highest of the new songs" if best_new else "not in the data"


@dash.callback(
    Output(lesson_id("songs-table", LESSON), "data"),
    Input(lesson_id("add-song", LESSON), "n_clicks"),
    State(lesson_id("songs-table", LESSON), "data"),
    prevent_initial_call=True,
)
def add_song(_clicks, rows):
    rows = list(rows) if isinstance(rows, list) else []
    if len(rows) >= MAX_SONGS:
        return dash.no_update
    return rows + [{"song": f"Song {len(rows) + 1}", "modern": 0, "sad": 0, "piano": 0, "likes": 0}]


@dash.callback(
    Output(setting_id(LESSON, "songs"), "value"),
    Output(lesson_id("songs-message", LESSON), "children"),
    Output(lesson_id("songs-message", LESSON), "className"),
    Input(lesson_id("songs-table", LESSON), "data"),
    prevent_initial_call=True,
)
def songs_from_table(rows):
    rows = rows if isinstance(rows, list) else []
    try:
        table = []
        for number, row in enumerate(rows, start=1):
            values = []
            for column in (*SONG_FEATURES, "likes"):
                raw = row.get(column) if isinstance(row, dict) else None
                if str(raw).strip() not in ("0", "1", "0.0", "1.0"):
                    raise ValueError(f"song {number}, {column}: “{str(raw)[:12]}” must be 0 or 1")
                values.append(int(float(raw)))
            table.append(values)
        X = np.array([r[:3] for r in table]) if table else np.zeros((0, 3))
        check_songs(X, np.array([r[3] for r in table]))
    except ValueError as error:
        return dash.no_update, f"Not trained: {error}.", "ls-message is-error"
    return encode_songs(table), f"Training on {len(table)} songs.", "ls-message is-ok"
