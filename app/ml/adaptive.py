"""Learning-rate rules that act between epochs, and the epoch loop that runs them.

An epoch is a pass over the data in minibatches, each an ordinary ``optim``
step. After the epoch a *rule* looks at what the epoch did (its parameter
change and the full-data loss before and after) and decides two things: a
factor for the learning rate of the next epoch, and possibly new parameters.
Three rules, after the seed's speed-up experiments:

- ``direction_boost``: consecutive epochs that point the same way (the angle
  between their parameter changes is small) multiply the learning rate by
  ``grow``; a turn sets it back to the base rate.
- ``careful``: a loss that jumps up over an epoch multiplies the learning
  rate by ``cut``.
- ``eve``: evaluate the loss further along the epoch's direction,
  ``theta_before + k d`` for ``k = 2, 4, 8, ...`` (``d`` the epoch's change),
  and move to the farthest point while the loss keeps decreasing. (This is
  the seed's "EVE": *evaluate* in the epoch direction; it is not the Eve
  optimizer of Koushik & Hayashi.)

A rule is ``EpochRule(name, init, after_epoch)``::

    state = rule.init()
    scale, params, loss, state = rule.after_epoch(
        state, params_before, params_after, loss_before, loss_after, loss_fn)

``scale`` is the learning-rate factor for the next epoch relative to the
base rate, ``params``/``loss`` where the next epoch starts (``params_after``
and ``loss_after`` unless the rule moves), ``loss_fn(params) -> float`` the
full-data loss (each call is counted as an extra evaluation).

Composition with any optimizer: ``scale_updates(opt)`` multiplies every
update of ``opt`` by a factor kept in its state (``set_scale``). For every
optimizer of ``optim`` the update is proportional to ``lr`` and the
optimizer's own buffers do not depend on ``lr``, so scaling the updates by
``s`` is exactly running that step with ``lr * s``. (For the hypergradient
optimizers, which tune their own rate, it scales the rate they chose.)

``run_epochs`` trains a model this way and keeps a per-epoch history;
``compare_rules`` runs it over many seeds with and without each rule, and
``epochs_to_target`` reads off when each run reached a target loss.
``noisy_line`` makes the lab's two-parameter problem.

Limits (ValueError naming them): ``MAX_EPOCHS``, ``MAX_STEPS`` optimizer
steps per run, ``MAX_SEEDS`` and ``COMPARE_STEPS_MAX`` for comparisons,
the rules' hyperparameter ranges in ``RULES``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from app.ml import divergence
from app.ml.optim import GradientTransformation, Tree, apply_updates, tree_map, tree_vdot

__all__ = [
    "ScaledState", "scale_updates", "set_scale",
    "EpochRule", "BoostState", "CarefulState", "EveState",
    "direction_boost", "careful", "eve", "RuleParam", "RuleSpec", "RULES", "make_rule",
    "EpochHistory", "run_epochs", "compare_rules", "epochs_to_target", "noisy_line",
    "MAX_EPOCHS", "MAX_STEPS", "MAX_SEEDS", "COMPARE_STEPS_MAX", "SCALE_MIN", "SCALE_MAX",
    "LINE_N_MAX", "LINE_NOISE_MAX",
]

MAX_EPOCHS = 5_000          # epochs of one run
MAX_STEPS = 50_000          # optimizer steps of one run (epochs x batches per epoch)
MAX_SEEDS = 64              # seeds of one comparison
COMPARE_STEPS_MAX = 20_000  # optimizer steps of all runs of one comparison together
SCALE_MIN = 2.0**-20        # the learning-rate factor a rule may ask for, at least ...
SCALE_MAX = 2.0**10         # ... and at most
LINE_N_MAX = 10_000         # points of noisy_line
LINE_NOISE_MAX = 10.0       # its noise standard deviation


# --------------------------------------------------------------------------
# Scaling any optimizer's updates


class ScaledState(NamedTuple):
    """scale: the factor the next updates are multiplied by; inner: the optimizer's own state."""

    scale: float
    inner: Any


def scale_updates(opt: GradientTransformation, scale: float = 1.0) -> GradientTransformation:
    """``opt`` with every update multiplied by ``state.scale`` (``scale`` at init).

    Change the factor between steps with ``set_scale(state, s)``.
    """
    scale = _scale(scale)

    def init(params):
        return ScaledState(scale=scale, inner=opt.init(params))

    def update(grads, state, params):
        updates, inner = opt.update(grads, state.inner, params)
        s = state.scale
        return tree_map(lambda u: s * u, updates), ScaledState(scale=s, inner=inner)

    return GradientTransformation(init, update)


def set_scale(state: ScaledState, scale: float) -> ScaledState:
    """The same state with a new factor in [SCALE_MIN, SCALE_MAX]."""
    return state._replace(scale=_scale(scale))


def _scale(value: Any) -> float:
    value = _real("scale", value)
    if not SCALE_MIN <= value <= SCALE_MAX:
        raise ValueError(f"scale must be in [{SCALE_MIN:g}, {SCALE_MAX:g}] (SCALE_MIN, SCALE_MAX), got {value!r}")
    return value


# --------------------------------------------------------------------------
# Rules


class EpochRule(NamedTuple):
    """A rule applied after every epoch (see the module docstring for the call)."""

    name: str
    init: Callable[[], Any]
    after_epoch: Callable[..., tuple[float, Tree, float, Any]]


class BoostState(NamedTuple):
    """scale: factor for the next epoch; previous: the last epoch's change (None at first);
    angle: degrees between the last two epoch changes (nan if undefined)."""

    scale: float
    previous: Tree | None
    angle: float


class CarefulState(NamedTuple):
    """scale: factor for the next epoch; cuts: how many times it was cut so far."""

    scale: float
    cuts: int


class EveState(NamedTuple):
    """multiplier: how far along its change the last epoch ended (1 = where the
    optimizer left it, 2, 4, ... after extrapolating); evaluations: extra loss
    evaluations so far."""

    multiplier: float
    evaluations: int


def direction_boost(max_angle: float = 30.0, grow: float = 1.5, max_scale: float = 64.0) -> EpochRule:
    r"""Raise the learning rate while consecutive epochs point the same way.

    With d_e the parameter change of epoch e and
    angle_e = arccos(d_e . d_{e-1} / (|d_e| |d_{e-1}|)) in degrees::

        scale <- min(scale * grow, max_scale)   if angle_e <= max_angle
        scale <- 1                              otherwise (or if undefined)

    max_angle: degrees in [0, 180]; grow: [1, 10]; max_scale: [1, SCALE_MAX].
    """
    max_angle = _in("max_angle", max_angle, 0.0, 180.0)
    grow = _in("grow", grow, 1.0, 10.0)
    max_scale = _in("max_scale", max_scale, 1.0, SCALE_MAX)

    def init():
        return BoostState(scale=1.0, previous=None, angle=math.nan)

    def after_epoch(state, before, after, loss_before, loss_after, loss_fn):
        change = tree_map(lambda a, b: a - b, after, before)
        angle = math.nan if state.previous is None else _angle(change, state.previous)
        same_way = angle <= max_angle  # False for nan
        scale = min(state.scale * grow, max_scale) if same_way else 1.0
        return scale, after, loss_after, BoostState(scale=scale, previous=change, angle=angle)

    return EpochRule("boost", init, after_epoch)


def careful(jump: float = 0.0, cut: float = 0.5) -> EpochRule:
    r"""Cut the learning rate when the loss jumps up over an epoch::

        scale <- max(scale * cut, SCALE_MIN)   if loss_after > loss_before + jump * |loss_before|

    and keep it otherwise. jump: relative rise tolerated, [0, 10]
    (0.05 = 5 %); cut: [0.01, 1].
    """
    jump = _in("jump", jump, 0.0, 10.0)
    cut = _in("cut", cut, 0.01, 1.0)

    def init():
        return CarefulState(scale=1.0, cuts=0)

    def after_epoch(state, before, after, loss_before, loss_after, loss_fn):
        if loss_after > loss_before + jump * abs(loss_before):
            scale = max(state.scale * cut, SCALE_MIN)
            return scale, after, loss_after, CarefulState(scale=scale, cuts=state.cuts + 1)
        return state.scale, after, loss_after, state

    return EpochRule("careful", init, after_epoch)


def eve(max_doublings: int = 4) -> EpochRule:
    r"""Look further along the epoch's direction and go there while the loss decreases.

    With d the epoch's change, try theta_before + k d for k = 2, 4, ...,
    2^max_doublings, stop at the first k whose loss is not lower than the
    best so far, and continue from the best point. Costs up to
    ``max_doublings`` extra loss evaluations per epoch. The learning rate is
    not changed. max_doublings: integer in [1, 10].
    """
    max_doublings = _count("max_doublings", max_doublings, 1, 10)

    def init():
        return EveState(multiplier=1.0, evaluations=0)

    def after_epoch(state, before, after, loss_before, loss_after, loss_fn):
        change = tree_map(lambda a, b: a - b, after, before)
        best, best_loss, multiplier, evaluations = after, loss_after, 1.0, state.evaluations
        for i in range(1, max_doublings + 1):
            k = 2.0**i
            candidate = tree_map(lambda b, d: b + k * d, before, change)
            loss = loss_fn(candidate)
            evaluations += 1
            if not loss < best_loss:  # also stops on nan
                break
            best, best_loss, multiplier = candidate, loss, k
        return 1.0, best, best_loss, EveState(multiplier=multiplier, evaluations=evaluations)

    return EpochRule("eve", init, after_epoch)


class RuleParam(NamedTuple):
    """One hyperparameter of a rule, for UI selectors: kind "float" or "int"."""

    name: str
    label: str
    default: float
    min: float
    max: float
    kind: str = "float"


class RuleSpec(NamedTuple):
    """A selectable rule: ``make_rule(name, **params)`` builds it."""

    name: str
    label: str
    description: str
    params: tuple[RuleParam, ...]


RULES: dict[str, RuleSpec] = {
    spec.name: spec for spec in (
        RuleSpec("boost", "Same direction: raise the rate",
                 "Multiply the learning rate by a factor while consecutive epochs point the same way.",
                 (RuleParam("max_angle", "largest angle (degrees)", 30.0, 0.0, 180.0),
                  RuleParam("grow", "factor per epoch", 1.5, 1.0, 10.0))),
        RuleSpec("careful", "Careful: cut the rate on a jump",
                 "Multiply the learning rate by a factor below 1 whenever the loss rises over an epoch.",
                 (RuleParam("jump", "rise tolerated (fraction)", 0.0, 0.0, 10.0),
                  RuleParam("cut", "factor on a jump", 0.5, 0.01, 1.0))),
        RuleSpec("eve", "EVE: look further along",
                 "Evaluate the loss at 2, 4, 8, ... times the epoch's step and go as far as it keeps falling.",
                 (RuleParam("max_doublings", "most doublings", 4, 1, 10, "int"),)),
    )
}

_RULE_FACTORIES = {"boost": direction_boost, "careful": careful, "eve": eve}


def make_rule(name: str, **params: float) -> EpochRule:
    """Build the rule ``name`` of ``RULES``; missing parameters take their defaults.

    Raises ValueError for an unknown name or parameter, or a value out of range.
    """
    spec = RULES.get(name)
    if spec is None:
        raise ValueError(f"unknown rule {name!r}; known: {', '.join(RULES)}")
    known = {p.name for p in spec.params}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)} for rule {name!r}; known: {', '.join(known)}")
    return _RULE_FACTORIES[name](**{p.name: params.get(p.name, p.default) for p in spec.params})


# --------------------------------------------------------------------------
# The epoch loop


@dataclass(frozen=True)
class EpochHistory:
    """A run epoch by epoch (E = epochs done).

    params: (E+1, ...) array or dict of them: where each epoch ended, after its
        rule (params[0] is the start).
    loss: (E+1,) full-data loss at params[e].
    lr_scale: (E,) factor the updates of epoch e were multiplied by.
    extra_evals: (E,) loss evaluations the rule made after epoch e.
    steps_per_epoch: optimizer steps in every epoch.
    path: None, or (S+1, ...) params after every optimizer step and after
        every move of the rule (keep_path=True).
    rule_states: E+1 rule states (None entries without a rule).
    diverged_at: None, or the epoch, counted from 1 (1-based), in which the
        loss or the parameters became non-finite (1 if the loss at the start
        is); the run stopped there, so diverged_at == epochs_done + 1.
    message: "" or why the run stopped early, e.g. "diverged in epoch 4: the loss became inf".
    """

    params: Tree
    loss: np.ndarray
    lr_scale: np.ndarray
    extra_evals: np.ndarray
    steps_per_epoch: int
    path: Tree | None
    rule_states: list
    diverged_at: int | None = None
    message: str = ""

    @property
    def epochs_done(self) -> int:
        return int(self.lr_scale.shape[0])


def run_epochs(model: Any, opt: GradientTransformation, data: tuple[Any, Any], epochs: int,
               seed: int = 0, *, rule: EpochRule | None = None, batch_size: int | None = None,
               params: Tree | None = None, keep_path: bool = False,
               max_steps: int = MAX_STEPS) -> EpochHistory:
    """Train ``model`` for ``epochs`` epochs of ``opt`` steps, applying ``rule`` after each.

    model: ``init(seed)`` and ``loss_and_grad(params, X, y)`` as for ``train.run``.
    data: (X (n, ...), y (n, ...)). batch_size: None for one full-batch step
        per epoch, else 1..n; rows are shuffled each epoch by
        ``np.random.default_rng(seed)`` exactly as ``train.run`` does, so
        without a rule the epoch ends are ``train.run``'s parameters at
        multiples of the steps per epoch.
    params: starting parameters (not modified); default ``model.init(seed)``.

    Raises ValueError for epochs outside 1..MAX_EPOCHS, more than
    ``max_steps`` (<= MAX_STEPS) optimizer steps, a bad batch size or seed,
    or empty or non-finite data. Divergence (checked after every epoch, see
    ``app.ml.divergence``) stops the run with a message, keeping the last
    finite parameters.
    """
    X, y, n = _check_data(data)
    epochs = _count("epochs", epochs, 1, MAX_EPOCHS, "MAX_EPOCHS")
    seed = _count("seed", seed, 0, 2**63 - 1)
    max_steps = _count("max_steps", max_steps, 1, MAX_STEPS, "MAX_STEPS")
    batches = steps_per_epoch(n, batch_size)
    if epochs * batches > max_steps:
        raise ValueError(f"epochs x batches per epoch = {epochs} x {batches} = {epochs * batches} "
                         f"optimizer steps; the limit is {max_steps}")
    if rule is not None and not isinstance(rule, EpochRule):
        raise ValueError(f"rule must be an EpochRule or None, got {type(rule).__name__}")

    rng = np.random.default_rng(seed)
    params = tree_map(lambda p: p, model.init(seed) if params is None else params)
    scaled = scale_updates(opt)
    opt_state = scaled.init(params)
    rule_state = rule.init() if rule is not None else None

    evaluations = [0]

    def full_loss(p) -> float:
        evaluations[0] += 1
        return float(model.loss_and_grad(p, X, y)[0])

    history_params, losses, scales, extras = [params], [], [], []
    rule_states = [rule_state]
    path = [params] if keep_path else None
    diverged_at, message = None, ""
    with divergence.quiet():
        loss, full_grads = model.loss_and_grad(params, X, y)
        loss = float(loss)
        # The full-data gradient at the epoch's end is the next full-batch step's gradient.
        reusable = (params, full_grads)
        losses.append(loss)
        if (why := divergence.reason(loss, params)) is not None:   # the first epoch cannot start
            diverged_at, message = 1, divergence.message("epoch", 1, why)
        for epoch in range(epochs if diverged_at is None else 0):
            before, loss_before = params, loss
            path_length = len(path) if keep_path else 0
            scales.append(opt_state.scale)
            for rows in _epoch_batches(n, batch_size, rng):
                if rows is None and reusable[0] is params:
                    grads = reusable[1]
                else:
                    Xb, yb = (X, y) if rows is None else (X[rows], None if y is None else y[rows])
                    _, grads = model.loss_and_grad(params, Xb, yb)
                updates, opt_state = scaled.update(grads, opt_state, params)
                params = apply_updates(params, updates)
                if keep_path:
                    path.append(params)
            loss, full_grads = model.loss_and_grad(params, X, y)
            loss, reusable = float(loss), (params, full_grads)
            if (why := divergence.reason(loss, params)) is not None:
                diverged_at, message = epoch + 1, divergence.message("epoch", epoch + 1, why)
                if keep_path:
                    del path[path_length:]  # keep the drawable, finite part
                break
            if rule is not None:
                evaluations[0] = 0
                scale, moved, loss, rule_state = rule.after_epoch(
                    rule_state, before, params, loss_before, loss, full_loss)
                extras.append(evaluations[0])
                if moved is not params:
                    params = tree_map(lambda p: p, moved)
                    if keep_path:
                        path.append(params)
                opt_state = set_scale(opt_state, min(max(scale, SCALE_MIN), SCALE_MAX))
            else:
                extras.append(0)
            history_params.append(params)
            losses.append(float(loss))
            rule_states.append(rule_state)

    done = len(history_params) - 1
    return EpochHistory(
        params=_stack(history_params),
        loss=np.array(losses, dtype=float),
        lr_scale=np.array(scales[:done], dtype=float),
        extra_evals=np.array(extras[:done], dtype=int),
        steps_per_epoch=batches,
        path=_stack(path) if keep_path else None,
        rule_states=rule_states,
        diverged_at=diverged_at,
        message=message,
    )


def steps_per_epoch(n: int, batch_size: int | None) -> int:
    """Optimizer steps in one epoch over n rows: 1 for full batch, else ceil(n / batch_size)."""
    if batch_size is None:
        return 1
    batch_size = _count("batch_size", batch_size, 1, n, f"n={n}, the number of rows")
    return -(-n // batch_size)


def _epoch_batches(n: int, batch_size: int | None, rng: np.random.Generator):
    if batch_size is None:
        yield None
        return
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


# --------------------------------------------------------------------------
# With and without: many seeds


def compare_rules(model: Any, opt: GradientTransformation, problem: Callable[[int], tuple],
                  rules: Mapping[str, EpochRule | None], epochs: int, seeds: Sequence[int], *,
                  batch_size: int | None = None) -> dict:
    """Train with every rule (None = without) on every seed's problem.

    problem(seed) -> (data, params0): that seed's data (X, y) and start.
    Each run is ``run_epochs(model, opt, data, epochs, seed, rule=...,
    params=params0, batch_size=...)``, so the same seed gives every rule the
    same data, start and batch order.

    Returns {"names": [V], "seeds": (S,), "loss": (V, S, E+1) full-data loss
    per epoch (nan after a divergence), "diverged": (V, S) bool,
    "extra_evals": (V, S, E) loss evaluations the rule made after each epoch, "lr_scale":
    (V, S, E) (nan after a divergence), "steps_per_epoch": int}.

    Raises ValueError for no rules, 1..MAX_SEEDS seeds not met, or more than
    COMPARE_STEPS_MAX optimizer steps over all runs.
    """
    names = list(rules)
    if not names:
        raise ValueError("rules must name at least one variant (None = without a rule)")
    seeds = [_count("seed", s, 0, 2**63 - 1) for s in seeds]
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise ValueError(f"seeds: 1..{MAX_SEEDS} (MAX_SEEDS) needed, got {len(seeds)}")
    epochs = _count("epochs", epochs, 1, MAX_EPOCHS, "MAX_EPOCHS")
    problems = [problem(s) for s in seeds]
    n = _check_data(problems[0][0])[2]
    total = len(names) * len(seeds) * epochs * steps_per_epoch(n, batch_size)
    if total > COMPARE_STEPS_MAX:
        raise ValueError(f"{len(names)} variants x {len(seeds)} seeds x {epochs} epochs x "
                         f"{steps_per_epoch(n, batch_size)} steps = {total} optimizer steps; "
                         f"the limit is {COMPARE_STEPS_MAX} (COMPARE_STEPS_MAX)")
    loss = np.full((len(names), len(seeds), epochs + 1), np.nan)
    scales = np.full((len(names), len(seeds), epochs), np.nan)
    diverged = np.zeros((len(names), len(seeds)), dtype=bool)
    extra = np.zeros((len(names), len(seeds), epochs), dtype=int)
    for v, name in enumerate(names):
        for s, (seed, (data, start)) in enumerate(zip(seeds, problems)):
            hist = run_epochs(model, opt, data, epochs, seed, rule=rules[name], params=start,
                              batch_size=batch_size, max_steps=MAX_STEPS)
            loss[v, s, :len(hist.loss)] = hist.loss
            scales[v, s, :hist.epochs_done] = hist.lr_scale
            diverged[v, s] = hist.diverged_at is not None
            extra[v, s, :hist.epochs_done] = hist.extra_evals
    return {"names": names, "seeds": np.array(seeds), "loss": loss, "diverged": diverged,
            "extra_evals": extra, "lr_scale": scales, "steps_per_epoch": steps_per_epoch(n, batch_size)}


def epochs_to_target(loss: np.ndarray, target) -> np.ndarray:
    """First epoch at which ``loss <= target``, as float, nan where never reached.

    loss: (..., E+1) (nan entries never count); target: a number or an array
    broadcasting against loss[..., 0]. Returns an array shaped like loss[..., 0].
    """
    loss = np.asarray(loss, dtype=float)
    if loss.ndim == 0 or loss.shape[-1] == 0:
        raise ValueError(f"loss must have a last axis of epochs, got shape {loss.shape}")
    target = np.asarray(target, dtype=float)
    if not np.all(np.isfinite(target)):
        raise ValueError("target must be finite")
    with np.errstate(invalid="ignore"):
        reached = loss <= target[..., None]
    return np.where(reached.any(axis=-1), np.argmax(reached, axis=-1), np.nan)


# --------------------------------------------------------------------------
# The lab's two-parameter problem


def noisy_line(n: int = 50, noise: float = 0.5, seed: int = 0, *, slope: float = 0.5,
               intercept: float = 1.0, x_low: float = 0.0, x_high: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Points around the line y = slope x + intercept.

    x: (n,) uniform in [x_low, x_high]; y: (n,) = slope x + intercept + noise * N(0, 1).
    n: 2..LINE_N_MAX; noise: standard deviation in 0..LINE_NOISE_MAX; seed >= 0.
    """
    n = _count("n", n, 2, LINE_N_MAX, "LINE_N_MAX")
    noise = _in("noise", noise, 0.0, LINE_NOISE_MAX, "LINE_NOISE_MAX")
    seed = _count("seed", seed, 0, 2**63 - 1)
    slope, intercept = _real("slope", slope), _real("intercept", intercept)
    x_low, x_high = _real("x_low", x_low), _real("x_high", x_high)
    if not x_low < x_high:
        raise ValueError(f"x_low must be below x_high, got {x_low} and {x_high}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(x_low, x_high, n)
    return x, slope * x + intercept + noise * rng.standard_normal(n)


# --------------------------------------------------------------------------
# Checks and helpers


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _in(name: str, value: Any, low: float, high: float, limit: str = "") -> float:
    value = _real(name, value)
    if not low <= value <= high:
        named = f" ({limit})" if limit else ""
        raise ValueError(f"{name} must be in [{low:g}, {high:g}]{named}, got {value!r}")
    return value


def _count(name: str, value: Any, low: int, high: int, limit: str = "") -> int:
    named = f" ({limit})" if limit else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer in {low}..{high}{named}, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}{named}, got {value}")
    return int(value)


def _check_data(data: Any) -> tuple[np.ndarray, np.ndarray | None, int]:
    try:
        X, y = data
    except (TypeError, ValueError):
        raise ValueError("data must be a pair (X, y)") from None
    X = np.asarray(X)
    if X.ndim == 0 or X.shape[0] == 0:
        raise ValueError(f"X must have at least one row, got shape {X.shape}")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise ValueError(f"X and y must have the same number of rows, got {X.shape} and {y.shape}")
    for name, a in (("X", X), ("y", y)):
        if a is not None and np.issubdtype(a.dtype, np.inexact) and not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or inf")
    return X, y, int(X.shape[0])


def _angle(a: Tree, b: Tree) -> float:
    """Degrees between two trees seen as flat vectors; nan if either is zero."""
    norm = math.sqrt(tree_vdot(a, a) * tree_vdot(b, b))
    if norm == 0.0 or not math.isfinite(norm):
        return math.nan
    return math.degrees(math.acos(min(1.0, max(-1.0, tree_vdot(a, b) / norm))))


def _stack(trees: list[Tree]) -> Tree:
    if isinstance(trees[0], dict):
        return {k: np.stack([t[k] for t in trees]) for k in trees[0]}
    return np.stack(trees)
