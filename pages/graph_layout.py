"""Lesson: the graph-layout optimizer playground (seed: visualizing machine learning optimizers).

Every node of a graph is a circle of radius 1. The energy E pulls linked
circles until they touch and pushes overlapping circles apart; the
optimizers of `app.ml.optim` (and L-BFGS) minimize it while the visitor
watches the circles move, the way weights move in training.

Model math comes from `app.ml.graph_layout`; figures from
`components.graph_layout_figures`. Each run is memoized on scalars; the
browser draws its frames (`app/assets/graph-layout.js`), so playing and
scrubbing never ask the server. The narrated steps show fixed runs (the
narration's numbers are measured on them); the last step is the playground,
whose settings take effect when the visitor presses Run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dash
import numpy as np
from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from app.cache import memoize
from app.ml import graph_layout as gl
from app.ml import optim
from components import graph_layout_figures as figures
from components.ids import lesson_id, player_id, setting_id
from components.lesson import lesson_shell, setting_control
from components.narration import load_steps
from components.player import animated_graph, step_player
from components.settings_schema import Schema, Setting, parse_step

LESSON = "graph-layout"
PLAYER = LESSON
STEPS = load_steps(Path(__file__).with_suffix(".md"))
FIGURE_OF_STEP = [s.figure for s in STEPS]
STEP_PLAY = {s.figure: s.play for s in STEPS}
RADIUS = 1.0

# -- limits of the playground (one request must finish in a few seconds) --------------
MAX_CIRCLES = 5_000
MAX_RUN_STEPS = 2_000
CIRCLE_STEP_BUDGET = 250_000    # circles x steps x runs of one request (a pile-up costs ~9 us of CPU each)
POSITION_BUDGET = 200_000       # circle positions sent to the browser: n x frames x runs (~5.3 bytes each)
MAX_FRAMES = 150
METRIC_BUDGET_MS = 1_500        # estimated worst-case time for the metrics of the shown frames
MAX_SEED = 1_000_000

FAMILY_NAMES = {"random": "Random graph", "tree": "Random tree", "grid": "Triangular grid",
                "geometric": "Random geometric graph"}
INIT_NAMES = {"random": "random start", "smart": "smart start (pivot MDS)"}


def optimizer_label(name: str) -> str:
    return "L-BFGS" if name == "lbfgs" else optim.OPTIMIZERS[name].label


# The playground's second and third hyperparameter, per optimizer: the name
# `gl.layout_optimizer` takes for the "beta" and "beta2" settings.
BETA_NAME = {"momentum": "momentum", "nesterov": "momentum", "kochenderfer_nesterov": "beta",
             "adam": "beta1", "adamw": "beta1", "hypergradient_adam": "beta1"}
BETA2_NAME = {"adam": "beta2", "adamw": "beta2", "hypergradient_adam": "beta2", "rmsprop": "alpha",
              "adadelta": "rho"}
RACE_PATTERN = r"({0})(,({0})){{1,3}}".format("|".join(gl.OPTIMIZER_NAMES))

SCHEMA = Schema((
    Setting("mode", "Mode", "choice", "single", choices=("single", "race")),
    Setting("optimizer", "Optimizer", "choice", "momentum", choices=gl.OPTIMIZER_NAMES),
    Setting("lr", "Learning rate η", "float", "", low=1e-6, high=100.0),
    Setting("beta", "Momentum β / β₁", "float", "", low=0.0, high=0.999),
    Setting("beta2", "β₂ / α / ρ", "float", "", low=0.0, high=0.9999),
    Setting("race", "Racers", "text", "sgd,momentum,adam", pattern=RACE_PATTERN,
            pattern_help="2 to 4 optimizers, e.g. sgd,momentum,adam"),
    Setting("family", "Graph", "choice", "tree", choices=gl.FAMILIES),
    Setting("n", "Circles", "int", 40, low=1, high=MAX_CIRCLES),
    Setting("seed", "Graph seed", "int", 0, low=0, high=MAX_SEED),
    Setting("steps", "Steps", "int", 300, low=1, high=MAX_RUN_STEPS),
    Setting("init", "Start", "choice", "random", choices=gl.INITS),
))

PAGE = dict(
    path="/graph-layout", name="Graph layout", order=5, lesson=True, icon="graph-layout.svg",
    title="Graph layout: an optimizer playground — Learnscape", steps=len(STEPS),
    description="Circles, links, no overlaps: watch gradient descent, momentum, Adam and L-BFGS "
                "move circles the way training moves weights, get tangled, and race.",
)


def clean(raw: dict) -> tuple[dict, list[str]]:
    """SCHEMA.clean, saying "the optimizer's default" where a blank hyperparameter is used."""
    values, notices = SCHEMA.clean(raw)
    return values, [n.replace("; using .", "; using the optimizer's default.") for n in notices]


# -- runs and scenes ---------------------------------------------------------------------


def default_hyper(name: str) -> dict[str, float]:
    """The lesson's hyperparameters of optimizer `name` (positions in units of the radius)."""
    if name == "lbfgs":
        return {}
    spec = optim.OPTIMIZERS[name]
    values = {h.name: h.default for h in spec.hyperparameters if h.kind == "float"}
    return {**values, **gl.LESSON_DEFAULTS.get(name, {})}


def hyper_for(name: str, values: dict | None = None) -> tuple[tuple[str, float], ...]:
    """Hyperparameters of `name` that differ from `optim`'s own defaults: the lesson's
    defaults, overridden by the visitor's non-blank lr / beta / beta2 settings."""
    hyper = dict(gl.LESSON_DEFAULTS.get(name, {}))
    if values and name != "lbfgs":
        for setting, key in (("lr", "lr"), ("beta", BETA_NAME.get(name)), ("beta2", BETA2_NAME.get(name))):
            if key and values.get(setting) not in ("", None):
                hyper[key] = float(values[setting])
    return tuple(sorted(hyper.items()))


def run_title(name: str, hyper: tuple) -> str:
    lr = dict(hyper).get("lr", default_hyper(name).get("lr"))
    return optimizer_label(name) if lr is None else f"{optimizer_label(name)}, η = {lr:g}"


@dataclass(frozen=True)
class Run:
    """One optimizer run of a scene: the optimizer, its hyperparameters, its start."""

    optimizer: str
    hyper: tuple = ()
    init: str = "random"

    @property
    def title(self) -> str:
        return run_title(self.optimizer, self.hyper)


def lesson_run(name: str, init: str = "random", **hyper: float) -> Run:
    return Run(name, tuple(sorted({**gl.LESSON_DEFAULTS.get(name, {}), **hyper}.items())), init)


@dataclass(frozen=True)
class Scene:
    """What the layout figure shows: one graph, laid out by 1 to 4 runs from the same start."""

    family: str
    n: int
    seed: int
    steps: int
    runs: tuple[Run, ...]
    arrows: float = 0.0       # if > 0: draw -arrows * grad E from every circle


# The narrated steps' runs: the narration's numbers are measured on exactly these.
TREE = ("tree", 16, 0)
NARRATED = {
    "intro": Scene(*TREE, 300, (lesson_run("momentum"),)),
    "objective": Scene(*TREE, 0, (lesson_run("sgd"),), arrows=0.1),
    "descent": Scene(*TREE, 300, (lesson_run("sgd"),), arrows=0.1),
    "momentum": Scene(*TREE, 300, (lesson_run("sgd"), lesson_run("momentum"))),
    "adaptive": Scene(*TREE, 300, (lesson_run("sgd", lr=0.3), lesson_run("rmsprop", lr=0.3),
                                   lesson_run("adam", lr=0.3))),
    "tangle": Scene("tree", 12, 18, 300, tuple(lesson_run(name) for name in ("sgd", "momentum",
                                                                            "nesterov", "adam"))),
    "big": Scene("grid", 2_000, 0, 200, (lesson_run("momentum"),)),
    "smart": Scene("grid", 2_000, 0, 200, (lesson_run("momentum"), lesson_run("momentum", "smart"))),
    "race": Scene("grid", 300, 0, 300, tuple(lesson_run(name, "smart") for name in
                                             ("sgd", "momentum", "adam", "lbfgs"))),
}

# The tangle-rate experiment (the seed's "momentum methods get stuck less easily"), measured.
TANGLE_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
TANGLE_N, TANGLE_TRIALS, TANGLE_STEPS = 12, 50, 300


def frame_count(n: int, steps: int, runs: int) -> int:
    """Frames sent for a scene: at most MAX_FRAMES, and n * frames * runs <= POSITION_BUDGET."""
    return max(1, min(MAX_FRAMES, steps + 1, POSITION_BUDGET // (n * runs)))


def wanted_steps(steps: int, frames: int) -> np.ndarray:
    """(frames,) int: evenly spread steps from 0 to `steps`, both included."""
    return np.unique(np.linspace(0, steps, max(frames, 1)).round().astype(np.int64))


def metric_count(n: int, m: int, runs: int, frames: int) -> int:
    """How many frames of each run get `layout_metrics`, within METRIC_BUDGET_MS.

    Estimated cost of one call in ms: ~0.03 per circle plus the crossing
    test, ~1.5e-4 per pair of links up to its budget of 1e6 pairs.
    """
    cost = 0.5 + 0.03 * n + 1.5e-4 * min(m * (m - 1) / 2, gl.CROSSING_PAIR_BUDGET)
    return int(min(frames, max(2, METRIC_BUDGET_MS // (runs * cost))))


@memoize()
def layout_run(family: str, n: int, seed: int, optimizer: str, hyper: tuple, init: str, steps: int,
               frames: int, metric_frames: int) -> dict:
    """One run on `make_graph(family, n, seed)` from the start of `seed`, at `frames` shown frames.

    Returns positions (F, n, 2) float32 at steps frame_steps (F,) (clamped to
    the last step run), loss (S + 1,) at every step run, metrics at
    `metric_frames` of the F frames (frame indices in "metric_index"), the
    final metrics, diverged_at and the run's message.
    """
    edges = gl.make_graph(family, n, seed)
    history = gl.run_layout(edges, n, gl.layout_optimizer(optimizer, **dict(hyper)), steps, init, seed,
                            radius=RADIUS)
    last = int(history.frame_steps[-1])
    wanted = np.minimum(wanted_steps(steps, frames), last)
    index = np.minimum(np.searchsorted(history.frame_steps, wanted), len(history.frame_steps) - 1)
    shown = history.frame_steps[index]
    picks = np.unique(np.linspace(0, len(index) - 1, min(metric_frames, len(index))).round().astype(int))
    metrics = [gl.layout_metrics(history.positions[index[k]], edges, RADIUS) for k in picks]
    return {
        "positions": history.positions[index].astype(np.float32),
        "frame_steps": shown,
        "loss": history.loss,
        "metric_index": picks,
        "overlaps": [m["overlapping_pairs"] for m in metrics],
        "edge_ratio": [m["mean_edge_ratio"] for m in metrics],
        "crossings": [m["crossings"] for m in metrics],
        "exact": [m["crossings_exact"] for m in metrics],
        "final": history.metrics,
        "diverged_at": history.diverged_at,
        "message": history.message,
    }


@memoize()
def tangle_result(optimizer: str) -> dict:
    """`tangle_rate` of one optimizer over the lesson's TANGLE_TRIALS random trees."""
    return gl.tangle_rate(optimizer, n=TANGLE_N, trials=TANGLE_TRIALS, seed=0, family="tree",
                          steps=TANGLE_STEPS)


@dataclass
class Built:
    """A scene ready for the browser."""

    scene_payload: dict
    loss_payload: dict
    runs: list[dict]
    edges: int
    webgl: bool


def build_scene(scene: Scene, *, autoplay: bool = False, start: str = "first") -> Built:
    """Run (memoized) every run of `scene` and build the layout scene and the loss curves."""
    k = len(scene.runs)
    edges = gl.make_graph(scene.family, scene.n, scene.seed)
    frames = frame_count(scene.n, scene.steps, k)
    metric_frames = metric_count(scene.n, len(edges), k, frames)
    runs = [layout_run(scene.family, scene.n, scene.seed, r.optimizer, r.hyper, r.init, scene.steps,
                       frames, metric_frames) for r in scene.runs]
    steps = wanted_steps(scene.steps, frames)
    panels = []
    mixed = len({r.init for r in scene.runs}) > 1
    for run, result in zip(scene.runs, runs):
        positions = result["positions"].astype(float)
        loss = result["loss"]
        energy = loss[np.minimum(steps, len(loss) - 1)]
        arrows = None
        if scene.arrows:   # the downhill direction of every circle, -grad E, scaled to be seen
            arrows = np.stack([-scene.arrows * gl.layout_loss_and_grad(X, edges, RADIUS)[1] for X in positions])
        index = result["metric_index"]
        diverged = result["diverged_at"]
        panels.append({
            "title": f"{run.title} · {run.init} start" if mixed else run.title,
            "name": f"{optimizer_label(run.optimizer)}, {run.init} start" if mixed else optimizer_label(run.optimizer),
            "positions": positions,
            "arrows": arrows,
            "energy": energy,
            "metrics": {"frames": [int(i) for i in index],
                        "steps": [int(result["frame_steps"][i]) for i in index],
                        "overlaps": [int(v) for v in result["overlaps"]],
                        "edge_ratio": [None if v is None else round(float(v), 3) for v in result["edge_ratio"]],
                        "crossings": [int(v) for v in result["crossings"]],
                        "exact": [bool(v) for v in result["exact"]]},
            "status": ["" if diverged is None or s < diverged else f"diverged at step {diverged}" for s in steps],
        })
    labels = [f"step {int(s)} of {scene.steps}" for s in steps]
    key = f"{scene.family}-{scene.n}-{scene.seed}-{k}"
    payload = figures.layout_scene(panels, edges, radius=RADIUS, frame_steps=steps, uirevision=key,
                                   height=scene_height(k))
    loss = figures.loss_curves([{"title": p["title"], "loss": res["loss"]} for p, res in zip(panels, runs)],
                               steps, labels)
    for p in (payload, loss):
        p["autoplay"], p["start"] = autoplay and len(steps) > 1, start
    payload["frames"] = len(steps)
    return Built(payload, loss, runs, len(edges), payload["webgl"])


def scene_height(runs: int) -> int:
    """Pixel height of the layout figure for 1 to 4 panels."""
    return {1: 560, 2: 470, 3: 400, 4: 620}.get(runs, 560)


def free_scene(values: dict) -> tuple[Scene, list[str]]:
    """The playground's scene from cleaned settings, steps cut to the budget (with a notice)."""
    notices = []
    if values["mode"] == "race":
        names = list(dict.fromkeys(values["race"].split(",")))
        if len(names) < 2:
            notices.append("A race needs two different optimizers; racing gradient descent against yours.")
            names = list(dict.fromkeys([values["optimizer"], "sgd" if values["optimizer"] != "sgd" else "adam"]))
    else:
        names = [values["optimizer"]]
    runs = tuple(Run(name, hyper_for(name, values if name == values["optimizer"] else None), values["init"])
                 for name in names)
    n, steps = int(values["n"]), int(values["steps"])
    allowed = max(1, CIRCLE_STEP_BUDGET // (n * len(runs)))
    if steps > allowed:
        notices.append(f"{n:,} circles × {steps:,} steps × {len(runs)} run{'s' if len(runs) > 1 else ''} is over "
                       f"the limit of {CIRCLE_STEP_BUDGET:,} circle-steps per run request; running {allowed:,} steps.")
        steps = allowed
    return Scene(values["family"], n, int(values["seed"]), steps, runs), notices


def caption(scene: Scene, built: Built) -> str:
    text = (f"{FAMILY_NAMES[scene.family]} of {scene.n:,} circles and {built.edges:,} links · "
            f"{INIT_NAMES[scene.runs[0].init] if len({r.init for r in scene.runs}) == 1 else 'two starts'} · "
            f"{scene.steps:,} steps. ")
    if scene.arrows:
        lr = dict(scene.runs[0].hyper).get("lr")
        text += (f"Red arrows: −∇E at 1/{1 / scene.arrows:g} scale (gradient descent moves each circle "
                 f"η = {lr:g} times its −∇E per step). ")
    return text + ("Circles are drawn to scale" + (" (with WebGL where the browser has it)" if built.webgl else "")
                   + ": drag to pan, scroll to zoom, double-click to reset.")


def run_notices(scene: Scene, built: Built) -> list[str]:
    """A message for every run that diverged, naming the step."""
    return [f"{r.title}: {res['message']}." for r, res in zip(scene.runs, built.runs)
            if res["diverged_at"] is not None]


# -- layout ------------------------------------------------------------------------------

#: While a run is computed, the figures stay visible, dimmed, under the spinner.
DIMMED = {"visibility": "visible", "opacity": 0.35}


def layout(**query) -> html.Div:
    values, notices = clean(query)
    step, step_notices = parse_step(query.get("step"), len(STEPS))
    hidden = SCHEMA.hidden(query)
    stage = [
        step_player(PLAYER, label="step"),
        dcc.Loading(
            [
                html.Div(dcc.Graph(
                    id=lesson_id("layout-graph", LESSON), style={"height": f"{scene_height(1)}px"},
                    config={"displaylogo": False, "scrollZoom": True, "responsive": True,
                            "displayModeBar": "hover", "doubleClick": "reset",
                            "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage", "autoScale2d"]}),
                    className="ls-figure gl-layout-graph"),
                dcc.Store(id=lesson_id("scene", LESSON)),
                html.P(id=lesson_id("caption", LESSON), className="gl-caption"),
            ],
            type="circle", delay_show=400, parent_className="gl-loading", overlay_style=DIMMED,
        ),
        _tangle_panel(),
        _playground(values, hidden),
        dcc.Loading(
            html.Div(
                [
                    animated_graph(PLAYER, "loss", height=300),
                    html.Div(
                        [html.H3("At this step"),
                         html.Table([html.Thead(html.Tr([html.Th(h) for h in (
                             "run", "E", "overlaps", "link length", "crossings")])),
                             html.Tbody(_metric_rows())], className="ls-table gl-metrics"),
                         html.P("E: the energy (the loss curve draws E below 10⁻⁶ at 10⁻⁶). Overlaps: pairs of "
                                "circles overlapping by more than 1 % of a diameter. Link length: the mean, in "
                                "units of touching (1 = linked circles touch). Crossings: pairs of links that "
                                "cross.", className="gl-note")],
                        className="ls-panel gl-metrics-panel"),
                ],
                className="gl-lower",
            ),
            type="circle", delay_show=400, overlay_style=DIMMED,
        ),
    ]
    return lesson_shell(LESSON, STEPS, stage, step=step, notices=notices + step_notices,
                        defaults=SCHEMA.defaults())


MAX_RUNS = 4
#: The cells of the metrics table, one per run (row); the browser writes them for each frame.
METRIC_CELLS = ("name", "note", "energy", "overlaps", "length", "crossings")


def metric_id(kind: str, row) -> dict:
    return {"type": f"gl-{kind}", "lesson": LESSON, "row": row}


def _metric_rows() -> list:
    """MAX_RUNS table rows of fixed cells (strings are cheap to update for every frame)."""
    return [
        html.Tr([html.Td([html.Span(id=metric_id("swatch", r), className="gl-swatch"),
                          html.Span(id=metric_id("name", r)),
                          html.Span(id=metric_id("note", r), className="gl-measured")]),
                 *[html.Td(id=metric_id(kind, r)) for kind in METRIC_CELLS[2:]]],
                id=metric_id("row", r), className="ls-hidden")
        for r in range(MAX_RUNS)
    ]


def _tangle_panel() -> html.Div:
    return html.Div(
        dcc.Loading(
            [*[dcc.Store(id=lesson_id("tangle", LESSON, k=k)) for k in range(len(TANGLE_OPTIMIZERS))],
             dcc.Graph(id=lesson_id("tangle-graph", LESSON), style={"height": "340px"},
                       figure=show_tangle_rates(*[None] * len(TANGLE_OPTIMIZERS)),
                       config={"displaylogo": False, "displayModeBar": False, "responsive": True})],
            type="circle", delay_show=300, overlay_style=DIMMED,
        ),
        id=lesson_id("tangle-panel", LESSON), className="ls-figure ls-hidden",
    )


def _text_input(name: str, value, placeholder: str = "") -> dcc.Input:
    return dcc.Input(id=setting_id(LESSON, name), type="text", value="" if value in ("", None) else str(value),
                     placeholder=placeholder, debounce=True)


def _playground(values: dict, hidden: set) -> html.Div:
    def control(name, label, widget, help_text=""):
        return setting_control(LESSON, name, label, widget, hidden=name in hidden, help_text=help_text)

    optimizer_options = [{"label": optimizer_label(name), "value": name} for name in gl.OPTIMIZER_NAMES]
    labels, placeholders, classes = hyper_controls(values["optimizer"])
    hyper = [
        html.Div(control(name, html.Span(labels[i], id=lesson_id("hyper-label", LESSON, name=name)),
                         _text_input(name, values[name], placeholders[i]), help_text=help_text),
                 id=lesson_id("hyper", LESSON, name=name), className=classes[i])
        for i, (name, help_text) in enumerate((("lr", "10⁻⁶ to 100; blank = default"),
                                               ("beta", "0 to 0.999; blank = default"),
                                               ("beta2", "0 to 0.9999; blank = default")))
    ]
    racers = [r for r in values["race"].split(",") if r in gl.OPTIMIZER_NAMES]
    return html.Div(
        [
            html.H3("Playground"),
            html.Div(
                [
                    control("mode", "Mode", dcc.RadioItems(
                        id=setting_id(LESSON, "mode"), value=values["mode"], inline=True,
                        options=[{"label": "one optimizer", "value": "single"},
                                 {"label": "race", "value": "race"}], className="gl-radio")),
                    control("optimizer", "Optimizer", dcc.Dropdown(
                        id=setting_id(LESSON, "optimizer"), options=optimizer_options, value=values["optimizer"],
                        clearable=False)),
                    *hyper,
                    html.Div(
                        control("race", "Racers (2 to 4; yours with your settings)", html.Div([
                            dcc.Dropdown(id=lesson_id("racers", LESSON), options=optimizer_options, value=racers,
                                         multi=True, clearable=False),
                            dcc.Input(id=setting_id(LESSON, "race"), type="hidden", value=values["race"]),
                        ])),
                        id=lesson_id("racers-control", LESSON),
                        className="gl-racers" if values["mode"] == "race" else "gl-racers ls-hidden",
                    ),
                ],
                className="ls-controls",
            ),
            html.Div(
                [
                    control("family", "Graph", dcc.Dropdown(
                        id=setting_id(LESSON, "family"), value=values["family"], clearable=False,
                        options=[{"label": FAMILY_NAMES[f], "value": f} for f in gl.FAMILIES])),
                    control("n", "Circles", _text_input("n", values["n"]), help_text=f"1 to {MAX_CIRCLES:,}"),
                    control("seed", "Graph seed", _text_input("seed", values["seed"]),
                            help_text="graph and start"),
                    control("steps", "Steps", _text_input("steps", values["steps"]),
                            help_text=f"1 to {MAX_RUN_STEPS:,}; circles × steps ≤ {CIRCLE_STEP_BUDGET:,}"),
                    control("init", "Start", dcc.Dropdown(
                        id=setting_id(LESSON, "init"), value=values["init"], clearable=False, searchable=False,
                        options=[{"label": "random", "value": "random"},
                                 {"label": "smart (pivot MDS)", "value": "smart"}])),
                ],
                className="ls-controls",
            ),
            html.Div(
                [
                    html.Button("▶ Run", id=lesson_id("run", LESSON), className="gl-run"),
                    html.Button("New graph", id=lesson_id("new-graph", LESSON), className="ls-prev gl-new",
                                title="The next graph seed"),
                    html.Span("Settings changed: press Run.", className="gl-stale-hint"),
                    dcc.Store(id=lesson_id("request", LESSON)),
                    dcc.Store(id=lesson_id("ran", LESSON)),
                ],
                className="gl-actions",
            ),
        ],
        id=lesson_id("playground", LESSON), className="ls-panel ls-hidden",
    )


def hyper_controls(optimizer) -> tuple[list[str], list[str], list[str]]:
    """Labels, placeholders and classes of the lr / beta / beta2 controls for `optimizer`."""
    name = optimizer if optimizer in gl.OPTIMIZER_NAMES else "adam"
    defaults = default_hyper(name)
    spec = {h.name: h for h in optim.OPTIMIZERS[name].hyperparameters} if name != "lbfgs" else {}
    keys = ("lr" if name != "lbfgs" else None, BETA_NAME.get(name), BETA2_NAME.get(name))
    labels, placeholders, classes = [], [], []
    for key, fallback in zip(keys, ("Learning rate η", "Momentum β / β₁", "β₂ / α / ρ")):
        if key is None:
            labels.append(fallback)
            placeholders.append("")
            classes.append("ls-hidden")
            continue
        labels.append("Learning rate η" if key == "lr" else spec[key].label)
        placeholders.append(f"{defaults[key]:g} (default)")
        classes.append("")
    return labels, placeholders, classes


# -- callbacks ---------------------------------------------------------------------------


@dash.callback(
    *[Output(lesson_id("hyper", LESSON, name=name), "className") for name in ("lr", "beta", "beta2")],
    *[Output(setting_id(LESSON, name), "placeholder") for name in ("lr", "beta", "beta2")],
    *[Output(lesson_id("hyper-label", LESSON, name=name), "children") for name in ("lr", "beta", "beta2")],
    Output(lesson_id("racers-control", LESSON), "className"),
    Input(setting_id(LESSON, "optimizer"), "value"),
    Input(setting_id(LESSON, "mode"), "value"),
)
def show_own_controls(optimizer, mode):
    """Only the chosen optimizer's hyperparameters (default as placeholder); racers in race mode."""
    labels, placeholders, classes = hyper_controls(optimizer)
    return (*classes, *placeholders, *labels, "gl-racers" if mode == "race" else "gl-racers ls-hidden")


@dash.callback(
    Output(setting_id(LESSON, "race"), "value"),
    Input(lesson_id("racers", LESSON), "value"),
    prevent_initial_call=True,
)
def racers_to_setting(racers):
    """The racers dropdown as the link's text setting (checked by SCHEMA on the server,
    which explains a choice of fewer than two or more than four)."""
    if not isinstance(racers, list) or not racers:
        return "none"
    return ",".join(str(r) for r in racers)


def _triggered_id():
    try:
        return dash.ctx.triggered_id
    except Exception:  # called directly (tests), outside a callback
        return None


@dash.callback(
    Output(lesson_id("scene", LESSON), "data"),
    Output(player_id("frames", PLAYER, name="loss"), "data"),
    Output(lesson_id("layout-graph", LESSON), "style"),
    Output(lesson_id("caption", LESSON), "children"),
    Output(lesson_id("playground", LESSON), "className"),
    Output(lesson_id("tangle-panel", LESSON), "className"),
    Output(lesson_id("ran", LESSON), "data"),
    Output(lesson_id("notices", LESSON), "children"),
    Output(lesson_id("notices", LESSON), "className"),
    Output(lesson_id("achieved", LESSON), "data"),
    Input(lesson_id("step", LESSON), "data"),
    Input(lesson_id("request", LESSON), "data"),
    *[State(setting_id(LESSON, name), "value") for name in SCHEMA.names],
)
def show_step(step, request, *raw):
    """The scene of a step: its fixed runs, or on the last step the playground's settings."""
    values, notices = clean(dict(zip(SCHEMA.names, raw)))
    index = step if isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(STEPS) else 0
    figure = FIGURE_OF_STEP[index]
    free = figure == "free"
    asked = _triggered_id() == lesson_id("request", LESSON)
    autoplay = STEP_PLAY.get(figure, False) or (free and asked)
    if free:
        scene, more = free_scene(values)
        notices += more
    else:
        scene = NARRATED.get(figure, NARRATED["intro"])
    try:
        built = build_scene(scene, autoplay=autoplay)
    except ValueError as error:   # a limit of the model, an optimizer's range, a busy server
        notices.append(f"Cannot lay out this graph: {error}.")
        scene = free_scene(SCHEMA.defaults())[0] if free else NARRATED["intro"]
        built = build_scene(scene)
    if free:   # narrated steps say it in their table and narration
        notices += run_notices(scene, built)
    done = (free and scene.family == "grid" and scene.n >= 2_000
            and all(r["final"]["overlapping_pairs"] == 0 for r in built.runs))
    return (built.scene_payload, built.loss_payload, {"height": f"{scene_height(len(scene.runs))}px"},
            caption(scene, built), "ls-panel" if free else "ls-panel ls-hidden",
            "ls-figure" if figure == "tangle" else "ls-figure ls-hidden",
            [str(v) if v is not None else "" for v in raw] if free else dash.no_update,
            [html.P(n) for n in notices], "ls-notices" if notices else "ls-notices is-empty",
            [index] if done else [])


def _on_tangle_step(step) -> bool:
    return (isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(STEPS)
            and FIGURE_OF_STEP[step] == "tangle")


def _tangle_callback(k: int):
    """Tangle rates one optimizer per request, each after the one before: the bars fill in.
    The chain stops when the visitor has left the step (it resumes, memoized, on return)."""
    trigger = (Input(lesson_id("step", LESSON), "data") if k == 0
               else Input(lesson_id("tangle", LESSON, k=k - 1), "data"))

    @dash.callback(Output(lesson_id("tangle", LESSON, k=k), "data"), trigger,
                   State(lesson_id("step", LESSON), "data"))
    def compute(upstream, step):
        if not _on_tangle_step(step) or (k > 0 and not isinstance(upstream, dict)):
            return dash.no_update
        try:
            result = tangle_result(TANGLE_OPTIMIZERS[k])
        except ValueError as error:
            return {"error": str(error)}
        return {key: result[key] for key in ("optimizer", "tangled", "trials", "rate", "with_crossings",
                                             "high_energy", "diverged")}

    return compute


TANGLE_CALLBACKS = [_tangle_callback(k) for k in range(len(TANGLE_OPTIMIZERS))]


@dash.callback(
    Output(lesson_id("tangle-graph", LESSON), "figure"),
    *[Input(lesson_id("tangle", LESSON, k=k), "data") for k in range(len(TANGLE_OPTIMIZERS))],
)
def show_tangle_rates(*results):
    results = [r if isinstance(r, dict) and "rate" in r else None for r in results]
    return figures.tangle_bars(results, [optimizer_label(name) for name in TANGLE_OPTIMIZERS],
                               trials=TANGLE_TRIALS, n=TANGLE_N, steps=TANGLE_STEPS)


clientside_callback(
    ClientsideFunction("graph_layout", "render"),
    Output(lesson_id("layout-graph", LESSON), "figure"),
    Output(metric_id("row", ALL), "className"),
    Output(metric_id("swatch", ALL), "style"),
    Output(metric_id("note", ALL), "className"),
    *[Output(metric_id(kind, ALL), "children") for kind in METRIC_CELLS],
    Input(player_id("slider", PLAYER), "value"),
    Input(lesson_id("scene", LESSON), "data"),
)

clientside_callback(
    ClientsideFunction("graph_layout", "request"),
    Output(setting_id(LESSON, "seed"), "value"),
    Output(lesson_id("request", LESSON), "data"),
    Input(lesson_id("run", LESSON), "n_clicks"),
    Input(lesson_id("new-graph", LESSON), "n_clicks"),
    State(setting_id(LESSON, "seed"), "value"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction("graph_layout", "stale"),
    Output(lesson_id("run", LESSON), "className"),
    Input(lesson_id("ran", LESSON), "data"),
    *[Input(setting_id(LESSON, name), "value") for name in SCHEMA.names],
)

__all__ = ["PAGE", "layout", "SCHEMA", "STEPS", "NARRATED", "build_scene", "free_scene", "layout_run",
           "tangle_result"]
