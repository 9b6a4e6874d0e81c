"""Linear models: multinomial logistic regression and a straight-line fit.

Logistic regression (the convex landscape of the loss-landscape lesson)::

    S = X W + b                        scores, (n, c)
    p_ij = exp(S_ij) / sum_k exp(S_ik)  softmax over the c classes
    L = -(1/n) sum_i log p_i,y_i + (l2 / 2) ||W||²

    dL/dS = (P - Y) / n                Y: one-hot labels, (n, c)
    dL/dW = X^T dL/dS + l2 W,   dL/db = sum_i dL/dS_i

Parameters are {"W": (d, c), "b": (c,)}: column j of W holds the weights of
class j, i.e. the incoming weights of output unit j (a "filter" for the
filter-normalized directions of landscape.py). The bias is not penalized.

Line fit (the optimizer lab's two-parameter problem)::

    y_hat = m x + b,   L = (1/n) sum_i (y_hat_i - y_i)²
    dL/dm = (2/n) sum_i r_i x_i,   dL/db = (2/n) sum_i r_i   (r = y_hat - y)

Parameters are one array [m, b].

Both models fit ``train.run`` (``init``, ``loss_and_grad``) and the landscape
contract (``flatten``, ``unflatten``, ``loss_many``). Non-finite parameters
give a non-finite loss rather than an error, so a training loop can report
divergence; bad data raise ValueError naming the limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Size limits, enforced here so the server can rely on them.
N_MAX = 100_000              # data points per call
FEATURES_MAX = 1_000         # input features of the logistic regression
CLASSES_MAX = 100            # classes of the logistic regression
X_ABS_MAX = 1e6              # largest |feature value| (standardize larger data first)
REG_MAX = 10.0               # largest l2 coefficient
INIT_SCALE_MAX = 10.0        # largest standard deviation of the random initial weights
LOSS_MANY_K_MAX = 100_000    # parameter vectors per loss_many call
LOSS_MANY_FLOATS = 2**17     # k * n * c scores of one loss_many block (1 MB, stays in cache)


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------


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


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_data_values(a: np.ndarray, name: str) -> None:
    # one reduction when all is well (training calls this at every step): NaN fails `<=` too
    if not a.size or np.abs(a).max() <= X_ABS_MAX:
        return
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    raise ValueError(f"{name} values must satisfy |value| <= {X_ABS_MAX:g} (X_ABS_MAX); standardize the data first")


def _check_rows(P, p: int) -> np.ndarray:
    try:
        P = np.asarray(P, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("P must be an array of numbers") from None
    if P.ndim != 2 or P.shape[1] != p:
        raise ValueError(f"P must have shape (k, {p}), got {P.shape}")
    if not 1 <= P.shape[0] <= LOSS_MANY_K_MAX:
        raise ValueError(f"P must have 1..{LOSS_MANY_K_MAX} rows (LOSS_MANY_K_MAX), got {P.shape[0]}")
    return P


def _chunk_rows(n: int, c: int) -> int:
    """Parameter vectors per loss_many block so that k * n * c <= LOSS_MANY_FLOATS."""
    return max(1, LOSS_MANY_FLOATS // (n * c))


# --------------------------------------------------------------------------
# Multinomial logistic regression
# --------------------------------------------------------------------------


def _logsumexp(S: np.ndarray) -> np.ndarray:
    """log sum_j exp(S[..., j]) computed stably: (..., c) -> (...)."""
    top = S.max(axis=-1, keepdims=True)
    return (top + np.log(np.exp(S - top).sum(axis=-1, keepdims=True)))[..., 0]


def softmax(S: np.ndarray) -> np.ndarray:
    """Row-wise softmax of scores S: (..., c), computed stably."""
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class LogisticRegression:
    """Softmax regression with n_features inputs and n_classes outputs.

    n_features: 1..FEATURES_MAX; n_classes: 2..CLASSES_MAX; l2: weight
    penalty in 0..REG_MAX; init_scale: standard deviation of the initial
    weights, 0..INIT_SCALE_MAX (biases start at 0).
    Data: X (n, d) finite with |X| <= X_ABS_MAX, 1 <= n <= N_MAX;
    y (n,) integer class labels in 0..c-1.
    """

    n_features: int = 4
    n_classes: int = 3
    l2: float = 0.0
    init_scale: float = 0.01

    def __post_init__(self):
        object.__setattr__(self, "n_features",
                           _as_count(self.n_features, "n_features", 1, FEATURES_MAX, "FEATURES_MAX"))
        object.__setattr__(self, "n_classes",
                           _as_count(self.n_classes, "n_classes", 2, CLASSES_MAX, "CLASSES_MAX"))
        object.__setattr__(self, "l2", _as_scalar(self.l2, "l2", REG_MAX, "REG_MAX"))
        object.__setattr__(self, "init_scale",
                           _as_scalar(self.init_scale, "init_scale", INIT_SCALE_MAX, "INIT_SCALE_MAX"))

    @property
    def n_params(self) -> int:
        """d * c weights and c biases."""
        return (self.n_features + 1) * self.n_classes

    def init(self, seed: int = 0) -> dict[str, np.ndarray]:
        """W ~ N(0, init_scale²), b = 0. Returns {"W": (d, c), "b": (c,)}."""
        rng = np.random.default_rng(_check_seed(seed))
        return {
            "W": self.init_scale * rng.standard_normal((self.n_features, self.n_classes)),
            "b": np.zeros(self.n_classes),
        }

    def flatten(self, params) -> np.ndarray:
        """Parameters as one vector (n_params,): W row by row, then b."""
        self._check_params(params)
        return np.concatenate([np.asarray(params["W"], dtype=float).ravel(),
                               np.asarray(params["b"], dtype=float).ravel()])

    def unflatten(self, vec) -> dict[str, np.ndarray]:
        """Inverse of flatten: vec (n_params,) -> {"W": (d, c), "b": (c,)} (copies)."""
        vec = np.asarray(vec, dtype=float)
        if vec.shape != (self.n_params,):
            raise ValueError(f"expected a vector of shape ({self.n_params},), got {vec.shape}")
        d, c = self.n_features, self.n_classes
        return {"W": vec[:d * c].reshape(d, c).copy(), "b": vec[d * c:].copy()}

    def predict_proba(self, params, X) -> np.ndarray:
        """Class probabilities (n, c) for X (n, d)."""
        self._check_params(params)
        return softmax(self._check_X(X) @ params["W"] + params["b"])

    def predict(self, params, X) -> np.ndarray:
        """Most probable class (n,) int for X (n, d)."""
        return self.predict_proba(params, X).argmax(axis=1)

    def loss(self, params, X, y) -> float:
        """Mean cross-entropy plus the l2 penalty (float)."""
        self._check_params(params)
        X, y = self._check_data(X, y)
        with np.errstate(over="ignore", invalid="ignore"):
            S = X @ params["W"] + params["b"]
            return float(np.mean(_logsumexp(S) - S[np.arange(len(y)), y])) + self._penalty(params["W"])

    def loss_and_grad(self, params, X, y) -> tuple[float, dict[str, np.ndarray]]:
        """Loss (float) and its exact gradient {"W": (d, c), "b": (c,)}."""
        self._check_params(params)
        X, y = self._check_data(X, y)
        n = len(y)
        W, b = np.asarray(params["W"], dtype=float), np.asarray(params["b"], dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            S = X @ W + b
            loss = float(np.mean(_logsumexp(S) - S[np.arange(n), y])) + self._penalty(W)
            dS = softmax(S)
            dS[np.arange(n), y] -= 1.0
            dS /= n
            return loss, {"W": X.T @ dS + self.l2 * W, "b": dS.sum(axis=0)}

    def loss_many(self, P, X, y) -> np.ndarray:
        """Losses of the rows of P (k, n_params), as flatten lays them out: (k,).

        One matrix product X (n, d) @ (d, c*k) gives the scores of a block
        of parameter vectors, laid out (n, c, k) so that the sums over the
        classes run along whole rows of k values; blocks hold at most
        LOSS_MANY_FLOATS scores. 1 <= k <= LOSS_MANY_K_MAX.
        """
        P = _check_rows(P, self.n_params)
        X, y = self._check_data(X, y)
        n, d, c = len(y), self.n_features, self.n_classes
        rows = _chunk_rows(n, c)
        out = np.empty(P.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, P.shape[0], rows):
                block = P[start:start + rows]
                k = block.shape[0]
                W = block[:, :d * c].reshape(k, d, c)
                S = (X @ W.transpose(1, 2, 0).reshape(d, c * k)).reshape(n, c, k)
                S += block[:, d * c:].T                     # biases, (c, k)
                picked = S[np.arange(n), y, :]              # score of the true class, (n, k)
                top = S.max(axis=1)
                S -= top[:, None, :]
                np.exp(S, out=S)
                logsumexp = top + np.log(S.sum(axis=1))     # (n, k)
                out[start:start + k] = (logsumexp - picked).mean(axis=0) + 0.5 * self.l2 * (W * W).sum(axis=(1, 2))
        return out

    # ----- internals ------------------------------------------------------

    def _penalty(self, W) -> float:
        return 0.5 * self.l2 * float(np.sum(W * W)) if self.l2 else 0.0

    def _check_params(self, params):
        if not isinstance(params, dict):
            raise ValueError("params must be a dict {'W': (d, c), 'b': (c,)} (see LogisticRegression.init)")
        for name, shape in (("W", (self.n_features, self.n_classes)), ("b", (self.n_classes,))):
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
        _check_data_values(X, "X")
        return X

    def _check_data(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        X = self._check_X(X)
        try:
            y = np.asarray(y, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("y must be an array of class labels") from None
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), one label per row of X, got {y.shape}")
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)) or np.any(y < 0) or np.any(y >= self.n_classes):
            raise ValueError(f"class labels must be integers in 0..{self.n_classes - 1}")
        return X, y.astype(int)


# --------------------------------------------------------------------------
# Line fit y = m x + b
# --------------------------------------------------------------------------


def _check_x(x) -> np.ndarray:
    """x: (n,) or (n, 1) -> (n,) float."""
    try:
        x = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("x must be an array of numbers") from None
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"x must have shape (n,) or (n, 1), got {x.shape}")
    if not 1 <= x.shape[0] <= N_MAX:
        raise ValueError(f"x must have 1..{N_MAX} points (N_MAX), got {x.shape[0]}")
    _check_data_values(x, "x")
    return x


def _check_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    """x: (n,) or (n, 1); y: (n,). Returns (n,) float arrays."""
    x = _check_x(x)
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("y must be an array of numbers") from None
    if y.shape != x.shape:
        raise ValueError(f"y must have shape {x.shape}, one target per x, got {y.shape}")
    _check_data_values(y, "y")
    return x, y


@dataclass(frozen=True)
class LinearRegression:
    """The line y = m x + b, fitted by mean squared error; params [m, b].

    init_scale: standard deviation of the random start, 0..INIT_SCALE_MAX.
    Data: x (n,) or (n, 1) and y (n,), finite, |value| <= X_ABS_MAX, 1 <= n <= N_MAX.
    """

    init_scale: float = 1.0

    n_params = 2

    def __post_init__(self):
        object.__setattr__(self, "init_scale",
                           _as_scalar(self.init_scale, "init_scale", INIT_SCALE_MAX, "INIT_SCALE_MAX"))

    def init(self, seed: int = 0) -> np.ndarray:
        """[m, b] ~ N(0, init_scale²) each: (2,) float."""
        return self.init_scale * np.random.default_rng(_check_seed(seed)).standard_normal(2)

    def flatten(self, params) -> np.ndarray:
        """params (2,) -> a float copy (2,): the parameters already are a vector."""
        return self._check_params(params).copy()

    def unflatten(self, vec) -> np.ndarray:
        """(2,) -> a float copy (2,)."""
        return self._check_params(vec).copy()

    def predict(self, params, x) -> np.ndarray:
        """m x + b for x (n,) or (n, 1): (n,)."""
        m, b = self._check_params(params)
        return m * _check_x(x) + b

    def loss(self, params, x, y) -> float:
        """Mean squared error (float)."""
        m, b = self._check_params(params)
        x, y = _check_xy(x, y)
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.mean((m * x + b - y) ** 2))

    def loss_and_grad(self, params, x, y) -> tuple[float, np.ndarray]:
        """Mean squared error and its gradient [dL/dm, dL/db]: (2,)."""
        m, b = self._check_params(params)
        x, y = _check_xy(x, y)
        with np.errstate(over="ignore", invalid="ignore"):
            r = m * x + b - y
            # np.add.reduce(v) / n is np.mean(v) to the last bit, without its overhead
            n = len(x)
            return (float(np.add.reduce(r * r) / n),
                    np.array([2.0 * (np.add.reduce(r * x) / n), 2.0 * (np.add.reduce(r) / n)]))

    def loss_many(self, P, x, y) -> np.ndarray:
        """Mean squared errors of the rows [m, b] of P (k, 2): (k,). 1 <= k <= LOSS_MANY_K_MAX."""
        P = _check_rows(P, 2)
        x, y = _check_xy(x, y)
        rows = _chunk_rows(len(x), 1)
        out = np.empty(P.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, P.shape[0], rows):
                m, b = P[start:start + rows].T
                R = np.outer(x, m)
                R += b
                R -= y[:, None]                             # (n, k) residuals
                out[start:start + len(m)] = np.mean(R * R, axis=0)
        return out

    def _check_params(self, params) -> np.ndarray:
        try:
            params = np.asarray(params, dtype=float)
        except (TypeError, ValueError):
            raise ValueError("params must be the array [m, b]") from None
        if params.shape != (2,):
            raise ValueError(f"params must be the array [m, b] of shape (2,), got shape {params.shape}")
        return params


def least_squares_line(x, y) -> np.ndarray:
    """The exact minimizer [m, b] of LinearRegression's loss.

    m = cov(x, y) / var(x), b = mean(y) - m mean(x). x: (n,) or (n, 1), y: (n,);
    x must take at least two distinct values (otherwise no unique line exists).
    """
    x, y = _check_xy(x, y)
    dx = x - x.mean()
    var = float(np.dot(dx, dx))
    if var == 0.0:
        raise ValueError("x must take at least two distinct values for a unique best line")
    m = float(np.dot(dx, y - y.mean())) / var
    return np.array([m, y.mean() - m * x.mean()])
