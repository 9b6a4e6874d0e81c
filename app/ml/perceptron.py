"""The song-preference perceptron: one sigmoid neuron over binary song features.

    z = w · x + b                      x: (d,) features in {0, 1}
    p = σ(z) = 1 / (1 + e^(−z))        probability the listener likes the song
    L = −mean[ y log p + (1 − y) log(1 − p) ]      binary cross-entropy

Gradients (the seed's intuition: a weight of a feature present in a disliked
song, i.e. p > y with x_i = 1, goes down):

    ∂L/∂w = Xᵀ (p − y) / n,    ∂L/∂b = mean(p − y)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_SONGS = 64
MAX_FEATURES = 8


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function, elementwise."""
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def check_songs(X, y) -> tuple[np.ndarray, np.ndarray]:
    """Validated copies of a song table. X: (n, d) in {0, 1}; y: (n,) in {0, 1}.

    Raises ValueError with a message a visitor can act on.
    """
    try:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError("every feature and every like must be 0 or 1") from error
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError("the table needs at least one song")
    if X.shape[0] > MAX_SONGS:
        raise ValueError(f"at most {MAX_SONGS} songs")
    if not 1 <= X.shape[1] <= MAX_FEATURES:
        raise ValueError(f"between 1 and {MAX_FEATURES} features")
    if y.shape != (X.shape[0],):
        raise ValueError("every song needs a like (1) or dislike (0)")
    if not (np.isin(X, (0.0, 1.0)).all() and np.isin(y, (0.0, 1.0)).all()):
        raise ValueError("every feature and every like must be 0 or 1")
    return X, y


@dataclass(frozen=True)
class Perceptron:
    """A single sigmoid neuron with `n_features` inputs; params {"w": (d,), "b": ()}."""

    n_features: int = 3
    init_scale: float = 1.0

    def init(self, seed: int) -> dict:
        rng = np.random.default_rng(seed)
        return {"w": rng.normal(0.0, self.init_scale, self.n_features), "b": np.array(0.0)}

    def logits(self, params: dict, X: np.ndarray) -> np.ndarray:
        """z: (n,) for X: (n, d)."""
        return np.asarray(X, dtype=float) @ params["w"] + params["b"]

    def predict_proba(self, params: dict, X: np.ndarray) -> np.ndarray:
        """p: (n,) probability of a like for each song."""
        return sigmoid(self.logits(params, X))

    def loss(self, params: dict, X: np.ndarray, y: np.ndarray) -> float:
        """Mean binary cross-entropy, computed from logits for stability."""
        z = self.logits(params, X)
        # −[y log σ(z) + (1−y) log(1−σ(z))] = softplus(z) − y z
        return float(np.mean(np.logaddexp(0.0, z) - y * z))

    def loss_and_grad(self, params: dict, X: np.ndarray, y: np.ndarray) -> tuple[float, dict]:
        X = np.asarray(X, dtype=float)
        residual = self.predict_proba(params, X) - y
        grads = {"w": X.T @ residual / len(y), "b": np.array(residual.mean())}
        return self.loss(params, X, y), grads


_BOX_EDGES = [(a, b) for a in range(8) for b in range(a + 1, 8) if bin(a ^ b).count("1") == 1]


def plane_in_box(w: np.ndarray, b: float, low: float = -0.25, high: float = 1.25) -> np.ndarray:
    """The decision plane w·x + b = 0 clipped to the cube [low, high]³.

    Returns the polygon's vertices in order around it, (k, 3) with k in 3..6,
    or (0, 3) if the plane misses the cube (or w = 0).
    """
    w = np.asarray(w, dtype=float)
    if w.shape != (3,) or not np.isfinite(w).all() or not np.isfinite(b) or not np.any(w):
        return np.zeros((0, 3))
    corners = np.array([[(i >> k) & 1 for k in range(3)] for i in range(8)], dtype=float)
    corners = low + (high - low) * corners
    side = corners @ w + b
    points = []
    for a, c in _BOX_EDGES:
        if side[a] * side[c] < 0:
            t = side[a] / (side[a] - side[c])
            points.append(corners[a] + t * (corners[c] - corners[a]))
        elif side[a] == 0:
            points.append(corners[a])
    if len(points) < 3:
        return np.zeros((0, 3))
    points = np.unique(np.round(np.array(points), 12), axis=0)
    center = points.mean(axis=0)
    # Order the vertices by angle in a basis of the plane.
    normal = w / np.linalg.norm(w)
    u = np.cross(normal, [1.0, 0.0, 0.0] if abs(normal[0]) < 0.9 else [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    angles = np.arctan2((points - center) @ v, (points - center) @ u)
    return points[np.argsort(angles)]
