"""Lesson: decision boundaries, from the perceptron's plane to deep networks
(seeds: visualizing neural networks; width and depth on the spiral).

The lesson engine runs the steps; this module holds the layout and one view
per figure of the narration. Runs come from app.lessons.decision_boundaries,
figures from components.decision_figures. A deep wide network takes seconds
to train, so the step callback is a background callback: it trains in a
worker process, reports the epoch it has reached to the page, and keeps every
finished run (and an unfinished one's latest state) in the cache, so no run
is trained twice. Playing and scrubbing a run happen in the browser.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import dash
import numpy as np
from dash import Input, Output, State, dcc, html

from app import cache
from app.cache import memoize
from app.lessons import decision_boundaries as experiments
from app.lessons import own_points
from app.ml import datasets, decision_runs, optim
from app.ml.decision_runs import RunSpec
from app.ml.mlp import ACTIVATIONS, LOSSES
from app.ml.perceptron import plane_in_box
from components import decision_figures as figures
from components import point_editor
from components.engine import Lesson, View
from components.ids import lesson_id, player_id, setting_id
from components.narration import load_steps
from components.perceptron_figures import cube_figure
from components.site import job_status_outputs
from components.settings_schema import Schema, Setting

LESSON = "decision-boundaries"
STEPS = load_steps(Path(__file__).with_suffix(".md"))

#: Progress reports to the page at most this often (seconds).
REPORT_EVERY_S = 0.25
#: Frames of the small multiples of the whole grid (every other recorded frame).
GRID_FRAMES = 21
#: Where each network of the grid step sits (row, column).
GRID_CELLS = ((1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3), (3, 1), (3, 2), (3, 3), (3, 4))

SCHEMA = Schema((
    Setting("dataset", "Data set", "choice", "spiral3", choices=(*datasets.DATASETS_2D, datasets.OWN_2D),
            labels=(*(spec.label for spec in datasets.DATASETS_2D.values()), datasets.OWN_2D_LABEL)),
    Setting("own", "Your points", "text", "", widget="hidden", max_length=own_points.CODE_MAX,
            check=own_points.checked_code),
    Setting("points", "Points", "int", 600, low=decision_runs.POINTS_MIN, high=decision_runs.POINTS_MAX),
    Setting("noise", "Noise", "float", 0.2, low=0.0, high=datasets.NOISE_MAX),
    Setting("test", "Test share", "float", 0.5, low=0.0, high=datasets.TEST_SHARE_MAX,
            help=f"0 to {datasets.TEST_SHARE_MAX:g} of the points"),
    Setting("data_seed", "Data seed", "int", 0, low=0, high=1_000_000, help="which random points"),
    Setting("layers", "Hidden layers", "int", 2, low=0, high=decision_runs.LAYERS_MAX),
    Setting("width", "Neurons per layer", "int", 8, low=1, high=decision_runs.WIDTH_MAX),
    Setting("activation", "Activation", "choice", "relu", choices=tuple(ACTIVATIONS),
            labels=("ReLU", "tanh", "sigmoid", "linear (none)")),
    Setting("loss", "Loss", "choice", "softmax_ce", choices=tuple(LOSSES),
            labels=("cross-entropy (softmax)", "squared error")),
    Setting("optimizer", "Optimizer", "choice", "adam", choices=tuple(optim.OPTIMIZERS),
            labels=tuple(spec.label for spec in optim.OPTIMIZERS.values())),
    Setting("lr", "Learning rate", "float", 0.01, low=1e-6, high=100.0, help="10⁻⁶ to 100"),
    Setting("batch", "Batch size", "int", 0, low=0, high=decision_runs.POINTS_MAX, help="0 = all training points"),
    Setting("reg", "Regularization", "choice", "none", choices=decision_runs.REGULARIZATIONS,
            labels=("none", "L1", "L2")),
    Setting("rate", "Regularization rate", "float", 0.0, low=0.0, high=10.0),
    Setting("epochs", "Epochs", "int", 300, low=1, high=decision_runs.EPOCHS_MAX),
    Setting("seed", "Seed", "int", 0, low=0, high=1_000_000, help="starting weights"),
    Setting("discretize", "Decision areas", "bool", False, labels=("discretize",), help="one flat color per class"),
))

#: The settings panel's groups of controls, in order.
GROUPS = (
    ("Data", ("dataset", "own", "points", "noise", "test", "data_seed")),
    ("Network", ("layers", "width", "activation", "loss")),
    ("Training", ("optimizer", "lr", "batch", "reg", "rate", "epochs", "seed")),
    ("View", ("discretize",)),
)

PAGE = dict(
    path="/decision-boundaries", name="Decision boundaries", order=3, lesson=True,
    icon="decision-boundaries.svg", title="Decision boundaries — Learnscape", steps=len(STEPS),
    description="From the perceptron's flat plane to the curved areas of deep networks: "
                "what width and depth do to a three-arm spiral.",
)

plane_run = memoize()(experiments.plane_run)
skip_run = memoize()(experiments.skip_run)
seed_summary = memoize()(experiments.seed_summary)

#: The skip-connection step: how each version of the 20 × 5 network is named and drawn.
SKIP_STYLE = {"plain": ("plain 20 × 5", figures.BLACK, "solid"),
              "residual": ("with skip connections", figures.BLUE, "solid"),
              "plain-scaled": ("plain, from the residual start", figures.VERMILION, "dot")}


def run_of(spec: RunSpec, report=None) -> dict:
    """The finished run of `spec`, kept in the site's cache (see experiments.run_of)."""
    return experiments.run_of(spec, cache, report)


def net_name(layers: int, width: int) -> str:
    return "no hidden layer" if layers == 0 else f"{layers} × {width}"


def choice_label(name: str, value) -> str:
    """The label the schema gives choice `value` of setting `name`."""
    setting = SCHEMA.get(name)
    return dict(zip(setting.choices, setting.labels))[value]


# -- views ----------------------------------------------------------------------------------


def plane_view(ctx) -> View:
    """The perceptron's plane tilting through the song cube, beside its curves."""
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
    return View(figures={"areas": _starting(cube, "first"), "curves": _starting(curves, "first")},
                heights={"areas": 520}, outputs={"figures-class": "db-figures is-pair"})


def runs_view(ctx) -> View:
    """The decision areas, curves and (for one small network) neuron maps of the step's runs."""
    own = ctx.figure == "free" and ctx.values["dataset"] == datasets.OWN_2D
    if own and (missing := own_points.shortfall(points := own_points.decode(ctx.values["own"]))):
        return _own_points_view(points, missing)
    specs = experiments.step_specs(ctx.figure, ctx.values)
    runs = _train(specs, ctx.report)
    if ctx.figure == "grid":
        view = _grid_view(specs, runs)
    elif len(specs) > 1:
        view = _multi_view(specs, runs)
    else:
        view = _single_view(specs[0], runs[0], ctx)
    start = "last" if ctx.figure in ("free", "grid") else "first"
    notices = [f"Training of {net_name(spec.layers, spec.width)} stopped: {run['message']}. "
               "Try a smaller learning rate." for spec, run in zip(specs, runs) if run["message"]]
    return replace(view, figures={name: _starting(payload, start) for name, payload in view.figures.items()},
                   notices=notices, achieved=ctx.figure == "free" and _task_done(specs[0], runs[0]),
                   outputs={**view.outputs, "editor-class": point_editor.ON if own else point_editor.OFF})


def _own_points_view(points: own_points.Points, missing: str) -> View:
    """Free play on the visitor's points before a network can learn them: the plane and the points so far."""
    extent = float(np.abs(points.X).max(initial=0.0))
    window = max(1.5, math.ceil(11.5 * extent) / 10)
    cells = 8
    classes = max(2, int(points.y.max(initial=0)) + 1)
    panel = {"title": "Your points", "xs": np.linspace(-window, window, cells),
             "z": np.full((1, cells, cells), None), "X": points.X, "y": points.y, "captions": [""]}   # no areas yet
    areas = figures.areas_figure([panel], classes, [""], class_names=[f"class {c}" for c in range(classes)])
    return View(figures={"areas": _starting(areas, "last")}, heights={"areas": 560}, panels=["settings"],
                outputs={"editor-class": point_editor.ON},
                notices=[f"Your points: {missing}. Click on the plane to add points, or upload a CSV file."])


def skip_view(ctx) -> View:
    """The thin deep net with and without skip connections: seed 0's runs, and every seed's end."""
    runs = {variant: skip_run(0, variant) for variant in experiments.VARIANTS}
    frames = np.arange(len(runs["plain"]["frame_epochs"]))
    labels = _frame_labels(runs["plain"]["frame_epochs"])
    names = {variant: SKIP_STYLE[variant][0] for variant in experiments.VARIANTS}
    panels = [_skip_panel(runs[variant], frames, names[variant]) for variant in ("plain", "residual")]
    areas = figures.areas_figure(panels, runs["plain"]["classes"], labels,
                                 class_names=["arm 1", "arm 2", "arm 3"])
    series = [{"name": names[v], "epochs": runs[v]["curve_epochs"], "loss": runs[v]["loss"],
               "accuracy": runs[v]["accuracy"], "color": SKIP_STYLE[v][1], "dash": SKIP_STYLE[v][2]}
              for v in experiments.VARIANTS]
    curves = figures.curves_figure(series, runs["plain"]["frame_epochs"], labels, stacked=True)
    return View(figures={"areas": areas, "curves": curves}, heights={"areas": 480, "curves": 440},
                panels=["seeds"], outputs={"figures-class": "db-figures is-pair"})


def _skip_panel(run: dict, frames: np.ndarray, name: str) -> dict:
    return {"title": name, "xs": run["xs"], "z": figures.area_z(run["grid_class"][frames],
                                                                run["grid_confidence"][frames]),
            "X": run["X_train"], "y": run["y_train"],
            "captions": [_caption(run, e, short=True) for e in run["frame_epochs"][frames]]}


def seeds_figure(report) -> dict:
    """The final training loss of the plain and the residual 20 × 5 network for every seed of SEEDS.
    report(text, fraction) before each run (40 of them: a minute or more on a cold cache)."""
    layers, width = experiments.SKIP_NET
    shown = ("plain", "residual")
    total = len(shown) * len(experiments.SEEDS)
    groups = []
    for number, variant in enumerate(shown):
        ends = []
        for k, seed in enumerate(experiments.SEEDS):
            report(f"Training {SKIP_STYLE[variant][0]}, seed {seed} ({len(experiments.SEEDS)} seeds)…",
                   (number * len(experiments.SEEDS) + k) / total)
            ends.append(seed_summary(layers, width, seed, variant))
        stuck = sum(end["stuck"] for end in ends)
        groups.append({"name": f"{SKIP_STYLE[variant][0]}: {stuck} stuck", "color": SKIP_STYLE[variant][1],
                       "seeds": experiments.SEEDS, "loss": [end["final_loss"] for end in ends],
                       "accuracy": [end["accuracy"] for end in ends]})
    first, last = experiments.SEEDS[0], experiments.SEEDS[-1]
    return figures.seeds_figure(groups, title=f"Seeds {first} to {last}: how each run ends",
                                threshold=experiments.STUCK_LOSS,
                                threshold_name=f"stuck: loss above {experiments.STUCK_LOSS:g}")


VIEWS = {"plane": plane_view, "skip": skip_view,
         **{figure: runs_view for figure in (*experiments.STEP_NETS, "free")}}

ENGINE = Lesson(
    LESSON, SCHEMA, STEPS, VIEWS,
    graphs={"areas": 540, "curves": 330, "neurons": (300, "db-neurons"), "seeds": 330},
    panels={"settings": "ls-panel", "seeds": "ls-panel"},
    outputs={"figures-class": (Output(lesson_id("figures", LESSON), "className"), "db-figures"),
             "editor-class": (Output(point_editor.editor_id("box", LESSON), "className"), point_editor.OFF)},
    background=True,
)
show_step = ENGINE.register()


def _train(specs: list[RunSpec], report) -> list[dict]:
    """The runs of `specs`, trained now if the cache does not have them; report(text, fraction)
    at most every REPORT_EVERY_S seconds."""
    runs = []
    last = [0.0]
    for number, spec in enumerate(specs):
        name = net_name(spec.layers, spec.width)
        of = f" (network {number + 1} of {len(specs)})" if len(specs) > 1 else ""

        def epoch_done(epoch, spec=spec, number=number, name=name, of=of):
            if time.monotonic() - last[0] >= REPORT_EVERY_S:
                last[0] = time.monotonic()
                report(f"Training {name}{of}: epoch {epoch} of {spec.epochs}…",
                       (number + epoch / spec.epochs) / len(specs))

        runs.append(run_of(spec, epoch_done))
    return runs


def _starting(payload: dict, start: str) -> dict:
    return {**payload, "start": start}


def _task_done(spec: RunSpec, run: dict) -> bool:
    """Free play's task: a thin deep network (at least 10 layers of at most 5) stuck at the start."""
    return spec.layers >= 10 and spec.width <= 5 and run["diverged_at"] is None and run["loss"][-1] > 1.0


def _single_view(spec: RunSpec, run: dict, ctx) -> View:
    """One network: its areas beside its curves (free play: with test points), and its neurons' maps."""
    free = ctx.figure == "free"
    frames = np.arange(len(run["frame_epochs"]))
    labels = _frame_labels(run["frame_epochs"])
    title = "Your network: " + net_name(spec.layers, spec.width) if free else \
        ("Logistic regression" if spec.layers == 0 else net_name(spec.layers, spec.width))
    panel = _panel(spec, run, frames, discretize=free and ctx.values["discretize"], with_test=free, title=title)
    payloads = {
        "areas": figures.areas_figure([panel], run["classes"], labels, class_names=_class_names(spec)),
        "curves": figures.curves_figure([_series(spec, run, with_test=free, color=figures.BLUE)],
                                        run["frame_epochs"], labels, stacked=True,
                                        loss_name=choice_label("loss", spec.loss).split(" (")[0]),
    }
    heights = {"areas": 560}
    if run["neurons"] is not None:
        names = [f"layer {l + 1} · {j + 1}" for l in range(spec.layers) for j in range(spec.width)]
        columns = _neuron_columns(run)
        payloads["neurons"] = figures.neurons_figure(run["neurons"], names, run["window"], labels,
                                                     columns=columns, activation=spec.activation)
        heights["neurons"] = 70 + 125 * math.ceil(run["neurons"].shape[1] / columns)
    return View(figures=payloads, heights=heights, panels=["settings"] if free else [],
                outputs={"figures-class": "db-figures is-pair"})


def _multi_view(specs: list[RunSpec], runs: list[dict]) -> View:
    """Two or three networks side by side, and their curves together."""
    frames = np.arange(len(runs[0]["frame_epochs"]))
    labels = _frame_labels(runs[0]["frame_epochs"])
    panels = [_panel(s, r, frames) for s, r in zip(specs, runs)]
    areas = figures.areas_figure(panels, runs[0]["classes"], labels, class_names=_class_names(specs[0]))
    curves = figures.curves_figure([_series(s, r) for s, r in zip(specs, runs)], runs[0]["frame_epochs"], labels)
    return View(figures={"areas": areas, "curves": curves}, heights={"areas": 420 if len(specs) == 3 else 480})


def _grid_view(specs: list[RunSpec], runs: list[dict]) -> View:
    """The whole grid of networks as small multiples, on every other recorded frame."""
    total = len(runs[0]["frame_epochs"])
    frames = np.unique(np.linspace(0, total - 1, min(GRID_FRAMES, total)).round().astype(int))
    labels = _frame_labels(runs[0]["frame_epochs"][frames])
    panels = [_panel(s, r, frames, short=True) for s, r in zip(specs, runs)]
    areas = figures.areas_figure(panels, runs[0]["classes"], labels, cells=GRID_CELLS,
                                 class_names=_class_names(specs[0]))
    curves = figures.curves_figure([_series(s, r) for s, r in zip(specs, runs)],
                                   runs[0]["frame_epochs"][frames], labels)
    return View(figures={"areas": areas, "curves": curves}, heights={"areas": 760})


def _neuron_columns(run: dict) -> int:
    """Small maps per row beside the decision areas: 2 to 4."""
    return min(4, max(2, math.ceil(math.sqrt(run["neurons"].shape[1]))))


def _frame_labels(epochs: np.ndarray) -> list[str]:
    return [f"epoch {int(e)}" for e in epochs]


def _caption(run: dict, epoch: int, *, short: bool = False) -> str:
    at = min(int(np.searchsorted(run["curve_epochs"], epoch)), len(run["curve_epochs"]) - 1)
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
    """One network's decision areas at `frames` (indices into its recorded frames)."""
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
    """One network's loss and accuracy curves; the seed's grid nets keep their colors and dashes."""
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
    if spec.dataset == datasets.OWN_2D:
        return [f"class {c}" for c in range(decision_runs.classes_of(spec))]
    if spec.dataset.startswith("spiral"):
        return [f"arm {c + 1}" for c in range(datasets.DATASETS_2D[spec.dataset].n_classes)]
    return [f"class {c}" for c in range(datasets.DATASETS_2D[spec.dataset].n_classes)]


# -- layout ---------------------------------------------------------------------------------


#: While a step's runs train, its old figures stay, dimmed, under a spinner.
LOADING = dict(type="circle", delay_show=400, overlay_style={"visibility": "visible", "opacity": 0.4})


def layout(**query) -> html.Div:
    return ENGINE.page(query, stage)


def stage(values: dict, hidden: set) -> list:
    return [
        ENGINE.step_player(label="epoch"),
        html.Div(
            [dcc.Loading(ENGINE.graph("areas"), **LOADING),
             html.Div([dcc.Loading(ENGINE.graph("curves"), **LOADING), ENGINE.graph("neurons")],
                      className="db-side")],
            id=lesson_id("figures", LESSON), className="db-figures",
        ),
        _seeds_panel(),
        _settings_panel(values, hidden),
    ]


def _seeds_panel() -> html.Div:
    """The skip-connection step's every seed: trained on request, since 40 networks take a while."""
    first, last = experiments.SEEDS[0], experiments.SEEDS[-1]
    return html.Div(
        [html.H3(f"Seeds {first} to {last}, not only seed {first}"),
         html.P(f"Train the plain and the residual 20 × 5 network on each of the {len(experiments.SEEDS)} seeds "
                "(each its own points and starting weights) and see how every run ends.",
                className="ls-control-help"),
         html.Button(f"Train all {len(experiments.SEEDS)} seeds", id=lesson_id("train-seeds", LESSON),
                     className="ls-prev"),
         ENGINE.graph("seeds")],
        id=ENGINE.panel_id("seeds"), className="ls-panel ls-hidden",
    )


@dash.callback(
    Output(player_id("frames", LESSON, name="seeds"), "data", allow_duplicate=True),
    Output(player_id("box", LESSON, name="seeds"), "className", allow_duplicate=True),
    Input(lesson_id("train-seeds", LESSON), "n_clicks"),
    background=True, cancel=[Input("_pages_location", "pathname")], interval=250, prevent_initial_call=True,
    **job_status_outputs(),
)
def train_seeds(set_progress, _clicks):
    """The skip-connection step's button: every seed's end, drawn beside the runs of seed 0."""
    return seeds_figure(lambda text, fraction: set_progress([text, f"{fraction:.3f}"])), "ls-figure"


def _settings_panel(values: dict, hidden: set) -> html.Div:
    regenerate_button = html.Button("↻ New points", id=lesson_id("regenerate", LESSON),
                                    className="ls-prev db-regenerate")
    limit = f"{decision_runs.WORK_MAX:.0e}".replace("e+", "·10^")
    groups = [
        html.Div([html.H4(title, className="db-group-title"),
                  html.Div(ENGINE.controls(values, hidden, names) + ([regenerate_button] if title == "Data" else []),
                           className="ls-controls")],
                 className="db-group")
        for title, names in GROUPS
    ]
    return html.Div(
        [html.H3("Your network"), *groups[:1], _editor(values), *groups[1:],
         html.P(f"Runs are limited to about {limit} multiply-adds (epochs × parameters × points) "
                f"and {decision_runs.STEPS_MAX:,} optimizer steps.", className="ls-control-help")],
        id=ENGINE.panel_id("settings"), className="ls-panel ls-hidden",
    )


def _editor(values: dict) -> html.Div:
    """The point editor of free play's data set "your points"."""
    return point_editor.point_editor(
        LESSON, setting="own", graph="areas", classes=own_points.CLASSES_MAX, link_max=own_points.LINK_MAX,
        file_bytes_max=own_points.FILE_BYTES_MAX, rows_max=own_points.ROWS_MAX, coord_max=own_points.COORD_MAX,
        colors=figures.CLASS_COLORS, on=values["dataset"] == datasets.OWN_2D)


def load_points(data: bytes) -> tuple[str, str]:
    """An uploaded CSV file's points, packed, and what was loaded; ValueError naming the line at fault."""
    points = own_points.parse_csv(data)
    return own_points.encode(points), f"{len(points.y):,} points of {points.classes} classes loaded"


point_editor.register_upload(LESSON, setting="own", choose=("dataset", datasets.OWN_2D), load=load_points,
                             file_bytes_max=own_points.FILE_BYTES_MAX)


@dash.callback(
    Output(setting_id(LESSON, "data_seed"), "value"),
    Input(lesson_id("regenerate", LESSON), "n_clicks"),
    State(setting_id(LESSON, "data_seed"), "value"),
    prevent_initial_call=True,
)
def regenerate(_clicks, data_seed):
    """New random points: the next data seed (back to 0 after the largest)."""
    return SCHEMA.next_value("data_seed", data_seed)
