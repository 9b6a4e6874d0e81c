"""Lesson: the graph-layout optimizer playground (seed: visualizing machine learning optimizers).

Every node of a graph is a circle of radius 1. The energy E pulls linked
circles until they touch and pushes overlapping circles apart; the
optimizers of `app.ml.optim` (and L-BFGS) minimize it while the visitor
watches the circles move, the way weights move in training.

The lesson engine runs the steps; this module holds the layout and one view
per figure of the narration. Scenes and runs come from
app.lessons.graph_layout (memoized here); the browser draws their frames
(`app/assets/graph-layout.js`), so playing and scrubbing never ask the
server. The narrated steps show fixed runs (the narration's numbers are
measured on them); the last step is the playground, whose settings take
effect when the visitor presses Run.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import dash
import numpy as np
from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from app.cache import NotCached, cached_only, memoize
from app.compute_slots import mark_transient
from app.lessons import graph_layout as experiments
from app.lessons import own_graph
from app.lessons.graph_layout import (CIRCLE_STEP_BUDGET, MAX_CIRCLES, MAX_RUN_STEPS, MAX_RUNS, MAX_SEED, NARRATED,
                                      TANGLE_N, TANGLE_OPTIMIZERS, TANGLE_RATES, TANGLE_STEPS, TANGLE_TRIALS,
                                      Run, Scene)
from app.ml import graph_layout as gl
from app.ml import optim
from components import graph_layout_figures as figures
from components.controls import widget_value
from components.computing import DIMMED, computing
from components.run_files import figure_tools
from components.engine import Lesson, View
from components.ids import dom_id, lesson_id, player_id, setting_id
from components.narration import load_steps
from components.optimizer_settings import OptimizerSchema
from components.settings_schema import Setting

LESSON = "graph-layout"
PLAYER = LESSON
STEPS = load_steps(Path(__file__).with_suffix(".md"))
HYPER = ("lr", "beta", "beta2")
RACE_PATTERN = r"({0})(,({0})){{1,3}}".format("|".join(gl.OPTIMIZER_NAMES))
#: Caption words for each start.
INIT_NAMES = {"random": "random start", "smart": "smart start (pivot MDS)"}


# lr, beta and beta2 are blank by default: the chosen optimizer's own default.
SCHEMA = OptimizerSchema((
    Setting("mode", "Mode", "choice", "single", choices=experiments.MODES, widget="radio",
            labels=("one optimizer", "race")),
    Setting("optimizer", "Optimizer", "choice", "momentum", choices=gl.OPTIMIZER_NAMES,
            labels=tuple("L-BFGS" if name == "lbfgs" else optim.OPTIMIZERS[name].label
                         for name in gl.OPTIMIZER_NAMES)),
    Setting("lr", "Learning rate η", "float", "", low=1e-6, high=100.0, help="10⁻⁶ to 100; blank = default"),
    Setting("beta", "Momentum β / β₁", "float", "", low=0.0, high=0.999, help="0 to 0.999; blank = default"),
    Setting("beta2", "β₂ / α / ρ", "float", "", low=0.0, high=0.9999, help="0 to 0.9999; blank = default"),
    Setting("race", "Racers", "text", "sgd,momentum,adam", widget="hidden", pattern=RACE_PATTERN,
            pattern_help="2 to 4 optimizers, e.g. sgd,momentum,adam", help="2 to 4; yours with your settings"),
    Setting("family", "Graph", "choice", "tree", choices=gl.FAMILIES,
            labels=("Random graph", "Random tree", "Triangular grid", "Random geometric graph")),
    Setting("n", "Circles", "int", 40, low=1, high=MAX_CIRCLES),
    Setting("seed", "Graph seed", "int", 0, low=0, high=MAX_SEED, help="graph and start"),
    Setting("steps", "Steps", "int", 300, low=1, high=MAX_RUN_STEPS,
            help=f"1 to {MAX_RUN_STEPS:,}; circles × steps ≤ {CIRCLE_STEP_BUDGET:,}"),
    Setting("init", "Start", "choice", "random", choices=gl.INITS, labels=("random", "smart (pivot MDS)")),
    Setting("graph", "Your graph", "text", "", widget="hidden", max_length=own_graph.LINK_CHARS,
            check=own_graph.check_code, pattern_help="a graph this site encoded"),
))

PAGE = dict(
    path="/graph-layout", name="Graph layout", order=5, lesson=True, icon="graph-layout.svg",
    title="Graph layout: an optimizer playground — Learnscape", steps=len(STEPS),
    description="Circles, links, no overlaps: watch gradient descent, momentum, Adam and L-BFGS "
                "move circles the way training moves weights, get tangled, and race.",
)

layout_frames = memoize()(experiments.layout_frames)
tangle_result = memoize()(experiments.tangle_result)


@memoize()
def run_metrics(family: str, n: int, seed: int, optimizer: str, hyper: tuple, init: str, steps: int,
                frames: int, graph: str, picks: tuple) -> list[dict]:
    """The metrics of the frames `picks` of a run, in one cache entry (an entry per frame made
    150 entries a run: a filesystem cache past its entry limit reads every entry at each write)."""
    run = layout_frames(family, n, seed, optimizer, hyper, init, steps, frames, graph)
    return [experiments.frame_metrics(run, k) for k in picks]


def scene_run(scene: Scene, run: Run, frames: int, metric_frames: int) -> dict:
    """`experiments.layout_run` of one run of `scene`, from memoized parts: the run at its frames
    (the random run of "big" is also the left one of "smart"), and the metrics of its measured frames."""
    args = (scene.family, scene.n, scene.seed, run.optimizer, run.hyper, run.init, scene.steps, frames, scene.graph)
    picks = experiments.metric_picks(frames, metric_frames)
    metrics = run_metrics(*args, tuple(int(k) for k in picks))
    return experiments.with_metrics(layout_frames(*args), picks, metrics, scene.arrows)


def choice_label(name: str, choice) -> str:
    """The label SCHEMA gives `choice` of the choice setting `name`."""
    setting = SCHEMA.get(name)
    return dict(zip(setting.choices, setting.labels))[choice]


def optimizer_label(name: str) -> str:
    return choice_label("optimizer", name)


def run_title(run: Run) -> str:
    """The optimizer and its learning rate, e.g. "Momentum, η = 0.02"."""
    lr = dict(run.hyper).get("lr", experiments.default_hyper(run.optimizer).get("lr"))
    return optimizer_label(run.optimizer) if lr is None else f"{optimizer_label(run.optimizer)}, η = {lr:g}"


# -- scenes for the browser ----------------------------------------------------------------


@dataclass
class Built:
    """A scene ready for the browser."""

    scene_payload: dict
    loss_payload: dict
    runs: list[dict]
    edges: int
    webgl: bool


def build_scene(scene: Scene, *, autoplay: bool = False) -> Built:
    """Run (memoized) every run of `scene` and build the layout scene and the loss curves."""
    k = len(scene.runs)
    frames, metric_frames = experiments.scene_frames(scene)
    runs = [scene_run(scene, r, frames, metric_frames) for r in scene.runs]
    steps = experiments.wanted_steps(scene.steps, frames)
    mixed = len({r.init for r in scene.runs}) > 1
    twice = len({r.optimizer for r in scene.runs}) < k       # an optimizer at two step sizes: name them
    panels = [_panel(run, result, steps, mixed, twice) for run, result in zip(scene.runs, runs)]
    edges = runs[0]["edges"]
    payload = figures.layout_scene(panels, edges, radius=experiments.RADIUS, frame_steps=steps,
                                   uirevision=f"{scene.family}-{scene.n}-{scene.seed}-{k}", height=scene_height(k))
    labels = [f"step {int(s)} of {scene.steps}" for s in steps]
    loss = figures.loss_curves([{"title": p["title"], "loss": res["loss"]} for p, res in zip(panels, runs)],
                               steps, labels)
    for p in (payload, loss):
        p["autoplay"], p["start"] = autoplay and len(steps) > 1, "first"
    payload["frames"] = len(steps)
    return Built(payload, loss, runs, len(edges), payload["webgl"])


def _panel(run: Run, result: dict, steps: np.ndarray, mixed: bool, twice: bool = False) -> dict:
    """One run's panel of the layout scene (see `figures.layout_scene`); `mixed`: runs differ in start;
    `twice`: an optimizer runs twice, so the metrics table names each run with its step size."""
    index, diverged = result["metric_index"], result["diverged_at"]
    title = run_title(run)
    return {
        "title": f"{title} · {run.init} start" if mixed else title,
        "name": (f"{optimizer_label(run.optimizer)}, {run.init} start" if mixed
                 else title if twice else optimizer_label(run.optimizer)),
        "positions": result["positions"].astype(float),
        "arrows": result["arrows"],
        "energy": result["loss"][np.minimum(steps, len(result["loss"]) - 1)],
        "metrics": {"frames": [int(i) for i in index],
                    "steps": [int(result["frame_steps"][i]) for i in index],
                    "overlaps": [int(v) for v in result["overlaps"]],
                    "edge_ratio": [None if v is None else round(float(v), 3) for v in result["edge_ratio"]],
                    "crossings": [int(v) for v in result["crossings"]],
                    "exact": [bool(v) for v in result["exact"]]},
        "status": ["" if diverged is None or s < diverged else f"diverged at step {diverged}" for s in steps],
    }


def scene_height(runs: int) -> int:
    """Pixel height of the layout figure for 1 to 4 panels."""
    return {1: 560, 2: 470, 3: 400, 4: 620}.get(runs, 560)


def caption(scene: Scene, built: Built) -> str:
    starts = {r.init for r in scene.runs}
    text = (f"{'Your graph' if scene.graph else choice_label('family', scene.family)} of {scene.n:,} circles and {built.edges:,} links · "
            f"{INIT_NAMES[scene.runs[0].init] if len(starts) == 1 else 'two starts'} · {scene.steps:,} steps. ")
    if scene.arrows:
        lr = dict(scene.runs[0].hyper).get("lr")
        text += (f"Red arrows: −∇E at 1/{1 / scene.arrows:g} scale (gradient descent moves each circle "
                 f"η = {lr:g} times its −∇E per step). ")
    return text + ("Circles are drawn to scale" + (" (with WebGL where the browser has a graphics card)" if built.webgl else "")
                   + ": drag to pan, scroll to zoom, double-click to reset.")


def run_notices(scene: Scene, built: Built) -> list[str]:
    """A message for every run that diverged, naming the step."""
    return [f"{run_title(r)}: {res['message']}." for r, res in zip(scene.runs, built.runs)
            if res["diverged_at"] is not None]


def shown_settings(raw: Mapping) -> list[str]:
    """Every setting as its field shows it after this step (a refused value shows the one used):
    what the Run button compares the fields with to tell that they changed."""
    values, refused = SCHEMA.check(dict(raw))
    shown = []
    for setting in SCHEMA.settings:
        value = widget_value(setting, values[setting.name]) if setting.name in refused else raw.get(setting.name)
        shown.append("" if value is None else str(value))
    return shown


# -- views -----------------------------------------------------------------------------------


def _scene_outputs(scene: Scene, built: Built) -> dict:
    return {"scene": built.scene_payload, "layout-style": {"height": f"{scene_height(len(scene.runs))}px"},
            "caption": caption(scene, built)}


def narrated_view(ctx) -> View:
    """A narrated step's fixed runs (its settings are not used); the tangle step adds its rates."""
    scene = NARRATED[ctx.figure]
    built = build_scene(scene, autoplay=ctx.step.play)
    return View(figures={"loss": built.loss_payload}, panels=["tangle"] if ctx.figure == "tangle" else [],
                outputs=_scene_outputs(scene, built))


def playground_view(ctx) -> View:
    """The playground's run of the settings (played when the visitor asked for it with Run);
    laying out a big grid with no overlaps is the step's task."""
    graph, own_notices = own_graph_code(ctx.values["graph"], ctx.extra.get("own-graph"))
    scene, notices = experiments.playground_scene({**ctx.values, "graph": graph})
    notices = own_notices + notices
    built = build_scene(scene, autoplay=ctx.triggered == "request")
    done = (scene.family == "grid" and scene.n >= 2_000
            and all(r["final"]["overlapping_pairs"] == 0 for r in built.runs))
    return View(figures={"loss": built.loss_payload}, panels=["playground"],
                outputs={**_scene_outputs(scene, built), "ran": shown_settings(ctx.raw)},
                notices=notices + run_notices(scene, built), achieved=done)


VIEWS = {**{figure: narrated_view for figure in NARRATED}, "free": playground_view}

ENGINE = Lesson(
    LESSON, SCHEMA, STEPS, VIEWS,
    graphs={"loss": 300},
    panels={"playground": "ls-panel", "tangle": "ls-figure"},
    outputs={
        "scene": (Output(lesson_id("scene", LESSON), "data"), figures.blank_scene()),
        "layout-style": (Output(lesson_id("layout-graph", LESSON), "style"), {"height": f"{scene_height(1)}px"}),
        "caption": (Output(lesson_id("caption", LESSON), "children"), ""),
        "ran": (Output(lesson_id("ran", LESSON), "data"), dash.no_update),
    },
    inputs={"request": Input(lesson_id("request", LESSON), "data"),
            "own-graph": State(lesson_id("own-graph", LESSON), "data")},
    live_settings=False, player=PLAYER,
    # Last rate first: a visitor who reaches the step before this is done asks for the first
    # ones, so the two share the work (about 0.5 s of CPU per rate) instead of one waiting.
    ahead={"tangle": lambda: [tangle_result(name, TANGLE_RATES[name]) for name in reversed(TANGLE_OPTIMIZERS)]},
)
show_step = ENGINE.register()


# -- layout ----------------------------------------------------------------------------------

#: The cells of the metrics table, one per run (row); the browser writes them for each frame.
METRIC_CELLS = ("name", "note", "energy", "overlaps", "length", "crossings")


def layout(**query) -> html.Div:
    return ENGINE.page(query, stage)


def stage(values: dict, hidden: set) -> list:
    return [
        ENGINE.step_player(label="step"),
        computing(
            [
                html.Div([dcc.Graph(
                    id=lesson_id("layout-graph", LESSON), style={"height": f"{scene_height(1)}px"},
                    config={"displaylogo": False, "scrollZoom": True, "responsive": True,
                            "displayModeBar": "hover", "doubleClick": "reset",
                            "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage", "autoScale2d"]}),
                    # The layout's positions as CSV: its circles' centres are the trace's points.
                    figure_tools("layout")],
                    # The caption under it says what the scene shows and its numbers.
                    className="ls-figure gl-layout-graph", role="figure",
                    **{"aria-describedby": dom_id(lesson_id("caption", LESSON))}),
                dcc.Store(id=lesson_id("scene", LESSON)),
                html.P(id=lesson_id("caption", LESSON), className="gl-caption"),
            ],
            "Laying out the circles", delay_show=400, parent_className="gl-loading",
        ),
        _tangle_panel(),
        _playground(values, hidden),
        dcc.Loading(
            html.Div(
                [
                    ENGINE.graph("loss"),
                    html.Div(
                        [html.H3("At this step"),
                         html.Table([html.Thead(html.Tr([html.Th(h) for h in (
                             "run", "E", "overlaps", "link length", "crossings")])),
                             html.Tbody(_metric_rows())], className="ls-table gl-metrics"),
                         html.P("E: the energy (the loss curve draws E below 10⁻⁶ at 10⁻⁶). Overlaps: pairs of "
                                "circles overlapping by more than 1 % of a diameter. Link length: the mean, in "
                                "units of touching (1 = linked circles touch). Crossings: pairs of links that "
                                "cross.", className="gl-note")],
                        # Focusable: on a phone the table scrolls sideways, by keyboard too.
                        className="ls-panel gl-metrics-panel", tabIndex="0", role="region",
                        **{"aria-label": "Measures at this step"}),
                ],
                className="gl-lower",
            ),
            type="circle", delay_show=400, overlay_style=DIMMED,
        ),
    ]


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


#: The tangle bars' text alternative: their numbers are the bar labels and the narration's.
TANGLE_ALT = ("Bar chart: for each optimizer at its own best step size, the share of the same random "
              "16-circle trees it leaves tangled; the bars fill in as each optimizer's runs finish.")


def _tangle_panel() -> html.Div:
    return html.Div(
        computing(
            [*[dcc.Store(id=lesson_id("tangle", LESSON, k=k)) for k in range(len(TANGLE_OPTIMIZERS))],
             *[dcc.Store(id=lesson_id("tangle-go", LESSON, k=k)) for k in range(1, len(TANGLE_OPTIMIZERS))],
             dcc.Graph(id=lesson_id("tangle-graph", LESSON), style={"height": "340px"},
                       figure=show_tangle_rates(*[None] * len(TANGLE_OPTIMIZERS)),
                       config={"displaylogo": False, "displayModeBar": False, "responsive": True}),
             figure_tools("tangle"),
             html.P(TANGLE_ALT, id=lesson_id("tangle-alt", LESSON), className="ls-sr-only")],
            f"Laying out {TANGLE_TRIALS} random trees with each optimizer",
        ),
        id=ENGINE.panel_id("tangle"), className="ls-figure ls-hidden", role="figure",
        **{"aria-describedby": dom_id(lesson_id("tangle-alt", LESSON))},
    )


def _playground(values: dict, hidden: set) -> html.Div:
    mode, optimizer = ENGINE.controls(values, hidden, ["mode", "optimizer"])
    _widget(mode).inline, _widget(mode).className = True, "gl-radio"
    labels, placeholders, classes = hyper_controls(values["optimizer"])
    hyper = [_hyper_control(control, name, label, placeholder, class_name) for control, name, label, placeholder,
             class_name in zip(ENGINE.controls(values, hidden, HYPER), HYPER, labels, placeholders, classes)]
    graph = ENGINE.controls(values, hidden, ["family", "n", "seed", "steps", "init"])
    _widget(graph[-1]).searchable = False
    return html.Div(
        [
            html.H3("Playground"),
            html.Div([mode, optimizer, *hyper, _racers_control(values, hidden)], className="ls-controls"),
            html.Div(graph, className="ls-controls"),
            _own_graph_panel(values, hidden),
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
        id=ENGINE.panel_id("playground"), className="ls-panel ls-hidden",
    )


def _widget(control: html.Div):
    """The widget of one of `ENGINE.controls` (it follows the label)."""
    return control.children[1]


def _hyper_control(control: html.Div, name: str, label: str, placeholder: str, class_name: str) -> html.Div:
    """The control of an lr / beta / beta2 setting, whose label and placeholder follow the optimizer."""
    control.children[0].children = html.Span(label, id=lesson_id("hyper-label", LESSON, name=name))
    _widget(control).placeholder = placeholder
    return html.Div(control, id=lesson_id("hyper", LESSON, name=name), className=class_name)


def _racers_control(values: dict, hidden: set) -> html.Div:
    """The racers as a multiple choice; it writes the hidden "race" setting (see `racers_to_setting`)."""
    race, optimizers = SCHEMA.get("race"), SCHEMA.get("optimizer")
    racers = [r for r in values["race"].split(",") if r in gl.OPTIMIZER_NAMES]
    return html.Div(
        html.Div(
            [html.Label(f"{race.label} ({race.help})", className="ls-control-label"),
             dcc.Dropdown(id=lesson_id("racers", LESSON), value=racers, multi=True, clearable=False,
                          options=[{"label": label, "value": name}
                                   for name, label in zip(optimizers.choices, optimizers.labels)]),
             *ENGINE.controls(values, hidden, ["race"])],
            className="ls-control is-hidden" if "race" in hidden else "ls-control",
        ),
        id=lesson_id("racers-control", LESSON),
        className="gl-racers" if values["mode"] == "race" else "gl-racers ls-hidden",
    )


def hyper_controls(optimizer) -> tuple[list[str], list[str], list[str]]:
    """Labels, placeholders and classes of the lr / beta / beta2 controls for `optimizer`."""
    name = optimizer if optimizer in gl.OPTIMIZER_NAMES else "adam"
    defaults = experiments.default_hyper(name)
    spec = {h.name: h for h in optim.OPTIMIZERS[name].hyperparameters} if name != "lbfgs" else {}
    keys = ("lr" if name != "lbfgs" else None, experiments.BETA_NAME.get(name), experiments.BETA2_NAME.get(name))
    labels, placeholders, classes = [], [], []
    for setting, key in zip(HYPER, keys):
        labels.append(SCHEMA.get(setting).label if key in (None, "lr") else spec[key].label)
        placeholders.append("" if key is None else f"{defaults[key]:g} (default)")
        classes.append("ls-hidden" if key is None else "")
    return labels, placeholders, classes


# -- callbacks that are not the step's -------------------------------------------------------


@dash.callback(
    *[Output(lesson_id("hyper", LESSON, name=name), "className") for name in HYPER],
    *[Output(setting_id(LESSON, name), "placeholder") for name in HYPER],
    *[Output(lesson_id("hyper-label", LESSON, name=name), "children") for name in HYPER],
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


def _on_tangle_step(step) -> bool:
    return (isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(STEPS)
            and STEPS[step].figure == "tangle")


def _tangle_of(k: int) -> dict:
    """What the bars need of optimizer k's tangle rate (computed, or read from the cache)."""
    try:
        result = tangle_result(TANGLE_OPTIMIZERS[k], TANGLE_RATES[TANGLE_OPTIMIZERS[k]])
    except ValueError as error:
        return {"error": str(error)}
    return {key: result[key] for key in ("optimizer", "tangled", "trials", "rate", "with_crossings",
                                         "high_energy", "diverged")}


def _stored_tangle_of(k: int) -> dict | None:
    """Optimizer k's tangle rate if the cache holds it, else None (not computed here; an
    answer that depends on what the cache holds now is never kept by the response cache)."""
    try:
        with cached_only():
            return _tangle_of(k)
    except NotCached:
        mark_transient()
        return None


#: In the browser, rate k is asked for once rate k - 1 has arrived, and only while its store is empty.
TANGLE_GATE = """function (previous, own) {
    const done = (r) => Boolean(r) && typeof r === "object";
    return done(previous) && !done(own) ? Date.now() : window.dash_clientside.no_update;
}"""


def _tangle_callback(k: int):
    """Tangle rates one optimizer per request, each after the one before, the bars drawn
    anew with every answer: they fill in. The first answer also brings every later rate
    the cache holds (on a warm site, all of them: one request instead of five) and leaves
    the others empty, to be asked for through TANGLE_GATE. The chain stops when the
    visitor has left the step (it resumes, memoized, on return)."""
    n = len(TANGLE_OPTIMIZERS)
    store = lambda j, **kw: Output(lesson_id("tangle", LESSON, k=j), "data", **kw)  # noqa: E731
    bars = Output(lesson_id("tangle-graph", LESSON), "figure", allow_duplicate=True)
    if k == 0:
        @dash.callback(store(0), *[store(j, allow_duplicate=True) for j in range(1, n)], bars,
                       Input(lesson_id("step", LESSON), "data"), prevent_initial_call="initial_duplicate")
        def first(step):
            if not _on_tangle_step(step):
                return [dash.no_update] * (n + 1)
            results = [_tangle_of(0), *(_stored_tangle_of(j) for j in range(1, n))]
            return [*results, show_tangle_rates(*results)]
        return first

    go = lesson_id("tangle-go", LESSON, k=k)
    clientside_callback(TANGLE_GATE, Output(go, "data"), Input(lesson_id("tangle", LESSON, k=k - 1), "data"),
                        State(lesson_id("tangle", LESSON, k=k), "data"), prevent_initial_call=True)

    @dash.callback(store(k), bars, Input(go, "data"), State(lesson_id("step", LESSON), "data"),
                   *[State(lesson_id("tangle", LESSON, k=j), "data") for j in range(n)], prevent_initial_call=True)
    def compute(asked, step, *results):
        if not _on_tangle_step(step) or not asked:
            return dash.no_update, dash.no_update
        result = _tangle_of(k)
        return result, show_tangle_rates(*results[:k], result, *results[k + 1:])

    return compute


def show_tangle_rates(*results):
    """The tangle rates so far, each optimizer at its own best step size (named under its bar)."""
    results = [r if isinstance(r, dict) and "rate" in r else None for r in results]
    labels = [f"{optimizer_label(name)}, η = {TANGLE_RATES[name]:g}" for name in TANGLE_OPTIMIZERS]
    return figures.tangle_bars(results, labels, trials=TANGLE_TRIALS, n=TANGLE_N, steps=TANGLE_STEPS)


TANGLE_CALLBACKS = [_tangle_callback(k) for k in range(len(TANGLE_OPTIMIZERS))]


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

# -- the visitor's own graph ----------------------------------------------------------------


def own_graph_code(setting: str, store) -> tuple[str, list[str]]:
    """The code of the graph to lay out ("" for the generated one) and what to say about it:
    the link's graph (`graph` setting), else one too big for a link, held by the page's store
    (checked again here: the store comes from the browser)."""
    if setting or not isinstance(store, dict) or not store.get("code"):
        return setting, []
    try:
        code = own_graph.check_code(str(store["code"]))
    except ValueError as error:
        return "", [f"Your graph cannot be laid out: {error}; laying out the generated graph."]
    return code, [f"Your graph is too big for a link ({len(code):,} characters; a link holds "
                  f"{own_graph.LINK_CHARS:,}): a link to this page shows the generated graph."]


def _own_graph_panel(values: dict, hidden: set) -> html.Div:
    """Paste or upload an edge list; the server reads it whole or says which line is wrong."""
    text_id = lesson_id("edges-text", LESSON)
    return html.Div(
        [
            html.H4("Your own graph"),
            html.Label("Paste an edge list: one link per line, a b or a,b", htmlFor=dom_id(text_id),
                       className="ls-control-label gl-edges-label"),
            dcc.Textarea(id=text_id, rows=4, className="gl-edges-text", spellCheck=False,
                         placeholder="source,target\n1,2\n2,3\nalice,bob"),
            html.Div(
                [html.Button("Use pasted edges", id=lesson_id("edges-paste", LESSON), className="gl-edges-use",
                             n_clicks=0, type="button"),
                 dcc.Upload(html.Button("Upload an edge list…", className="gl-edges-upload", type="button"),
                            id=lesson_id("edges-upload", LESSON), max_size=own_graph.FILE_BYTES_MAX + 1,
                            className="gl-upload"),
                 html.Button("Generated graph", id=lesson_id("edges-drop", LESSON), className="ls-prev",
                             n_clicks=0, type="button", title="Lay out the generated graph again")],
                className="gl-actions"),
            html.P(f"Up to {MAX_CIRCLES:,} circles; names are integers or short words. "
                   "The graph is part of the link while it fits.", className="ls-control-help"),
            html.P(id=lesson_id("edges-message", LESSON), className="ls-message", role="status",
                   **{"aria-live": "polite"}),
            dcc.Store(id=lesson_id("own-graph", LESSON)),
            *ENGINE.controls(values, hidden, ["graph"]),
        ],
        className="gl-own-graph" + (" ls-hidden" if "graph" in hidden else ""),
    )


@dash.callback(
    Output(setting_id(LESSON, "graph"), "value", allow_duplicate=True),
    Output(lesson_id("own-graph", LESSON), "data"),
    Output(lesson_id("edges-message", LESSON), "children"),
    Output(lesson_id("edges-message", LESSON), "className"),
    Input(lesson_id("edges-paste", LESSON), "n_clicks"),
    Input(lesson_id("edges-upload", LESSON), "contents"),
    Input(lesson_id("edges-drop", LESSON), "n_clicks"),
    State(lesson_id("edges-text", LESSON), "value"),
    State(lesson_id("edges-upload", LESSON), "filename"),
    prevent_initial_call=True,
)
def load_edges(_paste, contents, _drop, text, filename):
    """An edge list, pasted or uploaded, read whole on the server: into the link when its
    code fits, else into the page's store; or a message naming the line at fault."""
    trigger = dash.ctx.triggered_id
    if trigger == lesson_id("edges-drop", LESSON):
        return "", None, "Laying out the generated graph: press Run.", "ls-message is-ok"
    source = "the pasted text"
    try:
        if trigger == lesson_id("edges-upload", LESSON):
            source = f"“{str(filename or 'the file')[:60]}”"
            data = _upload_bytes(contents)
        else:
            data = text if isinstance(text, str) else ""
        graph = own_graph.parse_edge_list(data)
    except ValueError as error:
        return dash.no_update, dash.no_update, f"Not loaded, {source}: {error}.", "ls-message is-error"
    code = own_graph.encode(graph.n, graph.edges)
    loaded = f"Loaded {source}: {graph.n:,} circles, {len(graph.edges):,} links. Press Run to lay it out."
    if own_graph.fits_link(code):
        return code, None, loaded, "ls-message is-ok"
    return "", {"code": code}, (f"{loaded} It is too big for a link ({len(code):,} characters; a link holds "
                                f"{own_graph.LINK_CHARS:,}), so a link to this page shows the generated graph."), \
        "ls-message is-ok"


def _upload_bytes(contents) -> bytes:
    """The bytes of a dcc.Upload's contents ("data:<type>;base64,<data>"); ValueError if none."""
    if not isinstance(contents, str) or "," not in contents:
        raise ValueError(f"no file arrived (files of up to {own_graph.FILE_BYTES_MAX:,} bytes)")
    if len(contents) > own_graph.FILE_BYTES_MAX * 4 // 3 + 200:
        raise ValueError(f"the file has more than {own_graph.FILE_BYTES_MAX:,} bytes")
    try:
        return base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the file did not arrive whole") from None


__all__ = ["PAGE", "layout", "SCHEMA", "STEPS", "VIEWS", "ENGINE", "show_step", "build_scene"]
