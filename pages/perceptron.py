"""Lesson: the song-preference perceptron (seed: visualizing neural networks).

Figures and the step player come from components; the model from app.ml.
Each change of step or setting asks the server for one (memoized) training
run; playing and scrubbing it happen in the browser.
"""

from __future__ import annotations

from pathlib import Path

import dash
import numpy as np
from dash import Input, Output, State, dash_table, dcc, html

from app.cache import memoize
from app.ml import optim, train
from app.ml.datasets import SONG_FEATURES, SONGS_LEARNABLE, SONGS_UNLEARNABLE
from app.ml.perceptron import MAX_SONGS, Perceptron, check_songs, plane_in_box, sigmoid
from components import perceptron_figures as figures
from components.ids import lesson_id, setting_id
from components.lesson import lesson_shell, setting_control
from components.narration import load_steps
from components.player import animated_graph, step_player
from components.settings_schema import Schema, Setting, parse_step

LESSON = "perceptron"
STEPS = load_steps(Path(__file__).with_suffix(".md"))
MAX_FRAMES = 120


def encode_songs(rows) -> str:
    """Songs as link text: one group of four 0/1 digits (modern, sad, piano, like) per song."""
    return ".".join("".join(str(int(v)) for v in row) for row in rows)


def decode_songs(text: str) -> tuple[np.ndarray, np.ndarray]:
    """X (n, 3), y (n,) from `encode_songs` text."""
    table = np.array([[int(c) for c in group] for group in text.split(".")], dtype=float)
    return table[:, :3], table[:, 3]


PRESETS = {
    encode_songs([r[1:] for r in SONGS_UNLEARNABLE]): [r[0] for r in SONGS_UNLEARNABLE],
    encode_songs([r[1:] for r in SONGS_LEARNABLE]): [r[0] for r in SONGS_LEARNABLE],
}
UNLEARNABLE, LEARNABLE = list(PRESETS)

SCHEMA = Schema((
    Setting("optimizer", "Optimizer", "choice", "sgd", choices=tuple(optim.OPTIMIZERS)),
    Setting("lr", "Learning rate", "float", 1.0, low=1e-5, high=100.0),
    Setting("epochs", "Epochs", "int", 300, low=1, high=5000),
    Setting("seed", "Seed", "int", 0, low=0, high=1_000_000),
    Setting("songs", "Songs", "text", UNLEARNABLE,
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
STEPS_PLAY = {s.figure: s.play for s in STEPS}


def song_titles(songs: str) -> list[str]:
    return PRESETS.get(songs) or [f"Song {i + 1}" for i in range(songs.count(".") + 1)]


@memoize()
def training_run(songs: str, optimizer: str, lr: float, epochs: int, seed: int) -> dict:
    """One training run on `songs` (see encode_songs), with every epoch's numbers.

    Returns w (T+1, 3), b (T+1,), probs (T+1, n), loss (T+1,) full-data loss,
    grads_w (T, 3), message (why it stopped early, or "").
    """
    X, y = check_songs(*decode_songs(songs))
    model = Perceptron(n_features=3)
    history = train.run(model, optim.make(optimizer, lr=lr), (X, y), epochs, seed)
    w, b = history.params["w"], history.params["b"]
    z = w @ X.T + b[:, None]
    loss = np.mean(np.logaddexp(0.0, z) - y * z, axis=1)
    return {"w": w, "b": b, "probs": sigmoid(z), "loss": loss, "grads_w": history.grads["w"],
            "grads_b": history.grads["b"], "message": history.message}


def frame_indices(n_params: int, limit: int = MAX_FRAMES) -> np.ndarray:
    """At most `limit` evenly spread indices into 0..n_params-1, first and last included."""
    return np.unique(np.linspace(0, n_params - 1, min(n_params, limit)).round().astype(int))


def layout(**query) -> html.Div:
    values, notices = SCHEMA.clean(query)
    step, step_notices = parse_step(query.get("step"), len(STEPS))
    hidden = SCHEMA.hidden(query)
    stage = [
        step_player(LESSON, label="epoch"),
        html.Div([animated_graph(LESSON, "cube", height=460), animated_graph(LESSON, "bars", height=460)],
                 className="ls-figures-row"),
        html.Div(id=lesson_id("update", LESSON), className="ls-panel ls-hidden"),
        _predict_panel(),
        _songs_panel(values["songs"]),
        animated_graph(LESSON, "curves", height=460),
        _settings_panel(values, hidden),
    ]
    return lesson_shell(LESSON, STEPS, stage, step=step, notices=notices + step_notices,
                        defaults=SCHEMA.defaults())


def _settings_panel(values: dict, hidden: set) -> html.Div:
    options = [{"label": spec.label, "value": name} for name, spec in optim.OPTIMIZERS.items()]

    def text_input(name):
        return dcc.Input(id=setting_id(LESSON, name), type="text",
                         value=str(values[name]), debounce=True)

    return html.Div(
        [
            html.H3("Settings"),
            html.Div(
                [
                    setting_control(LESSON, "optimizer", "Optimizer", dcc.Dropdown(
                        id=setting_id(LESSON, "optimizer"), options=options, value=values["optimizer"],
                        clearable=False), hidden="optimizer" in hidden),
                    setting_control(LESSON, "lr", "Learning rate η", text_input("lr"),
                                    hidden="lr" in hidden, help_text="10⁻⁵ to 100"),
                    setting_control(LESSON, "epochs", "Epochs", text_input("epochs"),
                                    hidden="epochs" in hidden, help_text="1 to 5,000"),
                    setting_control(LESSON, "seed", "Seed", text_input("seed"),
                                    hidden="seed" in hidden, help_text="starting weights"),
                ],
                className="ls-controls",
            ),
        ],
        className="ls-panel",
    )


def _predict_panel() -> html.Div:
    return html.Div(
        [
            html.H3("A new song"),
            dcc.Checklist(id=lesson_id("new-song", LESSON), options=list(SONG_FEATURES),
                          value=["sad", "piano"], inline=True, className="ls-checklist"),
            html.P(id=lesson_id("prediction", LESSON), className="ls-prediction"),
        ],
        id=lesson_id("predict-panel", LESSON), className="ls-panel ls-hidden",
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
            dcc.Input(id=setting_id(LESSON, "songs"), type="hidden", value=songs),
        ],
        id=lesson_id("songs-panel", LESSON), className="ls-panel ls-hidden",
    )


def songs_for_step(figure: str, table_songs: str) -> str:
    if figure == "free":
        return table_songs
    return STEP_SONGS.get(figure, UNLEARNABLE)


def _run_or_message(values: dict, songs: str) -> tuple[dict | None, str]:
    try:
        return training_run(songs, values["optimizer"], float(values["lr"]), int(values["epochs"]),
                            int(values["seed"])), ""
    except ValueError as error:
        return None, f"Cannot train: {error}."


@dash.callback(
    Output({"type": "pl-frames", "player": LESSON, "name": "cube"}, "data"),
    Output({"type": "pl-frames", "player": LESSON, "name": "bars"}, "data"),
    Output({"type": "pl-frames", "player": LESSON, "name": "curves"}, "data"),
    Output(lesson_id("update", LESSON), "children"),
    Output(lesson_id("update", LESSON), "className"),
    Output(lesson_id("predict-panel", LESSON), "className"),
    Output(lesson_id("songs-panel", LESSON), "className"),
    Output(lesson_id("notices", LESSON), "children"),
    Output(lesson_id("notices", LESSON), "className"),
    Output(lesson_id("achieved", LESSON), "data"),
    Input(lesson_id("step", LESSON), "data"),
    *[Input(setting_id(LESSON, name), "value") for name in SCHEMA.names],
)
def show_step(step, *raw):
    values, notices = SCHEMA.clean(dict(zip(SCHEMA.names, raw)))
    index = min(max(int(step or 0), 0), len(STEPS) - 1) if isinstance(step, int) else 0
    figure = STEPS[index].figure
    songs = songs_for_step(figure, values["songs"])
    run, error = _run_or_message(values, songs)
    if run is None:
        notices.append(error)
        songs, run = UNLEARNABLE, training_run(UNLEARNABLE, "sgd", 1.0, 300, 0)
    if run["message"]:
        notices.append(f"Training stopped: {run['message']}. Try a smaller learning rate.")
    payloads = _payloads(figure, songs, run)
    update = _update_table(run, values) if figure == "update" else []
    panel = "ls-panel"
    hidden = "ls-panel ls-hidden"
    own_songs_learned = figure == "free" and songs not in PRESETS and run["loss"][-1] < 0.05
    return (*payloads, update, panel if figure == "update" else hidden,
            panel if figure in ("predict", "free") else hidden,
            panel if figure == "free" else hidden,
            [html.P(n) for n in notices], "ls-notices" if notices else "ls-notices is-empty",
            [index] if own_songs_learned else [])


def _payloads(figure: str, songs: str, run: dict) -> tuple[dict, dict, dict]:
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
    cube = figures.cube_figure(X, y, titles, polygons, labels)
    bars = figures.prediction_bars(y, titles, run["probs"][frames], run["loss"][frames], labels)
    epochs = np.arange(T + 1)
    curves = figures.training_curves(epochs, run["loss"], run["w"], run["b"], frames, labels)
    autoplay = STEPS_PLAY.get(figure, False)
    start = "last" if figure in ("why", "predict", "free") else "first"
    for payload in (cube, bars, curves):
        payload["autoplay"], payload["start"] = autoplay, start
    return cube, bars, curves


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
    index = step if isinstance(step, int) and 0 <= step < len(STEPS) else 0
    songs = songs_for_step(STEPS[index].figure, values["songs"])
    run, error = _run_or_message(values, songs)
    if run is None:
        return error, []
    chosen = {f for f in features if isinstance(f, str)} & set(SONG_FEATURES) if isinstance(features, list) else set()
    x = np.array([1.0 if f in chosen else 0.0 for f in SONG_FEATURES])
    p = float(sigmoid(x @ run["w"][-1] + run["b"][-1]))
    described = ", ".join(f for f in SONG_FEATURES if f in chosen) or "none of the features"
    verdict = "can't tell" if abs(p - 0.5) < 0.05 else "likes it" if p > 0.5 else "does not like it"
    who = "the perceptron" if verdict == "can't tell" else "Ben"
    sure_like = STEPS[index].figure == "predict" and p > 0.9
    return [f"A song with {described}: {who} {verdict} — p(like) = ", html.Strong(f"{p:.0%}")], \
        [index] if sure_like else []


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
