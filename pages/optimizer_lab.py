"""Lesson: the optimizer lab (seed: instrumenting and studying Adam and other optimizers).

A straight line y = m·x + b fitted to noisy points has two parameters, so a
whole run can be drawn three ways at once: the line, the parameters over
epochs and the path on the loss surface over (m, b). The lesson looks inside
Adam, momentum and RMSprop step by step, measures the size and direction of
every epoch's change (also for a network on the breast-cancer data), tries
three rules that adapt the learning rate between epochs, compares them with
and without over many seeds, and races every optimizer of `app.ml.optim`.

Model math comes from app.ml (linear, mlp, adaptive, instrument, landscape);
figures from components.optimizer_lab_figures. Every run is memoized on
scalars; the browser plays and scrubs it.
"""

from __future__ import annotations

from pathlib import Path

import dash
import numpy as np
from dash import Input, Output, dcc, html

from app.cache import memoize
from app.ml import adaptive, datasets, instrument, landscape, optim, train
from app.ml.linear import LinearRegression, least_squares_line
from app.ml.mlp import MLP
from components import optimizer_lab_figures as figures
from components.ids import lesson_id, setting_id
from components.lesson import lesson_shell, setting_control
from components.narration import load_steps
from components.player import animated_graph, step_player
from components.settings_schema import Schema, Setting, parse_step
from components.theme import BLUE, GREEN, MUTED, ORANGE, PALETTE, PURPLE, VERMILION

LESSON = "optimizer-lab"
STEPS = load_steps(Path(__file__).with_suffix(".md"))
FIGURE_OF_STEP = [s.figure for s in STEPS]
STEP_PLAY = {s.figure: s.play for s in STEPS}

# -- the lab's problem: 50 noisy points around y = 0.5 x + 1, x in [0, 4] ----------------
N_POINTS = 50
TRUTH = (0.5, 1.0)
START = np.array([-2.0, 3.0])       # every run starts near here ...
START_SPREAD = 0.3                  # ... moved by N(0, 0.3²) per coordinate, drawn from the seed
LINE = LinearRegression(init_scale=START_SPREAD)
TARGET = 0.01                       # "reached": loss within 0.01 of the best line's loss
MAX_FRAMES = 120
GRID = 70                           # loss-surface grid points per axis
PATH_POINTS = 400                   # most points of a drawn path

# -- limits of free play (each run, and the with/without comparison of a rule) -----------
NOISE_MAX = 3.0
EPOCHS_MAX = 500
FREE_MAX_STEPS = 5_000              # optimizer steps of one free-play run
FREE_SEEDS = 10                     # seeds of the free-play comparison
TASK_EPOCHS = 10                    # free play's task: reach the target within this many epochs

# -- the narrated runs (the narration's numbers are measured on these) -------------------
FIT = ("sgd", (("lr", 0.05),), 100)
INSIDE = {
    "adam": ("adam", (("lr", 0.3),), 50),
    "momentum": ("momentum", (("lr", 0.02), ("momentum", 0.9)), 50),
    "rmsprop": ("rmsprop", (("lr", 0.1),), 50),
}
SIZES_LINE = (("Gradient descent, η = 0.05, full batch", "sgd", (("lr", 0.05),), None),
              ("Adam, η = 0.05, batches of 5", "adam", (("lr", 0.05),), 5))
SIZES_LINE_EPOCHS = 60
MLP_SIZES = (30, 16, 2)
MLP_RUNS = (("Adam, η = 0.001", 1e-3), ("Adam, η = 0.01", 1e-2))
MLP_EPOCHS, MLP_BATCH = 40, 32
RULE_DEMO = {  # rule -> (base optimizer, hyper, epochs)
    "boost": ("sgd", (("lr", 0.05),), 100),
    "careful": ("sgd", (("lr", 0.2),), 100),
    "eve": ("sgd", (("lr", 0.05),), 100),
}
CASES = {  # the with/without comparison: label, optimizer, hyper
    "gentle": ("Gradient descent, η = 0.05 (small, stable)", "sgd", (("lr", 0.05),)),
    "large": ("Gradient descent, η = 0.2 (too large)", "sgd", (("lr", 0.2),)),
    "momentum": ("Momentum, η = 0.02, β = 0.9", "momentum", (("lr", 0.02), ("momentum", 0.9))),
}
COMPARE_SEEDS, COMPARE_EPOCHS = 12, 150
RACE_EPOCHS = 100
RACE_RATES = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)

RULE_CHOICES = ("none", *adaptive.RULES)
RULE_COLORS = {"none": MUTED, "boost": BLUE, "careful": GREEN, "eve": VERMILION}
RULE_NAMES = {"none": "without a rule", "boost": "raise on same direction", "careful": "careful",
              "eve": "EVE (look further)"}

# Every float hyperparameter of the optimizers (beyond lr) is a setting that is
# blank by default, meaning "the optimizer's own default".
HYPER = {}
for _spec in optim.OPTIMIZERS.values():
    for _h in _spec.hyperparameters:
        if _h.kind == "float" and _h.name != "lr":
            low, high = HYPER.get(_h.name, (_h.label, _h.min, _h.max))[1:]
            HYPER[_h.name] = (_h.label, min(low, _h.min), max(high, _h.max))
RULE_PARAMS = {p.name: (rule, p) for rule, spec in adaptive.RULES.items() for p in spec.params}

SCHEMA = Schema((
    Setting("noise", "Data noise", "float", 0.5, low=0.0, high=NOISE_MAX),
    Setting("optimizer", "Optimizer", "choice", "sgd", choices=tuple(optim.OPTIMIZERS)),
    Setting("lr", "Learning rate η", "float", 0.05, low=1e-5, high=10.0),
    *[Setting(name, label, "float", "", low=low, high=high) for name, (label, low, high) in HYPER.items()],
    Setting("rule", "Adaptive rule", "choice", "boost", choices=RULE_CHOICES),
    *[Setting(name, p.label, p.kind, p.default, low=p.min, high=p.max) for name, (_, p) in RULE_PARAMS.items()],
    Setting("epochs", "Epochs", "int", 100, low=1, high=EPOCHS_MAX),
    Setting("batch", "Batch size", "int", N_POINTS, low=1, high=N_POINTS),
    Setting("seed", "Seed", "int", 0, low=0, high=1_000_000),
    Setting("case", "Comparison", "choice", "gentle", choices=tuple(CASES)),
))

PAGE = dict(
    path="/optimizer-lab", name="The optimizer lab", order=7, lesson=True, icon="optimizer-lab.svg",
    title="The optimizer lab — Learnscape", steps=len(STEPS),
    description="Instrumenting Adam: a two-parameter problem seen three ways, the numbers inside each "
                "step, step sizes and angles per epoch, and rules that adapt the learning rate — measured.",
)

SLOTS = ("left", "right", "wide", "lower", "cmp", "targets")


# -- the problem ------------------------------------------------------------------------


def problem(noise: float, seed: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """((x (n,), y (n,)), start [m, b]) of a seed: its data and its starting point."""
    return adaptive.noisy_line(N_POINTS, noise, seed, slope=TRUTH[0], intercept=TRUTH[1]), START + LINE.init(seed)


def best_line(noise: float, seed: int) -> tuple[np.ndarray, float]:
    """The least-squares [m, b] of a seed's data and its loss."""
    (x, y), _ = problem(noise, seed)
    best = least_squares_line(x, y)
    return best, LINE.loss(best, x, y)


def build_optimizer(name: str, hyper: tuple) -> optim.GradientTransformation:
    return optim.make(name, **dict(hyper))


def frame_indices(count: int, limit: int = MAX_FRAMES) -> np.ndarray:
    """At most `limit` evenly spread indices into 0..count-1, first and last included."""
    return np.unique(np.linspace(0, count - 1, min(count, limit)).round().astype(int))


def thin(points: np.ndarray, limit: int = PATH_POINTS) -> np.ndarray:
    return np.asarray(points)[frame_indices(len(points), limit)]


@memoize()
def fit_run(noise: float, seed: int, optimizer: str, hyper: tuple, epochs: int, batch: int,
            rule: str = "none", rule_params: tuple = ()) -> dict:
    """One run on the line, epoch by epoch.

    Returns params (E+1, 2), loss (E+1,), excess (E+1,) loss above the best
    line's, lr_scale (E,), multiplier (E,) (EVE's jump, 1 = none), path
    (k, 2) every step (thinned), norm (E,), angle (E,), best (2,),
    steps_per_epoch, message.
    """
    (x, y), start = problem(noise, seed)
    rule_obj = None if rule == "none" else adaptive.make_rule(rule, **dict(rule_params))
    hist = adaptive.run_epochs(LINE, build_optimizer(optimizer, hyper), (x, y), epochs, seed, rule=rule_obj,
                               batch_size=None if batch >= N_POINTS else batch, params=start,
                               keep_path=True, max_steps=FREE_MAX_STEPS)
    best, best_loss = best_line(noise, seed)
    changes = instrument.epoch_changes(hist.params)
    multiplier = np.ones(hist.epochs_done)
    if rule == "eve":
        multiplier = np.array([s.multiplier for s in hist.rule_states[1:]])
    return {"params": hist.params, "loss": hist.loss, "excess": hist.loss - best_loss,
            "lr_scale": hist.lr_scale, "multiplier": multiplier, "path": thin(hist.path),
            "norm": changes["norm"], "angle": changes["angle"], "best": best,
            "extra_evals": hist.extra_evals, "steps_per_epoch": hist.steps_per_epoch, "message": hist.message}


@memoize()
def surface(noise: float, seed: int, window: tuple) -> dict:
    """Loss on a GRID x GRID grid over window (m_low, m_high, b_low, b_high)."""
    (x, y), _ = problem(noise, seed)
    ms = landscape.axis_values(window[0], window[1], GRID)
    bs = landscape.axis_values(window[2], window[3], GRID)
    Z = landscape.grid_losses(LINE, x, y, np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]), ms, bs)
    return {"ms": ms, "bs": bs, "Z": Z}


def window_around(noise: float, seed: int, *paths: np.ndarray) -> tuple:
    """A view of the (m, b) plane holding the start, the best line and the paths' points
    that stay below the starting loss (a diverging path is not followed out)."""
    (x, y), start = problem(noise, seed)
    best, _ = best_line(noise, seed)
    points = [start[None, :], best[None, :]]
    limit = LINE.loss(start, x, y) * 1.5
    for path in paths:
        path = np.asarray(path, dtype=float)
        path = path[np.all(np.isfinite(path), axis=1)]
        if len(path):
            points.append(path[LINE.loss_many(path, x, y) <= limit])
    points = np.concatenate(points)
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum(0.15 * (high - low), 0.3)
    return tuple(round(float(v), 3) for v in (low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1]))


@memoize()
def inside_run(kind: str) -> dict:
    """The narrated full-batch run of Adam, momentum or RMSprop with its per-step internals."""
    name, hyper, steps = INSIDE[kind]
    (x, y), start = problem(0.5, 0)
    hist = train.run(LINE, build_optimizer(name, hyper), (x, y), steps, 0, params=start)
    h = dict(hyper)
    if kind == "adam":
        inside = instrument.adam_internals(hist, h["lr"])
    elif kind == "momentum":
        inside = instrument.momentum_internals(hist, h["lr"], h["momentum"])
    else:
        inside = instrument.rmsprop_internals(hist, h["lr"])
    best, best_loss = best_line(0.5, 0)
    inside["params"] = hist.params
    inside["excess"] = np.concatenate([hist.loss, [LINE.loss(hist.params[-1], x, y)]]) - best_loss
    return inside


@memoize()
def sizes_of_line_runs() -> list[dict]:
    """The two narrated line runs whose epoch sizes and angles are compared."""
    runs = []
    for label, name, hyper, batch in SIZES_LINE:
        run = fit_run(0.5, 0, name, hyper, SIZES_LINE_EPOCHS, batch or N_POINTS)
        runs.append({"name": label, **run})
    return runs


@memoize()
def sizes_of_mlp_runs() -> list[dict]:
    """An MLP MLP_SIZES on the standardized breast-cancer data, Adam at two rates."""
    table = datasets.load_breast_cancer()
    X, _, _ = datasets.standardize(table.X)
    model = MLP(MLP_SIZES, "relu", "softmax_ce")
    runs = []
    for label, lr in MLP_RUNS:
        hist = adaptive.run_epochs(model, optim.adam(lr=lr), (X, table.y), MLP_EPOCHS, 0, batch_size=MLP_BATCH)
        changes = instrument.epoch_changes(hist.params)
        accuracy = float(np.mean(model.predict({k: v[-1] for k, v in hist.params.items()}, X) == table.y))
        runs.append({"name": label, "loss": hist.loss, "norm": changes["norm"], "angle": changes["angle"],
                     "accuracy": accuracy, "n_params": model.n_params, "steps_per_epoch": hist.steps_per_epoch})
    return runs


@memoize()
def comparison(noise: float, optimizer: str, hyper: tuple, rules: tuple, epochs: int, batch: int,
               first_seed: int, n_seeds: int) -> dict:
    """With and without each rule over n_seeds seeds (rules: ((name, params), ...);
    the variant "none" is without). Adds excess (V, S, E+1), epochs_to (V, S),
    work_to (V, S): gradient plus extra loss evaluations until the target."""
    seeds = list(range(first_seed, first_seed + n_seeds))
    variants = {name: None if name == "none" else adaptive.make_rule(name, **dict(params)) for name, params in rules}
    result = adaptive.compare_rules(LINE, build_optimizer(optimizer, hyper), lambda s: problem(noise, s),
                                    variants, epochs, seeds, batch_size=None if batch >= N_POINTS else batch)
    floor = np.array([best_line(noise, s)[1] for s in seeds])
    excess = result["loss"] - floor[None, :, None]
    epochs_to = adaptive.epochs_to_target(excess, TARGET)
    spent = np.cumsum(result["extra_evals"], axis=-1)
    work = np.full(epochs_to.shape, np.nan)
    for v, s in zip(*np.nonzero(np.isfinite(epochs_to))):
        e = int(epochs_to[v, s])
        work[v, s] = e * result["steps_per_epoch"] + (spent[v, s, e - 1] if e > 0 else 0)
    return {**result, "excess": excess, "epochs_to": epochs_to, "work_to": work}


def case_comparison(case: str) -> dict:
    _, name, hyper = CASES[case]
    rules = (("none", ()), *((r, ()) for r in adaptive.RULES))
    return comparison(0.5, name, hyper, rules, COMPARE_EPOCHS, N_POINTS, 0, COMPARE_SEEDS)


@memoize()
def race() -> list[dict]:
    """Every optimizer of optim, full batch from the same start, at its best rate of RACE_RATES:
    the one whose loss above the best line's is lowest on average over the RACE_EPOCHS
    epochs on a log scale (fast, and staying low, both count)."""
    (x, y), start = problem(0.5, 0)
    _, best_loss = best_line(0.5, 0)
    runs = []
    for name, spec in optim.OPTIMIZERS.items():
        best = None
        for lr in RACE_RATES:
            hist = adaptive.run_epochs(LINE, optim.make(name, lr=lr), (x, y), RACE_EPOCHS, 0, params=start)
            score = (float(np.mean(np.log10(np.maximum(hist.loss - best_loss, 1e-12))))
                     if hist.diverged_at is None else np.inf)
            if best is None or score < best[0]:
                best = (score, lr, hist)
        _, lr, hist = best
        runs.append({"name": f"{spec.label} (η = {lr:g})", "optimizer": name, "lr": lr,
                     "params": hist.params, "excess": hist.loss - best_loss})
    return runs


# -- layout -----------------------------------------------------------------------------


def layout(**query) -> html.Div:
    values, notices = clean(query)
    step, step_notices = parse_step(query.get("step"), len(STEPS))
    hidden = SCHEMA.hidden(query)
    graphs = {name: html.Div(animated_graph(LESSON, name, height=height), id=lesson_id("slot", LESSON, name=name),
                             className="lab-slot ls-hidden")
              for name, height in (("left", 470), ("right", 470), ("wide", 440), ("lower", 440), ("cmp", 400),
                                   ("targets", 330))}
    stage = [
        step_player(LESSON, label="epoch"),
        dcc.Loading(
            html.Div(
                [
                    html.Div([graphs["left"], graphs["right"]], className="ls-figures-row"),
                    graphs["wide"],
                    graphs["lower"],
                    _comparison_panel(values, hidden),
                    graphs["cmp"],
                    graphs["targets"],
                ],
                className="lab-stack",
            ),
            type="circle", delay_show=400,
        ),
        _settings_panel(values, hidden),
    ]
    return lesson_shell(LESSON, STEPS, stage, step=step, notices=notices + step_notices,
                        defaults=SCHEMA.defaults())


def clean(raw: dict) -> tuple[dict, list[str]]:
    """SCHEMA.clean, saying "the optimizer's default" where a blank hyperparameter is used."""
    values, notices = SCHEMA.clean(raw)
    return values, [n.replace("; using .", "; using the optimizer's default.") for n in notices]


def _text_input(name: str, value, placeholder: str = "") -> dcc.Input:
    return dcc.Input(id=setting_id(LESSON, name), type="text", value="" if value in ("", None) else str(value),
                     placeholder=placeholder, debounce=True)


def _comparison_panel(values: dict, hidden: set) -> html.Div:
    return html.Div(
        [
            html.Div(
                setting_control(LESSON, "case", "Base optimizer of the comparison", dcc.Dropdown(
                    id=setting_id(LESSON, "case"), value=values["case"], clearable=False, searchable=False,
                    options=[{"label": label, "value": key} for key, (label, _, _) in CASES.items()]),
                    hidden="case" in hidden),
                id=lesson_id("case-control", LESSON), className="lab-case",
            ),
            html.Div(id=lesson_id("summary", LESSON)),
        ],
        id=lesson_id("summary-panel", LESSON), className="ls-panel ls-hidden",
    )


def _settings_panel(values: dict, hidden: set) -> html.Div:
    optimizer_options = [{"label": spec.label, "value": name} for name, spec in optim.OPTIMIZERS.items()]
    rule_options = [{"label": "none", "value": "none"}] + [
        {"label": spec.label, "value": name} for name, spec in adaptive.RULES.items()]
    spec = optim.OPTIMIZERS[values["optimizer"]]
    own = {h.name: h for h in spec.hyperparameters}
    hyper_controls = [
        html.Div(setting_control(LESSON, name, label, _text_input(
            name, values[name], f"{own[name].default:g} (default)" if name in own else ""),
            hidden=name in hidden, help_text=f"{low:g} to {high:g}; blank = default"),
            id=lesson_id("hyper", LESSON, name=name), className="" if name in own else "ls-hidden")
        for name, (label, low, high) in HYPER.items()
    ]
    rule_controls = [
        html.Div(setting_control(LESSON, name, p.label, _text_input(name, values[name]), hidden=name in hidden,
                                 help_text=f"{p.min:g} to {p.max:g}"),
                 id=lesson_id("rule-param", LESSON, name=name),
                 className="" if rule == values["rule"] else "ls-hidden")
        for name, (rule, p) in RULE_PARAMS.items()
    ]
    return html.Div(
        [
            html.H3("Settings"),
            html.Div(
                [
                    setting_control(LESSON, "noise", "Data noise σ", _text_input("noise", values["noise"]),
                                    hidden="noise" in hidden, help_text=f"0 to {NOISE_MAX:g}"),
                    setting_control(LESSON, "optimizer", "Optimizer", dcc.Dropdown(
                        id=setting_id(LESSON, "optimizer"), options=optimizer_options, value=values["optimizer"],
                        clearable=False), hidden="optimizer" in hidden),
                    setting_control(LESSON, "lr", "Learning rate η", _text_input("lr", values["lr"]),
                                    hidden="lr" in hidden, help_text="10⁻⁵ to 10"),
                    *hyper_controls,
                    setting_control(LESSON, "rule", "Adaptive rule", dcc.Dropdown(
                        id=setting_id(LESSON, "rule"), options=rule_options, value=values["rule"],
                        clearable=False), hidden="rule" in hidden),
                    *rule_controls,
                    setting_control(LESSON, "epochs", "Epochs", _text_input("epochs", values["epochs"]),
                                    hidden="epochs" in hidden, help_text=f"1 to {EPOCHS_MAX}"),
                    setting_control(LESSON, "batch", "Batch size", _text_input("batch", values["batch"]),
                                    hidden="batch" in hidden, help_text=f"1 to {N_POINTS} (= full batch)"),
                    setting_control(LESSON, "seed", "Seed", _text_input("seed", values["seed"]),
                                    hidden="seed" in hidden, help_text="data, start and batch order"),
                ],
                className="ls-controls",
            ),
        ],
        id=lesson_id("settings-panel", LESSON), className="ls-panel ls-hidden",
    )


@dash.callback(
    *[Output(lesson_id("hyper", LESSON, name=name), "className") for name in HYPER],
    *[Output(setting_id(LESSON, name), "placeholder") for name in HYPER],
    *[Output(lesson_id("rule-param", LESSON, name=name), "className") for name in RULE_PARAMS],
    Input(setting_id(LESSON, "optimizer"), "value"),
    Input(setting_id(LESSON, "rule"), "value"),
)
def show_own_controls(optimizer, rule):
    """Only the chosen optimizer's hyperparameters (default as placeholder) and the chosen rule's."""
    spec = optim.OPTIMIZERS.get(optimizer) if isinstance(optimizer, str) else None
    own = {h.name: h for h in spec.hyperparameters} if spec else {}
    classes = ["" if name in own else "ls-hidden" for name in HYPER]
    placeholders = [f"{own[name].default:g} (default)" if name in own else "" for name in HYPER]
    rule_classes = ["" if r == rule else "ls-hidden" for r, _ in RULE_PARAMS.values()]
    return (*classes, *placeholders, *rule_classes)


# -- the step callback -------------------------------------------------------------------


@dash.callback(
    *[Output({"type": "pl-frames", "player": LESSON, "name": name}, "data") for name in SLOTS],
    *[Output(lesson_id("slot", LESSON, name=name), "className") for name in SLOTS],
    Output(lesson_id("summary", LESSON), "children"),
    Output(lesson_id("summary-panel", LESSON), "className"),
    Output(lesson_id("case-control", LESSON), "className"),
    Output(lesson_id("settings-panel", LESSON), "className"),
    Output(lesson_id("notices", LESSON), "children"),
    Output(lesson_id("notices", LESSON), "className"),
    Output(lesson_id("achieved", LESSON), "data"),
    Input(lesson_id("step", LESSON), "data"),
    *[Input(setting_id(LESSON, name), "value") for name in SCHEMA.names],
)
def show_step(step, *raw):
    values, notices = clean(dict(zip(SCHEMA.names, raw)))
    index = step if isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(STEPS) else 0
    figure = FIGURE_OF_STEP[index]
    try:
        payloads, summary, more, achieved = _build(figure, values)
    except ValueError as error:  # a limit of the models: say so, and show the first view instead
        payloads, summary, _, achieved = _build("data", SCHEMA.defaults())
        more = [f"Cannot compute this view: {error}."]
    notices += more
    autoplay, start = STEP_PLAY.get(figure, False), "last" if figure in ("free",) else "first"
    for payload in payloads.values():
        payload["autoplay"], payload["start"] = autoplay, start
    shown = "lab-slot"
    return (*[payloads.get(name) for name in SLOTS],
            *[shown if name in payloads else "lab-slot ls-hidden" for name in SLOTS],
            summary or [], "ls-panel" if summary else "ls-panel ls-hidden",
            "lab-case" if figure == "compare" else "lab-case ls-hidden",
            "ls-panel" if figure == "free" else "ls-panel ls-hidden",
            [html.P(n) for n in notices], "ls-notices" if notices else "ls-notices is-empty",
            [index] if achieved else [])


def _build(figure: str, values: dict) -> tuple[dict, list, list[str], bool]:
    """Payloads by slot, summary panel children, notices and whether the step's task is done."""
    if figure in ("data", "fit"):
        return _fit_step(figure), [], [], False
    if figure.startswith("inside-"):
        return _inside_step(figure.removeprefix("inside-")), [], [], False
    if figure == "sizes-line":
        return _sizes_line_step(), [], [], False
    if figure == "sizes-mlp":
        return _sizes_mlp_step(), [], [], False
    if figure.startswith("rule-"):
        return _rule_step(figure.removeprefix("rule-")), [], [], False
    if figure == "compare":
        payloads, summary = _compare_step(values["case"])
        return payloads, summary, [], False
    if figure == "race":
        return _race_step(), [], [], False
    return _free_step(values)


def _labels(frames, excess, word: str = "epoch") -> list[str]:
    return [f"{word} {int(e)} · loss above best {max(float(excess[e]), 0):.3g}" if np.isfinite(excess[e])
            else f"{word} {int(e)}" for e in frames]


def _fit_step(figure: str) -> dict:
    name, hyper, epochs = FIT
    run = fit_run(0.5, 0, name, hyper, epochs, N_POINTS)
    (x, y), _ = problem(0.5, 0)
    frames = np.array([0]) if figure == "data" else frame_indices(len(run["loss"]))
    labels = _labels(frames, run["excess"])
    window = window_around(0.5, 0, run["params"])
    grid = surface(0.5, 0, window)
    path_points = run["path"] if figure == "fit" else run["path"][:1]
    payloads = {
        "left": figures.line_figure(x, y, run["params"][frames], labels, truth=TRUTH if figure == "data" else None),
        "right": figures.surface_figure(grid["ms"], grid["bs"], grid["Z"],
                                        [{"name": "gradient descent", "color": VERMILION, "points": path_points,
                                          "at": run["params"][frames]}],
                                        run["best"], labels, title="Loss surface over (m, b)"),
    }
    if figure == "fit":
        payloads["wide"] = figures.curves_figure(np.arange(len(run["loss"])), np.maximum(run["excess"], 1e-9),
                                                 run["params"], frames, labels,
                                                 loss_title="Loss above the best line's (log scale)")
    return payloads


INSIDE_TEXT = {
    "adam": ("Adam", ["g ← ∇L(θ)", "m ← β₁·m + (1 − β₁)·g", "v ← β₂·v + (1 − β₂)·g²", "1 − β₁ᵗ",
                      "m̂ ← m / (1 − β₁ᵗ)", "1 − β₂ᵗ", "v̂ ← v / (1 − β₂ᵗ)", "Δθ ← −α·m̂ / (√v̂ + ε)",
                      "θ ← θ + Δθ"]),
    "momentum": ("Momentum", ["g ← ∇L(θ)", "b ← β·b + g   (b₁ = g₁)", "Δθ ← −η·b", "θ ← θ + Δθ"]),
    "rmsprop": ("RMSprop", ["g ← ∇L(θ)", "v ← α·v + (1 − α)·g²", "√v + ε", "Δθ ← −η·g / (√v + ε)",
                            "θ ← θ + Δθ"]),
}
INSIDE_SETTINGS = {"adam": "α = {lr:g}, β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸", "momentum": "η = {lr:g}, β = {momentum:g}",
                   "rmsprop": "η = {lr:g}, α = 0.99, ε = 10⁻⁸"}


def inside_tables(kind: str, inside: dict) -> tuple[list, list, list]:
    """Per frame (0 = before the first step, t = after step t): the lines, their numbers
    [for m, for b], and a title."""
    title, lines = INSIDE_TEXT[kind]
    T = len(inside["t"])
    blank = ["—", "—"]
    if kind == "adam":
        rows = [inside["g"], inside["m"], inside["v"], np.repeat(inside["bias1"][:, None], 2, 1), inside["m_hat"],
                np.repeat(inside["bias2"][:, None], 2, 1), inside["v_hat"], inside["step"], inside["theta"]]
        initial = [blank, [0, 0], [0, 0], blank, blank, blank, blank, blank]
    elif kind == "momentum":
        rows = [inside["g"], inside["buffer"], inside["step"], inside["theta"]]
        initial = [blank, [0, 0], blank]
    else:
        rows = [inside["g"], inside["v"], inside["rms"], inside["step"], inside["theta"]]
        initial = [blank, [0, 0], blank, blank]
    start = list(inside["params"][0])
    texts = [lines[:-1] + ["θ₀, the start"]] + [lines] * T
    values = [initial + [start]] + [[list(r[t]) for r in rows] for t in range(T)]
    titles = [f"{title}, before the first step"] + [f"{title}, step t = {t + 1} of {T}" for t in range(T)]
    return texts, values, titles


def _inside_step(kind: str) -> dict:
    inside = inside_run(kind)
    title = INSIDE_TEXT[kind][0]
    T = len(inside["t"])
    theta0 = inside["params"][0]
    if kind == "adam":
        top = [{"name": "gradient g", "color": MUTED, "values": inside["g"], "width": 2},
               {"name": "m̂ (average of g)", "color": BLUE, "values": inside["m_hat"]},
               {"name": "√v̂ (typical size of g)", "color": ORANGE, "values": np.sqrt(inside["v_hat"]), "dash": "dash"}]
    elif kind == "momentum":
        top = [{"name": "gradient g", "color": MUTED, "values": inside["g"], "width": 2},
               {"name": "buffer b", "color": BLUE, "values": inside["buffer"]}]
    else:
        top = [{"name": "gradient g", "color": MUTED, "values": inside["g"], "width": 2},
               {"name": "√v + ε (typical size of g)", "color": ORANGE, "values": inside["rms"], "dash": "dash"}]
    texts, values, titles = inside_tables(kind, inside)
    frames = np.arange(T + 1)
    labels = [f"step {t} · loss above best {max(float(inside['excess'][t]), 0):.3g}" for t in frames]
    arrows = np.array([[theta0, theta0]] + [[inside["params"][t], inside["params"][t + 1]] for t in range(T)])
    window = window_around(0.5, 0, inside["params"])
    grid = surface(0.5, 0, window)
    best, _ = best_line(0.5, 0)
    settings = INSIDE_SETTINGS[kind].format(**dict(INSIDE[kind][1]))
    return {
        "left": figures.algorithm_figure(texts, values, titles, labels),
        "right": figures.surface_figure(grid["ms"], grid["bs"], grid["Z"],
                                        [{"name": title, "color": BLUE, "points": inside["params"],
                                          "at": inside["params"]}],
                                        best, labels, title=f"{title}'s path over (m, b)", arrows=arrows),
        "wide": figures.internals_figure(inside["t"], top, [{"name": "update Δθ", "color": VERMILION,
                                                              "values": inside["step"]}],
                                         frames, labels, top_title="gradient units",
                                         title=f"{title} ({settings}), full batch, step by step"),
    }


def _sizes_line_step() -> dict:
    runs = sizes_of_line_runs()
    E = SIZES_LINE_EPOCHS
    frames = frame_indices(E + 1)
    labels = [f"epoch {int(e)}" for e in frames]
    colors = (VERMILION, BLUE)
    window = window_around(0.5, 0, *[r["params"] for r in runs])
    grid = surface(0.5, 0, window)
    epochs = np.arange(1, E + 1)
    return {
        "left": figures.surface_figure(grid["ms"], grid["bs"], grid["Z"],
                                       [{"name": r["name"], "color": c, "points": r["path"], "at": r["params"][frames]}
                                        for r, c in zip(runs, colors)],
                                       runs[0]["best"], labels, title="Two runs over (m, b)"),
        "right": figures.loss_curves_figure(np.arange(E + 1), [{"name": r["name"], "color": c, "loss": r["excess"]}
                                                                for r, c in zip(runs, colors)],
                                            frames, labels, title="Loss above the best line's"),
        "wide": figures.sizes_figure(epochs, [{"name": r["name"], "color": c, "norm": r["norm"], "angle": r["angle"]}
                                              for r, c in zip(runs, colors)],
                                     np.maximum(frames, 1), labels, title="Linear regression: every epoch's change"),
    }


def _sizes_mlp_step() -> dict:
    runs = sizes_of_mlp_runs()
    E = MLP_EPOCHS
    frames = frame_indices(E + 1)
    labels = [f"epoch {int(e)}" for e in frames]
    colors = (BLUE, VERMILION)
    named = [{"name": f"{r['name']} — {r['accuracy']:.1%} of training cases right", "color": c,
              "loss": r["loss"], "norm": r["norm"], "angle": r["angle"]} for r, c in zip(runs, colors)]
    title = (f"A network with {runs[0]['n_params']} parameters on the breast-cancer data "
             f"({runs[0]['steps_per_epoch']} batches per epoch)")
    return {
        "left": figures.loss_curves_figure(np.arange(E + 1), named, frames, labels,
                                           title="Training loss (cross-entropy)", yaxis_title="loss"),
        "wide": figures.sizes_figure(np.arange(1, E + 1), named, np.maximum(frames, 1), labels, title=title),
    }


RULE_FACTOR = {"boost": ("Learning-rate factor (× base rate)", "factor"),
               "careful": ("Learning-rate factor (× base rate)", "factor"),
               "eve": ("How far along each epoch it went (× its change)", "× change")}


def _rule_pair(rule: str, noise: float, seed: int, optimizer: str, hyper: tuple, epochs: int, batch: int,
               params: tuple = ()) -> tuple[dict, dict]:
    without = fit_run(noise, seed, optimizer, hyper, epochs, batch)
    with_rule = fit_run(noise, seed, optimizer, hyper, epochs, batch, rule, params)
    return without, with_rule


def _rule_payloads(rule: str, without: dict, with_rule: dict, noise: float, seed: int, base: str) -> dict:
    E = len(with_rule["loss"]) - 1
    frames = frame_indices(E + 1)
    labels = _labels(frames, with_rule["excess"])
    window = window_around(noise, seed, without["params"], with_rule["params"])
    grid = surface(noise, seed, window)

    def at(run):
        return run["params"][np.minimum(frames, len(run["params"]) - 1)]

    color = RULE_COLORS[rule]
    factor = with_rule["multiplier"] if rule == "eve" else with_rule["lr_scale"]
    title, axis = RULE_FACTOR[rule]
    runs = [{"name": f"{base}, without", "color": MUTED, "loss": without["excess"], "dash": "dash"},
            {"name": f"with {RULE_NAMES[rule]}", "color": color, "loss": with_rule["excess"]}]
    return {
        "left": figures.surface_figure(grid["ms"], grid["bs"], grid["Z"],
                                       [{"name": "without", "color": MUTED, "points": without["path"], "at": at(without),
                                         "dash": "dash"},
                                        {"name": f"with {RULE_NAMES[rule]}", "color": color, "points": with_rule["path"],
                                         "at": at(with_rule)}],
                                       with_rule["best"], labels, title="Paths over (m, b)"),
        "right": figures.rule_figure(np.arange(E + 1), runs, factor, frames, labels, factor_title=title,
                                     factor_label=axis),
    }


def _rule_step(rule: str) -> dict:
    name, hyper, epochs = RULE_DEMO[rule]
    without, with_rule = _rule_pair(rule, 0.5, 0, name, hyper, epochs, N_POINTS)
    base = f"{optim.OPTIMIZERS[name].label} η = {dict(hyper)['lr']:g}"
    return _rule_payloads(rule, without, with_rule, 0.5, 0, base)


def _compare_payloads(result: dict, epochs: int, title: str) -> dict:
    names = [RULE_NAMES[n] for n in result["names"]]
    colors = [RULE_COLORS[n] for n in result["names"]]
    seeds = len(result["seeds"])
    return {
        "cmp": figures.compare_figure(np.arange(epochs + 1), result["excess"], names, colors, TARGET,
                                      title=f"{title}: loss above the best line's over {seeds} seeds"),
        "targets": figures.targets_figure(result["epochs_to"], names, colors, epochs,
                                          title=f"Epochs to come within {TARGET:g} of the best loss"),
    }


def summary_rows(result: dict) -> list[dict]:
    """Per variant: seeds that reached the target, median epochs and work to reach it, divergences."""
    rows = []
    seeds = len(result["seeds"])
    for v, name in enumerate(result["names"]):
        reached = np.isfinite(result["epochs_to"][v])
        median = (float(np.median(np.where(reached, result["epochs_to"][v], np.inf)))
                  if reached.sum() * 2 > seeds else None)
        work = (float(np.median(np.where(reached, result["work_to"][v], np.inf)))
                if reached.sum() * 2 > seeds else None)
        rows.append({"name": name, "reached": int(reached.sum()), "seeds": seeds, "median": median,
                     "work": work, "extra": int(result["extra_evals"][v].sum()),
                     "diverged": int(result["diverged"][v].sum())})
    return rows


def _summary_table(result: dict, title: str) -> list:
    def fmt(x):
        return "—" if x is None or not np.isfinite(x) else f"{x:g}"

    rows = summary_rows(result)
    body = [html.Tr([html.Td(RULE_NAMES[r["name"]]), html.Td(f"{r['reached']} of {r['seeds']}"),
                     html.Td(fmt(r["median"])), html.Td(fmt(r["work"]))]) for r in rows]
    per_epoch = result["steps_per_epoch"]
    return [
        html.H3(title),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in (
            "", "seeds reaching the target", "median epochs", "median evaluations")])),
                    html.Tbody(body)], className="ls-table"),
        html.P(f"Target: the loss within {TARGET:g} of the best line's loss. Evaluations: gradient evaluations "
               f"({per_epoch} per epoch) plus the extra loss evaluations a rule makes, until the target. "
               "“—”: fewer than half of the seeds reached it.", className="lab-note"),
    ]


def _compare_step(case: str) -> tuple[dict, list]:
    label = CASES[case][0]
    result = case_comparison(case)
    return _compare_payloads(result, COMPARE_EPOCHS, label), _summary_table(result, f"With and without — {label}")


OPTIMIZER_STYLE = {name: (PALETTE[i % 6], "solid" if i < 6 else "dash") for i, name in enumerate(optim.OPTIMIZERS)}


def _race_step() -> dict:
    runs = race()
    frames = frame_indices(RACE_EPOCHS + 1)
    labels = [f"epoch {int(e)}" for e in frames]
    window = window_around(0.5, 0, *[r["params"] for r in runs])
    grid = surface(0.5, 0, window)
    best, _ = best_line(0.5, 0)
    styled = [{**r, "color": OPTIMIZER_STYLE[r["optimizer"]][0], "dash": OPTIMIZER_STYLE[r["optimizer"]][1]}
              for r in runs]
    return {
        "left": figures.surface_figure(grid["ms"], grid["bs"], grid["Z"],
                                       [{"name": r["name"], "color": r["color"], "dash": r["dash"],
                                         "points": thin(r["params"], 150), "at": r["params"][frames]}
                                        for r in styled],
                                       best, labels, title="Every optimizer from the same start"),
        "right": figures.ranking_figure([r["name"] for r in styled], [r["color"] for r in styled],
                                        np.array([r["excess"] for r in styled]), frames, labels,
                                        title="Standing: loss above the best line's"),
        "wide": figures.loss_curves_figure(np.arange(RACE_EPOCHS + 1),
                                           [{"name": r["name"], "color": r["color"], "dash": r["dash"],
                                             "loss": r["excess"]} for r in styled],
                                           frames, labels, title="Loss above the best line's, epoch by epoch",
                                           legend_outside=True),
    }


def _free_hyper(values: dict) -> tuple:
    own = {h.name for h in optim.OPTIMIZERS[values["optimizer"]].hyperparameters}
    return (("lr", float(values["lr"])),) + tuple(
        (name, float(values[name])) for name in HYPER if name in own and values[name] not in ("", None))


def _free_step(values: dict) -> tuple[dict, list, list[str], bool]:
    notices = []
    noise, seed, epochs, batch = float(values["noise"]), int(values["seed"]), int(values["epochs"]), int(values["batch"])
    hyper = _free_hyper(values)
    try:
        build_optimizer(values["optimizer"], hyper)
    except ValueError as error:
        notices.append(f"Optimizer: {error}; using its defaults with η = {values['lr']:g}.")
        hyper = (("lr", float(values["lr"])),)
        build_optimizer(values["optimizer"], hyper)  # lr is within every optimizer's range
    rule = values["rule"]
    rule_params = tuple((p.name, values[p.name]) for p in adaptive.RULES[rule].params) if rule != "none" else ()
    run = fit_run(noise, seed, values["optimizer"], hyper, epochs, batch, rule, rule_params)
    if run["message"]:
        notices.append(f"Training stopped: {run['message']}. Try a smaller learning rate.")
    (x, y), _ = problem(noise, seed)
    E = len(run["loss"]) - 1
    frames = frame_indices(E + 1)
    labels = _labels(frames, run["excess"])
    window = window_around(noise, seed, run["params"])
    grid = surface(noise, seed, window)
    label = optim.OPTIMIZERS[values["optimizer"]].label
    payloads = {
        "left": figures.line_figure(x, y, run["params"][frames], labels),
        "right": figures.surface_figure(grid["ms"], grid["bs"], grid["Z"],
                                        [{"name": label, "color": RULE_COLORS[rule] if rule != "none" else VERMILION,
                                          "points": run["path"], "at": run["params"][frames]}],
                                        run["best"], labels, title="Loss surface over (m, b)"),
        "wide": figures.curves_figure(np.arange(E + 1), np.maximum(run["excess"], 1e-9), run["params"], frames, labels,
                                      loss_title="Loss above the best line's (log scale)"),
        "lower": figures.sizes_figure(np.arange(1, E + 1), [{"name": label, "color": PURPLE, "norm": run["norm"],
                                                             "angle": run["angle"]}],
                                      np.maximum(frames, 1), labels, title="Every epoch's change"),
    }
    summary = []
    if rule != "none":
        try:
            result = comparison(noise, values["optimizer"], hyper, (("none", ()), (rule, rule_params)), epochs, batch,
                                seed, FREE_SEEDS)
            payloads.update(_compare_payloads(result, epochs, f"{label}, η = {values['lr']:g}"))
            summary = _summary_table(result, f"With and without {RULE_NAMES[rule]}, seeds {seed} to "
                                             f"{seed + FREE_SEEDS - 1}")
        except ValueError as error:
            notices.append(f"No with/without comparison: {error}.")
    reached = np.isfinite(run["excess"]) & (run["excess"] <= TARGET)
    achieved = bool(reached[:TASK_EPOCHS + 1].any())
    return payloads, summary, notices, achieved
