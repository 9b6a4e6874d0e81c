"""Lesson: decision boundaries, from the perceptron's plane to deep networks
(seeds: visualizing neural networks; width and depth on the spiral).

Model runs come from app.ml.decision_runs, figures from
components.decision_figures. A deep wide network takes seconds to train, so
`show_step` is a background callback: it trains in a worker process, reports
the epoch it has reached to the page, and keeps every finished run (and an
unfinished one's latest state) in the cache, so no run is trained twice.
Playing and scrubbing a run happen in the browser.
"""

from __future__ import annotations

import hashlib
import math
import time
from pathlib import Path

import dash
import numpy as np
from dash import Input, Output, State, dcc, html

from app import cache
from app.cache import memoize
from app.ml import datasets, decision_runs, optim, train
from app.ml.decision_runs import RunSpec
from app.ml.mlp import ACTIVATIONS, LOSSES
from app.ml.perceptron import Perceptron, plane_in_box, sigmoid
from components import decision_figures as figures
from components.ids import lesson_id, player_id, setting_id
from components.lesson import lesson_shell, setting_control
from components.narration import load_steps
from components.perceptron_figures import cube_figure
from components.player import animated_graph, step_player
from components.settings_schema import Schema, Setting, parse_step
from components.site import job_status_outputs

LESSON = "decision-boundaries"
STEPS = load_steps(Path(__file__).with_suffix(".md"))
STEPS_PLAY = {s.figure: s.play for s in STEPS}

#: An unfinished run's state is saved this often, so a cancelled job's work is kept.
SAVE_EVERY_S = 2.0
#: Progress reports to the page at most this often (seconds).
REPORT_EVERY_S = 0.25
#: Frames of the small multiples of the whole grid (every other recorded frame).
GRID_FRAMES = 21

#: The seed's grid of networks (hidden layers, neurons per layer) and its thin deep net.
GRID = ((1, 5), (1, 20), (1, 100), (5, 5), (5, 20), (5, 100), (10, 5), (10, 20), (10, 100), (20, 5))
GRID_CELLS = ((1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3), (3, 1), (3, 2), (3, 3), (3, 4))
#: Which networks each narrated step trains (figure name -> (layers, width) pairs).
STEP_NETS = {
    "lines": ((0, 1),),
    "width": ((1, 5), (1, 20), (1, 100)),
    "neurons": ((1, 5),),
    "depth5": ((5, 5), (5, 20), (5, 100)),
    "depth10": ((10, 5), (10, 20), (10, 100)),
    "thin": ((1, 100), (20, 5)),
    "grid": GRID,
}
#: Single-network steps get a finer grid, and the neuron step its neurons' maps.
FINE_RESOLUTION = 64
#: Free-play networks with more parameters than this get a coarser decision map (it costs as much as training).
BIG_NETWORK = 20_000
NEURON_RESOLUTION = 24

# The perceptron lesson's "better data" run (its default settings) for the plane step.
PERCEPTRON_EPOCHS, PERCEPTRON_LR, PERCEPTRON_SEED = 300, 1.0, 0

DATASET_CHOICES = tuple(datasets.DATASETS_2D)
SCHEMA = Schema((
    Setting("dataset", "Data set", "choice", "spiral3", choices=DATASET_CHOICES),
    Setting("points", "Points", "int", 600, low=decision_runs.POINTS_MIN, high=decision_runs.POINTS_MAX),
    Setting("noise", "Noise", "float", 0.2, low=0.0, high=datasets.NOISE_MAX),
    Setting("test", "Test share", "float", 0.5, low=0.0, high=datasets.TEST_SHARE_MAX),
    Setting("data_seed", "Data seed", "int", 0, low=0, high=1_000_000),
    Setting("layers", "Hidden layers", "int", 2, low=0, high=decision_runs.LAYERS_MAX),
    Setting("width", "Neurons per layer", "int", 8, low=1, high=decision_runs.WIDTH_MAX),
    Setting("activation", "Activation", "choice", "relu", choices=tuple(ACTIVATIONS)),
    Setting("loss", "Loss", "choice", "softmax_ce", choices=tuple(LOSSES)),
    Setting("optimizer", "Optimizer", "choice", "adam", choices=tuple(optim.OPTIMIZERS)),
    Setting("lr", "Learning rate", "float", 0.01, low=1e-6, high=100.0),
    Setting("batch", "Batch size", "int", 0, low=0, high=decision_runs.POINTS_MAX),
    Setting("reg", "Regularization", "choice", "none", choices=decision_runs.REGULARIZATIONS),
    Setting("rate", "Regularization rate", "float", 0.0, low=0.0, high=10.0),
    Setting("epochs", "Epochs", "int", 300, low=1, high=decision_runs.EPOCHS_MAX),
    Setting("seed", "Seed", "int", 0, low=0, high=1_000_000),
    Setting("discretize", "Discretize", "bool", False),
))

PAGE = dict(
    path="/decision-boundaries", name="Decision boundaries", order=3, lesson=True,
    icon="decision-boundaries.svg", title="Decision boundaries — Learnscape", steps=len(STEPS),
    description="From the perceptron's flat plane to the curved areas of deep networks: "
                "what width and depth do to a three-arm spiral.",
)

DATASET_LABELS = {name: spec.label for name, spec in datasets.DATASETS_2D.items()}
ACTIVATION_LABELS = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "linear": "linear (none)"}
LOSS_LABELS = {"softmax_ce": "cross-entropy (softmax)", "squared_error": "squared error"}
REG_LABELS = {"none": "none", "l1": "L1", "l2": "L2"}


# --------------------------------------------------------------------------
# Runs: which ones a step shows, trained in slices and kept in the cache
# --------------------------------------------------------------------------


def net_name(layers: int, width: int) -> str:
    return "no hidden layer" if layers == 0 else f"{layers} × {width}"


def lesson_spec(layers: int, width: int, *, fine: bool = False, neurons: bool = False) -> RunSpec:
    """The lesson's run of a layers × width network (see decision_runs.width_depth_spec)."""
    return decision_runs.width_depth_spec(
        layers, width if layers else 1, 0,
        resolution=FINE_RESOLUTION if fine else 40,
        neuron_resolution=NEURON_RESOLUTION if neurons else 0,
    )


def free_spec(values: dict) -> RunSpec:
    """The free-play run of cleaned settings `values` (not yet checked against the run limits)."""
    layers, width = values["layers"], values["width"] if values["layers"] else 1
    small = 1 <= layers * width <= decision_runs.NEURON_MAPS_MAX
    classes = datasets.DATASETS_2D[values["dataset"]].n_classes
    big = decision_runs.param_count(layers, width, classes) > BIG_NETWORK
    return RunSpec(
        dataset=values["dataset"], points=values["points"], noise=float(values["noise"]),
        data_seed=values["data_seed"], test_share=float(values["test"]), layers=layers, width=width,
        activation=values["activation"], loss=values["loss"], optimizer=values["optimizer"],
        lr=float(values["lr"]), batch_size=values["batch"], regularization=values["reg"],
        reg_rate=float(values["rate"]) if values["reg"] != "none" else 0.0,
        epochs=values["epochs"], seed=values["seed"], frames=min(50, values["epochs"]),
        resolution=40 if big else 60, neuron_resolution=16 if small else 0,
    )


def step_specs(figure: str, values: dict) -> tuple[list[RunSpec], list[str]]:
    """The runs step `figure` shows, and notices (a free-play run out of limits
    is replaced by the default one, with the reason)."""
    if figure == "free":
        spec = free_spec(values)
        try:
            decision_runs.build(spec)
        except ValueError as error:
            return [free_spec(SCHEMA.defaults())], [f"Cannot train this network: {error}. "
                                                   "Showing the default network instead."]
        return [spec], []
    nets = STEP_NETS.get(figure, ())
    single = len(nets) == 1
    return [lesson_spec(l, w, fine=single, neurons=figure == "neurons") for l, w in nets], []


def _key(kind: str, spec: RunSpec) -> str:
    return f"{LESSON}:{kind}:" + hashlib.sha1(repr(tuple(spec)).encode()).hexdigest()


def run_of(spec: RunSpec, report=None) -> dict:
    """The finished run of `spec` (see decision_runs.finish), from the cache or trained now.

    Training resumes from a state an interrupted job left in the cache, saves
    its own state every SAVE_EVERY_S seconds, and calls report(epochs done)
    after every chunk of epochs. Raises ValueError for a spec out of limits.
    """
    found, run = cache.get(_key("run", spec))
    if found:
        return run
    found, progress = cache.get(_key("progress", spec))
    if not (found and isinstance(progress, decision_runs.Progress)):
        progress = decision_runs.start(spec)
    chunk = decision_runs.epochs_per_chunk(spec)
    saved = time.monotonic()
    while not progress.done:
        progress = decision_runs.advance(spec, progress, chunk)
        if report is not None:
            report(progress.epoch)
        if time.monotonic() - saved > SAVE_EVERY_S and not progress.done:
            cache.set(_key("progress", spec), progress)
            saved = time.monotonic()
    run = decision_runs.finish(spec, progress)
    cache.set(_key("run", spec), run)
    cache.set(_key("progress", spec), None, timeout=1)
    return run


def width_depth_run(layers: int, width: int, seed: int = 0, **overrides) -> dict:
    """The lesson's spiral run of a `layers` × `width` relu network, cached.

    overrides: RunSpec fields, e.g. keep_path=True for the parameter path at
    every frame ("path": (F, n_params)); see decision_runs.finish for the dict.
    """
    return run_of(decision_runs.width_depth_spec(layers, width, seed, **overrides))


@memoize()
def plane_run(epochs: int = PERCEPTRON_EPOCHS, lr: float = PERCEPTRON_LR, seed: int = PERCEPTRON_SEED) -> dict:
    """The perceptron lesson's run on its learnable songs: w (T+1, 3), b (T+1,),
    loss (T+1,) and accuracy (T+1,) on the four songs."""
    X, y, _, _ = datasets.songs_learnable()
    model = Perceptron(n_features=3)
    history = train.run(model, optim.sgd(lr=lr), (X, y), epochs, seed)
    w, b = history.params["w"], history.params["b"]
    z = w @ X.T + b[:, None]
    loss = np.mean(np.logaddexp(0.0, z) - y * z, axis=1)
    return {"w": w, "b": b, "loss": loss, "accuracy": np.mean((sigmoid(z) > 0.5) == y, axis=1),
            "X": X, "y": y}


# --------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------


#: While a step's runs train, its old figures stay, dimmed, under a spinner.
LOADING = dict(type="circle", delay_show=400, overlay_style={"visibility": "visible", "opacity": 0.4})


def layout(**query) -> html.Div:
    values, notices = SCHEMA.clean(query)
    step, step_notices = parse_step(query.get("step"), len(STEPS))
    hidden = SCHEMA.hidden(query)
    stage = [
        step_player(LESSON, label="epoch"),
        html.Div(
            [dcc.Loading(animated_graph(LESSON, "areas", height=540), **LOADING),
             html.Div([dcc.Loading(animated_graph(LESSON, "curves", height=330), **LOADING),
                       html.Div(animated_graph(LESSON, "neurons", height=300),
                                id=lesson_id("neurons-box", LESSON), className="ls-hidden")],
                      className="db-side")],
            id=lesson_id("figures", LESSON), className="db-figures",
        ),
        _settings_panel(values, hidden),
    ]
    return lesson_shell(LESSON, STEPS, stage, step=step, notices=notices + step_notices,
                        defaults=SCHEMA.defaults())


def _settings_panel(values: dict, hidden: set) -> html.Div:
    def text(name, label, help_text):
        return setting_control(LESSON, name, label,
                               dcc.Input(id=setting_id(LESSON, name), type="text", value=str(values[name]),
                                         debounce=True, autoComplete="off"),
                               hidden=name in hidden, help_text=help_text)

    def choice(name, label, options):
        return setting_control(LESSON, name, label,
                               dcc.Dropdown(id=setting_id(LESSON, name), value=values[name], clearable=False,
                                            options=[{"label": l, "value": v} for v, l in options.items()]),
                               hidden=name in hidden)

    limit = f"{decision_runs.WORK_MAX:.0e}".replace("e+", "·10^")
    groups = [
        ("Data", [
            choice("dataset", "Data set", DATASET_LABELS),
            text("points", "Points", f"{decision_runs.POINTS_MIN} to {decision_runs.POINTS_MAX:,}"),
            text("noise", "Noise", f"0 to {datasets.NOISE_MAX:g}"),
            text("test", "Test share", f"0 to {datasets.TEST_SHARE_MAX:g} of the points"),
            text("data_seed", "Data seed", "which random points"),
            html.Button("↻ New points", id=lesson_id("regenerate", LESSON), className="ls-prev db-regenerate"),
        ]),
        ("Network", [
            text("layers", "Hidden layers", f"0 to {decision_runs.LAYERS_MAX}"),
            text("width", "Neurons per layer", f"1 to {decision_runs.WIDTH_MAX}"),
            choice("activation", "Activation", ACTIVATION_LABELS),
            choice("loss", "Loss", LOSS_LABELS),
        ]),
        ("Training", [
            choice("optimizer", "Optimizer", {n: s.label for n, s in optim.OPTIMIZERS.items()}),
            text("lr", "Learning rate", "10⁻⁶ to 100"),
            text("batch", "Batch size", "0 = all training points"),
            choice("reg", "Regularization", REG_LABELS),
            text("rate", "Regularization rate", "0 to 10"),
            text("epochs", "Epochs", f"1 to {decision_runs.EPOCHS_MAX:,}"),
            text("seed", "Seed", "starting weights"),
        ]),
        ("View", [
            setting_control(LESSON, "discretize", "Decision areas",
                            dcc.Checklist(id=setting_id(LESSON, "discretize"),
                                          options=[{"label": " discretize", "value": "on"}],
                                          value=["on"] if values["discretize"] else [],
                                          className="ls-checklist"),
                            hidden="discretize" in hidden, help_text="one flat color per class"),
        ]),
    ]
    return html.Div(
        [html.H3("Your network")]
        + [html.Div([html.H4(title, className="db-group-title"), html.Div(controls, className="ls-controls")],
                    className="db-group") for title, controls in groups]
        + [html.P(f"Runs are limited to about {limit} multiply-adds (epochs × parameters × points) "
                  f"and {decision_runs.STEPS_MAX:,} optimizer steps.", className="ls-control-help")],
        id=lesson_id("settings-panel", LESSON), className="ls-panel ls-hidden",
    )


# --------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------


def _step_index(step) -> int:
    return min(max(step, 0), len(STEPS) - 1) if isinstance(step, int) and not isinstance(step, bool) else 0


def _notice_outputs(notices: list[str]) -> tuple[list, str]:
    return [html.P(n) for n in notices], "ls-notices" if notices else "ls-notices is-empty"


@dash.callback(
    Output({"type": "pl-frames", "player": LESSON, "name": "areas"}, "data"),
    Output({"type": "pl-frames", "player": LESSON, "name": "curves"}, "data"),
    Output({"type": "pl-frames", "player": LESSON, "name": "neurons"}, "data"),
    Output(player_id("graph", LESSON, name="areas"), "style"),
    Output(player_id("graph", LESSON, name="neurons"), "style"),
    Output(lesson_id("neurons-box", LESSON), "className"),
    Output(lesson_id("settings-panel", LESSON), "className"),
    Output(lesson_id("figures", LESSON), "className"),
    Output(lesson_id("achieved", LESSON), "data"),
    Output(lesson_id("notices", LESSON), "children"),
    Output(lesson_id("notices", LESSON), "className"),
    Input(lesson_id("step", LESSON), "data"),
    *[Input(setting_id(LESSON, name), "value") for name in SCHEMA.names],
    background=True,
    **job_status_outputs(),
    cancel=[Input("_pages_location", "pathname")],
    interval=250,
)
def show_step(set_progress, step, *raw):
    """Train (or fetch) the runs of the current step and draw them.

    set_progress([text, fraction]) tells the page how far training has got.
    """
    index = _step_index(step)
    figure = STEPS[index].figure
    values, notices = SCHEMA.clean(dict(zip(SCHEMA.names, raw)))
    if figure != "free":
        notices = []  # the settings only matter in free play
    try:
        specs, spec_notices = step_specs(figure, values)
        runs = _train(specs, set_progress)
        outputs = _figures(index, figure, values, specs, runs)
    except ValueError as error:  # a limit, or the server too busy: say so, keep the page working
        empty = figures.placeholder(f"Cannot show this step: {error}")
        return (empty, figures.placeholder(), figures.placeholder(), {"height": "300px"}, {"height": "0px"},
                "ls-hidden", "ls-panel" if figure == "free" else "ls-panel ls-hidden", "db-figures", [],
                *_notice_outputs(notices + [f"Cannot show this step: {error}."]))
    notices += spec_notices
    for spec, run in zip(specs, runs):
        if run["message"]:
            notices.append(f"Training of {net_name(spec.layers, spec.width)} stopped: {run['message']}. "
                           "Try a smaller learning rate.")
    return (*outputs, *_notice_outputs(notices))


def _train(specs: list[RunSpec], set_progress) -> list[dict]:
    """The runs of `specs`, trained now if the cache does not have them, with progress reports."""
    runs = []
    last = [0.0]
    for number, spec in enumerate(specs):
        name = net_name(spec.layers, spec.width)
        of = f" (network {number + 1} of {len(specs)})" if len(specs) > 1 else ""

        def report(epoch, spec=spec, number=number, name=name, of=of):
            if time.monotonic() - last[0] >= REPORT_EVERY_S:
                last[0] = time.monotonic()
                set_progress([f"Training {name}{of}: epoch {epoch} of {spec.epochs}…",
                              f"{(number + epoch / spec.epochs) / len(specs):.3f}"])

        runs.append(run_of(spec, report))
    return runs


def _figures(index: int, figure: str, values: dict, specs: list[RunSpec], runs: list[dict]) -> tuple:
    settings_class = "ls-panel" if figure == "free" else "ls-panel ls-hidden"
    if figure in ("plane", ""):
        areas, curves = _plane_payloads()
        neurons, neuron_style, neuron_class = figures.placeholder(), {"height": "0px"}, "ls-hidden"
        return (areas, curves, neurons, {"height": "520px"}, neuron_style, neuron_class, settings_class,
                "db-figures is-pair", [])
    discretize = bool(values["discretize"]) and figure == "free"
    if figure == "grid":
        payloads = _grid_payloads(specs, runs)
        style, row_class = {"height": "760px"}, "db-figures"
    elif len(specs) > 1:
        payloads = _multi_payloads(specs, runs)
        style, row_class = {"height": "420px" if len(specs) == 3 else "480px"}, "db-figures"
    else:
        payloads = _single_payloads(specs[0], runs[0], discretize, with_test=figure == "free")
        style, row_class = {"height": "560px"}, "db-figures is-pair"
    areas, curves, neurons = payloads
    has_neurons = runs[0]["neurons"] is not None and len(specs) == 1
    neuron_rows = math.ceil(runs[0]["neurons"].shape[1] / _neuron_columns(runs[0])) if has_neurons else 0
    for payload in (areas, curves, neurons):
        payload["autoplay"] = STEPS_PLAY.get(figure, False)
        payload["start"] = "last" if figure in ("free", "grid") else "first"
    achieved = [index] if figure == "free" and _task_done(specs[0], runs[0]) else []
    return (areas, curves, neurons, style, {"height": f"{70 + 125 * neuron_rows}px"},
            "db-neurons" if has_neurons else "ls-hidden", settings_class, row_class, achieved)


def _neuron_columns(run: dict) -> int:
    """Small maps per row beside the decision areas: 2 to 4."""
    return min(4, max(2, math.ceil(math.sqrt(run["neurons"].shape[1]))))


def _task_done(spec: RunSpec, run: dict) -> bool:
    """Free play's task: a thin deep network (at least 10 layers of at most 5) stuck at the start."""
    return spec.layers >= 10 and spec.width <= 5 and run["diverged_at"] is None and run["loss"][-1] > 1.0


def _frame_labels(epochs: np.ndarray) -> list[str]:
    return [f"epoch {int(e)}" for e in epochs]


def _caption(run: dict, epoch: int, *, short: bool = False) -> str:
    at = int(np.searchsorted(run["curve_epochs"], epoch))
    at = min(at, len(run["curve_epochs"]) - 1)
    loss, acc = run["loss"][at], run["accuracy"][at]
    return percent(acc) if short else f"loss {loss:.3g} · {percent(acc)}"


def percent(fraction: float) -> str:
    """A share as a whole percentage, with one decimal where rounding would claim 0 % or 100 %."""
    if not math.isfinite(fraction):
        return "–"
    whole = f"{fraction:.0%}"
    return f"{fraction:.1%}" if whole in ("0%", "100%") and 0 < fraction < 1 else whole


def _panel(spec: RunSpec, run: dict, frames: np.ndarray, *, discretize: bool = False, with_test: bool = False,
           short: bool = False, title: str | None = None) -> dict:
    epochs = run["frame_epochs"][frames]
    return {
        "title": title or net_name(spec.layers, spec.width),
        "xs": run["xs"],
        "z": figures.area_z(run["grid_class"][frames], run["grid_confidence"][frames], discretize),
        "X": run["X_train"], "y": run["y_train"],
        "X_test": run["X_test"] if with_test else None, "y_test": run["y_test"] if with_test else None,
        "captions": [_caption(run, e, short=short) for e in epochs],
    }


def _series(spec: RunSpec, run: dict, *, with_test: bool = False, color: str | None = None) -> dict:
    series = {"name": net_name(spec.layers, spec.width), "epochs": run["curve_epochs"], "loss": run["loss"],
              "accuracy": run["accuracy"]}
    if spec.layers in (1, 5, 10, 20) and spec.width in figures.WIDTH_COLORS and color is None:
        series["color"] = figures.WIDTH_COLORS[spec.width] if spec.layers != 20 else figures.BLACK
        series["dash"] = figures.DEPTH_DASHES.get(spec.layers, "solid")
    elif color:
        series["color"] = color
    if with_test:
        series["test_loss"], series["test_accuracy"] = run["test_loss"], run["test_accuracy"]
    return series


def _class_names(spec: RunSpec) -> list[str]:
    if spec.dataset.startswith("spiral"):
        return [f"arm {c + 1}" for c in range(datasets.DATASETS_2D[spec.dataset].n_classes)]
    return [f"class {c}" for c in range(datasets.DATASETS_2D[spec.dataset].n_classes)]


def _single_payloads(spec: RunSpec, run: dict, discretize: bool, *, with_test: bool) -> tuple:
    frames = np.arange(len(run["frame_epochs"]))
    labels = _frame_labels(run["frame_epochs"])
    title = "Your network: " + net_name(spec.layers, spec.width) if with_test else \
        ("Logistic regression" if spec.layers == 0 else net_name(spec.layers, spec.width))
    areas = figures.areas_figure([_panel(spec, run, frames, discretize=discretize, with_test=with_test,
                                         title=title)],
                                 run["classes"], labels, class_names=_class_names(spec))
    curves = figures.curves_figure([_series(spec, run, with_test=with_test, color=figures.BLUE)],
                                   run["frame_epochs"], labels, stacked=True,
                                   loss_name=LOSS_LABELS[spec.loss].split(" (")[0])
    if run["neurons"] is not None:
        names = [f"layer {l + 1} · {j + 1}" for l in range(spec.layers) for j in range(spec.width)]
        neurons = figures.neurons_figure(run["neurons"], names, run["window"], labels,
                                         columns=_neuron_columns(run), activation=spec.activation)
    else:
        neurons = figures.placeholder()
    return areas, curves, neurons


def _multi_payloads(specs: list[RunSpec], runs: list[dict]) -> tuple:
    frames = np.arange(len(runs[0]["frame_epochs"]))
    labels = _frame_labels(runs[0]["frame_epochs"])
    panels = [_panel(s, r, frames) for s, r in zip(specs, runs)]
    areas = figures.areas_figure(panels, runs[0]["classes"], labels, class_names=_class_names(specs[0]))
    curves = figures.curves_figure([_series(s, r) for s, r in zip(specs, runs)], runs[0]["frame_epochs"], labels)
    return areas, curves, figures.placeholder()


def _grid_payloads(specs: list[RunSpec], runs: list[dict]) -> tuple:
    total = len(runs[0]["frame_epochs"])
    frames = np.unique(np.linspace(0, total - 1, min(GRID_FRAMES, total)).round().astype(int))
    labels = _frame_labels(runs[0]["frame_epochs"][frames])
    panels = [_panel(s, r, frames, short=True) for s, r in zip(specs, runs)]
    areas = figures.areas_figure(panels, runs[0]["classes"], labels, cells=GRID_CELLS,
                                 class_names=_class_names(specs[0]))
    curves = figures.curves_figure([_series(s, r) for s, r in zip(specs, runs)],
                                   runs[0]["frame_epochs"][frames], labels)
    return areas, curves, figures.placeholder()


def _plane_payloads() -> tuple[dict, dict]:
    run = plane_run()
    T = len(run["loss"]) - 1
    frames = np.unique(np.linspace(0, T, 61).round().astype(int))
    labels = [f"epoch {int(e)} · loss {run['loss'][e]:.3f}" for e in frames]
    titles = [t for t, *_ in datasets.SONGS_LEARNABLE]
    polygons = [plane_in_box(run["w"][e], run["b"][e]) for e in frames]
    cube = cube_figure(run["X"], run["y"], titles, polygons, labels)
    curves = figures.curves_figure([{"name": "perceptron", "epochs": np.arange(T + 1), "loss": run["loss"],
                                     "accuracy": run["accuracy"], "color": figures.PURPLE}],
                                   frames, labels, stacked=True, loss_name="binary cross-entropy")
    for payload in (cube, curves):
        payload["autoplay"], payload["start"] = STEPS_PLAY.get("plane", False), "first"
    return cube, curves


@dash.callback(
    Output(setting_id(LESSON, "data_seed"), "value"),
    Input(lesson_id("regenerate", LESSON), "n_clicks"),
    State(setting_id(LESSON, "data_seed"), "value"),
    prevent_initial_call=True,
)
def regenerate(_clicks, data_seed):
    """New random points: the next data seed (back to 0 after the largest)."""
    return SCHEMA.next_value("data_seed", data_seed)
