"""Instruments for a training run: how far and which way the parameters move,
and the numbers an optimizer computes inside each step.

Too many parameters to plot, too many steps to look at: the seed's answer is
to summarize each epoch's change of *all* parameters, d_e = theta_e - theta_{e-1},
by two numbers::

    size   |d_e|_2 = sqrt(sum_i d_{e,i}^2)
    angle  between d_e and d_{e-1} = arccos(d_e . d_{e-1} / (|d_e| |d_{e-1}|))   (degrees)

An angle near 0 means consecutive epochs go the same way; near 180, they
undo each other (oscillation); near 90, they are unrelated (noise).

The ``*_internals`` functions read a ``train.run`` history of Adam, SGD with
momentum or RMSprop and return, step by step, the quantities of the
algorithm's lines (gradient, moments, bias corrections, the update), each
as a (T, p) array over the flattened parameters, next to the change the run
actually made, so a lesson can print the numbers of the current step.

Limits (ValueError naming them): histories of at most ``MAX_VALUES`` numbers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from app.ml import train
from app.ml.optim import AdamState, RMSpropState, SGDState, adam_bias_corrected

__all__ = ["flat_history", "change_norms", "change_angles", "epoch_changes",
           "adam_internals", "momentum_internals", "rmsprop_internals", "MAX_VALUES"]

MAX_VALUES = 20_000_000
"""Largest (T+1) * p a history may hold (as train.MAX_HISTORY_VALUES)."""


def flat_history(params: Any) -> np.ndarray:
    """Stacked parameters (T+1, ...) or {name: (T+1, ...)} as one (T+1, p) float array.

    Dict entries are laid side by side in the dict's order. Raises ValueError
    for an empty dict, entries with different numbers of rows, more than
    MAX_VALUES numbers, or non-numeric values.
    """
    if isinstance(params, dict):
        if not params:
            raise ValueError("params must hold at least one array")
        parts = [_as_rows(v, f"params[{k!r}]") for k, v in params.items()]
        rows = {p.shape[0] for p in parts}
        if len(rows) != 1:
            raise ValueError(f"every entry of params must have the same number of rows, got {sorted(rows)}")
        flat = np.concatenate(parts, axis=1)
    else:
        flat = _as_rows(params, "params")
    if flat.size > MAX_VALUES:
        raise ValueError(f"history of {flat.size} numbers exceeds MAX_VALUES={MAX_VALUES}")
    return flat


def change_norms(P: Any) -> np.ndarray:
    """|P[t+1] - P[t]|_2 for a (T+1, p) history (or anything flat_history takes): (T,)."""
    P = flat_history(P)
    return np.linalg.norm(np.diff(P, axis=0), axis=1)


def change_angles(P: Any) -> np.ndarray:
    """Degrees between consecutive changes d_t = P[t] - P[t-1] and d_{t+1}: (T-1,).

    0 = same direction, 180 = opposite; nan where a change has length 0.
    """
    D = np.diff(flat_history(P), axis=0)
    if len(D) < 2:
        return np.zeros(0)
    a, b = D[1:], D[:-1]
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.einsum("ij,ij->i", a, b) / norms
    cos = np.where(norms > 0, np.clip(cos, -1.0, 1.0), np.nan)
    return np.degrees(np.arccos(cos))


def epoch_changes(params: Any) -> dict:
    """Size and direction of every epoch's change, from epoch-end parameters (E+1, ...).

    Returns {"norm": (E,), "angle": (E,) degrees with angle[0] = nan (no
    previous epoch) and angle[e] between the changes of epochs e and e+1
    (1-based e+1), "total": |theta_E - theta_0|, "path_length": sum of norms}.
    The ratio total / path_length is 1 for a straight path and near 0 when the
    epochs mostly undo each other.
    """
    P = flat_history(params)
    norms = change_norms(P)
    angles = np.concatenate([[math.nan], change_angles(P)]) if len(norms) else np.zeros(0)
    return {"norm": norms, "angle": angles, "total": float(np.linalg.norm(P[-1] - P[0])),
            "path_length": float(norms.sum())}


# --------------------------------------------------------------------------
# Inside one step


def adam_internals(history: Any, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                   eps: float = 1e-8) -> dict:
    r"""Adam's lines at every step t = 1..T of a ``train.run`` history of ``optim.adam``.

    lr, betas, eps: those the optimizer was built with (no weight decay).
    Returns (T, p) arrays (p parameters, flattened as ``flat_history``) and (T,) ones::

        t        (T,)  step number 1..T
        g        g_t, the gradient the step used
        m, v     m_t = b1 m_{t-1} + (1 - b1) g_t,  v_t = b2 v_{t-1} + (1 - b2) g_t^2
        bias1, bias2  (T,)  1 - b1^t and 1 - b2^t
        m_hat, v_hat  m_t / (1 - b1^t),  v_t / (1 - b2^t)
        step     -lr m_hat / (sqrt(v_hat) + eps), the update by the formula
        change   theta_t - theta_{t-1}, the update the run made
        theta    theta_t (after the step)

    m and v are read from the optimizer states the history recorded, so they
    are the optimizer's own numbers, not a recomputation.
    """
    P, G, states = _history(history, AdamState)
    stacked = train.stack_states(states)
    m_hat, v_hat = adam_bias_corrected(stacked, betas)
    beta1, beta2 = (float(b) for b in betas)
    t = np.arange(1, len(G) + 1, dtype=float)
    return {
        "t": t, "g": G,
        "m": flat_history(stacked.m)[1:], "v": flat_history(stacked.v)[1:],
        "bias1": 1 - beta1**t, "bias2": 1 - beta2**t,
        "m_hat": flat_history(m_hat)[1:], "v_hat": flat_history(v_hat)[1:],
        "step": -lr * flat_history(m_hat)[1:] / (np.sqrt(flat_history(v_hat)[1:]) + eps),
        "change": np.diff(P, axis=0), "theta": P[1:],
    }


def momentum_internals(history: Any, lr: float, momentum: float, dampening: float = 0.0) -> dict:
    r"""SGD with momentum (torch's form) at every step of a ``train.run`` history::

        g        g_t
        buffer   b_t = momentum b_{t-1} + (1 - dampening) g_t   (b_1 = g_1)
        step     -lr b_t
        change, theta, t   as in adam_internals

    buffer is read from the recorded states. Raises ValueError if the
    optimizer kept no momentum buffer.
    """
    P, G, states = _history(history, SGDState)
    if states[0].momentum_buffer is None:
        raise ValueError("this history's optimizer has no momentum buffer (momentum = 0)")
    buffer = flat_history(train.stack_states(states).momentum_buffer)[1:]
    return {"t": np.arange(1, len(G) + 1, dtype=float), "g": G, "buffer": buffer,
            "step": -lr * buffer, "change": np.diff(P, axis=0), "theta": P[1:],
            "momentum": float(momentum), "dampening": float(dampening)}


def rmsprop_internals(history: Any, lr: float, alpha: float = 0.99, eps: float = 1e-8) -> dict:
    r"""RMSprop (no momentum, not centered) at every step of a ``train.run`` history::

        g        g_t
        v        v_t = alpha v_{t-1} + (1 - alpha) g_t^2   (read from the states)
        rms      sqrt(v_t) + eps
        step     -lr g_t / (sqrt(v_t) + eps)
        change, theta, t   as in adam_internals
    """
    P, G, states = _history(history, RMSpropState)
    v = flat_history(train.stack_states(states).square_avg)[1:]
    rms = np.sqrt(v) + eps
    return {"t": np.arange(1, len(G) + 1, dtype=float), "g": G, "v": v, "rms": rms,
            "step": -lr * G / rms, "change": np.diff(P, axis=0), "theta": P[1:],
            "alpha": float(alpha)}


# --------------------------------------------------------------------------


def _as_rows(value: Any, name: str) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers") from None
    if a.ndim == 0:
        raise ValueError(f"{name} must have a leading axis of steps, got a scalar")
    if a.size > MAX_VALUES:
        raise ValueError(f"{name} holds {a.size} numbers, more than MAX_VALUES={MAX_VALUES}")
    return a.reshape(a.shape[0], int(np.prod(a.shape[1:])))


def _history(history: Any, state_type: type) -> tuple[np.ndarray, np.ndarray, list]:
    """(P (T+1, p), G (T, p), states) of a train.run History, checked."""
    try:
        params, grads, states = history.params, history.grads, list(history.states)
    except AttributeError:
        raise ValueError("history must have params, grads and states (a train.History)") from None
    P, G = flat_history(params), flat_history(grads)
    T = len(P) - 1
    if len(G) != T or len(states) != T + 1 or (T and G.shape[1] != P.shape[1]):
        raise ValueError(f"history does not fit together: params {P.shape}, grads {G.shape}, "
                         f"{len(states)} states (expected T+1, T and T+1 rows)")
    if not all(isinstance(s, state_type) for s in states):
        raise ValueError(f"history's states must be {state_type.__name__}, got {type(states[0]).__name__}")
    return P, G.reshape(T, P.shape[1]), states
