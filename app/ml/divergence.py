"""When a training run diverges, and how it says so: one rule and one wording for every loop.

The rule: a step (or an epoch) diverges when its loss or the parameters it
leaves are not finite. The loop stops there, keeps the last finite
parameters, and records ``diverged_at``, the number of that step or epoch
counted from 1, as a student counts and as the message says (each loop's
history documents how that relates to the steps it kept)::

    with divergence.quiet():
        for t in range(steps):
            ...
            why = divergence.reason(loss, new_params)    # None, or "the loss became inf"
            if why is not None:
                diverged_at, message = t + 1, divergence.message("step", t + 1, why)
                break

    message  ->  "diverged at step 37: the loss became inf"
                 "diverged in epoch 4: the parameters became non-finite"

A caller may append a hint ("; try a smaller learning rate") and may have
reasons of its own (graph layout: circles gone too far, or piled up), passed
to ``reason`` after the loss and the parameters.
"""

from __future__ import annotations

import math

import numpy as np

from app.ml.optim import Tree

__all__ = ["reason", "message", "finite", "quiet"]

_PREPOSITION = {"step": "at", "epoch": "in"}


def finite(params: Tree) -> bool:
    """Whether every number of an array, or of every array of a dict of arrays, is finite."""
    arrays = params.values() if isinstance(params, dict) else (params,)
    return all(bool(np.isfinite(a).all()) for a in arrays)


def reason(loss: float | None, params: Tree, *extra: str | None) -> str | None:
    """Why a step diverged, in words, or None if it did not.

    loss: the step's loss, a float (None: not computed yet, not checked);
    params: the parameters the step made, an array or a dict of arrays;
    extra: the caller's own reasons, each None where its check passed.
    Returns the first that applies: "the loss became inf" (or -inf, nan),
    "the parameters became non-finite", the first extra reason; else None.
    """
    if loss is not None and not math.isfinite(loss):
        return f"the loss became {float(loss)}"
    if not finite(params):
        return "the parameters became non-finite"
    return next((why for why in extra if why is not None), None)


def message(unit: str, number: int, why: str) -> str:
    """The run's message: "diverged at step 37: <why>" or "diverged in epoch 4: <why>".

    unit: "step" or "epoch"; number: the step or epoch that diverged,
    counted from 1; why: a ``reason``.
    """
    if unit not in _PREPOSITION:
        raise ValueError(f"unit must be 'step' or 'epoch', got {unit!r}")
    if number < 1:
        raise ValueError(f"steps and epochs are counted from 1, got {number}")
    return f"diverged {_PREPOSITION[unit]} {unit} {number}: {why}"


def quiet() -> np.errstate:
    """numpy's floating-point warnings switched off for a training loop.

    Divergence is expected in lessons (a learning rate too large); ``reason``
    detects it, so overflow and invalid-value warnings would only be noise.
    """
    return np.errstate(all="ignore")
