"""Lesson: loss landscapes — slicing a high-dimensional loss into a surface.

Seeds: "Visualizing 3D loss landscapes for high-dimensional machine learning
models" (reduce the features, slice through the parameters that move most,
PCA of the parameters' path, a ball rolling down) and "Visualizing
optimization trajectory of neural nets" (width and depth on the 3-arm spiral,
explained variance on the axes, fixed directions to compare optimizers,
random and start-to-end directions, skip connections); seed 002's two
parameters that moved most are also cut through a network trained on images
of digits. Steps that compare slices put one slice, seen from above, in each
place of PLACES: graphs of their own, so that the 3-D surface's graph stays as
it is, hidden, while they show, and the next 3-D step draws in its scene.
Plotly keeps a scene's WebGL context only while its graph shows 3-D, and
without a GPU a new one took 960–1,390 ms to its first paint (compiling the
shaders), against 160–390 ms for a new surface in a scene already made.

The lesson engine runs the steps; this module holds the layout and one view
per figure of the narration. The experiments (runs, slices, the spiral
networks, the optimizer race) are app.lessons.loss_landscape's, memoized here
on scalar settings; figures come from components.landscape_figures; the ball
rolls clientside through the step player.
"""

from __future__ import annotations

from pathlib import Path

import dash
import numpy as np
from dash import Input, Output, State, dcc, html

from app.cache import memoize
from app.lessons import loss_landscape as experiments
from app.lessons.loss_landscape import CASE_RUNS, NETS, RESOLUTION, thin
from app.ml import datasets, optim
from components import decision_figures
from components import landscape_figures as figures
from components.computing import computing
from components.engine import Lesson, View, step_index
from components.ids import lesson_id, setting_id
from components.narration import load_steps
from components.settings_schema import Schema, Setting
from components.theme import BLACK, PURPLE, VERMILION

LESSON = "loss-landscape"
STEPS = load_steps(Path(__file__).with_suffix(".md"))

MAX_FRAMES = 120         # animation frames of a run
NET_SEEDS = (0, 1, 2)    # step 5's seeds: 0 as in the other lesson, 1 and 2 where the 10 × 5 gets stuck
FREE_TASK_SHARE = 0.85   # free play's task: a path whose first principal component explains less
#: Step 6's optimizers as drawn: name -> (label, color).
RACE_STYLE = {"sgd": ("SGD", BLACK), "momentum": ("Momentum 0.9", VERMILION), "adam": ("Adam", PURPLE)}
DIGIT_OPTIMIZER_NAMES = {"sgd": "SGD", "adam": "Adam"}
CONTOUR_TITLES = {"pca": "The PCA plane from above", "random": "The random plane from above",
                  "top": "The two parameters from above"}

SCHEMA = Schema((
    Setting("case", "Model", "choice", "svm", choices=tuple(CASE_RUNS), widget="radio",
            labels=("Linear SVM · breast cancer (31 parameters)", "Logistic regression · Iris (15 parameters)")),
    Setting("net", "Network (hidden layers × neurons)", "choice", "1x5", choices=tuple(NETS), widget="radio",
            labels=tuple(f"{layers} × {width}" for layers, width in NETS.values())),
    Setting("net_seed", "Seed (the points and the starting weights)", "choice", 0, choices=NET_SEEDS,
            widget="radio", labels=tuple(f"seed {seed}" for seed in NET_SEEDS)),
    Setting("digit_optimizer", "Optimizer of the digit network", "choice", "sgd",
            choices=tuple(experiments.DIGIT_OPTIMIZERS), widget="radio",
            labels=tuple(f"{DIGIT_OPTIMIZER_NAMES[name]}, η = {lr:g}" + (" (the seed's)" if name == "sgd" else "")
                         for name, lr in experiments.DIGIT_OPTIMIZERS.items())),
    Setting("model", "Model", "choice", "mlp-1x20", choices=experiments.MODELS,
            labels=("Logistic regression", "Linear SVM (two classes)",
                    *(f"Network {layers} × {width} (relu)" for layers, width in NETS.values()))),
    Setting("data", "Data", "choice", "spiral3", choices=experiments.DATA,
            labels=("Iris (4 features)", "Breast cancer (30 features)",
                    *(f"{spec.label} (2-D)" for spec in datasets.DATASETS_2D.values()))),
    Setting("optimizer", "Optimizer", "choice", "adam", choices=tuple(optim.OPTIMIZERS),
            labels=tuple(spec.label for spec in optim.OPTIMIZERS.values())),
    Setting("lr", "Learning rate η", "float", 0.01, low=1e-5, high=10.0, help="10⁻⁵ to 10"),
    Setting("steps", "Steps", "int", 200, low=2, high=experiments.MAX_STEPS),
    Setting("seed", "Seed", "int", 0, low=0, high=10_000, help="starting weights, random directions"),
    Setting("directions", "Directions", "choice", "pca", choices=experiments.DIRECTIONS,
            labels=("PCA of the path", "Random (filter-normalized)", "Two parameters that moved most")),
    Setting("resolution", "Grid points per axis", "int", 41, low=experiments.MIN_RESOLUTION,
            high=experiments.MAX_RESOLUTION),
    Setting("extent", "Grid extent", "float", 1.0, low=experiments.MIN_EXTENT, high=experiments.MAX_EXTENT,
            help=f"{experiments.MIN_EXTENT:g} to {experiments.MAX_EXTENT:g} × the path's span"),
    Setting("log", "Scale", "bool", False, labels=("log₁₀ loss",)),
))
#: The settings of the last step ("case", "net", "net_seed" and "digit_optimizer" belong to narrated steps).
FREE_PLAY = tuple(name for name in SCHEMA.names if name not in ("case", "net", "net_seed", "digit_optimizer"))

PAGE = dict(
    path="/loss-landscape", name="Loss landscapes", order=6, lesson=True, icon="loss-landscape.svg",
    title="Loss landscapes — Learnscape", steps=len(STEPS),
    description="A loss has as many dimensions as the model has parameters. Slice it into a surface "
                "you can see, and watch a ball roll down the optimizer's path.",
)

training_path = memoize()(experiments.training_path)
feature_landscape = memoize()(experiments.feature_landscape)
spiral_net = memoize()(experiments.spiral_net)
optimizer_race = memoize()(experiments.optimizer_race)
race_sweep = memoize()(experiments.race_sweep)
direction_planes = memoize()(experiments.direction_planes)
centrings = memoize()(experiments.centrings)
skip_landscapes = memoize()(experiments.skip_landscapes)
switching_ball = memoize()(experiments.switching_ball)
digit_landscapes = memoize()(experiments.digit_landscapes)


@memoize()
def landscape_slice(model_key: str, data_key: str, optimizer: str, lr: float, steps: int, seed: int,
                    directions: str, resolution: int, extent: float) -> dict:
    """experiments.landscape_slice of the memoized run: a new slice of one run does not train it again."""
    run = training_path(model_key, data_key, optimizer, lr, steps, seed)
    return experiments.landscape_slice(run, model_key, data_key, directions, resolution, extent, seed)


def slice_of(figure: str, values: dict) -> tuple[tuple, str, int, float, bool]:
    """The run (model, data, optimizer, lr, steps, seed), directions, resolution,
    extent and log scale that step `figure` slices."""
    if figure == "top":
        return CASE_RUNS["logistic"], "top", RESOLUTION, 1.0, False
    if figure in ("pca", "ball"):
        return CASE_RUNS[values["case"]], "pca", RESOLUTION, 1.0, False
    run = (values["model"], values["data"], values["optimizer"], float(values["lr"]), int(values["steps"]),
           int(values["seed"]))
    return run, values["directions"], int(values["resolution"]), float(values["extent"]), bool(values["log"])


# -- views ----------------------------------------------------------------------------------

#: The panels each step shows.
PANELS = {"pca": ("case",), "ball": ("case",), "nets": ("net", "net_seed", "table"), "digits": ("digit_optimizer",),
          "free": ("settings",)}


def _view(ctx, payloads: dict, facts: list, revision: str, **more) -> View:
    """The step's View: its payloads with the uirevision `revision` (zoom and camera
    survive frames, not new content), the facts panel and the step's panels."""
    for payload in payloads.values():
        payload["figure"].setdefault("layout", {})["uirevision"] = revision
    return View(figures=payloads, outputs={"facts": facts}, panels=PANELS.get(ctx.figure, ()), **more)


def _start(ctx) -> str:
    """A step that plays starts at its first frame; the others show the end of the run."""
    return "first" if ctx.step.play else "last"


def _labels(steps, losses, frames) -> list[str]:
    return [f"step {int(steps[f])} · loss {losses[f]:.4g}" for f in frames]


def _scrolling(table: html.Table) -> html.Div:
    """A wide table in a box of its own width that scrolls sideways, so a phone's page does not."""
    return html.Div(table, tabIndex="0", role="region", **{"aria-label": "table, scrolls sideways"},
                    style={"overflowX": "auto", "maxWidth": "100%"})


def _facts(rows: list[tuple[str, str]]) -> list:
    return [html.H3("This landscape"),
            html.Table(html.Tbody([html.Tr([html.Td(k), html.Td(v)]) for k, v in rows]), className="ls-table ll-table")]


def features_view(ctx) -> View:
    """Step 1: the bowl of logistic regression over its two weights, and the flowers it separates."""
    land, start = feature_landscape(), _start(ctx)
    frames = thin(len(land["steps"]), MAX_FRAMES)
    labels = _labels(land["steps"], land["path_loss"], frames)
    path = [{"name": "SGD path", "color": VERMILION, "coords": land["w"], "heights": land["plane_loss"]}]
    titles = ("weight w₁ (PC 1)", "weight w₂ (PC 2)")
    surface = figures.surface_figure(land["alphas"], land["betas"], land["loss"], path, frames, labels,
                                     title="The loss over the two weights", axis_titles=titles,
                                     revision="features", start=start)
    contour = figures.contour_figure(land["alphas"], land["betas"], land["loss"], path, frames, labels,
                                     title="The same loss seen from above", axis_titles=titles,
                                     marks=[{"name": "w = 0 (p = 50 % everywhere)", "x": 0, "y": 0, "symbol": "x",
                                             "color": BLACK}], start=start)
    side = figures.features_figure(land["F"], land["y"], ("versicolor", "virginica"), land["w"], land["b"],
                                   frames, labels, title="Iris flowers in two PCA features",
                                   axis_titles=(f"PC 1 ({figures.percent(land['ratio'][0])} of the variance)",
                                                f"PC 2 ({figures.percent(land['ratio'][1])})"), start=start)
    facts = _facts([
        ("data", "100 Iris flowers, 4 measurements"),
        ("features", f"2 principal components, {figures.percent(land['ratio'].sum())} of the variance"),
        ("parameters", "w₁, w₂ and a bias b"),
        ("bias b", f"{land['b'][0]:+.2f} → {land['b'][-1]:+.2f} (the surface holds it at {land['b'][-1]:+.2f})"),
        ("loss", f"{land['path_loss'][0]:.3f} → {land['path_loss'][-1]:.3f}"),
        ("weights", f"({land['w'][0][0]:+.2f}, {land['w'][0][1]:+.2f}) → "
                    f"({land['w'][-1][0]:+.2f}, {land['w'][-1][1]:+.2f})"),
    ])
    return _view(ctx, {"surface": surface, "contour": contour, "side": side}, facts, "features")


def axis_titles(land: dict, directions: str) -> tuple[str, str]:
    """The plane's axes as the figures name them."""
    if directions == "pca":
        return (f"PC 1 ({figures.percent(land['ratio'][0])} of the path)",
                f"PC 2 ({figures.percent(land['ratio'][1])})")
    if directions == "top":
        return land["names"][land["top"][0]], land["names"][land["top"][1]]
    return "random direction 1", "random direction 2"


def _choice_label(name: str, value) -> str:
    """The label of a choice setting's value, without its parenthesis."""
    setting = SCHEMA.get(name)
    return setting.labels[setting.choices.index(value)].split(" (")[0]


def slice_view(ctx) -> View:
    """Steps 2 to 4 and free play: a run sliced along two directions, the ball on its path."""
    run, directions, resolution, extent, log = slice_of(ctx.figure, ctx.values)
    land, start = landscape_slice(*run, directions, resolution, extent), _start(ctx)
    notices = [f"Training stopped early — {land['message']}; the landscape shows the {land['steps_done']} "
               "steps before. Try a smaller learning rate."] if land["message"] else []
    frames = thin(len(land["steps"]), MAX_FRAMES)
    labels = _labels(land["steps"], land["path_loss"], frames)
    titles = axis_titles(land, directions)
    on_path = directions == "top"     # the path leaves a top-moving slice: draw it at its own loss
    path = [{"name": "the training path", "color": VERMILION, "coords": land["coords"],
             "heights": land["path_loss"] if on_path else land["plane_loss"]}]
    revision = f"{ctx.figure}-{run}-{directions}-{resolution}-{extent}-{log}"
    surface = figures.surface_figure(land["alphas"], land["betas"], land["loss"], path, frames, labels,
                                     title=f"{_choice_label('model', run[0])} · {_choice_label('data', run[1])}",
                                     axis_titles=titles, log=log, revision=revision, start=start)
    contour = figures.contour_figure(land["alphas"], land["betas"], land["loss"], path, frames, labels,
                                     title="The grid of sampled points" if ctx.figure == "pca"
                                     else CONTOUR_TITLES[directions],
                                     axis_titles=titles, log=log, grid_points=ctx.figure == "pca", start=start)
    if directions == "top" and land["traces"] is not None:
        side = figures.parameters_figure(land["steps"], land["traces"], land["names"], land["top"], frames, labels,
                                         title=f"All {land['n_params']} parameters during training", start=start)
    else:
        side = figures.curves_figure(land["steps"], [
            {"name": "loss of the model on the path", "values": land["path_loss"], "color": VERMILION},
            {"name": "height of the surface under it", "values": land["plane_loss"], "color": BLACK, "dash": "dash",
             "width": 2.5},
        ], frames, labels, title="Loss during training", log=log, start=start)
    achieved = ctx.figure == "free" and directions == "pca" and land["ratio"][0] < FREE_TASK_SHARE
    return _view(ctx, {"surface": surface, "contour": contour, "side": side}, _slice_facts(land, directions),
                 revision, notices=notices, achieved=achieved)


def _slice_facts(land: dict, directions: str) -> list:
    if directions == "top":
        losses = [("loss on the path", "→".join(f"{v:.3f}" for v in land["path_loss"][[0, -1]])),
                  ("slice under the path", "→".join(f"{v:.3f}" for v in land["plane_loss"][[0, -1]]))]
    else:
        losses = [("loss", f"{land['path_loss'][0]:.3f} → {land['path_loss'][-1]:.3f}")]
    rows = [("parameters", f"{land['n_params']:,}"), ("training steps", f"{land['steps_done']:,}"), *losses,
            ("grid", f"{len(land['alphas'])} × {len(land['betas'])} = {land['loss'].size:,} losses")]
    if land["ratio"] is not None:
        rows += [("PC 1 explains", figures.percent(land["ratio"][0])),
                 ("PC 2 explains", figures.percent(land["ratio"][1]))]
    return _facts(rows + [("non-convex grid points", figures.percent(land["convexity"]))])


def nets_view(ctx) -> View:
    """Step 5: one spiral network's PCA landscape beside its decision areas.
    The table of all networks, and the step's task, are show_nets_table's."""
    net, seed, start = ctx.values["net"], ctx.values["net_seed"], _start(ctx)
    layers, width = NETS[net]
    run = spiral_net(layers, width, seed)
    frames = np.arange(len(run["coords"]))
    steps = run["frame_epochs"][: len(run["coords"])]
    labels = _labels(steps, run["path_loss"], frames)
    ratio = run["ratio"]
    titles = (f"PC 1 ({figures.percent(ratio[0])})", f"PC 2 ({figures.percent(ratio[1])})")
    path = [{"name": "the training path", "color": VERMILION, "coords": run["coords"], "heights": run["plane_loss"]}]
    surface = figures.surface_figure(run["alphas"], run["betas"], run["loss"], path, frames, labels,
                                     title=f"Network {layers} × {width}, seed {seed}: PCA landscape",
                                     axis_titles=titles, revision=f"nets-{net}-{seed}", start=start)
    contour = figures.contour_figure(run["alphas"], run["betas"], run["loss"], path, frames, labels,
                                     title="The same slice from above", axis_titles=titles, start=start)
    z = decision_figures.area_z(run["grid_class"], run["grid_confidence"])
    side = decision_figures.areas_figure(
        [{"title": f"Decision areas of the {layers} × {width} network", "xs": run["xs"], "z": z,
          "X": run["X_train"], "y": run["y_train"], "captions": [f"epoch {int(e)}" for e in steps]}],
        3, labels, class_names=["arm 1", "arm 2", "arm 3"])
    side["start"] = start
    side["figure"]["layout"].update(legend=dict(side["figure"]["layout"].get("legend", {}), y=-0.1),
                                    margin=dict(l=40, r=10, t=40, b=70))
    facts = _facts([
        ("network", f"{layers} hidden × {width} neurons, {run['n_params']:,} parameters, seed {seed}"),
        ("path", f"{len(run['coords'])} points, epochs 0 to {int(steps[-1])}"),
        ("loss", f"{run['path_loss'][0]:.3f} → {run['path_loss'][-1]:.3f}"),
        ("training accuracy", figures.percent(run["accuracy"])),
        ("PC 1 explains", figures.percent(ratio[0])), ("PC 2 explains", figures.percent(ratio[1])),
        ("non-convex grid points", figures.percent(run["convexity"])),
    ])
    return _view(ctx, {"surface": surface, "contour": contour, "side": side}, facts, f"nets-{net}-{seed}")


def race_view(ctx) -> View:
    """Step 6: three optimizers from one start on one plane of fixed directions."""
    race, start = optimizer_race(), _start(ctx)
    runs = [{**run, "label": f"{RACE_STYLE[run['name']][0]} (η = {run['lr']:g})",
             "color": RACE_STYLE[run["name"]][1]} for run in race["runs"]]
    names = [RACE_STYLE[run["name"]][0].split(" ")[0] for run in runs]
    first = runs[0]
    frames = thin(len(first["steps"]), MAX_FRAMES)
    labels = [f"step {int(first['steps'][f])} · " + " · ".join(
        f"{name} {run['path_loss'][min(f, len(run['path_loss']) - 1)]:.3f}" for name, run in zip(names, runs))
        for f in frames]
    paths = [{"name": run["label"], "color": run["color"], "coords": run["coords"], "heights": run["plane_loss"]}
             for run in runs]
    titles = ("fixed direction 1", "fixed direction 2")
    surface = figures.surface_figure(race["alphas"], race["betas"], race["loss"], paths, frames, labels,
                                     title="Three optimizers, one fixed plane", axis_titles=titles,
                                     revision="optimizers", start=start)
    contour = figures.contour_figure(race["alphas"], race["betas"], race["loss"], paths, frames, labels,
                                     title="Seen from above: one shared start", axis_titles=titles, start=start)
    side = figures.curves_figure(first["steps"], [
        {"name": run["label"], "values": run["path_loss"], "color": run["color"]} for run in runs
    ], frames, labels, title="Loss of each optimizer", start=start)
    rows = [
        html.Tr([html.Td("final loss")] + [html.Td(f"{run['path_loss'][-1]:.3f}") for run in runs]),
        html.Tr([html.Td("travel in this plane")] + [html.Td(figures.percent(run["seen"])) for run in runs]),
    ]
    for name, shares in zip(names, race["overlap"]):
        rows.append(html.Tr([html.Td(f"on {name}'s PCA plane")] + [html.Td(figures.percent(s)) for s in shares]))
    sweep = race_sweep()
    best = [int(np.nanargmin(sweep[run["name"]])) for run in runs]
    rows.append(html.Tr([html.Td(f"best final loss, η from {experiments.RACE_RATES[0]:g} to "
                                 f"{experiments.RACE_RATES[-1]:g}")]
                        + [html.Td([f"{sweep[run['name']][b]:.3f}", html.Br(), f"η = {experiments.RACE_RATES[b]:g}"])
                           for run, b in zip(runs, best)]))
    facts = [html.H3(f"Logistic regression on Iris, {race['n_params']} parameters"),
             _scrolling(html.Table([html.Thead(html.Tr([html.Th("")] + [html.Th(n) for n in names])),
                                    html.Tbody(rows)], className="ls-table ll-table is-numbers")),
             html.Small("“on X's PCA plane”: the share of each path's variance that X's own PCA plane shows.",
                        className="ls-control-help")]
    return _view(ctx, {"surface": surface, "contour": contour, "side": side}, facts, "optimizers")


# -- steps that compare slices: one slice from above in each of the row's three places -----

PLANE_TITLES = {"random": ("Random", ("random direction 1", "random direction 2")),
                "start-end": ("Start → end", ("start → end", "random, orthogonal to it")),
                "pca": ("PCA", ("PC 1", "PC 2"))}
#: The places of the slices a step compares: the upper row's two, then the lower row's first.
PLACES = ("top_left", "top_right", "side")


def _from_above(land: dict, path_name: str, frames, labels, *, title: str, axis_titles: tuple[str, str],
                start: str, heights: str = "plane_loss", marks: tuple = ()) -> dict:
    path = [{"name": path_name, "color": VERMILION, "coords": land["coords"], "heights": land[heights]}]
    return figures.contour_figure(land["alphas"], land["betas"], land["loss"], path, frames, labels, title=title,
                                  axis_titles=axis_titles, marks=marks, start=start)


def directions_view(ctx) -> View:
    """Seed 001's three planes through one path: random, start to end, PCA."""
    data, start = direction_planes(), _start(ctx)
    frames = thin(len(data["steps"]), MAX_FRAMES)
    labels = _labels(data["steps"], data["path_loss"], frames)
    payloads = {}
    for slot, plane in zip(PLACES, data["planes"]):
        title, axes = PLANE_TITLES[plane["kind"]]
        payloads[slot] = _from_above(plane, "the training path", frames, labels, start=start, axis_titles=axes,
                                     title=f"{title}: {figures.percent(plane['share'])} of the path")
    rows = [html.Tr([html.Td(f"{PLANE_TITLES[p['kind']][0]} plane"), html.Td(figures.percent(p["share"])),
                     html.Td(f"{100 * p['along_first']:.2f} %")]) for p in data["planes"]]
    facts = [html.H3(f"Network 5 × 20, seed 0: {data['n_params']:,} parameters"),
             html.Table([html.Thead(html.Tr([html.Th("plane"), html.Th("the path's variance in it"),
                                             html.Th("of that, along its axis 1")])), html.Tbody(rows)],
                        className="ls-table ll-table")]
    return _view(ctx, payloads, facts, "directions")


def centring_view(ctx) -> View:
    """One path's PCA plane through its last point and through its mean: parallel planes."""
    data, start = centrings(), _start(ctx)
    frames = thin(len(data["steps"]), MAX_FRAMES)
    labels = _labels(data["steps"], data["path_loss"], frames)
    axes = ("PC 1", "PC 2")
    final = _from_above(data["final"], "the training path", frames, labels, start=start, axis_titles=axes,
                        title="Through θ<sub>T</sub>, the trained net (Li et al.)",
                        marks=({"name": "θ<sub>T</sub>, the trained net", "x": 0, "y": 0, "symbol": "x",
                                "color": BLACK},))
    mean = _from_above(data["mean"], "the training path", frames, labels, start=start, axis_titles=axes,
                       title="Through θ̄, the path's mean (seed 002)",
                       marks=({"name": "θ̄, the mean of the path", "x": 0, "y": 0, "symbol": "x", "color": BLACK},))
    side = figures.curves_figure(data["steps"], [
        {"name": "loss of the model on the path", "values": data["path_loss"], "color": VERMILION},
        {"name": "surface under it, plane through θ<sub>T</sub>", "values": data["final"]["plane_loss"],
         "color": BLACK, "dash": "dash", "width": 2.5},
        {"name": "surface under it, plane through θ̄", "values": data["mean"]["plane_loss"], "color": PURPLE,
         "dash": "dot", "width": 2.5},
    ], frames, labels, title="What each plane says about the path", log=True, start=start)
    svm = centrings(*CASE_RUNS["svm"])
    facts = _facts([
        ("network", f"5 × 20, seed 0, {data['n_params']:,} parameters"),
        ("the two planes lie apart by", f"{data['gap']:.2f} (the path is {data['length']:.1f} long)"),
        ("surface under the last point", f"{data['final']['plane_loss'][-1]:.4f} and "
                                         f"{data['mean']['plane_loss'][-1]:.4f} (its loss: "
                                         f"{data['path_loss'][-1]:.4f})"),
        ("largest difference of the surfaces", f"{data['most']:.2f}"),
        ("SVM of step 3: planes apart by", f"{svm['gap']:.3f} (path {svm['length']:.2f} long)"),
        ("SVM: surface under the last point", f"{svm['final']['plane_loss'][-1]:.4f} and "
                                              f"{svm['mean']['plane_loss'][-1]:.4f}"),
    ])
    return _view(ctx, {"top_left": final, "top_right": mean, "side": side}, facts, "centring")


def seed_line(land: dict) -> dict:
    """The line seed 002's script samples in a slice of two parameters: through the trained values,
    both parameters changed by the same amount, within the grid."""
    a0, b0 = (float(v) for v in land["coords"][-1])
    low = max(land["alphas"][0] - a0, land["betas"][0] - b0)
    high = min(land["alphas"][-1] - a0, land["betas"][-1] - b0)
    return {"name": "the seed's line: both change together", "x": [a0 + low, a0 + high], "y": [b0 + low, b0 + high],
            "color": BLACK}


def pixel_map(inked: np.ndarray, pixels: tuple, total: int) -> html.Div:
    """The 8 × 8 pixels as a small picture: darker where more images have ink, the pixels of the
    two parameters filled in the path's color; and a caption naming them."""
    marked = sorted({p for p in pixels if p is not None})
    rows, columns = datasets.DIGITS_SHAPE
    cells = []
    for r in range(rows):
        row = []
        for c in range(columns):
            k = r * columns + c
            shade = round(245 - 190 * inked[k] / total)
            style = {"width": "1.6em", "height": "1.6em", "padding": 0,
                     "background": VERMILION if k in marked else f"rgb({shade},{shade},{shade})",
                     "border": f"3px solid {BLACK}" if k in marked else "1px solid #d5d8de"}
            row.append(html.Td(style=style, title=f"pixel {r + 1},{c + 1}: ink in {inked[k]:,} of {total:,} images"))
        cells.append(html.Tr(row))
    words = [f"pixel {k // columns + 1},{k % columns + 1}: ink in {inked[k]:,} of {total:,} images" for k in marked]
    return html.Div([
        html.Table(html.Tbody(cells), style={"borderCollapse": "collapse", "margin": "0.4em 0"},
                   role="img", **{"aria-label": "the 8 × 8 pixels, darker where more images have ink; "
                                                "marked: " + "; ".join(words)}),
        html.Small("; ".join(words) + " (in colour; darker grey: more images with ink there)",
                   className="ls-control-help"),
    ])


def digits_view(ctx) -> View:
    """Seed 002's MNIST experiment on the digits: the slice through the two parameters that moved most
    beside the PCA plane of the same path, on one color scale, and what each says about the path."""
    name = ctx.values["digit_optimizer"]
    data, start = digit_landscapes(name), _start(ctx)
    facts, top, pca = data["facts"], data["top"], data["pca"]
    frames = thin(len(data["steps"]), MAX_FRAMES)
    labels = _labels(data["steps"], data["path_loss"], frames)
    names = [data["names"][k] for k in facts["top"]]
    scale = (min(top["loss"].min(), pca["loss"].min()), max(top["loss"].max(), pca["loss"].max()))
    two = figures.contour_figure(top["alphas"], top["betas"], top["loss"], [
        {"name": "the training path", "color": VERMILION, "coords": top["coords"], "heights": top["plane_loss"]}],
        frames, labels, title=f"Moved most: {figures.percent(facts['share'])} of the path",
        axis_titles=tuple(names), lines=[seed_line(top)], z_range=scale, start=start)
    plane = figures.contour_figure(pca["alphas"], pca["betas"], pca["loss"], [
        {"name": "the training path", "color": VERMILION, "coords": pca["coords"], "heights": pca["plane_loss"]}],
        frames, labels, title=f"PCA: {figures.percent(facts['pca'])} of the path",
        axis_titles=(f"PC 1 ({figures.percent(facts['ratio'][0])})", f"PC 2 ({figures.percent(facts['ratio'][1])})"),
        z_range=scale, start=start)
    side = figures.curves_figure(data["steps"], [
        {"name": "loss of the network on the path", "values": data["path_loss"], "color": VERMILION},
        {"name": "slice of the two parameters under it", "values": top["plane_loss"], "color": BLACK, "dash": "dash",
         "width": 2.5},
        {"name": "PCA plane under it", "values": pca["plane_loss"], "color": PURPLE, "dash": "dot", "width": 2.5},
    ], frames, labels, title="What each slice says about the path", log=True, start=start)
    ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5)
             if min(data["path_loss"].min(), top["plane_loss"].min()) / 2 <= v <= 2 * data["path_loss"].max()]
    side["figure"]["layout"]["yaxis"].update(tickvals=ticks, ticktext=[f"{v:g}" for v in ticks])
    total = len(datasets.load_digits().y)
    rows = [
        ("training", f"{DIGIT_OPTIMIZER_NAMES[name]}, η = {data['lr']:g}, {experiments.DIGIT_STEPS} full-batch "
                     f"steps, seed 0"),
        ("loss", f"{facts['start_loss']:.3f} → {facts['final_loss']:.3f}, training accuracy "
                 f"{figures.percent(data['accuracy'])}"),
        ("moved most (end − start)", " and ".join(f"{n} ({m:.2f})" for n, m in zip(names, facts["moved"]))),
        ("longest travel (the seed's ranking)", " and ".join(data["names"][k] for k in facts["by_steps"])),
        ("the path's variance in the plane", f"two parameters {figures.percent(facts['share'])}, "
                                             f"PCA {figures.percent(facts['pca'])}"),
        ("under the start of the path", f"the network {facts['start_loss']:.2f}, the two-parameter slice "
                                        f"{facts['under_start']['top']:.2f}, the PCA plane "
                                        f"{facts['under_start']['pca']:.2f}"),
        ("the two-parameter slice spans", f"{top['loss'].min():.4f} to {top['loss'].max():.4f}"),
    ]
    panel = _facts(rows)
    panel[0] = html.H3(f"Network {' → '.join(map(str, experiments.DIGIT_SIZES))} on {total:,} images of digits: "
                       f"{data['n_params']:,} parameters")
    if any(p is not None for p in data["pixels"]):
        panel.append(pixel_map(data["inked"], data["pixels"], total))
    return _view(ctx, {"top_left": two, "top_right": plane, "side": side}, panel, f"digits-{name}")


SKIP_NAMES = {"plain": "Plain 20 × 5", "residual": "20 × 5 with skip connections"}


def skip_view(ctx) -> View:
    """The thin deep net's PCA slice without and with skip connections (seed 0)."""
    data, start = skip_landscapes(), _start(ctx)
    frames = thin(len(data["epochs"]), MAX_FRAMES)
    labels = [f"epoch {int(data['epochs'][f])}" for f in frames]
    payloads = {}
    for slot, variant in zip(PLACES, ("plain", "residual")):
        land = data[variant]
        payloads[slot] = _from_above(land, "the training path", frames, labels, start=start,
                                     axis_titles=(f"PC 1 ({figures.percent(land['ratio'][0])})",
                                                  f"PC 2 ({figures.percent(land['ratio'][1])})"),
                                     title=f"{SKIP_NAMES[variant]}: {figures.percent(land['convexity'])} non-convex")
    payloads["side"] = figures.curves_figure(data["epochs"], [
        {"name": f"{SKIP_NAMES[v]}", "values": data[v]["path_loss"], "color": color}
        for v, color in (("plain", BLACK), ("residual", figures.BLUE))
    ], frames, labels, title="Training loss, seed 0", x_title="epoch", log=True, start=start)
    rows = [html.Tr([html.Td(SKIP_NAMES[v]), html.Td(f"{data[v]['final_loss']:.3f}"),
                     html.Td(figures.percent(data[v]["accuracy"])), html.Td(figures.percent(data[v]["ratio"][0])),
                     html.Td(figures.percent(data[v]["convexity"]))]) for v in ("plain", "residual")]
    facts = [html.H3(f"Seed 0, {data['plain']['n_params']:,} parameters each"),
             html.Table([html.Thead(html.Tr([html.Th(h) for h in ("network", "final loss", "training accuracy",
                                                                  "PC 1", "non-convex grid points")])),
                         html.Tbody(rows)], className="ls-table ll-table")]
    return _view(ctx, payloads, facts, "skip")


def switch_frames(stages: list[dict]) -> list[tuple[int, int]]:
    """(slice, point) of every animation frame: each slice's points thinned to its share of MAX_FRAMES."""
    per = max(2, MAX_FRAMES // len(stages))
    return [(s, int(k)) for s, stage in enumerate(stages) for k in thin(len(stage["coords"]), per)]


def switch_view(ctx) -> View:
    """Seed 002's ball that moves on to a new slice wherever it settles."""
    ball, start = switching_ball(), _start(ctx)
    stages = [{**stage, "axis_titles": stage["names"]} for stage in ball["stages"]]
    frames = switch_frames(stages)
    offsets = np.concatenate([[0], np.cumsum([len(stage["coords"]) - 1 for stage in stages])])
    at = [int(offsets[s] + k) for s, k in frames]
    labels = [f"slice {s + 1} · step {n} · loss {ball['loss'][n]:.3f}" for (s, _), n in zip(frames, at)]
    surface, contour = figures.switching_figures(stages, frames, labels, start=start)
    steps = np.arange(len(ball["loss"]))
    side = figures.curves_figure(steps, [
        {"name": "the ball (two parameters at a time)", "values": ball["loss"], "color": VERMILION},
        {"name": "gradient descent on all 15 at once", "values": ball["gd"], "color": BLACK, "dash": "dash",
         "width": 2.5},
    ], at, labels, title="Loss, step by step (thin lines: a new slice)", x_title="step", marks=ball["switches"][1:],
        start=start)
    rows = [html.Tr([html.Td([f"{s + 1}: ", html.Br(), " and ".join(stage["names"])]),
                     html.Td(f"{stage['heights'][0]:.3f} → {stage['heights'][-1]:.3f} in "
                             f"{len(stage['coords']) - 1} steps")]) for s, stage in enumerate(ball["stages"])]
    facts = [html.H3(f"Logistic regression on Iris, {ball['n_params']} parameters"),
             html.Table([html.Thead(html.Tr([html.Th("slice: its two parameters"), html.Th("loss")])),
                         html.Tbody(rows)], className="ls-table ll-table")]
    return _view(ctx, {"surface": surface, "contour": contour, "side": side}, facts, "switch")


VIEWS = {"features": features_view, "top": slice_view, "pca": slice_view, "ball": slice_view, "nets": nets_view,
         "optimizers": race_view, "directions": directions_view, "centring": centring_view, "skip": skip_view,
         "digits": digits_view, "switch": switch_view, "free": slice_view}

ENGINE = Lesson(
    LESSON, SCHEMA, STEPS, VIEWS,
    graphs={"surface": 520, "contour": 520, "top_left": 520, "top_right": 520, "side": 420},
    panels={"case": "ls-panel", "net": "ls-panel", "net_seed": "ls-panel", "digit_optimizer": "ls-panel",
            "table": "ls-panel", "settings": "ls-panel"},
    outputs={"facts": (Output(lesson_id("facts", LESSON), "children"), [])},
)
show_step = ENGINE.register()


# -- step 5's table of all networks ---------------------------------------------------------


def nets_summary(net: str, seed: int = 0) -> tuple[list, bool]:
    """The table of all five spiral networks of `seed`, the chosen one marked, and
    whether the chosen one has the least convex slice (step 5's task)."""
    runs = {key: spiral_net(*NETS[key], seed) for key in NETS}
    least_convex = max(runs, key=lambda key: runs[key]["convexity"])
    rows = []
    for key, run in runs.items():
        cells = [f"{NETS[key][0]} × {NETS[key][1]}", f"{run['n_params']:,}", figures.percent(run["ratio"][0]),
                 figures.percent(run["ratio"][1]), figures.percent(run["convexity"]), figures.percent(run["accuracy"])]
        rows.append(html.Tr([html.Td(c) for c in cells], className="is-current" if key == net else ""))
    table = [html.H3(f"All five networks, seed {seed}: same data, same optimizer"),
             html.Table([html.Thead(html.Tr([html.Th(h) for h in ("network", "parameters", "PC 1", "PC 2",
                                                                 "non-convex grid points", "training accuracy")])),
                         html.Tbody(rows)], className="ls-table ll-table is-numbers")]
    return [table[0], _scrolling(table[1])], net == least_convex


@dash.callback(
    Output(ENGINE.panel_id("table"), "children"),
    Output(lesson_id("achieved", LESSON), "data", allow_duplicate=True),
    Input(lesson_id("step", LESSON), "data"),
    Input(setting_id(LESSON, "net"), "value"),
    Input(setting_id(LESSON, "net_seed"), "value"),
    prevent_initial_call="initial_duplicate",
)
def show_nets_table(step, raw_net, raw_seed=0):
    """Step 5's table of all networks: its own callback, so the chosen net's figures need not wait for it."""
    index, _ = step_index(step, len(STEPS))
    if STEPS[index].figure != "nets":
        return dash.no_update, dash.no_update
    values, _ = SCHEMA.check({"net": raw_net, "net_seed": raw_seed})
    try:
        table, least_convex = nets_summary(values["net"], values["net_seed"])
    except ValueError as error:
        return [html.P(f"Cannot compare the networks: {error}.")], []
    return table, [index] if least_convex else []


# -- export ---------------------------------------------------------------------------------


def export_data(figure: str, values: dict) -> dict:
    """What the step's figures show, for download: alphas, betas, loss (the
    surface), paths [(name, coords (k, 2), loss (k,))] and meta."""
    if figure == "features":
        land = feature_landscape()
        return {"alphas": land["alphas"], "betas": land["betas"], "loss": land["loss"],
                "paths": [("sgd", land["w"], land["path_loss"])],
                "meta": {"model": "logistic regression, Iris versicolor vs virginica, 2 PCA features",
                         "alpha": "weight w1", "beta": "weight w2", "bias": float(land["b"][-1])}}
    if figure == "nets":
        layers, width = NETS[values["net"]]
        run = spiral_net(layers, width, values["net_seed"])
        return {"alphas": run["alphas"], "betas": run["betas"], "loss": run["loss"],
                "paths": [("adam", run["coords"], run["path_loss"])],
                "meta": {"model": f"mlp {layers}x{width} relu, 3-arm spiral", "directions": "pca",
                         "seed": values["net_seed"],
                         "explained_variance_ratio": run["ratio"].tolist(), "convexity_measure": run["convexity"]}}
    if figure == "digits":
        return _export_digits(values["digit_optimizer"])
    if figure in NEW_EXPORTS:
        return NEW_EXPORTS[figure]()
    if figure == "optimizers":
        race = optimizer_race()
        return {"alphas": race["alphas"], "betas": race["betas"], "loss": race["loss"],
                "paths": [(run["name"], run["coords"], run["path_loss"]) for run in race["runs"]],
                "meta": {"model": "logistic regression, Iris", "directions": "filter-normalized random, fixed"}}
    run, directions, resolution, extent, _ = slice_of(figure, values)
    land = landscape_slice(*run, directions, resolution, extent)
    titles = axis_titles(land, directions)
    meta = {"model": run[0], "data": run[1], "optimizer": run[2], "lr": run[3], "steps": land["steps_done"],
            "seed": run[5], "directions": directions, "alpha": titles[0], "beta": titles[1]}
    if land["ratio"] is not None:
        meta["explained_variance_ratio"] = land["ratio"].tolist()
    return {"alphas": land["alphas"], "betas": land["betas"], "loss": land["loss"],
            "paths": [(run[2], land["coords"], land["path_loss"])], "meta": meta}


def _export_directions() -> dict:
    data = direction_planes()
    pca = data["planes"][-1]
    return {"alphas": pca["alphas"], "betas": pca["betas"], "loss": pca["loss"],
            "paths": [(p["kind"], p["coords"], data["path_loss"]) for p in data["planes"][::-1]],
            "meta": {"model": "mlp 5x20 relu, 3-arm spiral, seed 0", "surface": "the pca plane through the last point",
                     "variance_in_plane": {p["kind"]: p["share"] for p in data["planes"]}}}


def _export_centring() -> dict:
    data = centrings()
    return {"alphas": data["mean"]["alphas"], "betas": data["mean"]["betas"], "loss": data["mean"]["loss"],
            "paths": [("adam", data["mean"]["coords"], data["path_loss"])],
            "meta": {"model": "mlp 5x20 relu, 3-arm spiral, seed 0", "directions": "pca",
                     "center": "the path's mean", "distance_to_the_plane_through_the_last_point": data["gap"]}}


def _export_skip() -> dict:
    data = skip_landscapes()
    land = data["residual"]
    return {"alphas": land["alphas"], "betas": land["betas"], "loss": land["loss"],
            "paths": [("adam", land["coords"], land["path_loss"])],
            "meta": {"model": "mlp 20x5 relu with skip connections, 3-arm spiral, seed 0", "directions": "pca",
                     "explained_variance_ratio": land["ratio"].tolist(), "convexity_measure": land["convexity"]}}


def _export_switch() -> dict:
    ball = switching_ball()
    longest = max(ball["stages"], key=lambda stage: len(stage["coords"]))
    return {"alphas": longest["alphas"], "betas": longest["betas"], "loss": longest["loss"],
            "paths": [("ball", longest["coords"], longest["heights"])],
            "meta": {"model": "logistic regression, Iris", "alpha": longest["names"][0],
                     "beta": longest["names"][1], "slice": ball["stages"].index(longest) + 1,
                     "slices": [list(stage["names"]) for stage in ball["stages"]]}}


def _export_digits(name: str) -> dict:
    data = digit_landscapes(name)
    top, facts = data["top"], data["facts"]
    return {"alphas": top["alphas"], "betas": top["betas"], "loss": top["loss"],
            "paths": [(name, top["coords"], data["path_loss"])],
            "meta": {"model": f"mlp {'-'.join(map(str, experiments.DIGIT_SIZES))} relu, 1797 images of digits (8x8), "
                              "seed 0", "optimizer": name,
                     "lr": data["lr"], "directions": "the two parameters that moved most",
                     "alpha": data["names"][facts["top"][0]], "beta": data["names"][facts["top"][1]],
                     "others": "held at their trained values",
                     "variance_in_plane": {"two parameters": facts["share"], "pca": facts["pca"]}}}


NEW_EXPORTS = {"directions": _export_directions, "centring": _export_centring, "skip": _export_skip,
               "switch": _export_switch}


@dash.callback(
    Output(lesson_id("download", LESSON), "data"),
    Output(lesson_id("notices", LESSON), "children", allow_duplicate=True),
    Output(lesson_id("notices", LESSON), "className", allow_duplicate=True),
    Input(lesson_id("export-csv", LESSON), "n_clicks"),
    Input(lesson_id("export-json", LESSON), "n_clicks"),
    State(lesson_id("step", LESSON), "data"),
    *[State(setting_id(LESSON, name), "value") for name in SCHEMA.names],
    prevent_initial_call=True,
)
def export_landscape(_csv, _json, step, *raw):
    trigger = dash.ctx.triggered_id
    kind = "json" if isinstance(trigger, dict) and trigger.get("type") == "ls-export-json" else "csv"
    return export_file(kind, step, *raw)


def export_file(kind: str, step, *raw) -> tuple:
    """The download of step `step` with settings `raw` as CSV or JSON (kind),
    or no download and a notice naming what went wrong."""
    values, _ = SCHEMA.check(dict(zip(SCHEMA.names, raw)))
    figure = STEPS[step_index(step, len(STEPS))[0]].figure
    try:
        try:
            data = export_data(figure, values)
        except ValueError:
            data = export_data(figure, SCHEMA.defaults())     # as the step does: the defaults' landscape
        text = experiments.export_text(data, kind)
    except ValueError as error:
        return dash.no_update, [html.P(f"Cannot export this landscape: {error}.")], "ls-notices"
    name = f"loss-landscape-{figure}.{kind}"
    return dict(content=text, filename=name, type="text/csv" if kind == "csv" else "application/json"), \
        dash.no_update, dash.no_update


# -- layout ---------------------------------------------------------------------------------


def layout(**query) -> html.Div:
    return ENGINE.page(query, stage)


def stage(values: dict, hidden: set) -> list:
    return [
        _choice_panel("case", values, hidden),
        _choice_panel("net", values, hidden),
        _choice_panel("net_seed", values, hidden),
        _choice_panel("digit_optimizer", values, hidden),
        ENGINE.step_player(label="step"),
        computing(
            [
                html.Div([ENGINE.graph(name) for name in ("surface", "contour", "top_left", "top_right")],
                         className="ls-figures-row"),
                html.Div([ENGINE.graph("side"), html.Div(id=lesson_id("facts", LESSON), className="ls-panel ll-facts")],
                         className="ll-lower"),
            ],
            "Computing the loss landscape",
        ),
        dcc.Loading(html.Div(id=ENGINE.panel_id("table"), className="ls-panel ls-hidden"), type="dot", delay_show=300),
        _export_panel(),
        html.Div([html.H3("Free play"), html.Div(ENGINE.controls(values, hidden, FREE_PLAY), className="ls-controls")],
                 id=ENGINE.panel_id("settings"), className="ls-panel ls-hidden"),
    ]


def _choice_panel(name: str, values: dict, hidden: set) -> html.Div:
    """A narrated step's choice: its radio buttons in one row, in the lesson's own style."""
    control = ENGINE.controls(values, hidden, [name])[0]
    radio = next(child for child in control.children if isinstance(child, dcc.RadioItems))
    radio.inline, radio.className = True, "ll-choices"
    return html.Div(control, id=ENGINE.panel_id(name), className="ls-panel ls-hidden")


def _export_panel() -> html.Div:
    return html.Div(
        [
            html.H3("Take this landscape with you"),
            html.Div(
                [
                    html.Button("⤓ CSV", id=lesson_id("export-csv", LESSON), className="ls-prev"),
                    html.Button("⤓ JSON", id=lesson_id("export-json", LESSON), className="ls-prev"),
                    html.Small("the loss at every grid point and the path, as the figures show them",
                               className="ls-control-help"),
                ],
                className="ll-export-row",
            ),
            dcc.Download(id=lesson_id("download", LESSON)),
        ],
        className="ls-panel",
    )
