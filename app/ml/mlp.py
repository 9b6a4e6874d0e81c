"""A multilayer perceptron in numpy: forward pass, exact backprop, batched losses.

The network maps X: (n, d0) to outputs (n, m) through hidden layers

    z_l = a_l W_l + b_l,   a_{l+1} = f(z_l)      (a_0 = X)

and a linear output layer, so ``layer_sizes = (d0, h1, ..., m)``. A residual
network (``residual=True``) adds each hidden layer's input to its output
wherever the two have the same width (a skip connection, He et al. 2016):

    a_{l+1} = f(z_l) + a_l        (hidden layers 2..L of equal width)

The loss is

    L = mean_i loss(out_i, y_i) + l1 * sum |W| + (l2 / 2) * sum W**2

(regularization on the weights only, not the biases). Backprop runs the
chain rule backwards through the same equations:

    delta_L = dL/d out,   dL/dW_l = a_l^T delta_l,   dL/db_l = sum_i delta_l,
    g_l = dL/da_l = delta_l W_l^T (+ g_{l+1} through a skip),   delta_{l-1} = g_l * f'(z_{l-1}).

Parameters are a flat dict {"W0": (d0, d1), "b0": (d1,), "W1": ..., ...};
``flatten`` lays them out in that order (W0, b0, W1, b1, ...) as one vector.

Targets ``y``:
- loss "softmax_ce": int class labels (n,) in 0..m-1 (m >= 2 outputs).
- loss "squared_error": either targets (n, m) float (e.g. one-hot), or class
  labels (n,) int that are one-hot encoded, or, for a single output (m = 1),
  real-valued targets (n,).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

# Size limits, enforced here so the server can rely on them.
HIDDEN_LAYERS_MAX = 20      # hidden layers per network (0 = logistic/linear regression)
WIDTH_MAX = 512             # units per layer, inputs and outputs included
N_MAX = 20_000              # data points per call of loss_and_grad / forward / loss_many
X_ABS_MAX = 1e6             # largest |value| in X (standardize wilder data first)
PARAMS_MAX = 1_000_000      # weights and biases per network (8 MB per parameter vector)
REG_MAX = 10.0              # largest l1 or l2 coefficient
LOSS_MANY_K_MAX = 90_000    # parameter vectors per loss_many call (a 300 x 300 grid)
RESOLUTION_MAX = 300        # decision_grid points per axis
COORD_MAX = 1e6             # largest |coordinate| of a decision_grid window

# loss_many chunk rule: a chunk of c parameter vectors is evaluated together
# so that its largest intermediate array, c * n * (widest layer + 1) floats,
# plus the c * n_params floats of its parameters, stays within CHUNK_FLOATS
# (2**17 floats = 512 KB in single precision), i.e.
# c = max(1, CHUNK_FLOATS // (n * (widest + 1) + n_params)). Memory is then
# bounded by a few such arrays whatever k is; the size is small on purpose, as
# chunks that fit in the processor's cache run fastest.
CHUNK_FLOATS = 2**17


# --------------------------------------------------------------------------
# Activations and losses, each beside its derivative
# --------------------------------------------------------------------------


class Activation(NamedTuple):
    """output(z) -> a; der(z, a) -> f'(z), given z and a = output(z) (same shape);
    apply(z): overwrite z with output(z), the same values without a new array."""

    output: Callable[[np.ndarray], np.ndarray]
    der: Callable[[np.ndarray, np.ndarray], np.ndarray]
    apply: Callable[[np.ndarray], None]


def _sigmoid(z):
    # 1 / (1 + e^-z) written with tanh, which never overflows
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _sigmoid_apply(z):
    z *= 0.5
    np.tanh(z, out=z)
    z += 1.0
    z *= 0.5


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation(lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype),
                       lambda z: np.maximum(z, 0.0, out=z)),
    "tanh": Activation(np.tanh, lambda z, a: 1.0 - a * a, lambda z: np.tanh(z, out=z)),
    "sigmoid": Activation(_sigmoid, lambda z, a: a * (1.0 - a), _sigmoid_apply),
    "linear": Activation(lambda z: z, lambda z, a: np.ones_like(z), lambda z: None),
}


class Loss(NamedTuple):
    """value(out, t) -> per-point loss (..., n); der(out, t) -> d value / d out (n, m);
    value_class_first(out_t, t): the same per-point loss of out_t (..., m, n),
    outputs with their last two axes swapped.

    out: (..., n, m) network outputs; t: targets in the loss's own form
    (labels (n,) int for softmax_ce, (n, m) float for squared_error).
    """

    value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    der: Callable[[np.ndarray, np.ndarray], np.ndarray]
    value_class_first: Callable[[np.ndarray, np.ndarray], np.ndarray]


# Reductions over a short last axis (a few classes) are slow in numpy, so the
# loss helpers reduce over a class-first copy, (..., m, n), whose rows are long.


def _class_first(z):
    """(..., n, m) -> contiguous (..., m, n)."""
    return np.ascontiguousarray(np.swapaxes(z, -1, -2))


def softmax(z):
    """Row-wise softmax of z: (..., n, m) -> (..., n, m), computed stably."""
    zt = _class_first(z)
    e = np.exp(zt - zt.max(axis=-2, keepdims=True))
    e /= e.sum(axis=-2, keepdims=True)
    return np.swapaxes(e, -1, -2)


def _ce_value_class_first(out_t, labels):
    # -log softmax(out)[label] = logsumexp(out) - out[label]
    picked = out_t[..., labels, np.arange(labels.shape[0])]
    top = out_t.max(axis=-2)
    e = out_t - top[..., None, :]
    np.exp(e, out=e)
    value = e.sum(axis=-2)
    np.log(value, out=value)
    value += top
    value -= picked
    return value


def _ce_der(out, labels):
    grad = softmax(out)
    grad[np.arange(labels.shape[0]), labels] -= 1.0
    return grad


def _se_value_class_first(out_t, t):
    diff = out_t - t.T
    return 0.5 * (diff * diff).sum(axis=-2)


def _loss(value_class_first, der) -> Loss:
    return Loss(lambda out, t: value_class_first(_class_first(out), t), der, value_class_first)


LOSSES: dict[str, Loss] = {
    "softmax_ce": _loss(_ce_value_class_first, _ce_der),
    "squared_error": _loss(_se_value_class_first, lambda out, t: out - t),
}


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------


def _as_count(value, name: str, low: int, high: int, limit_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in {low}..{high} ({limit_name}), got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high} ({limit_name}), got {value}")
    return int(value)


def _as_reg(value, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in 0..{REG_MAX} (REG_MAX), got {value!r}") from None
    if not np.isfinite(v) or not 0.0 <= v <= REG_MAX:
        raise ValueError(f"{name} must be finite and in 0..{REG_MAX} (REG_MAX), got {value!r}")
    return v


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MLP:
    """A fully connected network.

    layer_sizes: (d0, h1, ..., hL, m): inputs, 0..HIDDEN_LAYERS_MAX hidden
    layers, outputs; every size in 1..WIDTH_MAX; at most PARAMS_MAX parameters.
    activation: a key of ACTIVATIONS (hidden layers; the output layer is linear).
    loss: a key of LOSSES. l1, l2: weight penalties in 0..REG_MAX.
    residual: skip connections around every hidden layer after the first whose
    input and output widths are equal (see the module docstring).
    """

    layer_sizes: tuple[int, ...] = (2, 20, 3)
    activation: str = "relu"
    loss: str = "softmax_ce"
    l1: float = 0.0
    l2: float = 0.0
    residual: bool = False

    def __post_init__(self):
        try:
            sizes = tuple(self.layer_sizes)
        except TypeError:
            raise ValueError(f"layer_sizes must be a sequence of integers, got {self.layer_sizes!r}") from None
        if len(sizes) < 2:
            raise ValueError("layer_sizes needs at least an input and an output size")
        hidden = len(sizes) - 2
        if hidden > HIDDEN_LAYERS_MAX:
            raise ValueError(f"at most {HIDDEN_LAYERS_MAX} hidden layers (HIDDEN_LAYERS_MAX), got {hidden}")
        sizes = tuple(_as_count(s, "every layer size", 1, WIDTH_MAX, "WIDTH_MAX") for s in sizes)
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; choose one of {sorted(ACTIVATIONS)}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {sorted(LOSSES)}")
        if self.loss == "softmax_ce" and sizes[-1] < 2:
            raise ValueError("softmax_ce needs at least 2 outputs (one per class)")
        count = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        if count > PARAMS_MAX:
            raise ValueError(f"{count} parameters exceed the limit of {PARAMS_MAX} (PARAMS_MAX)")
        object.__setattr__(self, "layer_sizes", sizes)
        object.__setattr__(self, "l1", _as_reg(self.l1, "l1"))
        object.__setattr__(self, "l2", _as_reg(self.l2, "l2"))
        if not isinstance(self.residual, (bool, np.bool_)):
            raise ValueError(f"residual must be True or False, got {self.residual!r}")
        object.__setattr__(self, "residual", bool(self.residual))

    # ----- shapes ---------------------------------------------------------

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers + 1)."""
        return len(self.layer_sizes) - 1

    @property
    def n_params(self) -> int:
        """Total number of weights and biases."""
        return sum(a * b + b for a, b in zip(self.layer_sizes[:-1], self.layer_sizes[1:]))

    def skips(self) -> tuple[bool, ...]:
        """For each weight layer l: whether its input a_l is added to its output (residual hidden layers)."""
        return self._skips

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Parameter names and shapes, in flatten order."""
        return dict(self._shapes)

    # Computed once per network: every training step asks for them several times.

    @functools.cached_property
    def _skips(self) -> tuple[bool, ...]:
        sizes = self.layer_sizes
        return tuple(self.residual and 0 < l < self.n_layers - 1 and sizes[l] == sizes[l + 1]
                     for l in range(self.n_layers))

    @functools.cached_property
    def _shapes(self) -> dict[str, tuple[int, ...]]:
        out = {}
        for l, (a, b) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:])):
            out[f"W{l}"] = (a, b)
            out[f"b{l}"] = (b,)
        return out

    # ----- parameters -----------------------------------------------------

    def init(self, seed: int = 0) -> dict[str, np.ndarray]:
        """Random weights, zero biases.

        He normal, W ~ N(0, 2 / fan_in), for relu networks; Glorot uniform,
        W ~ U(-r, r) with r = sqrt(6 / (fan_in + fan_out)), otherwise.
        In a residual network the K layers with a skip are scaled by 1/sqrt(K)
        (their variance by 1/K), so that each adds a little to the stream a_l:
        unscaled, every relu branch would add about as much as the stream
        already holds, and the stream would grow geometrically with depth.
        seed: non-negative int. Returns {"W0": (d0, d1), "b0": (d1,), ...}.
        """
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        rng = np.random.default_rng(int(seed))
        params = {}
        skips = self.skips()
        branch_scale = 1.0 / np.sqrt(max(1, sum(skips)))
        for l, (fan_in, fan_out) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:])):
            if self.activation == "relu":
                W = rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out))
            else:
                r = np.sqrt(6.0 / (fan_in + fan_out))
                W = rng.uniform(-r, r, (fan_in, fan_out))
            params[f"W{l}"] = W * branch_scale if skips[l] else W
            params[f"b{l}"] = np.zeros(fan_out)
        return params

    def flatten(self, params) -> np.ndarray:
        """Parameters as one vector: (n_params,) float, order W0, b0, W1, b1, ..."""
        self._check_params(params)
        return np.concatenate([np.asarray(params[k], dtype=float).ravel() for k in self._shapes])

    def unflatten(self, vec) -> dict[str, np.ndarray]:
        """Inverse of flatten: vec (n_params,) -> parameter dict (copies)."""
        vec = np.asarray(vec, dtype=float)
        if vec.shape != (self.n_params,):
            raise ValueError(f"expected a vector of shape ({self.n_params},), got {vec.shape}")
        params, at = {}, 0
        for name, shape in self.shapes().items():
            size = int(np.prod(shape))
            params[name] = vec[at:at + size].reshape(shape).copy()
            at += size
        return params

    # ----- forward --------------------------------------------------------

    def forward(self, params, X) -> np.ndarray:
        """Network outputs (logits for softmax_ce): X (n, d0) -> (n, m)."""
        self._check_params(params)
        return self._forward(params, self._check_X(X))[0][-1]

    def hidden_activations(self, params, X) -> list[np.ndarray]:
        """Outputs of every hidden layer: X (n, d0) -> [(n, h1), ..., (n, hL)]."""
        self._check_params(params)
        return self._forward(params, self._check_X(X))[1][1:]

    def predict_proba(self, params, X) -> np.ndarray:
        """Class scores (n, m): softmax probabilities for softmax_ce; for
        squared_error the raw outputs (estimates of one-hot targets, not normalized)."""
        self._check_params(params)
        return self._scores(params, self._check_X(X))

    def predict(self, params, X) -> np.ndarray:
        """Predicted class labels (n,) int: the highest score (for a single
        squared-error output: 1 where the output exceeds 0.5)."""
        scores = self.predict_proba(params, X)
        if scores.shape[1] == 1:
            return (scores[:, 0] > 0.5).astype(int)
        return scores.argmax(axis=1)

    # ----- loss and gradient ----------------------------------------------

    def loss_and_grad(self, params, X, y) -> tuple[float, dict[str, np.ndarray]]:
        """Loss (float) and its exact gradient (a dict shaped like params).

        X: (n, d0) finite floats, 1 <= n <= N_MAX; y: see the module docstring.
        Non-finite parameters give a non-finite loss rather than an error,
        so a training loop can report divergence.
        """
        return self.loss_grad_and_output(params, X, y)[:2]

    def loss_grad_and_output(self, params, X, y) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
        """loss_and_grad's loss and gradient, and the network's outputs (n, m) it
        computed on the way (forward's value: a loop that trains on every point
        reads the training loss and accuracy off them at no extra cost)."""
        self._check_params(params)
        X = self._check_X(X)
        t = self._targets(y, X.shape[0])
        n = X.shape[0]
        act, loss = ACTIVATIONS[self.activation], LOSSES[self.loss]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            zs, As = self._forward(params, X)
            value = float(loss.value(zs[-1], t).mean()) + self._penalty(params)
            delta = loss.der(zs[-1], t) / n
            grads, skips, g = {}, self.skips(), None
            for l in range(self.n_layers - 1, -1, -1):
                W = params[f"W{l}"]
                grads[f"W{l}"] = As[l].T @ delta + self.l1 * np.sign(W) + self.l2 * W
                grads[f"b{l}"] = delta.sum(axis=0)
                if l > 0:
                    g = delta @ W.T + g if skips[l] else delta @ W.T           # dL/da_l
                    f_z = act.output(zs[l - 1]) if skips[l - 1] else As[l]    # f(z_{l-1}) without the skip
                    delta = g * act.der(zs[l - 1], f_z)
        return value, {k: grads[k] for k in self._shapes}, zs[-1]

    def loss_value(self, params, X, y) -> float:
        """Loss alone (float), same value as loss_and_grad's, without the backward pass."""
        self._check_params(params)
        X = self._check_X(X)
        t = self._targets(y, X.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            out = self._forward(params, X)[0][-1]
            return float(LOSSES[self.loss].value(out, t).mean()) + self._penalty(params)

    def loss_many(self, P, X, y, dtype=np.float32) -> np.ndarray:
        """Losses of many flat parameter vectors in one vectorized pass.

        P: (k, n_params) rows from flatten, 1 <= k <= LOSS_MANY_K_MAX;
        X, y as for loss_and_grad. Returns (k,) float64.

        dtype: float32 or float64, the precision of the network's layers.
        The default float32 is about twice as fast. The loss itself is then
        reduced in float64 from the outputs, so it agrees with loss_value to
        about 1e-7 relative for a fresh net, and to a few 1e-5 where a
        trained net's large activations partly cancel (a drawn surface shows
        no difference); float64 agrees to rounding. Outputs beyond float32's
        range (about 3e38) are inf. Rows are evaluated in chunks (see
        CHUNK_FLOATS).
        """
        P = np.asarray(P, dtype=float)
        if P.ndim != 2 or P.shape[1] != self.n_params:
            raise ValueError(f"P must have shape (k, {self.n_params}), got {P.shape}")
        if not 1 <= P.shape[0] <= LOSS_MANY_K_MAX:
            raise ValueError(f"P must have 1..{LOSS_MANY_K_MAX} rows (LOSS_MANY_K_MAX), got {P.shape[0]}")
        dtype = working_dtype(dtype)
        X = self._check_X(X)
        t = self._targets(y, X.shape[0])
        n, k = X.shape[0], P.shape[0]
        chunk = self.chunk_size(n)
        inputs = np.vstack([X.T, np.ones((1, n))]).astype(dtype)         # (d0 + 1, n)
        # each hidden layer writes into one buffer, whose last row of ones
        # multiplies the next layer's biases
        buffers = [np.ones((min(chunk, k), h + 1, n), dtype) for h in self.layer_sizes[1:-1]]
        out = np.empty(k)
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, k, chunk):
                out[start:start + chunk] = self._loss_batch(P[start:start + chunk], inputs, t, buffers)
        return out

    def chunk_size(self, n: int) -> int:
        """Parameter vectors per loss_many chunk for n data points (the CHUNK_FLOATS rule)."""
        return max(1, CHUNK_FLOATS // (n * (max(self.layer_sizes) + 1) + self.n_params))

    # ----- internals ------------------------------------------------------

    def _forward(self, params, X):
        """Pre-activations zs[l] (n, size_{l+1}) and layer inputs As[l] (n, size_l);
        zs[-1] is the output, As[0] is X."""
        act = ACTIVATIONS[self.activation].output
        zs, As = [], [X]
        for l, skip in enumerate(self.skips()):
            z = As[-1] @ params[f"W{l}"] + params[f"b{l}"]
            zs.append(z)
            if l < self.n_layers - 1:
                As.append(act(z) + As[-1] if skip else act(z))
        return zs, As

    def _scores(self, params, X):
        out = self._forward(params, X)[0][-1]
        return softmax(out) if self.loss == "softmax_ce" else out

    def _penalty(self, params) -> float:
        if self.l1 == 0.0 and self.l2 == 0.0:
            return 0.0
        Ws = [params[f"W{l}"] for l in range(self.n_layers)]
        return float(self.l1 * sum(np.abs(W).sum() for W in Ws)
                     + 0.5 * self.l2 * sum((W * W).sum() for W in Ws))

    def _loss_batch(self, P, inputs, t, buffers):
        """Losses of the rows of P: (c, n_params) float64 -> (c,), in one batched pass.

        inputs: (d0 + 1, n), X transposed over a row of ones, in the working
        dtype; buffers: one (>= c, h + 1, n) array per hidden layer, last row ones.
        Runs the forward pass transposed, z_l^T = [W_l; b_l]^T [a_l^T; 1], so
        that the bias is part of the matrix product and activations are
        (c, width, n): elementwise work runs along contiguous rows of n points.
        flatten stores W_l (fan_in, fan_out) and then b_l (fan_out,), so
        [W_l; b_l] of every row is one reshaped slice of P, not a copy.
        """
        c = P.shape[0]
        act = ACTIVATIONS[self.activation].apply
        rows = P.astype(inputs.dtype)
        a, at = inputs, 0
        penalty = self._penalty_rows(P)
        skips = self.skips()
        for l, (fan_in, fan_out) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:])):
            Wb = rows[:, at:at + (fan_in + 1) * fan_out].reshape(c, fan_in + 1, fan_out)
            at += (fan_in + 1) * fan_out
            if l == self.n_layers - 1:
                z = np.matmul(Wb.transpose(0, 2, 1), a)                # (c, m, n)
            else:
                a_next = buffers[l][:c]
                z = a_next[:, :fan_out]                                 # (c, fan_out, n)
                np.matmul(Wb.transpose(0, 2, 1), a, out=z)
                act(z)
                if skips[l]:
                    z += a[:, :fan_in]                                  # the skip: f(z) + a
                a = a_next
        per_point = LOSSES[self.loss].value_class_first(z.astype(np.float64), t)
        return per_point.mean(axis=-1) + penalty

    def _penalty_rows(self, P) -> np.ndarray:
        """The weight penalty of every row of P (c, n_params): (c,)."""
        penalty = np.zeros(P.shape[0])
        if self.l1 == 0.0 and self.l2 == 0.0:
            return penalty
        at = 0
        for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            W = P[:, at:at + fan_in * fan_out]
            at += (fan_in + 1) * fan_out
            penalty += self.l1 * np.abs(W).sum(axis=1) + 0.5 * self.l2 * np.einsum("ci,ci->c", W, W)
        return penalty

    def _check_X(self, X) -> np.ndarray:
        try:
            X = np.asarray(X, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("X must be an array of numbers") from None
        d0 = self.layer_sizes[0]
        if X.ndim != 2 or X.shape[1] != d0:
            raise ValueError(f"X must have shape (n, {d0}), got {X.shape}")
        if not 1 <= X.shape[0] <= N_MAX:
            raise ValueError(f"X must have 1..{N_MAX} rows (N_MAX), got {X.shape[0]}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or inf")
        if np.abs(X).max() > X_ABS_MAX:
            raise ValueError(f"X values must be within ±{X_ABS_MAX:g} (X_ABS_MAX); standardize the data first")
        return X

    def _check_params(self, params):
        if not isinstance(params, dict):
            raise ValueError("params must be a dict {'W0': ..., 'b0': ..., ...} (see MLP.init)")
        for name, shape in self._shapes.items():
            if name not in params:
                raise ValueError(f"params is missing {name!r}")
            if np.shape(params[name]) != shape:
                raise ValueError(f"params[{name!r}] must have shape {shape}, got {np.shape(params[name])}")

    def _targets(self, y, n: int) -> np.ndarray:
        """Validate y and bring it to the loss's target form (labels or (n, m) floats)."""
        m = self.layer_sizes[-1]
        try:
            y = np.asarray(y, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("y must be an array of numbers") from None
        if y.shape[:1] != (n,):
            raise ValueError(f"y must have {n} rows (one per row of X), got shape {y.shape}")
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or inf")
        if self.loss == "squared_error":
            if y.shape == (n, m):
                return y
            if y.ndim == 1 and m == 1:
                return y[:, None]
        if y.ndim != 1:
            raise ValueError(f"y must be class labels (n,) or, for squared_error, targets (n, {m}); got {y.shape}")
        if np.any(y != np.round(y)) or np.any(y < 0) or np.any(y >= m):
            raise ValueError(f"class labels must be integers in 0..{m - 1} (one per output)")
        labels = y.astype(int)
        return labels if self.loss == "softmax_ce" else np.eye(m)[labels]


# --------------------------------------------------------------------------
# Heatmaps
# --------------------------------------------------------------------------


def working_dtype(dtype) -> np.dtype:
    """float32 or float64 as a numpy dtype; ValueError for anything else."""
    try:
        working = None if dtype is None else np.dtype(dtype)
    except TypeError:
        working = None
    if working not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype!r}")
    return working


def decision_grid(model: MLP, params, xlim=(-1.5, 1.5), ylim=(-1.5, 1.5), resolution: int = 100,
                  dtype=np.float64):
    """Class scores on a regular grid over the plane, for decision heatmaps.

    model: an MLP with 2 inputs; xlim, ylim: (low, high) finite with low < high
    and |value| <= COORD_MAX; resolution: points per axis, 2..RESOLUTION_MAX.
    dtype: float64, or float32 for the layers' arithmetic: about twice as fast
    for wide layers; a score then differs by about 1e-5 (on the decision
    lesson's runs at most 1.5e-5, and not one cell changed class).
    Returns xs (res,), ys (res,), proba (res, res, m) float64 where proba[i, j]
    holds the scores (see MLP.predict_proba) at the point (xs[j], ys[i]), rows
    along y as a heatmap expects. Evaluated in chunks of at most N_MAX points.
    """
    dtype = working_dtype(dtype)
    if model.layer_sizes[0] != 2:
        raise ValueError(f"decision_grid needs a model with 2 inputs, got {model.layer_sizes[0]}")
    resolution = _as_count(resolution, "resolution", 2, RESOLUTION_MAX, "RESOLUTION_MAX")
    axes = []
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        try:
            low, high = (float(v) for v in lim)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a pair of numbers (low, high), got {lim!r}") from None
        if not (np.isfinite(low) and np.isfinite(high)) or max(abs(low), abs(high)) > COORD_MAX:
            raise ValueError(f"{name} must be finite with |value| <= {COORD_MAX:g} (COORD_MAX), got {lim!r}")
        if not low < high:
            raise ValueError(f"{name} must have low < high, got {lim!r}")
        axes.append(np.linspace(low, high, resolution))
    xs, ys = axes
    model._check_params(params)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.c_[gx.ravel(), gy.ravel()].astype(dtype)
    working = {name: np.asarray(value, dtype=dtype) for name, value in params.items()}
    with np.errstate(over="ignore", invalid="ignore"):
        scores = np.concatenate([model._scores(working, grid[s:s + N_MAX]) for s in range(0, len(grid), N_MAX)])
    return xs, ys, scores.astype(np.float64).reshape(resolution, resolution, -1)
