"""Run an optimizer on a model and keep the whole history as stacked arrays.

::

    hist = run(model, adam(lr=0.05), (X, y), steps=200, seed=0, batch_size=None)
    hist.params        # (T+1, ...) array, or {name: (T+1, ...)} for dict params
    hist.grads         # (T, ...) gradient used by each step, likewise
    hist.loss          # (T,) loss at each step, before its update
    hist.states        # T+1 optimizer states; stack_states(hist.states) stacks them
    hist.diverged_at   # None, or the step (from 1) whose loss or new params were not finite

``model`` is any object with ``init(seed) -> params`` and
``loss_and_grad(params, X, y) -> (float loss, grads like params)``.

Limits (ValueError naming them): ``0 < steps <= max_steps`` (default
``MAX_STEPS``), and the stored history, ``(steps + 1) * number of parameters``
values, at most ``MAX_HISTORY_VALUES``. Divergence follows ``app.ml.divergence``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple

import numpy as np

from app.ml import divergence
from app.ml.optim import GradientTransformation, Tree, apply_updates, tree_map

__all__ = ["History", "run", "stack_states", "stack_trees", "MAX_STEPS", "MAX_HISTORY_VALUES"]

MAX_STEPS = 100_000
"""Default upper limit on ``steps`` in ``run``."""

MAX_HISTORY_VALUES = 20_000_000
"""Upper limit on (steps + 1) * number of parameters: 160 MB per stacked float64 array."""


@dataclass(frozen=True)
class History:
    """What a run did, one entry per optimizer step (T = steps_done).

    params: (T+1, ...) array or {name: (T+1, ...)}; params[0] are the initial ones.
    grads: (T, ...) array or dict; grads[t] was computed at params[t] on step t's batch.
    loss: (T,) float; loss[t] at params[t] on step t's batch, before its update.
    states: list of T+1 optimizer states; states[t] goes with params[t].
    diverged_at: None, or the step whose loss or new params were not finite,
        counted from 1 (1-based): the run stopped there, so diverged_at == steps_done + 1.
    message: "" or why the run stopped early, e.g. "diverged at step 37: the loss became inf".
    """

    params: Tree
    grads: Tree
    loss: np.ndarray
    states: list
    diverged_at: int | None = None
    message: str = ""

    @property
    def steps_done(self) -> int:
        """T, the number of completed optimizer steps."""
        return int(self.loss.shape[0])


def run(model: Any, optimizer: GradientTransformation, data: tuple[Any, Any], steps: int,
        seed: int = 0, *, batch_size: int | None = None, params: Tree | None = None,
        max_steps: int = MAX_STEPS) -> History:
    """Train ``model`` with ``optimizer`` for ``steps`` optimizer steps.

    data: ``(X, y)``; X: (n, ...) and y: (n, ...) or None. Full batch when
        ``batch_size`` is None; otherwise each epoch visits the n rows in an order
        shuffled by ``np.random.default_rng(seed)``, in batches of ``batch_size``
        (the last batch of an epoch may be smaller).
    seed: int >= 0; also passed to ``model.init`` unless ``params`` are given.
    params: starting parameters (array or dict of arrays), not modified.

    Stops early without raising when a loss or the new parameters are not
    finite (``diverged_at``, ``message``; see ``app.ml.divergence``), keeping
    the last finite parameters. Raises ValueError for steps outside
    (0, max_steps], a batch_size outside [1, n], a bad seed, data with no rows,
    rows that differ between X and y, non-finite data, or a history larger than
    MAX_HISTORY_VALUES.
    """
    max_steps = _positive_int("max_steps", max_steps)
    steps = _positive_int("steps", steps)
    if steps > max_steps:
        raise ValueError(f"steps must be in [1, max_steps={max_steps}], got {steps}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    X, y = _check_data(data)
    n = X.shape[0]
    if batch_size is not None:
        batch_size = _positive_int("batch_size", batch_size)
        if batch_size > n:
            raise ValueError(f"batch_size must be in [1, n={n}] (the number of rows), got {batch_size}")

    if params is None:
        params = model.init(seed)
    params = _float_copy(params)  # so the caller's arrays stay theirs
    size = _tree_size(params)
    if (steps + 1) * size > MAX_HISTORY_VALUES:
        raise ValueError(
            f"history too large: (steps + 1) * {size} parameters = {(steps + 1) * size} values, "
            f"limit MAX_HISTORY_VALUES={MAX_HISTORY_VALUES}; use fewer steps"
        )

    batches = _batches(n, batch_size, np.random.default_rng(seed))
    state = optimizer.init(params)
    params_seq, grads_seq, losses, states = [params], [], [], [state]
    diverged_at, message = None, ""
    with divergence.quiet():
        for t in range(steps):
            rows = next(batches)
            Xb, yb = (X, y) if rows is None else (X[rows], None if y is None else y[rows])
            loss, grads = model.loss_and_grad(params, Xb, yb)
            updates, new_state = optimizer.update(grads, state, params)
            new_params = apply_updates(params, updates)
            why = divergence.reason(loss, new_params)
            if why is not None:
                diverged_at, message = t + 1, divergence.message("step", t + 1, why)
                break
            grads_seq.append(_float_copy(grads))
            losses.append(float(loss))
            params, state = new_params, new_state
            params_seq.append(params)
            states.append(state)

    return History(
        params=stack_trees(params_seq),
        grads=stack_trees(grads_seq) if grads_seq else _empty_like(params),
        loss=np.array(losses, dtype=float),
        states=states,
        diverged_at=diverged_at,
        message=message,
    )


def stack_trees(trees: list[Tree]) -> Tree:
    """Stack a non-empty list of arrays (or of dicts with the same keys) along a new axis 0."""
    if not trees:
        raise ValueError("stack_trees needs at least one tree")
    first = trees[0]
    if isinstance(first, dict):
        return {k: np.stack([np.asarray(t[k]) for t in trees]) for k in first}
    return np.stack([np.asarray(t) for t in trees])


def stack_states(states: list[NamedTuple]) -> NamedTuple:
    """Turn a list of T+1 optimizer states into one state of stacked fields.

    Each field becomes (T+1, ...): ints and floats a (T+1,) array, arrays
    (T+1, ...), dicts of arrays dicts of stacked arrays; a field that is None
    in every state stays None. E.g. ``stack_states(hist.states).m`` is Adam's
    first moment over time.
    """
    if not states:
        raise ValueError("stack_states needs at least one state")
    first = states[0]
    kind = type(first)
    if not (isinstance(first, tuple) and hasattr(first, "_fields")):
        raise ValueError(f"states must be NamedTuples, got {kind.__name__}")
    fields = {}
    for name in first._fields:
        values = [getattr(s, name) for s in states]
        if all(v is None for v in values):
            fields[name] = None
        elif any(v is None for v in values):
            raise ValueError(f"field {name!r} is None in some states only")
        elif isinstance(values[0], tuple) and hasattr(values[0], "_fields"):
            fields[name] = stack_states(values)
        else:
            fields[name] = stack_trees(values)
    return kind(**fields)


# --------------------------------------------------------------------------


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value}")
    return int(value)


def _check_data(data: Any) -> tuple[np.ndarray, np.ndarray | None]:
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
    return X, y


def _batches(n: int, batch_size: int | None, rng: np.random.Generator) -> Iterator[np.ndarray | None]:
    """Row indices of each step's batch: None (all rows), or shuffled batches epoch after epoch."""
    while True:
        if batch_size is None:
            yield None
            continue
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            yield order[start:start + batch_size]


def _float_copy(tree: Tree) -> Tree:
    """Float copies of an array or of a dict's arrays: tree_map(lambda a: a, tree), at a step's
    cost of a copy per array (tree_map's structure and shape checks have nothing to compare here)."""
    if isinstance(tree, dict):
        return {k: np.array(a, dtype=float) for k, a in tree.items()}
    return np.array(tree, dtype=float)


def _tree_size(tree: Tree) -> int:
    sizes = tree_map(lambda p: p.size, tree)
    return int(sum(sizes.values())) if isinstance(sizes, dict) else int(sizes)


def _empty_like(params: Tree) -> Tree:
    """(0, ...) arrays shaped like params, for a history with no completed step."""
    return tree_map(lambda p: np.zeros((0,) + p.shape), params)
