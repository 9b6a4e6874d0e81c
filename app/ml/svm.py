"""A linear support vector machine trained on the hinge loss (primal form).

For labels t_i in {-1, +1} (0/1 labels are read as -1/+1)::

    f(x) = x W + b                    the signed score, W: (d, 1), b: (1,)
    L = (1/n) sum_i max(0, 1 - t_i f(x_i)) + (l2 / 2) ||W||²

    dL/dW = -(1/n) sum_{i active} t_i x_i + l2 W,   dL/db = -(1/n) sum_{i active} t_i

where a point is *active* when it violates the margin, 1 - t_i f(x_i) > 0.
The hinge has a kink at t_i f(x_i) = 1; there the gradient above takes the
subgradient 0 for that point (the point counts as not active).

W is stored as a (d, 1) matrix, a dense layer with one output unit, so that
its single column is one "filter" for landscape.py's filter-normalized
directions, as for the columns of an MLP's weights. The bias is not penalized.

The model fits ``train.run`` (``init``, ``loss_and_grad``) and the landscape
contract (``flatten``, ``unflatten``, ``loss_many``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Size limits, enforced here so the server can rely on them.
N_MAX = 100_000              # data points per call
FEATURES_MAX = 1_000         # input features
X_ABS_MAX = 1e6              # largest |feature value| (standardize larger data first)
REG_MAX = 10.0               # largest l2 coefficient
INIT_SCALE_MAX = 10.0        # largest standard deviation of the random initial weights
LOSS_MANY_K_MAX = 100_000    # parameter vectors per loss_many call
LOSS_MANY_FLOATS = 2**17     # k * n margins of one loss_many block (1 MB, stays in cache)


def _as_count(value, name: str, low: int, high: int, limit_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in {low}..{high} ({limit_name}), got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high} ({limit_name}), got {value}")
    return int(value)


def _as_scalar(value, name: str, high: float, limit_name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in 0..{high:g} ({limit_name}), got {value!r}") from None
    if not np.isfinite(v) or not 0.0 <= v <= high:
        raise ValueError(f"{name} must be finite and in 0..{high:g} ({limit_name}), got {value!r}")
    return v


def signed_labels(y) -> np.ndarray:
    """Labels as -1.0 / +1.0: (n,) float.

    y: (n,) labels, either all in {0, 1} (0 becomes -1) or all in {-1, +1}.
    """
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("y must be an array of labels in {0, 1} or {-1, +1}") from None
    if y.ndim != 1:
        raise ValueError(f"y must have shape (n,), got {y.shape}")
    if not np.all(np.isin(y, (0.0, 1.0))) and not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("y must hold labels in {0, 1} or in {-1, +1} (two classes; no NaN)")
    return np.where(y == 1.0, 1.0, -1.0)


@dataclass(frozen=True)
class LinearSVM:
    """Linear SVM with n_features inputs; params {"W": (d, 1), "b": (1,)}.

    n_features: 1..FEATURES_MAX; l2: weight penalty in 0..REG_MAX (the usual
    1 / (n C) of the C-parametrized SVM); init_scale: standard deviation of
    the initial weights, 0..INIT_SCALE_MAX (bias starts at 0).
    Data: X (n, d) finite with |X| <= X_ABS_MAX, 1 <= n <= N_MAX; y (n,) two classes.
    """

    n_features: int = 30
    l2: float = 0.01
    init_scale: float = 0.01

    def __post_init__(self):
        object.__setattr__(self, "n_features",
                           _as_count(self.n_features, "n_features", 1, FEATURES_MAX, "FEATURES_MAX"))
        object.__setattr__(self, "l2", _as_scalar(self.l2, "l2", REG_MAX, "REG_MAX"))
        object.__setattr__(self, "init_scale",
                           _as_scalar(self.init_scale, "init_scale", INIT_SCALE_MAX, "INIT_SCALE_MAX"))

    @property
    def n_params(self) -> int:
        """d weights and one bias."""
        return self.n_features + 1

    def init(self, seed: int = 0) -> dict[str, np.ndarray]:
        """W ~ N(0, init_scale²), b = 0. Returns {"W": (d, 1), "b": (1,)}."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        rng = np.random.default_rng(int(seed))
        return {"W": self.init_scale * rng.standard_normal((self.n_features, 1)), "b": np.zeros(1)}

    def flatten(self, params) -> np.ndarray:
        """Parameters as one vector (d + 1,): the weights, then the bias."""
        self._check_params(params)
        return np.concatenate([np.asarray(params["W"], dtype=float).ravel(),
                               np.asarray(params["b"], dtype=float).ravel()])

    def unflatten(self, vec) -> dict[str, np.ndarray]:
        """Inverse of flatten: vec (d + 1,) -> {"W": (d, 1), "b": (1,)} (copies)."""
        vec = np.asarray(vec, dtype=float)
        if vec.shape != (self.n_params,):
            raise ValueError(f"expected a vector of shape ({self.n_params},), got {vec.shape}")
        return {"W": vec[:-1].reshape(-1, 1).copy(), "b": vec[-1:].copy()}

    def decision_function(self, params, X) -> np.ndarray:
        """Signed scores f(x) = x W + b: (n,)."""
        self._check_params(params)
        return (self._check_X(X) @ params["W"])[:, 0] + params["b"][0]

    def predict(self, params, X) -> np.ndarray:
        """Predicted labels (n,) int in {0, 1}: 1 where f(x) > 0."""
        return (self.decision_function(params, X) > 0).astype(int)

    def loss(self, params, X, y) -> float:
        """Mean hinge loss plus the l2 penalty (float)."""
        self._check_params(params)
        X, t = self._check_data(X, y)
        with np.errstate(over="ignore", invalid="ignore"):
            f = (X @ params["W"])[:, 0] + params["b"][0]
            return float(np.mean(np.maximum(0.0, 1.0 - t * f))) + self._penalty(params["W"])

    def loss_and_grad(self, params, X, y) -> tuple[float, dict[str, np.ndarray]]:
        """Loss (float) and its (sub)gradient {"W": (d, 1), "b": (1,)}."""
        self._check_params(params)
        X, t = self._check_data(X, y)
        W = np.asarray(params["W"], dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            f = (X @ W)[:, 0] + params["b"][0]
            slack = 1.0 - t * f
            loss = float(np.mean(np.maximum(0.0, slack))) + self._penalty(W)
            dL_df = np.where(slack > 0.0, -t, 0.0) / len(t)          # (n,)
            return loss, {"W": X.T @ dL_df[:, None] + self.l2 * W, "b": np.array([dL_df.sum()])}

    def loss_many(self, P, X, y) -> np.ndarray:
        """Losses of the rows of P (k, d + 1), as flatten lays them out: (k,).

        One matrix product X (n, d) @ (d, k) gives the scores of a block of
        parameter vectors; blocks hold at most LOSS_MANY_FLOATS margins.
        1 <= k <= LOSS_MANY_K_MAX.
        """
        try:
            P = np.asarray(P, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("P must be an array of numbers") from None
        if P.ndim != 2 or P.shape[1] != self.n_params:
            raise ValueError(f"P must have shape (k, {self.n_params}), got {P.shape}")
        if not 1 <= P.shape[0] <= LOSS_MANY_K_MAX:
            raise ValueError(f"P must have 1..{LOSS_MANY_K_MAX} rows (LOSS_MANY_K_MAX), got {P.shape[0]}")
        X, t = self._check_data(X, y)
        rows = max(1, LOSS_MANY_FLOATS // len(t))
        out = np.empty(P.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, P.shape[0], rows):
                W, b = P[start:start + rows, :-1], P[start:start + rows, -1]
                slack = X @ W.T                 # (n, k) scores f, turned into 1 - t f in place
                slack += b
                slack *= -t[:, None]
                slack += 1.0
                hinge = np.maximum(slack, 0.0, out=slack).mean(axis=0)
                out[start:start + len(b)] = hinge + 0.5 * self.l2 * (W * W).sum(axis=1)
        return out

    # ----- internals ------------------------------------------------------

    def _penalty(self, W) -> float:
        return 0.5 * self.l2 * float(np.sum(W * W)) if self.l2 else 0.0

    def _check_params(self, params):
        if not isinstance(params, dict):
            raise ValueError("params must be a dict {'W': (d, 1), 'b': (1,)} (see LinearSVM.init)")
        for name, shape in (("W", (self.n_features, 1)), ("b", (1,))):
            if name not in params:
                raise ValueError(f"params is missing {name!r}")
            if np.shape(params[name]) != shape:
                raise ValueError(f"params[{name!r}] must have shape {shape}, got {np.shape(params[name])}")

    def _check_X(self, X) -> np.ndarray:
        try:
            X = np.asarray(X, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("X must be an array of numbers") from None
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must have shape (n, {self.n_features}), got {X.shape}")
        if not 1 <= X.shape[0] <= N_MAX:
            raise ValueError(f"X must have 1..{N_MAX} rows (N_MAX), got {X.shape[0]}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or inf")
        if np.abs(X).max() > X_ABS_MAX:
            raise ValueError(f"X values must satisfy |value| <= {X_ABS_MAX:g} (X_ABS_MAX); standardize the data first")
        return X

    def _check_data(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        X = self._check_X(X)
        t = signed_labels(y)
        if t.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), one label per row of X, got {t.shape}")
        return X, t
