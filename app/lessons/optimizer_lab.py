"""The optimizer lab's experiments: a straight line fitted to noisy points, run many ways.

The problem: N_POINTS points around y = 0.5 x + 1 (x in [0, 4]) and the line
y_hat = m x + b with its mean squared error, so a run is a path over the
(m, b) plane. Every run starts at START moved by N(0, START_SPREAD²) per
coordinate, drawn from its seed. Losses are reported as the *excess*: the
loss above the least-squares line's loss of the same data.

Runs are pure functions of scalars (noise, seed, optimizer name,
hyperparameters as a tuple of (name, value) pairs, epochs, batch size, rule),
so the page can memoize them; bad values raise ValueError naming the limit.
"""

from __future__ import annotations

import math

import numpy as np

from app.ml import adaptive, datasets, instrument, landscape, optim, train
from app.ml.linear import LinearRegression, least_squares_line
from app.ml.mlp import MLP

# -- the problem ------------------------------------------------------------------------
N_POINTS = 50
TRUTH = (0.5, 1.0)                  # slope and intercept the points scatter around
START = np.array([-2.0, 3.0])       # every run starts near here ...
START_SPREAD = 0.3                  # ... moved by N(0, 0.3²) per coordinate, drawn from the seed
LINE = LinearRegression(init_scale=START_SPREAD)
TARGET = 0.01                       # "reached": loss within 0.01 of the best line's loss
GRID = 70                           # loss-surface grid points per axis
PATH_POINTS = 400                   # most points of a returned path

# -- limits of free play -----------------------------------------------------------------
NOISE_MAX = 3.0
EPOCHS_MAX = 500
FREE_MAX_STEPS = 5_000              # optimizer steps of one free-play run
FREE_SEEDS = 10                     # seeds of the free-play comparison

# -- the narrated runs (the narration's numbers are measured on these) -------------------
NARRATED = (0.5, 0)                 # noise and seed of every narrated run
FIT = ("sgd", (("lr", 0.05),), 100)
INSIDE = {
    "adam": ("adam", (("lr", 0.3),), 50),
    "momentum": ("momentum", (("lr", 0.02), ("momentum", 0.9)), 50),
    "rmsprop": ("rmsprop", (("lr", 0.1),), 50),
}
SIZES_LINE = (("Gradient descent, η = 0.05, full batch", "sgd", (("lr", 0.05),), N_POINTS),
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
COMPARE_SEEDS, COMPARE_EPOCHS = 20, 150
RACE_EPOCHS = 100
RACE_RATES = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)   # 100: the largest any optimizer allows
RACE_SEEDS = 20                     # the race again on seeds 0..19, each optimizer at the rate it won on seed 0


# -- the problem ------------------------------------------------------------------------


def problem(noise: float, seed: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """((x (n,), y (n,)), start [m, b]) of a seed: its data and its starting point.

    noise: standard deviation of the points around the true line, 0..LINE_NOISE_MAX.
    """
    data = adaptive.noisy_line(N_POINTS, noise, seed, slope=TRUTH[0], intercept=TRUTH[1])
    return data, START + LINE.init(seed)


def best_line(noise: float, seed: int) -> tuple[np.ndarray, float]:
    """The least-squares [m, b] (2,) of a seed's data and its loss (mean squared error)."""
    (x, y), _ = problem(noise, seed)
    best = least_squares_line(x, y)
    return best, LINE.loss(best, x, y)


def build_optimizer(name: str, hyper: tuple) -> optim.GradientTransformation:
    """optim.make(name, **hyperparameters) for hyper = ((name, value), ...)."""
    return optim.make(name, **dict(hyper))


def batch_size(batch: int) -> int | None:
    """run_epochs' batch size for batches of `batch` points: None (full batch) for N_POINTS."""
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or not 1 <= batch <= N_POINTS:
        raise ValueError(f"batch must be an integer in 1..{N_POINTS} (N_POINTS, the full batch), got {batch!r}")
    return None if batch == N_POINTS else int(batch)


def spread_indices(count: int, limit: int) -> np.ndarray:
    """At most `limit` evenly spread indices into 0..count-1, first and last included."""
    return np.unique(np.linspace(0, count - 1, min(count, limit)).round().astype(int))


def thin(points, limit: int = PATH_POINTS) -> np.ndarray:
    """At most `limit` rows of `points` (k, ...), evenly spread, first and last kept."""
    points = np.asarray(points)
    return points[spread_indices(len(points), limit)]


# -- runs -------------------------------------------------------------------------------


def fit_run(noise: float, seed: int, optimizer: str, hyper: tuple, epochs: int, batch: int,
            rule: str = "none", rule_params: tuple = ()) -> dict:
    """One run on the line, epoch by epoch (E = epochs done), with `rule` ("none" or a
    name of adaptive.RULES, its parameters as ((name, value), ...)) after every epoch.

    Returns params (E+1, 2), loss (E+1,), excess (E+1,) loss above the best
    line's, lr_scale (E,), multiplier (E,) (EVE's jump, 1 = none), path
    (k, 2) after every step (at most PATH_POINTS), norm (E,), angle (E,)
    degrees, best (2,), extra_evals (E,), steps_per_epoch, message (why the
    run stopped early, or ""). At most FREE_MAX_STEPS optimizer steps.
    """
    (x, y), start = problem(noise, seed)
    rule_obj = None if rule == "none" else adaptive.make_rule(rule, **dict(rule_params))
    hist = adaptive.run_epochs(LINE, build_optimizer(optimizer, hyper), (x, y), epochs, seed, rule=rule_obj,
                               batch_size=batch_size(batch), params=start, keep_path=True,
                               max_steps=FREE_MAX_STEPS)
    best, best_loss = best_line(noise, seed)
    changes = instrument.epoch_changes(hist.params)
    multiplier = np.ones(hist.epochs_done)
    if rule == "eve":
        multiplier = np.array([s.multiplier for s in hist.rule_states[1:]])
    return {"params": hist.params, "loss": hist.loss, "excess": hist.loss - best_loss,
            "lr_scale": hist.lr_scale, "multiplier": multiplier, "path": thin(hist.path),
            "norm": changes["norm"], "angle": changes["angle"], "best": best,
            "extra_evals": hist.extra_evals, "steps_per_epoch": hist.steps_per_epoch, "message": hist.message}


def rule_pair(rule: str) -> tuple[dict, dict]:
    """The narrated run of `rule` (RULE_DEMO) without and with it: two fit_run results."""
    if rule not in RULE_DEMO:
        raise ValueError(f"unknown rule demonstration {rule!r}; known: {', '.join(RULE_DEMO)}")
    name, hyper, epochs = RULE_DEMO[rule]
    return (fit_run(*NARRATED, name, hyper, epochs, N_POINTS),
            fit_run(*NARRATED, name, hyper, epochs, N_POINTS, rule))


def inside_run(kind: str) -> dict:
    """The narrated full-batch run of "adam", "momentum" or "rmsprop" with its per-step
    internals (instrument.*_internals: (T, 2) and (T,) arrays), params (T+1, 2) and
    excess (T+1,) loss above the best line's."""
    if kind not in INSIDE:
        raise ValueError(f"unknown optimizer to look inside {kind!r}; known: {', '.join(INSIDE)}")
    name, hyper, steps = INSIDE[kind]
    (x, y), start = problem(*NARRATED)
    hist = train.run(LINE, build_optimizer(name, hyper), (x, y), steps, 0, params=start)
    h = dict(hyper)
    if kind == "adam":
        inside = instrument.adam_internals(hist, h["lr"])
    elif kind == "momentum":
        inside = instrument.momentum_internals(hist, h["lr"], h["momentum"])
    else:
        inside = instrument.rmsprop_internals(hist, h["lr"])
    _, best_loss = best_line(*NARRATED)
    inside["params"] = hist.params
    inside["excess"] = np.concatenate([hist.loss, [LINE.loss(hist.params[-1], x, y)]]) - best_loss
    return inside


def sizes_of_line_runs() -> list[dict]:
    """The two narrated line runs (SIZES_LINE) whose epoch sizes and angles are compared:
    fit_run results, each with its "name"."""
    return [{"name": label, **fit_run(*NARRATED, name, hyper, SIZES_LINE_EPOCHS, batch)}
            for label, name, hyper, batch in SIZES_LINE]


def sizes_of_mlp_runs() -> list[dict]:
    """The narrated network runs: `mlp_run` at each rate of MLP_RUNS, seed 0, each with its "name"."""
    return [{"name": label, **mlp_run(lr, 0)} for label, lr in MLP_RUNS]


def mlp_run(lr: float, seed: int) -> dict:
    """An MLP MLP_SIZES on the standardized breast-cancer data, Adam at rate `lr`, MLP_EPOCHS
    epochs of batches of MLP_BATCH; `seed` draws the weights and the batch order.

    Returns loss (E+1,) cross-entropy in nats, norm (E,), angle (E,) degrees,
    accuracy on the training cases, n_params, steps_per_epoch.
    """
    table = datasets.load_breast_cancer()
    X, _, _ = datasets.standardize(table.X)
    model = MLP(MLP_SIZES, "relu", "softmax_ce")
    hist = adaptive.run_epochs(model, optim.adam(lr=lr), (X, table.y), MLP_EPOCHS, seed, batch_size=MLP_BATCH)
    changes = instrument.epoch_changes(hist.params)
    accuracy = float(np.mean(model.predict({k: v[-1] for k, v in hist.params.items()}, X) == table.y))
    return {"loss": hist.loss, "norm": changes["norm"], "angle": changes["angle"], "accuracy": accuracy,
            "n_params": model.n_params, "steps_per_epoch": hist.steps_per_epoch}


def race() -> list[dict]:
    """Every optimizer of optim, full batch from the same start, at its best rate of RACE_RATES:
    the one whose loss above the best line's is lowest on average over the RACE_EPOCHS
    epochs on a log scale (fast, and staying low, both count).

    Per optimizer: name (with its rate), optimizer, lr, params (E+1, 2), excess (E+1,).
    """
    (x, y), start = problem(*NARRATED)
    _, best_loss = best_line(*NARRATED)
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


def race_over_seeds(rates: tuple) -> dict:
    """The race again on seeds 0..RACE_SEEDS-1 (new noise, new start), each optimizer at its rate
    of `rates` ((name, lr), ...: the rates it won in `race`).

    Returns names [O], epochs_to (O, S) first epoch within TARGET of the best line's loss
    (nan: never), final (O, S) loss above the best line's after RACE_EPOCHS epochs (inf:
    diverged), rises (O, S) share of epochs whose loss rose, lowest (O,) seeds on which the
    optimizer ended lowest, first (O,) seeds on which it came within TARGET first (ties count
    for each optimizer tied).
    """
    names = [name for name, _ in rates]
    for name, lr in rates:
        build_optimizer(name, (("lr", lr),))            # ValueError for an unknown name or a bad rate
    shape = (len(rates), RACE_SEEDS)
    epochs_to, final, rises = np.full(shape, np.nan), np.full(shape, np.inf), np.zeros(shape)
    for s in range(RACE_SEEDS):
        (x, y), start = problem(NARRATED[0], s)
        _, best_loss = best_line(NARRATED[0], s)
        for o, (name, lr) in enumerate(rates):
            hist = adaptive.run_epochs(LINE, build_optimizer(name, (("lr", lr),)), (x, y), RACE_EPOCHS, s,
                                       params=start)
            excess = hist.loss - best_loss
            epochs_to[o, s] = adaptive.epochs_to_target(excess, TARGET)
            rises[o, s] = float(np.mean(np.diff(excess) > 0))
            if hist.diverged_at is None:
                final[o, s] = excess[-1]
    soonest = np.where(np.isnan(epochs_to), np.inf, epochs_to)
    return {"names": names, "epochs_to": epochs_to, "final": final, "rises": rises,
            "lowest": (final == final.min(axis=0)).sum(axis=1),
            "first": (np.isfinite(soonest) & (soonest == soonest.min(axis=0))).sum(axis=1)}


# -- with and without, over many seeds ---------------------------------------------------


def comparison(noise: float, optimizer: str, hyper: tuple, rules: tuple, epochs: int, batch: int,
               first_seed: int, n_seeds: int) -> dict:
    """With and without each rule over n_seeds seeds from first_seed.

    rules: ((name, params), ...), the name "none" for without. Returns
    adaptive.compare_rules' result (V variants, S seeds, E epochs) and
    excess (V, S, E+1) loss above each seed's best line's, epochs_to (V, S)
    first epoch within TARGET of it (nan: never), work_to (V, S) gradient
    plus extra loss evaluations until then (nan: never).
    """
    seeds = list(range(first_seed, first_seed + n_seeds))
    variants = {name: None if name == "none" else adaptive.make_rule(name, **dict(params)) for name, params in rules}
    result = adaptive.compare_rules(LINE, build_optimizer(optimizer, hyper), lambda s: problem(noise, s),
                                    variants, epochs, seeds, batch_size=batch_size(batch))
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
    """The narrated comparison of CASES[case]: without and with every rule, COMPARE_SEEDS seeds."""
    if case not in CASES:
        raise ValueError(f"unknown comparison {case!r}; known: {', '.join(CASES)}")
    _, name, hyper = CASES[case]
    rules = (("none", ()), *((r, ()) for r in adaptive.RULES))
    return comparison(NARRATED[0], name, hyper, rules, COMPARE_EPOCHS, N_POINTS, 0, COMPARE_SEEDS)


def summary_rows(result: dict) -> list[dict]:
    """Per variant of a `comparison`: seeds that reached the target, median epochs and work
    to reach it (None when fewer than half of the seeds did), extra evaluations, divergences."""
    rows = []
    seeds = len(result["seeds"])
    for v, name in enumerate(result["names"]):
        reached = np.isfinite(result["epochs_to"][v])
        most = reached.sum() * 2 > seeds
        rows.append({"name": name, "reached": int(reached.sum()), "seeds": seeds,
                     "median": _median_reached(result["epochs_to"][v], reached) if most else None,
                     "work": _median_reached(result["work_to"][v], reached) if most else None,
                     "extra": int(result["extra_evals"][v].sum()), "diverged": int(result["diverged"][v].sum())})
    return rows


def _median_reached(values: np.ndarray, reached: np.ndarray) -> float:
    """The median over seeds, counting a seed that never reached the target as infinite."""
    return float(np.median(np.where(reached, values, np.inf)))


# -- the loss surface --------------------------------------------------------------------


def surface(noise: float, seed: int, window: tuple) -> dict:
    """The loss on a GRID x GRID grid over window (m_low, m_high, b_low, b_high):
    ms (GRID,), bs (GRID,), Z (GRID, GRID) with Z[i, j] the loss at (ms[j], bs[i])."""
    if len(window) != 4 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in window):
        raise ValueError(f"window must be four finite numbers (m_low, m_high, b_low, b_high), got {window!r}")
    (x, y), _ = problem(noise, seed)
    ms = landscape.axis_values(window[0], window[1], GRID)
    bs = landscape.axis_values(window[2], window[3], GRID)
    Z = landscape.grid_losses(LINE, x, y, np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]), ms, bs)
    return {"ms": ms, "bs": bs, "Z": Z}


def window_around(noise: float, seed: int, *paths) -> tuple:
    """A view (m_low, m_high, b_low, b_high) of the (m, b) plane holding the start, the
    best line and the points of `paths` (each (k, 2)) that stay below 1.5 times the
    starting loss (a diverging path is not followed out). Rounded to 3 decimals."""
    (x, y), start = problem(noise, seed)
    best, _ = best_line(noise, seed)
    points = [start[None, :], best[None, :]]
    limit = LINE.loss(start, x, y) * 1.5
    for path in paths:
        path = np.asarray(path, dtype=float)
        if path.ndim != 2 or path.shape[1] != 2:
            raise ValueError(f"a path must have shape (k, 2), got {path.shape}")
        path = path[np.all(np.isfinite(path), axis=1)]
        if len(path):
            points.append(path[LINE.loss_many(path, x, y) <= limit])
    points = np.concatenate(points)
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum(0.15 * (high - low), 0.3)
    return tuple(round(float(v), 3) for v in (low[0] - pad[0], high[0] + pad[0], low[1] - pad[1], high[1] + pad[1]))
