"""Slicing a high-dimensional loss into a surface over a plane.

A model's loss L(θ) lives in p dimensions. Pick a center c and two
directions d1, d2 (each (p,)), and look at the slice

    f(α, β) = L(c + α d1 + β d2)

on a grid of (α, β). This module chooses the directions, evaluates the grid
in batches, places training paths on the plane, measures how convex a slice
looks, and exports surface and path as CSV or JSON.

Directions:

- ``pca_directions``: the two principal components of a training path
  θ_0..θ_T (Lorch 2016; Li et al. 2018, "Visualizing the Loss Landscape of
  Neural Nets"), with the share of the path's variance each explains.
  Orthonormal. Grid points are mapped back to parameter space by the
  inverse projection c + α d1 + β d2 (the seed's "PCA loss landscape").
- ``filter_normalized_directions``: Li et al.'s random directions. A Gaussian
  direction is drawn with the shape of the parameters and each filter -- for
  a dense layer the incoming weights of one unit, i.e. one column of W
  (in, out) -- is rescaled to the norm of the same filter of the parameters.
  Biases (every parameter array with fewer than 2 dimensions) get a zero
  direction, the setting Li et al. use for their figures (their ``biasbn``
  option), so a slice never moves the biases; ``bias="copy"`` instead copies
  the bias values, their other option.
- ``top_moving_directions``: the unit axes of the two parameters whose value
  changed most between the first and the last point of the path.

Models used here expose ``flatten(params) -> (p,)``, ``unflatten(vec)`` and
``loss_many(P, X, y) -> (k,)`` for the rows of P: (k, p). Typical use::

    path = flatten_path(model, train.run(model, opt, (X, y), 200, seed).params)
    land = pca_landscape(model, X, y, path, resolution=51)   # one run, its own plane

    # several optimizers on one plane: fixed directions, least-squares projection
    d1, d2 = filter_normalized_directions(model, params, seed=0)
    coords = [project(p, center, d1, d2) for p in (path_sgd, path_momentum, path_adam)]
    Z = grid_losses(model, X, y, center, d1, d2, axis_values(-1, 1), axis_values(-1, 1))

Limits (ValueError naming them): grid axes of MIN_RESOLUTION..MAX_RESOLUTION
strictly increasing finite values with |value| <= MAX_EXTENT; paths of
2..MAX_PATH_POINTS points, 2..MAX_PARAMETERS parameters and at most
MAX_PATH_VALUES values.
"""

from __future__ import annotations

import io
import json
import math
from typing import Any, NamedTuple

import numpy as np

MIN_RESOLUTION = 2            # grid points per axis, at least
MAX_RESOLUTION = 201          # grid points per axis, at most
MAX_EXTENT = 1e6              # largest |α| or |β| of a grid
MAX_PATH_POINTS = 2_001       # points of a path (subsample longer runs, e.g. path[::k])
MAX_PARAMETERS = 1_000_000    # length of a flat parameter vector
MAX_PATH_VALUES = 2_000_000   # points * parameters of a path given to the PCA (16 MB)
DEFAULT_CHUNK = 256           # parameter vectors per loss_many call
MAX_CHUNK = 10_000            # largest chunk a caller may ask for
CHUNK_FLOATS = 2**22          # values of one block of parameter vectors (32 MB)


class Landscape(NamedTuple):
    """A loss surface over a plane and a path placed on it.

    alphas: (na,), betas: (nb,) grid axes; loss: (nb, na), loss[i, j] at
    center + alphas[j] d1 + betas[i] d2 (rows along β, as a heatmap expects);
    center, d1, d2: (p,); path: (T+1, 2) coordinates of the path on the plane;
    path_loss: (T+1,) the model's loss at the path's own points;
    path_plane_loss: (T+1,) the loss where the path's projection meets the
    plane, i.e. the height of the surface under it (equal to path_loss
    only as far as the plane explains the path);
    explained_variance_ratio: (2,) for PCA directions, else None.
    """

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    path: np.ndarray
    path_loss: np.ndarray
    path_plane_loss: np.ndarray
    explained_variance_ratio: np.ndarray | None


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------


def _as_float_array(a, name: str) -> np.ndarray:
    try:
        return np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers") from None


def _check_path(path) -> np.ndarray:
    path = _as_float_array(path, "path")
    if path.ndim != 2:
        raise ValueError(f"path must have shape (T+1, p), got {path.shape}")
    points, p = path.shape
    if not 2 <= points <= MAX_PATH_POINTS:
        raise ValueError(f"path must have 2..{MAX_PATH_POINTS} points (MAX_PATH_POINTS), got {points}")
    if not 2 <= p <= MAX_PARAMETERS:
        raise ValueError(f"path points must have 2..{MAX_PARAMETERS} parameters (MAX_PARAMETERS), got {p}")
    if path.size > MAX_PATH_VALUES:
        raise ValueError(f"path has {path.size} values, more than {MAX_PATH_VALUES} (MAX_PATH_VALUES); "
                         f"subsample it, e.g. path[::k]")
    if not np.all(np.isfinite(path)):
        raise ValueError("path contains NaN or inf (a diverged run: keep the steps before divergence)")
    return path


def _check_vector(v, p: int, name: str) -> np.ndarray:
    v = _as_float_array(v, name)
    if v.shape != (p,):
        raise ValueError(f"{name} must have shape ({p},), got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or inf")
    return v


def _check_plane(center, d1, d2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    center = _as_float_array(center, "center")
    if center.ndim != 1 or not 2 <= center.shape[0] <= MAX_PARAMETERS:
        raise ValueError(f"center must be a vector of 2..{MAX_PARAMETERS} parameters (MAX_PARAMETERS), "
                         f"got shape {center.shape}")
    p = center.shape[0]
    return _check_vector(center, p, "center"), _check_vector(d1, p, "d1"), _check_vector(d2, p, "d2")


def check_axis(values, name: str = "axis") -> np.ndarray:
    """A validated grid axis: MIN_RESOLUTION..MAX_RESOLUTION strictly increasing
    finite values with |value| <= MAX_EXTENT. Returns (n,) float."""
    values = _as_float_array(values, name)
    if values.ndim != 1 or not MIN_RESOLUTION <= values.shape[0] <= MAX_RESOLUTION:
        raise ValueError(f"{name} must hold {MIN_RESOLUTION}..{MAX_RESOLUTION} values (MAX_RESOLUTION), "
                         f"got shape {values.shape}")
    if not np.all(np.isfinite(values)) or np.abs(values).max() > MAX_EXTENT:
        raise ValueError(f"{name} must be finite with |value| <= {MAX_EXTENT:g} (MAX_EXTENT)")
    if not np.all(np.diff(values) > 0):
        raise ValueError(f"{name} must be strictly increasing")
    return values


def _check_resolution(resolution) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)):
        raise ValueError(f"resolution must be an integer in {MIN_RESOLUTION}..{MAX_RESOLUTION} "
                         f"(MAX_RESOLUTION), got {resolution!r}")
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"resolution must be in {MIN_RESOLUTION}..{MAX_RESOLUTION} (MAX_RESOLUTION), "
                         f"got {resolution}")
    return int(resolution)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


# --------------------------------------------------------------------------
# Paths as flat vectors
# --------------------------------------------------------------------------


def flatten_path(model, params_history) -> np.ndarray:
    """A training history as one row per step: (T+1, p).

    params_history: stacked parameters as ``train.run`` returns them, a
    (T+1, ...) array or a dict {name: (T+1, ...)}; model.flatten gives the order.
    """
    if isinstance(params_history, dict):
        lengths = {np.shape(v)[0] for v in params_history.values()}
        if len(lengths) != 1:
            raise ValueError("every stacked parameter must have the same number of steps")
        steps = lengths.pop()
        return np.stack([model.flatten({k: v[t] for k, v in params_history.items()}) for t in range(steps)])
    history = np.asarray(params_history, dtype=float)
    return np.stack([model.flatten(history[t]) for t in range(history.shape[0])])


# --------------------------------------------------------------------------
# Directions
# --------------------------------------------------------------------------


def _orient(d: np.ndarray, travel: np.ndarray) -> np.ndarray:
    """Fix the arbitrary sign of a direction: training moves towards +d
    (or, if it does not move along d, the largest entry of d is positive)."""
    along = float(np.dot(travel, d))
    if abs(along) <= 1e-12 * (np.linalg.norm(travel) + 1e-300):
        along = d[np.argmax(np.abs(d))]
    return -d if along < 0 else d


def _top_two_components(centered: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Principal directions of the rows of a mean-centered (m, p) matrix C.

    Eigenvectors of the smaller of the two Gram matrices: C^T C (p, p)
    when p <= m; otherwise C C^T (m, m), whose eigenvectors u_i give the
    directions C^T u_i (the "snapshot" method, about ten times faster than
    an SVD of a path with few points and many parameters).
    Returns (eigenvalues (2,) = squared singular values, directions (2, p)
    orthonormal, total = sum of all squared singular values).
    """
    m, p = centered.shape
    total = float(np.sum(centered * centered))
    if p <= m:
        values, vectors = np.linalg.eigh(centered.T @ centered)
        directions = vectors[:, ::-1][:, :2]
    else:
        values, vectors = np.linalg.eigh(centered @ centered.T)
        # QR only normalizes C^T u_1 and makes C^T u_2 orthogonal to it; it
        # also yields a unit second direction when the path is a straight line
        directions, _ = np.linalg.qr(centered.T @ vectors[:, ::-1][:, :2])
    return np.maximum(values[::-1][:2], 0.0), directions.T, total


def pca_directions(path, center=None):
    """The two principal components of a path, for a PCA loss landscape.

    path: (T+1, p) parameter vectors θ_0..θ_T, finite (see the module limits).
    center: (p,) origin of the plane; None = the last point θ_T, the trained
    model, as in Li et al. (pass ``path.mean(axis=0)`` for the seed's
    variant, which centers the grid on the mean of the path).

    The components are the top right singular vectors of the mean-centered
    path; explained_variance_ratio[i] = s_i² / sum_j s_j², the share of the
    path's variance along d_i. Signs: training moves towards +d_i.
    Returns (d1 (p,), d2 (p,), explained_variance_ratio (2,), center (p,)),
    d1 and d2 orthonormal.
    """
    path = _check_path(path)
    center = path[-1].copy() if center is None else _check_vector(center, path.shape[1], "center")
    variance, directions, total = _top_two_components(path - path.mean(axis=0))
    if total <= (1e-12 * np.abs(path).max()) ** 2 * path.shape[0]:
        raise ValueError("the path does not move, so it has no principal directions")
    travel = path[-1] - path[0]
    d1, d2 = _orient(directions[0], travel), _orient(directions[1], travel)
    return d1, d2, variance / total, center


def filter_normalized_directions(model, params, seed: int = 0, bias: str = "zero"):
    """Two random directions scaled filter by filter to the parameters (Li et al.).

    params: a dict of arrays or one array, as model.init returns them. For
    each array with 2 or more dimensions (a weight matrix W: (in, out)), a
    Gaussian direction D of the same shape is drawn and each filter -- each
    column D[..., j], the incoming weights of unit j -- is rescaled so that
    ||D[..., j]|| = ||W[..., j]||. Arrays with fewer than 2 dimensions are
    biases: their direction is zero (bias="zero", default) or a copy of the
    bias itself (bias="copy"). d1 and d2 are independent draws from
    np.random.default_rng(seed), nearly orthogonal in high dimensions.
    Returns (d1 (p,), d2 (p,)) flattened by model.flatten.
    """
    if bias not in ("zero", "copy"):
        raise ValueError(f"bias must be 'zero' or 'copy', got {bias!r}")
    rng = np.random.default_rng(_check_seed(seed))
    arrays = params if isinstance(params, dict) else {None: params}
    arrays = {name: _as_float_array(w, "params") for name, w in arrays.items()}
    if not any(w.ndim >= 2 for w in arrays.values()):
        raise ValueError("filter normalization needs at least one weight matrix (a parameter array "
                         "with 2 dimensions); use pca_directions or top_moving_directions instead")
    if not all(np.all(np.isfinite(w)) for w in arrays.values()):
        raise ValueError("params contain NaN or inf")

    def draw():
        direction = {}
        for name, w in arrays.items():
            d = rng.standard_normal(w.shape)    # drawn for biases too, so bias= does not change the weights' draw
            if w.ndim >= 2:
                axes = tuple(range(w.ndim - 1))  # a filter: everything but the last (output) axis
                w_norm = np.sqrt((w * w).sum(axis=axes, keepdims=True))
                d_norm = np.sqrt((d * d).sum(axis=axes, keepdims=True))
                d = d * (w_norm / np.maximum(d_norm, 1e-300))
            else:
                d = np.zeros_like(w) if bias == "zero" else w.copy()
            direction[name] = d
        return model.flatten(direction if isinstance(params, dict) else direction[None])

    d1, d2 = draw(), draw()
    if not (np.any(d1) and np.any(d2)):
        raise ValueError("every filter of the parameters has norm 0, so the directions would be 0")
    return d1, d2


def top_moving_directions(path):
    """Unit axes of the two parameters that changed most during training.

    path: (T+1, p). Change of parameter i: |θ_T[i] - θ_0[i]|; ties go to the
    lower index. Returns (d1 (p,), d2 (p,), (i, j)) with d1 = e_i, d2 = e_j
    and parameter i the one that changed most.
    """
    path = _check_path(path)
    change = np.abs(path[-1] - path[0])
    i, j = (int(k) for k in np.argsort(-change, kind="stable")[:2])
    if change[i] == 0.0:
        raise ValueError("no parameter changed between the first and the last point of the path")
    d1, d2 = np.zeros(path.shape[1]), np.zeros(path.shape[1])
    d1[i], d2[j] = 1.0, 1.0
    return d1, d2, (i, j)


# --------------------------------------------------------------------------
# Placing points on the plane
# --------------------------------------------------------------------------


def project(path, center, d1, d2) -> np.ndarray:
    """Coordinates (α, β) of points on the plane center + α d1 + β d2.

    path: (T+1, p) (or one point (p,)); center, d1, d2: (p,). Least squares:
    (α, β) minimize ||θ - center - α d1 - β d2||, so d1 and d2 need not be
    orthogonal (filter-normalized directions are not), only independent.
    Returns (T+1, 2) (or (2,) for one point).
    """
    center, d1, d2 = _check_plane(center, d1, d2)
    points = _as_float_array(path, "path")
    single = points.ndim == 1
    points = np.atleast_2d(points)
    if points.ndim != 2 or points.shape[1] != center.shape[0]:
        raise ValueError(f"path must have shape (T+1, {center.shape[0]}), got {np.shape(path)}")
    if not np.all(np.isfinite(points)):
        raise ValueError("path contains NaN or inf")
    D = np.stack([d1, d2], axis=1)                        # (p, 2)
    gram = D.T @ D
    if gram[0, 0] == 0 or gram[1, 1] == 0 or np.linalg.det(gram) <= 1e-12 * gram[0, 0] * gram[1, 1]:
        raise ValueError("d1 and d2 must be non-zero and not parallel")
    coords = np.linalg.solve(gram, D.T @ (points - center).T).T
    return coords[0] if single else coords


def reconstruct(coords, center, d1, d2) -> np.ndarray:
    """Points of parameter space from plane coordinates: center + α d1 + β d2.

    coords: (k, 2) (or (2,)); center, d1, d2: (p,). Returns (k, p) (or (p,)).
    """
    center, d1, d2 = _check_plane(center, d1, d2)
    coords = _as_float_array(coords, "coords")
    if coords.shape[-1:] != (2,) or coords.ndim > 2:
        raise ValueError(f"coords must have shape (k, 2) or (2,), got {coords.shape}")
    return center + coords[..., :1] * d1 + coords[..., 1:] * d2


def projection_residual(path, center, d1, d2) -> np.ndarray:
    """How far each point lies off the plane: ||θ - reconstruct(project(θ))||, (T+1,)."""
    points = np.atleast_2d(_as_float_array(path, "path"))
    return np.linalg.norm(points - reconstruct(project(points, center, d1, d2), center, d1, d2), axis=1)


# --------------------------------------------------------------------------
# Grids and their losses
# --------------------------------------------------------------------------


def axis_values(low, high, resolution: int = 51) -> np.ndarray:
    """resolution evenly spaced values from low to high: (resolution,).

    low < high, both finite with |value| <= MAX_EXTENT; resolution in
    MIN_RESOLUTION..MAX_RESOLUTION.
    """
    resolution = _check_resolution(resolution)
    try:
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        raise ValueError("low and high must be numbers") from None
    if not (math.isfinite(low) and math.isfinite(high)) or max(abs(low), abs(high)) > MAX_EXTENT:
        raise ValueError(f"the extent must be finite with |value| <= {MAX_EXTENT:g} (MAX_EXTENT), "
                         f"got {low!r}..{high!r}")
    if not low < high:
        raise ValueError(f"the extent needs low < high, got {low!r}..{high!r}")
    return np.linspace(low, high, resolution)


def axes_around(coords, resolution: int = 51, margin: float = 0.25, min_half_width: float | None = None):
    """Grid axes that cover a projected path and the origin, with a margin.

    coords: (T+1, 2) path coordinates (e.g. from project); margin: share of
    each axis' span added on both sides, 0..10; min_half_width: each axis
    spans at least [-min_half_width, min_half_width], so that a direction the
    path barely moves along still shows some landscape; None = a tenth of
    the wider axis' span (1.0 if the path is a single point at the origin).
    Returns (alphas (resolution,), betas (resolution,)).
    """
    coords = _as_float_array(coords, "coords")
    if coords.ndim != 2 or coords.shape[1] != 2 or coords.shape[0] == 0:
        raise ValueError(f"coords must have shape (T+1, 2), got {coords.shape}")
    if not np.all(np.isfinite(coords)):
        raise ValueError("coords contain NaN or inf")
    try:
        margin = float(margin)
    except (TypeError, ValueError):
        raise ValueError("margin must be a number in 0..10") from None
    if not 0.0 <= margin <= 10.0:
        raise ValueError(f"margin must be in 0..10, got {margin!r}")
    low = np.minimum(coords.min(axis=0), 0.0)
    high = np.maximum(coords.max(axis=0), 0.0)
    if min_half_width is None:
        min_half_width = 0.1 * float((high - low).max()) or 1.0
    try:
        min_half_width = float(min_half_width)
    except (TypeError, ValueError):
        raise ValueError("min_half_width must be a number") from None
    if not 0.0 < min_half_width <= MAX_EXTENT:
        raise ValueError(f"min_half_width must be in (0, {MAX_EXTENT:g}] (MAX_EXTENT), got {min_half_width!r}")
    pad = margin * (high - low)
    low, high = np.minimum(low - pad, -min_half_width), np.maximum(high + pad, min_half_width)
    return axis_values(low[0], high[0], resolution), axis_values(low[1], high[1], resolution)


def _loss_rows(model, X, y, P) -> np.ndarray:
    """model.loss_many on the rows of P (k, p), checking what comes back: (k,)."""
    values = np.asarray(model.loss_many(P, X, y), dtype=float)
    if values.shape != (P.shape[0],):
        raise ValueError(f"model.loss_many returned shape {values.shape}, expected ({P.shape[0]},)")
    return values


def _rows_per_call(chunk, p: int) -> int:
    """chunk, lowered so that one call's parameter block holds at most CHUNK_FLOATS values."""
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or not 1 <= chunk <= MAX_CHUNK:
        raise ValueError(f"chunk must be an integer in 1..{MAX_CHUNK} (MAX_CHUNK), got {chunk!r}")
    return max(1, min(int(chunk), CHUNK_FLOATS // p))


def losses_at(model, X, y, P, chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    """model.loss_many over the rows of P (k, p), at most chunk rows per call: (k,)."""
    P = _as_float_array(P, "P")
    if P.ndim != 2 or P.shape[0] == 0:
        raise ValueError(f"P must have shape (k, p) with k >= 1, got {P.shape}")
    rows = _rows_per_call(chunk, P.shape[1])
    return np.concatenate([_loss_rows(model, X, y, P[s:s + rows]) for s in range(0, P.shape[0], rows)])


def _grid_coefficients(alphas, betas) -> np.ndarray:
    """(α, β) of every grid point, β-major (row i = betas[i]): (nb * na, 2)."""
    A, B = np.meshgrid(alphas, betas)
    return np.stack([A.ravel(), B.ravel()], axis=1)


def grid_losses(model, X, y, center, d1, d2, alphas, betas, chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    """The loss on a grid of the plane, evaluated in batches.

    loss[i, j] = L(center + alphas[j] d1 + betas[i] d2). center, d1, d2: (p,)
    finite; alphas, betas: grid axes (see check_axis); chunk: 1..MAX_CHUNK.
    Grid points are mapped to parameter space a block of rows at a time,
    (rows, p) with rows = min(chunk, CHUNK_FLOATS // p), and each block goes
    to model.loss_many in one call.
    Returns (len(betas), len(alphas)); entries may be inf or NaN where the
    model's loss is not finite.
    """
    alphas, betas = check_axis(alphas, "alphas"), check_axis(betas, "betas")
    center, d1, d2 = _check_plane(center, d1, d2)
    rows = _rows_per_call(chunk, center.shape[0])
    coefficients = _grid_coefficients(alphas, betas)
    k = coefficients.shape[0]
    # [1, α, β] @ [center; d1; d2]: one pass writing P, where the broadcasts
    # center + α d1 + β d2 take five (BLAS runs single-threaded here, see app/__init__)
    weights = np.hstack([np.ones((k, 1)), coefficients])
    basis = np.stack([center, d1, d2])
    out = np.empty(k)
    for start in range(0, k, rows):
        P = weights[start:start + rows] @ basis               # (rows, p)
        out[start:start + P.shape[0]] = _loss_rows(model, X, y, P)
    return out.reshape(betas.shape[0], alphas.shape[0])


def grid_losses_reference(model, X, y, center, d1, d2, alphas, betas, single_loss=None) -> np.ndarray:
    """Same values as grid_losses, one model call per grid point.

    The slow way, kept as the reference that tests and benchmarks compare
    grid_losses against. single_loss: a function (params, X, y) -> float of
    the model's parameters (e.g. the model's own loss method), called with
    model.unflatten of each grid point; None = model.loss_many on one row.
    """
    alphas, betas = check_axis(alphas, "alphas"), check_axis(betas, "betas")
    center, d1, d2 = _check_plane(center, d1, d2)
    out = np.empty((betas.shape[0], alphas.shape[0]))
    for i, beta in enumerate(betas):
        for j, alpha in enumerate(alphas):
            theta = center + alpha * d1 + beta * d2
            if single_loss is None:
                out[i, j] = model.loss_many(theta[None, :], X, y)[0]
            else:
                out[i, j] = single_loss(model.unflatten(theta), X, y)
    return out


def pca_landscape(model, X, y, path, resolution: int = 51, margin: float = 0.25,
                  center=None, chunk: int = DEFAULT_CHUNK) -> Landscape:
    """The seed's PCA loss landscape of one training path.

    path: (T+1, p) flat parameters (see flatten_path). PCA directions of the
    path (see pca_directions for center), the path projected on their plane,
    a resolution x resolution grid covering it (axes_around with margin), the
    grid's losses, and the losses at the path's points and at their projections.
    """
    d1, d2, ratio, center = pca_directions(path, center)
    coords = project(path, center, d1, d2)
    alphas, betas = axes_around(coords, resolution, margin)
    loss = grid_losses(model, X, y, center, d1, d2, alphas, betas, chunk)
    path_loss = losses_at(model, X, y, np.asarray(path, dtype=float), chunk)
    plane_loss = losses_at(model, X, y, reconstruct(coords, center, d1, d2), chunk)
    return Landscape(alphas, betas, loss, center, d1, d2, coords, path_loss, plane_loss, ratio)


# --------------------------------------------------------------------------
# How convex does a slice look?
# --------------------------------------------------------------------------


def convexity_measure(Z, rel_tol: float = 1e-6) -> float:
    """Share of interior grid points where the slice curves downwards.

    Z: (nb, na) losses on a grid with even spacing along each axis, finite,
    at least 3 x 3. At each interior point the second difference

        Z[p + s] - 2 Z[p] + Z[p - s]

    is taken along the four grid lines through it: s = (0, 1), (1, 0), (1, 1)
    and (1, -1). A point counts as non-convex when one of them is below
    -rel_tol * (max Z - min Z). Returns the share of such points, in [0, 1]:
    0 for every convex function (even with kinks, like the hinge loss: a
    convex function is convex along every line), 1 for a saddle such as
    α² - β² everywhere. Unlike the eigenvalues of a finite-difference Hessian,
    this test never calls a convex slice non-convex, and its value does not
    depend on the grid spacing or on the loss' scale and offset. Limits: it
    sees negative curvature only along those four lines, and a flat slice
    (e.g. a network whose relu units all died) counts as convex.
    """
    Z = _as_float_array(Z, "Z")
    if Z.ndim != 2 or min(Z.shape) < 3:
        raise ValueError(f"Z must be a grid of at least 3 x 3 values, got shape {Z.shape}")
    if not np.all(np.isfinite(Z)):
        raise ValueError("Z contains NaN or inf")
    rel_tol = float(rel_tol)
    if not 0.0 <= rel_tol < 1.0:
        raise ValueError(f"rel_tol must be in [0, 1), got {rel_tol!r}")
    mid = Z[1:-1, 1:-1]
    second = np.stack([
        Z[1:-1, 2:] + Z[1:-1, :-2] - 2 * mid,     # along α
        Z[2:, 1:-1] + Z[:-2, 1:-1] - 2 * mid,     # along β
        Z[2:, 2:] + Z[:-2, :-2] - 2 * mid,        # along α + β
        Z[2:, :-2] + Z[:-2, 2:] - 2 * mid,        # along α - β
    ])
    # rounding in Z is about eps * |Z|, with the eps of float32 since an MLP's
    # grid is evaluated in single precision; it must never count as curvature
    tol = rel_tol * float(Z.max() - Z.min()) + 16 * np.finfo(np.float32).eps * float(np.abs(Z).max())
    return float(np.mean(second.min(axis=0) < -tol))


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------


def _number(v: float) -> str:
    """Shortest text that reads back as the same float ('nan', 'inf', '-inf' for those)."""
    return repr(float(v))


def _check_export(alphas, betas, loss, path, path_loss):
    alphas, betas = check_axis(alphas, "alphas"), check_axis(betas, "betas")
    loss = _as_float_array(loss, "loss")
    if loss.shape != (betas.shape[0], alphas.shape[0]):
        raise ValueError(f"loss must have shape ({betas.shape[0]}, {alphas.shape[0]}), got {loss.shape}")
    if path is None:
        if path_loss is not None:
            raise ValueError("path_loss needs a path")
        return alphas, betas, loss, None, None
    path = _as_float_array(path, "path")
    if path.ndim != 2 or path.shape[1] != 2 or not 1 <= path.shape[0] <= MAX_PATH_POINTS:
        raise ValueError(f"path must have shape (T+1, 2) with 1..{MAX_PATH_POINTS} points (MAX_PATH_POINTS), "
                         f"got {path.shape}")
    if not np.all(np.isfinite(path)):
        raise ValueError("path contains NaN or inf")
    if path_loss is not None:
        path_loss = _as_float_array(path_loss, "path_loss")
        if path_loss.shape != (path.shape[0],):
            raise ValueError(f"path_loss must have shape ({path.shape[0]},), got {path_loss.shape}")
    return alphas, betas, loss, path, path_loss


def to_csv(alphas, betas, loss, path=None, path_loss=None) -> str:
    """Surface and path as one CSV table (text), a point cloud.

    Columns kind,step,alpha,beta,loss. One "surface" row per grid point
    (β-major, step empty), then one "path" row per path point (step 0..T;
    loss empty without path_loss). alphas (na,), betas (nb,), loss (nb, na);
    path (T+1, 2) plane coordinates; path_loss (T+1,). Non-finite losses are
    written nan, inf or -inf.
    """
    alphas, betas, loss, path, path_loss = _check_export(alphas, betas, loss, path, path_loss)
    out = io.StringIO()
    out.write("kind,step,alpha,beta,loss\n")
    for i, beta in enumerate(betas):
        for j, alpha in enumerate(alphas):
            out.write(f"surface,,{_number(alpha)},{_number(beta)},{_number(loss[i, j])}\n")
    if path is not None:
        for t, (a, b) in enumerate(path):
            value = "" if path_loss is None else _number(path_loss[t])
            out.write(f"path,{t},{_number(a)},{_number(b)},{value}\n")
    return out.getvalue()


def _json_value(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"meta values must be numbers, strings or lists, got {type(o).__name__}")


def to_json(alphas, betas, loss, path=None, path_loss=None, meta: dict[str, Any] | None = None) -> str:
    """Surface and path as a JSON document (text).

    {"alphas": [na], "betas": [nb], "loss": [nb rows of na],
     "path": {"alpha": [T+1], "beta": [T+1], "loss": [T+1] or null} or null,
     "meta": {...}}
    loss[i][j] belongs to (alphas[j], betas[i]). Non-finite numbers become
    null (JSON has no NaN). meta: extra plain values, e.g.
    {"directions": "pca", "explained_variance_ratio": [0.97, 0.02]}.
    """
    alphas, betas, loss, path, path_loss = _check_export(alphas, betas, loss, path, path_loss)
    document = {
        "alphas": alphas.tolist(),
        "betas": betas.tolist(),
        "loss": [[_json_value(v) for v in row] for row in loss],
        "path": None if path is None else {
            "alpha": path[:, 0].tolist(),
            "beta": path[:, 1].tolist(),
            "loss": None if path_loss is None else [_json_value(v) for v in path_loss],
        },
        "meta": dict(meta or {}),
    }
    return json.dumps(document, default=_json_default, allow_nan=False)
