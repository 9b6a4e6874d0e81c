"""The graph-layout lesson's experiments: the scenes it shows, their runs, tangle rates.

A *scene* is one graph laid out by 1 to 4 runs (optimizers) from the same
start. Positions are in units of the circle radius RADIUS; the energy E and
the metrics are those of `app.ml.graph_layout`. Every function takes settings
(names, sizes, rates, seeds) and returns plain values, arrays and dicts;
bad input raises ValueError naming the limit.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from app.ml import graph_layout as gl
from app.ml import optim

RADIUS = 1.0

# -- limits of the playground (one request must finish in a few seconds) --------------
MAX_CIRCLES = 5_000
MAX_RUN_STEPS = 2_000
CIRCLE_STEP_BUDGET = 250_000    # circles x steps x runs of one request (a pile-up costs ~9 us of CPU each)
POSITION_BUDGET = 200_000       # circle positions sent to the browser: n x frames x runs (~1.3 bytes each)
FRAME_CIRCLE_BUDGET = 100_000   # n x frames of one run: big scenes move chaotically, ~2.5 bytes a position
MAX_FRAMES = 150
METRIC_BUDGET_MS = 1_500        # estimated worst-case time for the metrics of the shown frames
MAX_SEED = 1_000_000
MAX_RUNS = 4
MODES = ("single", "race")
PLAYGROUND_SETTINGS = ("mode", "race", "optimizer", "lr", "beta", "beta2", "family", "n", "seed", "steps", "init")

# The playground's second and third hyperparameter, per optimizer: the name
# `gl.layout_optimizer` takes for the "beta" and "beta2" settings.
BETA_NAME = {"momentum": "momentum", "nesterov": "momentum", "kochenderfer_nesterov": "beta",
             "adam": "beta1", "adamw": "beta1", "hypergradient_adam": "beta1"}
BETA2_NAME = {"adam": "beta2", "adamw": "beta2", "hypergradient_adam": "beta2", "rmsprop": "alpha",
              "adadelta": "rho"}


@dataclass(frozen=True)
class Run:
    """One optimizer run of a scene: the optimizer, its hyperparameters ((name, value), ...), its start."""

    optimizer: str
    hyper: tuple = ()
    init: str = "random"


@dataclass(frozen=True)
class Scene:
    """One graph, `make_graph(family, n, seed)`, laid out by 1 to MAX_RUNS runs for `steps` steps."""

    family: str
    n: int
    seed: int
    steps: int
    runs: tuple[Run, ...]
    arrows: float = 0.0       # if > 0: an arrow of -arrows * grad E from every circle
    graph: str = ""           # if not "": the visitor's graph (`own_graph.encode`), instead of family and n


def lesson_run(name: str, init: str = "random", **hyper: float) -> Run:
    """A run of optimizer `name` with the lesson's defaults, overridden by `hyper`."""
    return Run(name, tuple(sorted({**gl.LESSON_DEFAULTS.get(name, {}), **hyper}.items())), init)


# Comparisons of optimizers give each its own best step size: the η of a sweep that did
# best, tried from the lesson's default (gl.LESSON_DEFAULTS) up, about 1.5x apart, to the
# first η past the best that did clearly worse. The sweeps are rerun by the lesson's tests.

# The tangle-rate experiment (the seed's "momentum methods get stuck less easily"), measured:
# TANGLE_TRIALS random trees of TANGLE_N circles (seeds 0, 1, ...), each from its own random start.
TANGLE_OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam")
TANGLE_N, TANGLE_TRIALS, TANGLE_STEPS = 12, 50, 300
#: The sweep's trees are other ones (seeds from TANGLE_TUNING_SEED), so that the counts shown
#: are not those the step sizes were picked on. Clearly worse: 45 or more of the 50 tangled.
TANGLE_TUNING_SEED = 1000
TANGLE_SWEEP = {"sgd": (0.02, 0.03, 0.05, 0.07, 0.1, 0.15, 0.2, 0.3),
                "momentum": (0.02, 0.03, 0.05, 0.07, 0.1, 0.15),
                "nesterov": (0.02, 0.03, 0.05, 0.07, 0.1, 0.15),
                "adam": (0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0)}
#: The η of each sweep with the fewest tangled tuning trees.
TANGLE_RATES = {"sgd": 0.2, "momentum": 0.1, "nesterov": 0.07, "adam": 2.0}

# The race: one grid, one smart start; the score of a run is the mean of log10 E over its
# steps (getting low early and staying low both count); clearly worse: 10 times the best's.
RACE = ("grid", 300, 0, 300)
RACE_SWEEP = {"sgd": (0.02, 0.03, 0.05, 0.07, 0.1),
              "momentum": (0.02, 0.03, 0.05, 0.07, 0.1, 0.15),
              "adam": (0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0)}
#: The η of each sweep with the lowest score.
RACE_RATES = {"sgd": 0.07, "momentum": 0.1, "adam": 0.5}

# The narrated steps' scenes: the narration's numbers are measured on exactly these.
TREE = ("tree", 16, 0)
#: Gradient descent near momentum's effective step η / (1 - β) = 10 x 0.02 for β = 0.9
#: (at exactly 0.2 it diverges, slowly: a panel flying apart would shrink the other two).
NEAR_STEP = lesson_run("sgd", lr=0.15)
NARRATED = {
    "intro": Scene(*TREE, 300, (lesson_run("momentum"),)),
    "objective": Scene(*TREE, 0, (lesson_run("sgd"),), arrows=0.1),
    "descent": Scene(*TREE, 300, (lesson_run("sgd"),), arrows=0.1),
    "momentum": Scene(*TREE, 300, (lesson_run("sgd"), lesson_run("momentum"), NEAR_STEP)),
    "adaptive": Scene(*TREE, 300, (lesson_run("sgd", lr=0.3), lesson_run("rmsprop", lr=0.3),
                                   lesson_run("adam", lr=0.3))),
    "tangle": Scene("tree", TANGLE_N, 18, TANGLE_STEPS, tuple(lesson_run(name, lr=TANGLE_RATES[name])
                                                              for name in TANGLE_OPTIMIZERS)),
    "big": Scene("grid", 2_000, 0, 200, (lesson_run("momentum"),)),
    "smart": Scene("grid", 2_000, 0, 200, (lesson_run("momentum"), lesson_run("momentum", "smart"))),
    "race": Scene(*RACE, tuple(lesson_run(name, "smart", **({"lr": RACE_RATES[name]} if name in RACE_RATES else {}))
                               for name in ("sgd", "momentum", "adam", "lbfgs"))),
}


def _whole(name: str, value, low: int, high: int) -> int:
    """`value` if it is a whole number in [low, high]; else a ValueError naming the limits."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low:,} to {high:,}, got {value!r}")
    return int(value)


def _one_of(name: str, value, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {str(value)[:40]!r}")
    return value


# -- hyperparameters ------------------------------------------------------------------


def default_hyper(name: str) -> dict[str, float]:
    """The lesson's float hyperparameters of optimizer `name` (none for L-BFGS)."""
    if _one_of("optimizer", name, gl.OPTIMIZER_NAMES) == "lbfgs":
        return {}
    values = {h.name: h.default for h in optim.OPTIMIZERS[name].hyperparameters if h.kind == "float"}
    return {**values, **gl.LESSON_DEFAULTS.get(name, {})}


def hyper_for(name: str, values: dict | None = None) -> tuple[tuple[str, float], ...]:
    """Hyperparameters of `name` that differ from `optim`'s own defaults: the lesson's
    defaults, overridden by the non-blank "lr" / "beta" / "beta2" of `values`."""
    hyper = dict(gl.LESSON_DEFAULTS.get(name, {}))
    if values and name != "lbfgs":
        for setting, key in (("lr", "lr"), ("beta", BETA_NAME.get(name)), ("beta2", BETA2_NAME.get(name))):
            if key and values.get(setting) not in ("", None):
                hyper[key] = float(values[setting])
    return tuple(sorted(hyper.items()))


# -- the playground ---------------------------------------------------------------------


def playground_scene(values: dict) -> tuple[Scene, list[str]]:
    """The playground's scene from its settings, and what was changed to run it.

    values: mode ("single" | "race"), race ("sgd,adam", 2 to 4 names), optimizer,
    lr / beta / beta2 ("" for the optimizer's default; they apply to `optimizer`
    only), family, n, seed, steps, init. Steps are cut so that circles x steps x
    runs <= CIRCLE_STEP_BUDGET; a race of fewer than two different optimizers
    races gradient descent (or Adam) against `optimizer`.
    """
    if missing := [key for key in PLAYGROUND_SETTINGS if key not in values]:
        raise ValueError(f"the playground needs the settings {', '.join(missing)}")
    mine = _one_of("optimizer", values["optimizer"], gl.OPTIMIZER_NAMES)
    notes = []
    if _one_of("mode", values["mode"], MODES) == "race":
        names = [_one_of("racer", name, gl.OPTIMIZER_NAMES) for name in dict.fromkeys(str(values["race"]).split(","))]
        if len(names) < 2:
            notes.append("A race needs two different optimizers; racing gradient descent against yours.")
            names = list(dict.fromkeys([mine, "sgd" if mine != "sgd" else "adam"]))
    else:
        names = [mine]
    _whole("racers", len(names), 1, MAX_RUNS)
    init = _one_of("init", values["init"], gl.INITS)
    runs = tuple(Run(name, hyper_for(name, values if name == mine else None), init) for name in names)
    graph = values.get("graph") or ""
    n = graph_edges("", 0, 0, graph)[0] if graph else _whole("n (circles)", values["n"], 1, MAX_CIRCLES)
    steps = _whole("steps", values["steps"], 1, MAX_RUN_STEPS)
    allowed = max(1, CIRCLE_STEP_BUDGET // (n * len(runs)))
    if steps > allowed:
        notes.append(f"{n:,} circles × {steps:,} steps × {len(runs)} run{'s' if len(runs) > 1 else ''} is over "
                     f"the limit of {CIRCLE_STEP_BUDGET:,} circle-steps per run request; running {allowed:,} steps.")
        steps = allowed
    family = _one_of("family", values["family"], gl.FAMILIES)
    return Scene(family, n, _whole("seed", values["seed"], 0, MAX_SEED), steps, runs, graph=graph), notes


# -- frames and runs --------------------------------------------------------------------


def frame_count(n: int, steps: int, runs: int) -> int:
    """Frames sent for a scene: at most MAX_FRAMES, n * frames * runs <= POSITION_BUDGET and
    n * frames <= FRAME_CIRCLE_BUDGET (so a step's answer stays under ~300 kB compressed)."""
    n, runs = _whole("n", n, 1, gl.MAX_NODES), _whole("runs", runs, 1, MAX_RUNS)
    return max(1, min(MAX_FRAMES, _whole("steps", steps, 0, gl.MAX_STEPS) + 1, POSITION_BUDGET // (n * runs),
                      FRAME_CIRCLE_BUDGET // n))


def wanted_steps(steps: int, frames: int) -> np.ndarray:
    """(frames,) int: evenly spread steps from 0 to `steps`, both included."""
    steps, frames = _whole("steps", steps, 0, gl.MAX_STEPS), _whole("frames", frames, 1, MAX_FRAMES)
    return np.unique(np.linspace(0, steps, frames).round().astype(np.int64))


def metric_count(n: int, m: int, runs: int, frames: int) -> int:
    """How many frames of each run get `layout_metrics`, within METRIC_BUDGET_MS.

    Estimated cost of one call in ms: ~0.03 per circle plus the crossing
    test, ~1.5e-4 per pair of links up to its budget of 1e6 pairs.
    """
    runs, frames = _whole("runs", runs, 1, MAX_RUNS), _whole("frames", frames, 1, MAX_FRAMES)
    m = _whole("m (links)", m, 0, gl.MAX_EDGES)
    cost = 0.5 + 0.03 * _whole("n", n, 1, gl.MAX_NODES) + 1.5e-4 * min(m * (m - 1) / 2, gl.CROSSING_PAIR_BUDGET)
    return int(min(frames, max(2, METRIC_BUDGET_MS // (runs * cost))))


def graph_edges(family: str, n: int, seed: int, graph: str = "") -> tuple[int, np.ndarray]:
    """(n, edges (m, 2)) of `make_graph(family, n, seed)`, or of the visitor's graph code if given
    (`own_graph.decode`: ValueError if it is damaged or over the lesson's limits)."""
    if graph:
        from app.lessons import own_graph     # it reads this module's limits
        return own_graph.decode(graph)
    return n, gl.make_graph(family, n, seed)


def scene_frames(scene: Scene) -> tuple[int, int]:
    """(frames, metric_frames) of a scene: frames shown per run, and how many of them get metrics."""
    frames = frame_count(scene.n, scene.steps, len(scene.runs))
    links = len(graph_edges(scene.family, scene.n, scene.seed, scene.graph)[1])
    return frames, metric_count(scene.n, links, len(scene.runs), frames)


def layout_run(family: str, n: int, seed: int, optimizer: str, hyper: tuple, init: str, steps: int,
               frames: int, metric_frames: int, arrows: float = 0.0, graph: str = "") -> dict:
    """One run on `make_graph(family, n, seed)` (or on the visitor's graph code `graph`, whose
    circles are then n) from the start of `seed`, at `frames` shown frames.

    Returns edges (m, 2) int, positions (F, n, 2) float32 at steps
    frame_steps (F,) (clamped to the last step run), loss (S + 1,) E at every
    step run, metrics at `metric_frames` of the F frames (frame indices in
    "metric_index": overlaps, edge_ratio, crossings, exact), the final
    metrics, diverged_at, the run's message, and arrows: None, or (F, n, 2)
    -arrows * grad E at each shown frame (the downhill direction, scaled).
    The same as `with_metrics(layout_frames(...), ...)`, which a page memoizes in parts.
    """
    picks = metric_picks(frames, metric_frames)
    _scale("arrows", arrows)
    run = layout_frames(family, n, seed, optimizer, hyper, init, steps, frames, graph)
    return with_metrics(run, picks, [frame_metrics(run, k) for k in picks], arrows)


def layout_frames(family: str, n: int, seed: int, optimizer: str, hyper: tuple, init: str, steps: int,
                  frames: int, graph: str = "") -> dict:
    """The run of `layout_run` at its `frames` shown frames, without the metrics of the frames
    (edges, positions, frame_steps, loss, final, diverged_at, message), and "exact_positions":
    the positions (F, n, 2) in float64, on which the metrics are measured."""
    frames = _whole("frames", frames, 1, MAX_FRAMES)
    n, edges = graph_edges(family, n, seed, graph)
    history = gl.run_layout(edges, n, gl.layout_optimizer(optimizer, **dict(hyper)), steps, init, seed,
                            radius=RADIUS)
    last = int(history.frame_steps[-1])
    wanted = np.minimum(wanted_steps(steps, frames), last)
    index = np.minimum(np.searchsorted(history.frame_steps, wanted), len(history.frame_steps) - 1)
    return {
        "edges": edges,
        "positions": history.positions[index].astype(np.float32),
        "exact_positions": history.positions[index],
        "frame_steps": history.frame_steps[index],
        "loss": history.loss,
        "final": history.metrics,
        "diverged_at": history.diverged_at,
        "message": history.message,
    }


def metric_picks(frames: int, metric_frames: int) -> np.ndarray:
    """(k,) int: the indices of the `metric_frames` frames, evenly spread over `frames`, that get metrics."""
    frames = _whole("frames", frames, 1, MAX_FRAMES)
    metric_frames = _whole("metric_frames", metric_frames, 1, frames)
    return np.unique(np.linspace(0, frames - 1, metric_frames).round().astype(int))


def frame_metrics(run: dict, k: int) -> dict:
    """`gl.layout_metrics` of frame k of a `layout_frames` run."""
    return gl.layout_metrics(run["exact_positions"][k], run["edges"], RADIUS)


def with_metrics(run: dict, picks: np.ndarray, metrics: list[dict], arrows: float = 0.0) -> dict:
    """A `layout_frames` run with the metrics of its frames `picks` and, if arrows > 0, its arrows."""
    _scale("arrows", arrows)
    return {
        **{key: value for key, value in run.items() if key != "exact_positions"},
        "metric_index": picks,
        "overlaps": [m["overlapping_pairs"] for m in metrics],
        "edge_ratio": [m["mean_edge_ratio"] for m in metrics],
        "crossings": [m["crossings"] for m in metrics],
        "exact": [m["crossings_exact"] for m in metrics],
        "arrows": _downhill(run["positions"].astype(float), run["edges"], arrows) if arrows else None,
    }


def _scale(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1e3:
        raise ValueError(f"{name} must be a scale from 0 to 1000, got {value!r}")
    return float(value)


def _downhill(positions: np.ndarray, edges: np.ndarray, scale: float) -> np.ndarray:
    """(F, n, 2): -scale * grad E at each layout of positions (F, n, 2)."""
    return np.stack([-scale * gl.layout_loss_and_grad(X, edges, RADIUS)[1] for X in positions])


def tangle_result(optimizer: str, lr: float | None = None, first_seed: int = 0, n: int = TANGLE_N) -> dict:
    """`tangle_rate` of one optimizer at step size `lr` (None: its TANGLE_RATES one, else the
    lesson's default) over TANGLE_TRIALS random trees of n circles, seeds first_seed, first_seed + 1, ..."""
    optimizer = _one_of("optimizer", optimizer, gl.OPTIMIZER_NAMES)
    lr = TANGLE_RATES.get(optimizer) if lr is None else lr
    return gl.tangle_rate(optimizer, n=_whole("n", n, 2, 100), trials=TANGLE_TRIALS,
                          seed=_whole("first_seed", first_seed, 0, MAX_SEED), family="tree", steps=TANGLE_STEPS,
                          **({} if lr is None else {"lr": lr}))


def race_score(optimizer: str, lr: float) -> float:
    """The race's score of `optimizer` at step size `lr`: the mean of log10 E (E floored at
    1e-12) over the steps 0..300 of its run on the RACE grid from the smart start; inf if it diverged."""
    family, n, seed, steps = RACE
    history = gl.run_layout(gl.make_graph(family, n, seed), n,
                            gl.layout_optimizer(_one_of("optimizer", optimizer, tuple(RACE_SWEEP)), lr=lr),
                            steps, "smart", seed, radius=RADIUS)
    if history.diverged_at is not None:
        return math.inf
    return float(np.mean(np.log10(np.maximum(history.loss, 1e-12))))


__all__ = ["NARRATED", "Run", "Scene", "frame_metrics", "layout_frames", "layout_run", "metric_picks", "playground_scene", "race_score", "scene_frames", "tangle_result", "with_metrics"]
