"""Lesson: the optimizer lab (seed: instrumenting and studying Adam and other optimizers).

A straight line y = m·x + b fitted to noisy points has two parameters, so a
whole run can be drawn three ways at once: the line, the parameters over
epochs and the path on the loss surface over (m, b). The lesson looks inside
Adam, momentum and RMSprop step by step, measures the size and direction of
every epoch's change (also for a network on the breast-cancer data), tries
three rules that adapt the learning rate between epochs, compares them with
and without over many seeds, and races every optimizer of `app.ml.optim`.

The lesson engine runs the steps; this module holds the layout and one view
per figure of the narration. Runs come from app.lessons.optimizer_lab
(memoized here); the browser plays and scrubs them.
"""

from __future__ import annotations

from pathlib import Path

import dash
import numpy as np
from dash import Input, Output, html

from app.cache import memoize
from app.lessons import optimizer_lab as experiments
from app.lessons.optimizer_lab import (CASES, COMPARE_EPOCHS, EPOCHS_MAX, FREE_SEEDS, INSIDE, MLP_EPOCHS, N_POINTS,
                                       NARRATED, NOISE_MAX, RACE_EPOCHS, RULE_DEMO, SIZES_LINE_EPOCHS, TARGET,
                                       TRUTH, best_line, build_optimizer, problem, thin, window_around)
from app.ml import adaptive, optim
from components import optimizer_lab_figures as figures
from components.computing import computing
from components.engine import HIDDEN, Lesson, View
from components.ids import lesson_id, setting_id
from components.narration import load_steps
from components.optimizer_settings import OptimizerSchema
from components.settings_schema import Setting
from components.theme import BLUE, GREEN, MUTED, ORANGE, PURPLE, VERMILION

LESSON = "optimizer-lab"
STEPS = load_steps(Path(__file__).with_suffix(".md"))
MAX_FRAMES = 120
TASK_EPOCHS = 10                    # free play's task: reach the target within this many epochs

RULE_CHOICES = ("none", *adaptive.RULES)
RULE_COLORS = {"none": MUTED, "boost": BLUE, "careful": GREEN, "eve": VERMILION}
RULE_NAMES = {"none": "without a rule", "boost": "raise on same direction", "careful": "careful",
              "eve": "EVE (look further)"}


def optimizer_hyperparameters() -> dict[str, tuple[str, float, float]]:
    """Every float hyperparameter of the optimizers beyond lr: name -> (label, low, high),
    the widest range any optimizer allows (each optimizer checks its own when built)."""
    ranges: dict[str, tuple[str, float, float]] = {}
    for spec in optim.OPTIMIZERS.values():
        for h in spec.hyperparameters:
            if h.kind == "float" and h.name != "lr":
                label, low, high = ranges.get(h.name, (h.label, h.min, h.max))
                ranges[h.name] = (label, min(low, h.min), max(high, h.max))
    return ranges


# Each of these settings is blank by default, meaning "the optimizer's own default".
HYPER = optimizer_hyperparameters()
RULE_PARAMS = {p.name: (rule, p) for rule, spec in adaptive.RULES.items() for p in spec.params}

SCHEMA = OptimizerSchema((
    Setting("noise", "Data noise σ", "float", 0.5, low=0.0, high=NOISE_MAX),
    Setting("optimizer", "Optimizer", "choice", "sgd", choices=tuple(optim.OPTIMIZERS),
            labels=tuple(spec.label for spec in optim.OPTIMIZERS.values())),
    Setting("lr", "Learning rate η", "float", 0.05, low=1e-5, high=10.0, help="10⁻⁵ to 10"),
    *[Setting(name, label, "float", "", low=low, high=high, help=f"{low:g} to {high:g}; blank = default")
      for name, (label, low, high) in HYPER.items()],
    Setting("rule", "Adaptive rule", "choice", "boost", choices=RULE_CHOICES,
            labels=("none", *(spec.label for spec in adaptive.RULES.values()))),
    *[Setting(name, p.label, p.kind, p.default, low=p.min, high=p.max) for name, (_, p) in RULE_PARAMS.items()],
    Setting("epochs", "Epochs", "int", 100, low=1, high=EPOCHS_MAX),
    Setting("batch", "Batch size", "int", N_POINTS, low=1, high=N_POINTS, help=f"1 to {N_POINTS} (= full batch)"),
    Setting("seed", "Seed", "int", 0, low=0, high=1_000_000, help="data, start and batch order"),
    Setting("case", "Base optimizer of the comparison", "choice", "gentle", choices=tuple(CASES),
            labels=tuple(label for label, _, _ in CASES.values())),
))

PAGE = dict(
    path="/optimizer-lab", name="The optimizer lab", order=7, lesson=True, icon="optimizer-lab.svg",
    title="The optimizer lab — Learnscape", steps=len(STEPS),
    description="Instrumenting Adam: a two-parameter problem seen three ways, the numbers inside each "
                "step, step sizes and angles per epoch, and rules that adapt the learning rate — measured.",
)

fit_run = memoize()(experiments.fit_run)
rule_pair = memoize()(experiments.rule_pair)
inside_run = memoize()(experiments.inside_run)
sizes_of_line_runs = memoize()(experiments.sizes_of_line_runs)
sizes_of_mlp_runs = memoize()(experiments.sizes_of_mlp_runs)
comparison = memoize()(experiments.comparison)
case_comparison = memoize()(experiments.case_comparison)
race = memoize()(experiments.race)
race_over_seeds = memoize()(experiments.race_over_seeds)
surface = memoize()(experiments.surface)


def frame_indices(count: int) -> np.ndarray:
    """At most MAX_FRAMES evenly spread indices into 0..count-1, first and last included."""
    return experiments.spread_indices(count, MAX_FRAMES)


def _labels(frames, excess, word: str = "epoch") -> list[str]:
    return [f"{word} {int(e)} · loss above best {max(float(excess[e]), 0):.3g}" if np.isfinite(excess[e])
            else f"{word} {int(e)}" for e in frames]


def _surface_of(noise: float, seed: int, around: list, paths: list[dict], best, labels: list[str], title: str,
                **options) -> dict:
    """The loss surface in a window around the runs' epoch ends `around` (each (E+1, 2)),
    with `paths` drawn on it (see figures.surface_figure)."""
    grid = surface(noise, seed, window_around(noise, seed, *around))
    return figures.surface_figure(grid["ms"], grid["bs"], grid["Z"], paths, best, labels, title=title, **options)


# -- views: the line, and inside three optimizers -----------------------------------------


def fit_view(ctx) -> View:
    """The data and the start ("data"), then gradient descent fitting it ("fit")."""
    name, hyper, epochs = experiments.FIT
    run = fit_run(*NARRATED, name, hyper, epochs, N_POINTS)
    (x, y), _ = problem(*NARRATED)
    fitting = ctx.figure == "fit"
    frames = frame_indices(len(run["loss"])) if fitting else np.array([0])
    labels = _labels(frames, run["excess"])
    path = {"name": "gradient descent", "color": VERMILION, "points": run["path"] if fitting else run["path"][:1],
            "at": run["params"][frames]}
    payloads = {
        "left": figures.line_figure(x, y, run["params"][frames], labels, truth=None if fitting else TRUTH),
        "right": _surface_of(*NARRATED, [run["params"]], [path], run["best"], labels, "Loss surface over (m, b)"),
    }
    if fitting:
        payloads["wide"] = figures.curves_figure(np.arange(len(run["loss"])), np.maximum(run["excess"], 1e-9),
                                                 run["params"], frames, labels,
                                                 loss_title="Loss above the best line's (log scale)")
    return _shown(payloads)


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


def _inside_lines(kind: str, inside: dict) -> list[dict]:
    """The upper plot of the internals figure: the gradient and what the optimizer keeps of it."""
    gradient = {"name": "gradient g", "color": MUTED, "values": inside["g"], "width": 2}
    if kind == "adam":
        return [gradient, {"name": "m̂ (average of g)", "color": BLUE, "values": inside["m_hat"]},
                {"name": "√v̂ (typical size of g)", "color": ORANGE, "values": np.sqrt(inside["v_hat"]), "dash": "dash"}]
    if kind == "momentum":
        return [gradient, {"name": "buffer b", "color": BLUE, "values": inside["buffer"]}]
    return [gradient, {"name": "√v + ε (typical size of g)", "color": ORANGE, "values": inside["rms"], "dash": "dash"}]


def inside_view(ctx) -> View:
    """Adam, momentum or RMSprop step by step: its lines with numbers, the step as an
    arrow on the surface, and every step's values."""
    kind = ctx.figure.removeprefix("inside-")
    inside = inside_run(kind)
    title = INSIDE_TEXT[kind][0]
    T = len(inside["t"])
    theta0 = inside["params"][0]
    texts, values, titles = inside_tables(kind, inside)
    frames = np.arange(T + 1)
    labels = _labels(frames, inside["excess"], "step")
    arrows = np.array([[theta0, theta0]] + [[inside["params"][t], inside["params"][t + 1]] for t in range(T)])
    settings = INSIDE_SETTINGS[kind].format(**dict(INSIDE[kind][1]))
    path = {"name": title, "color": BLUE, "points": inside["params"], "at": inside["params"]}
    return _shown({
        "left": figures.algorithm_figure(texts, values, titles, labels),
        "right": _surface_of(*NARRATED, [inside["params"]], [path], best_line(*NARRATED)[0], labels,
                             f"{title}'s path over (m, b)", arrows=arrows),
        "wide": figures.internals_figure(inside["t"], _inside_lines(kind, inside),
                                         [{"name": "update Δθ", "color": VERMILION, "values": inside["step"]}],
                                         frames, labels, top_title="gradient units",
                                         title=f"{title} ({settings}), full batch, step by step"),
    })


# -- views: sizes and angles of every epoch's change ---------------------------------------


def sizes_line_view(ctx) -> View:
    """Two line runs: their paths, their losses, and every epoch's change."""
    runs = sizes_of_line_runs()
    E = SIZES_LINE_EPOCHS
    frames = frame_indices(E + 1)
    labels = [f"epoch {int(e)}" for e in frames]
    named = [{**r, "color": c, "dash": d} for r, c, d in zip(runs, (VERMILION, BLUE), ("solid", "dash"))]
    return _shown({
        "left": _surface_of(*NARRATED, [r["params"] for r in runs],
                            [{"name": r["name"], "color": r["color"], "dash": r["dash"], "points": r["path"],
                              "at": r["params"][frames]} for r in named], runs[0]["best"], labels,
                            "Two runs over (m, b)"),
        "right": figures.loss_curves_figure(np.arange(E + 1), [{**r, "loss": r["excess"]} for r in named],
                                            frames, labels, title="Loss above the best line's"),
        "wide": figures.sizes_figure(np.arange(1, E + 1), named, np.maximum(frames, 1), labels,
                                     title="Linear regression: every epoch's change"),
    })


def sizes_mlp_view(ctx) -> View:
    """A network on the breast-cancer data at two rates: losses and every epoch's change."""
    runs = sizes_of_mlp_runs()
    E = MLP_EPOCHS
    frames = frame_indices(E + 1)
    labels = [f"epoch {int(e)}" for e in frames]
    named = [{**r, "name": f"{r['name']} — {r['accuracy']:.1%} of training cases right", "color": c, "dash": d}
             for r, c, d in zip(runs, (BLUE, VERMILION), ("solid", "dash"))]
    title = (f"A network with {runs[0]['n_params']} parameters on the breast-cancer data "
             f"({runs[0]['steps_per_epoch']} batches per epoch)")
    return _shown({
        "left": figures.loss_curves_figure(np.arange(E + 1), named, frames, labels,
                                           title="Training loss (cross-entropy)", yaxis_title="loss"),
        "wide": figures.sizes_figure(np.arange(1, E + 1), named, np.maximum(frames, 1), labels, title=title),
    })


# -- views: rules that adapt the learning rate ----------------------------------------------

RULE_FACTOR = {"boost": ("Learning-rate factor (× base rate)", "factor"),
               "careful": ("Learning-rate factor (× base rate)", "factor"),
               "eve": ("How far along each epoch it went (× its change)", "× change")}


def _rule_payloads(rule: str, without: dict, with_rule: dict, base: str) -> dict:
    """Both runs' paths on the surface, and their losses with the rule's factor per epoch."""
    E = len(with_rule["loss"]) - 1
    frames = frame_indices(E + 1)
    labels = _labels(frames, with_rule["excess"])
    name = f"with {RULE_NAMES[rule]}"

    def at(run):
        return run["params"][np.minimum(frames, len(run["params"]) - 1)]

    factor = with_rule["multiplier"] if rule == "eve" else with_rule["lr_scale"]
    title, axis = RULE_FACTOR[rule]
    return {
        "left": _surface_of(*NARRATED, [without["params"], with_rule["params"]], [
            {"name": "without", "color": MUTED, "points": without["path"], "at": at(without), "dash": "dash"},
            {"name": name, "color": RULE_COLORS[rule], "points": with_rule["path"], "at": at(with_rule)}],
            with_rule["best"], labels, "Paths over (m, b)"),
        "right": figures.rule_figure(np.arange(E + 1), [
            {"name": f"{base}, without", "color": MUTED, "loss": without["excess"], "dash": "dash"},
            {"name": name, "color": RULE_COLORS[rule], "loss": with_rule["excess"]}],
            factor, frames, labels, factor_title=title, factor_label=axis),
    }


def rule_view(ctx) -> View:
    """The narrated run of one rule, without and with it."""
    rule = ctx.figure.removeprefix("rule-")
    without, with_rule = rule_pair(rule)
    name, hyper, _ = RULE_DEMO[rule]
    base = f"{optim.OPTIMIZERS[name].label} η = {dict(hyper)['lr']:g}"
    return _shown(_rule_payloads(rule, without, with_rule, base))


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


def _scrolling(table: html.Table, title: str) -> html.Div:
    """A table in a box of the panel's width that scrolls sideways when the table is wider
    (on a phone), so the page does not; focusable and named, to scroll it by keyboard too."""
    return html.Div(table, className="lab-scroll", tabIndex="0", role="region",
                    **{"aria-label": f"{title} (table, scrolls sideways)"})


def _summary_table(result: dict, title: str) -> list:
    def fmt(x):
        return "—" if x is None or not np.isfinite(x) else f"{x:g}"

    body = [html.Tr([html.Td(RULE_NAMES[r["name"]]), html.Td(f"{r['reached']} of {r['seeds']}"),
                     html.Td(fmt(r["median"])), html.Td(fmt(r["work"]))])
            for r in experiments.summary_rows(result)]
    per_epoch = result["steps_per_epoch"]
    return [
        html.H3(title),
        _scrolling(html.Table([html.Thead(html.Tr([html.Th(h) for h in (
            "", "seeds reaching the target", "median epochs", "median evaluations")])),
                               html.Tbody(body)], className="ls-table"), title),
        html.P(f"Target: the loss within {TARGET:g} of the best line's loss. Evaluations: gradient evaluations "
               f"({per_epoch} per epoch) plus the extra loss evaluations a rule makes, until the target. "
               "“—”: fewer than half of the seeds reached it.", className="lab-note"),
    ]


def compare_view(ctx) -> View:
    """Without and with every rule over many seeds, for the chosen base optimizer."""
    label = CASES[ctx.values["case"]][0]
    result = case_comparison(ctx.values["case"])
    return _shown(_compare_payloads(result, COMPARE_EPOCHS, label), panels=["summary", "case"],
                  summary=_summary_table(result, f"With and without — {label}"))


# -- views: the race and free play ----------------------------------------------------------

def _race_table(result: dict, runs: list[dict]) -> list:
    """The race again over RACE_SEEDS seeds (`race_over_seeds`): one row per optimizer."""
    seeds = result["epochs_to"].shape[1]

    def median(values):
        return float(np.median(values))

    body = []
    for o, run in enumerate(runs):
        reached = np.isfinite(result["epochs_to"][o])
        to = median(np.where(reached, result["epochs_to"][o], np.inf))
        body.append(html.Tr([html.Td(run["name"]), html.Td(f"{int(reached.sum())} of {seeds}"),
                             html.Td("—" if not np.isfinite(to) else f"{to:g}"),
                             html.Td(f"{median(result['final'][o]):.2g}"),
                             html.Td(f"{int(result['first'][o])}"), html.Td(f"{int(result['lowest'][o])}")]))
    title = f"The race on {seeds} seeds"
    return [
        html.H3(title),
        _scrolling(html.Table([html.Thead(html.Tr([html.Th(h) for h in (
            "", "seeds within the target", "median epochs to it", "median loss above the best at the end",
            "seeds where it got there first", "seeds where it ended lowest")])), html.Tbody(body)],
            className="ls-table"), title),
        html.P(f"Seeds 0 to {seeds - 1}: new noise, new start; each optimizer at the rate it won on seed 0. "
               f"Target: the loss within {TARGET:g} of the best line's. Ties count for each optimizer tied.",
               className="lab-note"),
    ]


#: The race's figures name eleven optimizers in their legends: taller than other steps'.
RACE_HEIGHTS = {"left": 600, "right": 600, "wide": 560}


def race_view(ctx) -> View:
    """Every optimizer from the same start, each at its best rate, each in a colour and a
    dash of its own (figures.OPTIMIZER_STYLES); below, the race again over many seeds."""
    frames = frame_indices(RACE_EPOCHS + 1)
    labels = [f"epoch {int(e)}" for e in frames]
    runs = []
    for i, r in enumerate(race()):
        color, dash = figures.optimizer_style(r["optimizer"], i)
        runs.append({**r, "color": color, "dash": dash, "loss": r["excess"]})
    seeds = race_over_seeds(tuple((r["optimizer"], r["lr"]) for r in runs))
    return _shown({
        "left": _surface_of(*NARRATED, [r["params"] for r in runs],
                            [{"name": optim.OPTIMIZERS[r["optimizer"]].label, "color": r["color"], "dash": r["dash"],
                              "points": thin(r["params"], 150), "at": r["params"][frames]} for r in runs],
                            best_line(*NARRATED)[0], labels, "Every optimizer from the same start"),
        "right": figures.ranking_figure([r["name"] for r in runs], [r["color"] for r in runs],
                                        np.array([r["excess"] for r in runs]), frames, labels,
                                        title="Standing: loss above the best line's"),
        "wide": figures.loss_curves_figure(np.arange(RACE_EPOCHS + 1), runs, frames, labels,
                                           title="Loss above the best line's, epoch by epoch"),
    }, panels=["summary"], summary=_race_table(seeds, runs), heights=RACE_HEIGHTS)


def _free_hyper(values: dict) -> tuple:
    """((name, value), ...): lr and the chosen optimizer's hyperparameters that are not blank."""
    own = {h.name for h in optim.OPTIMIZERS[values["optimizer"]].hyperparameters}
    return (("lr", float(values["lr"])),) + tuple(
        (name, float(values[name])) for name in HYPER if name in own and values[name] not in ("", None))


def _free_optimizer(values: dict, notices: list[str]) -> tuple:
    """The hyperparameters to use: the chosen ones, or lr alone (with a notice) if the
    optimizer refuses them (a value within the setting's range but not this optimizer's)."""
    hyper = _free_hyper(values)
    try:
        build_optimizer(values["optimizer"], hyper)
    except ValueError as error:
        notices.append(f"Optimizer: {error}; using its defaults with η = {values['lr']:g}.")
        hyper = (("lr", float(values["lr"])),)
    return hyper


def _free_payloads(values: dict, run: dict) -> dict:
    noise, seed = float(values["noise"]), int(values["seed"])
    (x, y), _ = problem(noise, seed)
    E = len(run["loss"]) - 1
    frames = frame_indices(E + 1)
    labels = _labels(frames, run["excess"])
    label = optim.OPTIMIZERS[values["optimizer"]].label
    color = RULE_COLORS[values["rule"]] if values["rule"] != "none" else VERMILION
    return {
        "left": figures.line_figure(x, y, run["params"][frames], labels),
        "right": _surface_of(noise, seed, [run["params"]], [{"name": label, "color": color, "points": run["path"],
                                                             "at": run["params"][frames]}],
                             run["best"], labels, "Loss surface over (m, b)"),
        "wide": figures.curves_figure(np.arange(E + 1), np.maximum(run["excess"], 1e-9), run["params"], frames, labels,
                                      loss_title="Loss above the best line's (log scale)"),
        "lower": figures.sizes_figure(np.arange(1, E + 1), [{"name": label, "color": PURPLE, "norm": run["norm"],
                                                             "angle": run["angle"]}],
                                      np.maximum(frames, 1), labels, title="Every epoch's change"),
    }


def free_view(ctx) -> View:
    """Every setting: the run three ways, its changes, and with/without the chosen rule over FREE_SEEDS seeds."""
    values, notices = ctx.values, []
    noise, seed, epochs, batch = float(values["noise"]), int(values["seed"]), int(values["epochs"]), int(values["batch"])
    hyper, rule = _free_optimizer(values, notices), values["rule"]
    rule_params = tuple((p.name, values[p.name]) for p in adaptive.RULES[rule].params) if rule != "none" else ()
    run = fit_run(noise, seed, values["optimizer"], hyper, epochs, batch, rule, rule_params)
    if run["message"]:
        notices.append(f"Training stopped: {run['message']}. Try a smaller learning rate.")
    payloads, summary = _free_payloads(values, run), []
    if rule != "none":
        try:
            result = comparison(noise, values["optimizer"], hyper, (("none", ()), (rule, rule_params)), epochs,
                                batch, seed, FREE_SEEDS)
            label = optim.OPTIMIZERS[values["optimizer"]].label
            payloads.update(_compare_payloads(result, epochs, f"{label}, η = {values['lr']:g}"))
            summary = _summary_table(result, f"With and without {RULE_NAMES[rule]}, seeds {seed} to "
                                             f"{seed + FREE_SEEDS - 1}")
        except ValueError as error:
            notices.append(f"No with/without comparison: {error}.")
    reached = np.isfinite(run["excess"]) & (run["excess"] <= TARGET)
    return _shown(payloads, panels=["settings"] + (["summary"] if summary else []), summary=summary,
                  notices=notices, achieved=bool(reached[:TASK_EPOCHS + 1].any()), start="last")


def _shown(payloads: dict, *, panels: list[str] = (), summary: list = (), start: str = "first", **view) -> View:
    """A View of `payloads`, each shown from its `start` frame ("first" or "last")."""
    for payload in payloads.values():
        payload["start"] = start
    return View(figures=payloads, panels=list(panels), outputs={"summary": list(summary)}, **view)


VIEWS = {"data": fit_view, "fit": fit_view, "inside-adam": inside_view, "inside-momentum": inside_view,
         "inside-rmsprop": inside_view, "sizes-line": sizes_line_view, "sizes-mlp": sizes_mlp_view,
         "rule-boost": rule_view, "rule-careful": rule_view, "rule-eve": rule_view, "compare": compare_view,
         "race": race_view, "free": free_view}

ENGINE = Lesson(
    LESSON, SCHEMA, STEPS, VIEWS,
    graphs={"left": 470, "right": 470, "wide": 440, "lower": 440, "cmp": 400, "targets": 330},
    panels={"summary": "ls-panel", "case": "lab-case", "settings": "ls-panel"},
    outputs={"summary": (Output(lesson_id("summary", LESSON), "children"), [])},
)
show_step = ENGINE.register()


# -- layout -----------------------------------------------------------------------------


def layout(**query) -> html.Div:
    return ENGINE.page(query, stage)


def stage(values: dict, hidden: set) -> list:
    return [
        ENGINE.step_player(label="epoch"),
        computing(
            html.Div(
                [
                    html.Div([_graph("left"), _graph("right")], className="ls-figures-row"),
                    _graph("wide"),
                    _graph("lower"),
                    _comparison_panel(values, hidden),
                    _graph("cmp"),
                    _graph("targets"),
                ],
                className="lab-stack",
            ),
            "Running the optimizers", delay_show=400,
        ),
        _settings_panel(values, hidden),
    ]


def _graph(name: str) -> html.Div:
    """A declared graph, hidden until a step shows it (most steps show a few of the six)."""
    box = ENGINE.graph(name)
    box.className += HIDDEN
    return box


def _comparison_panel(values: dict, hidden: set) -> html.Div:
    return html.Div(
        [
            html.Div(ENGINE.controls(values, hidden, ["case"]), id=ENGINE.panel_id("case"),
                     className=ENGINE.panel_class("case", False)),
            html.Div(id=lesson_id("summary", LESSON)),
        ],
        id=ENGINE.panel_id("summary"), className=ENGINE.panel_class("summary", False),
    )


def _settings_panel(values: dict, hidden: set) -> html.Div:
    """Every setting but the comparison's; only the chosen optimizer's hyperparameters
    and the chosen rule's parameters are shown (`show_own_controls`)."""
    own = {h.name for h in optim.OPTIMIZERS[values["optimizer"]].hyperparameters}

    def own_control(kind: str, name: str, shown: bool) -> html.Div:
        return html.Div(ENGINE.controls(values, hidden, [name]), id=lesson_id(kind, LESSON, name=name),
                        className="" if shown else "ls-hidden")

    controls = [
        *ENGINE.controls(values, hidden, ["noise", "optimizer", "lr"]),
        *[own_control("hyper", name, name in own) for name in HYPER],
        *ENGINE.controls(values, hidden, ["rule"]),
        *[own_control("rule-param", name, rule == values["rule"]) for name, (rule, _) in RULE_PARAMS.items()],
        *ENGINE.controls(values, hidden, ["epochs", "batch", "seed"]),
    ]
    return html.Div([html.H3("Settings"), html.Div(controls, className="ls-controls")],
                    id=ENGINE.panel_id("settings"), className=ENGINE.panel_class("settings", False))


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
