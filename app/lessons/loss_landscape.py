"""The loss-landscape lesson's experiments: problems, training paths and slices of their loss.

Pure functions over app.ml.landscape (directions, projection, batched grids,
convexity, export): scalar settings in, plain dicts of arrays out. The spiral
networks are the decision-boundary lesson's runs, so both lessons show the
same networks. Besides the slices of one run: the optimizers at every step
size (race_sweep), seed 001's three choices of a plane (direction_planes), the
PCA plane through the last point or the mean (centrings), seed 002's two
parameters that moved most in a network trained on images of digits
(digit_landscapes), seed 002's ball that switches slices (switching_ball) and
the thin deep network with and without skip connections (skip_landscapes).
Every function raises ValueError, naming the limit, for a setting it cannot use.
"""

from __future__ import annotations

import math

import numpy as np

from app.lessons import decision_boundaries as spirals
from app.lessons.decision_boundaries import width_depth_run
from app.ml import datasets, decision_runs, optim, train
from app.ml import landscape as ls
from app.ml.linear import LogisticRegression
from app.ml.mlp import MLP
from app.ml.svm import LinearSVM

PATH_POINTS = 401        # points of a path that are sliced and drawn (longer paths are thinned evenly)
RESOLUTION = 51          # grid points per axis of the narrated steps
MIN_RESOLUTION = 11      # grid points per axis in free play, at least
MAX_RESOLUTION = 81      # ... and at most (81 x 81 = 6,561 losses)
MAX_STEPS = 500          # training steps of a run
MIN_EXTENT = 0.1         # the grid's extent: at least this many times the path's span
MAX_EXTENT = 10.0        # ... and at most
TRACED_PARAMETERS = 64   # every parameter's trace is kept for models this small

#: The spiral networks: key -> (hidden layers, neurons per layer).
NETS = {"1x5": (1, 5), "1x20": (1, 20), "5x5": (5, 5), "5x20": (5, 20), "10x5": (10, 5)}
MODELS = ("logistic", "svm", *(f"mlp-{key}" for key in NETS))
DATA = ("iris", "breast-cancer", *datasets.DATASETS_2D)
DIRECTIONS = ("pca", "random", "top")
#: The runs of steps 2 to 4: (model, data, optimizer, learning rate, steps, seed).
CASE_RUNS = {"svm": ("svm", "breast-cancer", "sgd", 0.01, 300, 0),
             "logistic": ("logistic", "iris", "sgd", 0.1, 300, 0)}
#: Step 6: three optimizers (name, learning rate) from one start on one plane of fixed directions.
RACE = (("sgd", 0.1), ("momentum", 0.1), ("adam", 0.05))
RACE_PROBLEM = ("logistic", "iris", 200, 0)     # model, data, steps, seed
RACE_DIRECTION_SEED = 0
#: Step 6's step sizes swept for each optimizer: the best of these, and equal effective steps.
RACE_RATES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
#: The run whose plane is chosen three ways, and whose PCA plane is centred two ways:
#: the decision-boundary lesson's 5 × 20 network (same data, same start, every epoch kept).
DIRECTIONS_RUN = ("mlp-5x20", "spiral3", "adam", 0.01, 200)
#: The ball that switches landscapes (seed 002): logistic regression on Iris, slices through
#: the two parameters whose slope is steepest where the ball is, gradient descent on each slice.
BALL_PROBLEM = ("logistic", "iris")
BALL_SLICES = 6          # landscapes the ball rolls through
BALL_LR = 1.0            # its step size on a slice
BALL_MAX_STEPS = 100     # steps on one slice, at most
BALL_SETTLED = 1e-4      # it has settled when a step lowers the loss by less than this
#: Seed 002's MNIST experiment on the 8 × 8 digits: a relu network on all 1,797 images,
#: full batch, trained by one of DIGIT_OPTIMIZERS (name -> learning rate): SGD at the
#: seed's own step size, or Adam.
DIGIT_SIZES = (64, 16, 10)
DIGIT_STEPS = 300
DIGIT_OPTIMIZERS = {"sgd": 0.5, "adam": 0.01}


# -- problems and models ------------------------------------------------------------------


def load_problem(data_key: str) -> tuple[np.ndarray, np.ndarray, tuple, tuple]:
    """X (n, d) standardized or 2-D, y (n,) int, feature names, class names.

    The 2-D sets are the training points of the decision-boundary lesson's
    runs (its default RunSpec: 600 points, noise 0.2, data seed 0, half for training).
    """
    if data_key == "iris":
        table = datasets.load_iris()
    elif data_key == "breast-cancer":
        table = datasets.load_breast_cancer()
    elif data_key in datasets.DATASETS_2D:
        _, _, data = decision_runs.build(decision_runs.RunSpec(dataset=data_key))
        classes = tuple(f"class {c}" for c in range(data.classes))
        return data.X_train, data.y_train, ("x₁", "x₂"), classes
    else:
        raise ValueError(f"unknown data set {str(data_key)[:40]!r}; choose one of {', '.join(DATA)}")
    X, _, _ = datasets.standardize(table.X)
    return X, table.y, table.feature_names, table.class_names


def build_model(model_key: str, X: np.ndarray, classes: tuple):
    """The model `model_key` sized for X (n, d) and len(classes) classes."""
    d, c = X.shape[1], len(classes)
    if model_key == "logistic":
        return LogisticRegression(d, c, init_scale=0.5)
    if model_key == "svm":
        if c != 2:
            raise ValueError(f"the linear SVM separates two classes, and this data has {c}; "
                             "choose breast cancer, circles, XOR, two Gaussians or the 2-arm spiral")
        return LinearSVM(d, l2=0.01)
    if isinstance(model_key, str) and model_key.startswith("mlp-") and model_key[4:] in NETS:
        layers, width = NETS[model_key[4:]]
        return MLP((d, *[width] * layers, c))
    raise ValueError(f"unknown model {str(model_key)[:40]!r}; choose one of {', '.join(MODELS)}")


def parameter_names(model, features: tuple, classes: tuple) -> list[str]:
    """A readable name for every entry of model.flatten(params)."""
    features = tuple(f.removesuffix("_cm").replace("_", " ") for f in features)
    if isinstance(model, LogisticRegression):
        return [f"w[{f}, {c}]" for f in features for c in classes] + [f"b[{c}]" for c in classes]
    if isinstance(model, LinearSVM):
        return [f"w[{f}]" for f in features] + ["b"]
    names = []
    for name, shape in model.shapes().items():
        if len(shape) == 2:
            names += [f"{name}[{i},{j}]" for i in range(shape[0]) for j in range(shape[1])]
        else:
            names += [f"{name}[{j}]" for j in range(shape[0])]
    return names


def thin(count: int, limit: int) -> np.ndarray:
    """At most `limit` evenly spread indices into 0..count-1, first and last included."""
    return np.unique(np.linspace(0, count - 1, min(count, limit)).round().astype(int))


def _check_number(name: str, value, low: float, high: float) -> float:
    """`value` as a float in [low, high]; ValueError naming the limits otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}, got {str(value)[:40]}")
    return float(value)


def _check_int(name: str, value, low: int, high: int) -> int:
    """`value` as an int in [low, high]; ValueError naming the limits otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number from {low:,} to {high:,}, got {str(value)[:40]}")
    return int(value)


# -- one run and a slice through it -------------------------------------------------------


def training_path(model_key: str, data_key: str, optimizer: str, lr: float, steps: int, seed: int) -> dict:
    """One full-batch run of at most MAX_STEPS steps.

    Returns path (T+1, p) flat parameters, loss (T+1,) the mean loss at each,
    message (why training stopped early, or "").
    """
    _check_int("steps", steps, 1, MAX_STEPS)
    X, y, _, classes = load_problem(data_key)
    model = build_model(model_key, X, classes)
    history = train.run(model, optim.make(optimizer, lr=lr), (X, y), steps, seed)
    path = ls.flatten_path(model, history.params)
    final = ls.losses_at(model, X, y, path[-1:])
    return {"path": path, "loss": np.append(history.loss, final), "message": history.message}


def landscape_slice(run: dict, model_key: str, data_key: str, directions: str, resolution: int,
                    extent: float, seed: int) -> dict:
    """A run's path (see training_path; at most PATH_POINTS of its points, evenly
    spread) and the loss on a plane through its last point.

    directions: "pca", the path's principal plane; "random", filter-normalized
    directions drawn with `seed`; "top", the axes of the two parameters that
    moved most. resolution: MIN_RESOLUTION..MAX_RESOLUTION grid points per
    axis; extent: MIN_EXTENT..MAX_EXTENT, the grid's size as a multiple of
    the span that covers the path and the origin with a margin.

    Returns alphas (na,), betas (nb,) as shown (for "top" the parameters' own
    values), loss (nb, na), steps (k,) the step of each kept path point,
    coords (k, 2), path_loss (k,) the model's loss there, plane_loss (k,) the
    surface's height under it, ratio (2,) explained variance or None, top
    (i, j) or None, convexity (share of non-convex grid points, None if the
    grid has non-finite losses), traces (k, p) or None, names (p,), n_params,
    steps_done, message (why training stopped early, or "").
    """
    if directions not in DIRECTIONS:
        raise ValueError(f"unknown directions {str(directions)[:40]!r}; choose one of {', '.join(DIRECTIONS)}")
    resolution = _check_int("resolution", resolution, MIN_RESOLUTION, MAX_RESOLUTION)
    extent = _check_number("extent", extent, MIN_EXTENT, MAX_EXTENT)
    path, message = run["path"], run["message"]
    if len(path) < 2:
        raise ValueError(f"{message or 'the run stopped at once'}, so there is no path to slice; "
                         "try a smaller learning rate")
    X, y, features, classes = load_problem(data_key)
    model = build_model(model_key, X, classes)
    keep = thin(len(path), PATH_POINTS)
    try:
        plane = _slice(model, X, y, path[keep], directions, resolution, extent, seed)
    except ValueError as error:
        if message:
            raise ValueError(f"training {message}, and the parameters before that are too far out to "
                             f"draw ({error}); try a smaller learning rate") from None
        raise
    return {**plane, "steps": keep, "path_loss": run["loss"][keep],
            "traces": path[keep] if path.shape[1] <= TRACED_PARAMETERS else None,
            "names": parameter_names(model, features, classes), "n_params": int(path.shape[1]),
            "steps_done": int(keep[-1]), "message": message}


def _slice(model, X, y, path: np.ndarray, directions: str, resolution: int, extent: float, seed: int) -> dict:
    """landscape_slice's plane and grid for a (thinned) path (k, p)."""
    ratio, top, offset = None, None, np.zeros(2)
    if directions == "pca":
        d1, d2, ratio, center = ls.pca_directions(path)
    elif directions == "random":
        center = path[-1]
        d1, d2 = ls.filter_normalized_directions(model, model.unflatten(center), seed=seed)
    else:
        d1, d2, top = ls.top_moving_directions(path)
        center = path[-1]
        offset = center[list(top)]
    coords = ls.project(path, center, d1, d2)
    alphas, betas = ls.axes_around(coords, resolution, 0.25, 1.0 if directions == "random" else None)
    alphas, betas = alphas * extent, betas * extent
    Z = ls.grid_losses(model, X, y, center, d1, d2, alphas, betas)
    return {
        "alphas": alphas + offset[0], "betas": betas + offset[1], "loss": Z, "coords": coords + offset,
        "plane_loss": ls.losses_at(model, X, y, ls.reconstruct(coords, center, d1, d2)),
        "ratio": ratio, "top": top, "convexity": ls.convexity_measure(Z) if np.all(np.isfinite(Z)) else None,
    }


# -- the narrated steps' experiments ------------------------------------------------------


def feature_landscape(steps: int = 150, lr: float = 0.5, seed: int = 2, resolution: int = RESOLUTION) -> dict:
    """Step 1: Iris versicolor vs virginica, four measurements reduced to two
    PCA features, and logistic regression on them: p = σ(w₁x₁ + w₂x₂ + b).

    The two-class softmax of LogisticRegression depends on its weights only
    through w = W[:, 1] - W[:, 0] and b = b[1] - b[0], so the loss over the
    plane (w₁, w₂) is a slice of the model's parameter space through the
    final bias. Returns F (100, 2), y (100,), ratio (2,) of the data's
    variance, alphas, betas, loss (the surface over w), w (k, 2), b (k,),
    steps (k,), path_loss (k,), plane_loss (k,), message.
    """
    _check_int("steps", steps, 1, MAX_STEPS)
    iris = datasets.load_iris()
    keep = iris.y > 0
    X, _, _ = datasets.standardize(iris.X[keep])
    y = iris.y[keep] - 1
    mean = X.mean(axis=0)
    d1, d2, ratio, _ = ls.pca_directions(X, center=mean)
    F = ls.project(X, mean, d1, d2)
    # The sign of a principal component is arbitrary: make virginica the high end of both.
    F *= np.where(F[y == 1].mean(axis=0) >= F[y == 0].mean(axis=0), 1.0, -1.0)
    model = LogisticRegression(2, 2, init_scale=1.5)
    history = train.run(model, optim.sgd(lr=lr), (F, y), steps, seed)
    W, b = history.params["W"], history.params["b"]
    w = W[:, :, 1] - W[:, :, 0]                  # (T+1, 2)
    bias = b[:, 1] - b[:, 0]                     # (T+1,)
    # The plane W = [[0, α], [0, β]], b = [0, b_T]: its point (α, β) is the model with w = (α, β).
    center = model.flatten({"W": np.zeros((2, 2)), "b": np.array([0.0, bias[-1]])})
    e1 = model.flatten({"W": np.array([[0.0, 1.0], [0.0, 0.0]]), "b": np.zeros(2)})
    e2 = model.flatten({"W": np.array([[0.0, 0.0], [0.0, 1.0]]), "b": np.zeros(2)})
    alphas, betas = ls.axes_around(w, resolution, 0.2)
    Z = ls.grid_losses(model, F, y, center, e1, e2, alphas, betas)
    shown = thin(len(w), PATH_POINTS)
    path = ls.flatten_path(model, history.params)
    path_loss = ls.losses_at(model, F, y, path[shown])
    plane_loss = ls.losses_at(model, F, y, ls.reconstruct(w[shown], center, e1, e2))
    return {"F": F, "y": y, "ratio": ratio, "alphas": alphas, "betas": betas, "loss": Z,
            "w": w[shown], "b": bias[shown], "steps": shown, "path_loss": path_loss, "plane_loss": plane_loss,
            "message": history.message}


def spiral_net(layers: int, width: int, seed: int = 0, resolution: int = RESOLUTION) -> dict:
    """Step 5: the decision-boundary lesson's spiral run of a layers × width
    network (with the parameter path kept) and its PCA landscape.

    Returns the run's frame_epochs (F,), xs, grid_class and grid_confidence
    (F, R, R), X_train, y_train, the landscape's alphas, betas, loss,
    coords (F, 2), path_loss, plane_loss, ratio (2,), convexity, final_loss,
    accuracy (final), n_params, message.
    """
    run = width_depth_run(layers, width, seed, keep_path=True)
    model, _, data = decision_runs.build(decision_runs.width_depth_spec(layers, width, seed, keep_path=True))
    land = ls.pca_landscape(model, data.X_train, data.y_train, run["path"], resolution)
    return {
        "frame_epochs": run["frame_epochs"], "xs": run["xs"], "grid_class": run["grid_class"],
        "grid_confidence": run["grid_confidence"], "X_train": data.X_train, "y_train": data.y_train,
        "alphas": land.alphas, "betas": land.betas, "loss": land.loss, "coords": land.path,
        "path_loss": land.path_loss, "plane_loss": land.path_plane_loss, "ratio": land.explained_variance_ratio,
        "convexity": ls.convexity_measure(land.loss), "final_loss": float(run["loss"][-1]),
        "accuracy": float(run["accuracy"][-1]), "n_params": int(model.n_params), "message": run["message"],
    }


def variance_on_plane(path: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> float:
    """Share of a path's variance (T+1, p) that lies along orthonormal d1, d2 (p,)."""
    coords = ls.project(path, path.mean(axis=0), d1, d2)
    total = float(path.var(axis=0).sum())
    return float(coords.var(axis=0).sum()) / total if total > 0 else 0.0


def optimizer_race(resolution: int = RESOLUTION) -> dict:
    """Step 6: RACE's optimizers from one start on RACE_PROBLEM, and one plane
    of fixed filter-normalized directions through the start.

    Returns alphas, betas, loss; runs: per optimizer its name, lr, steps (k,),
    coords (k, 2), path_loss (k,), plane_loss (k,), seen (the share of its
    travel θ_T - θ_0 that lies in the plane); overlap[i][j]: share of run j's
    variance on run i's own PCA plane; n_params.
    """
    model_key, data_key, steps, seed = RACE_PROBLEM
    X, y, _, classes = load_problem(data_key)
    model = build_model(model_key, X, classes)
    start = model.init(seed)
    paths = [ls.flatten_path(model, train.run(model, optim.make(name, lr=lr), (X, y), steps, seed,
                                              params=start).params)
             for name, lr in RACE]
    center = paths[0][0]
    d1, d2 = ls.filter_normalized_directions(model, start, seed=RACE_DIRECTION_SEED)
    coords = [ls.project(p, center, d1, d2) for p in paths]
    alphas, betas = ls.axes_around(np.concatenate(coords), resolution, 0.25)
    Z = ls.grid_losses(model, X, y, center, d1, d2, alphas, betas)
    planes = [ls.pca_directions(p)[:2] for p in paths]
    runs = []
    for (name, lr), path, c in zip(RACE, paths, coords):
        keep = thin(len(path), PATH_POINTS)
        travel = path[-1] - path[0]
        in_plane = ls.reconstruct(c[-1], center, d1, d2) - center
        runs.append({
            "name": name, "lr": lr, "steps": keep, "coords": c[keep],
            "path_loss": ls.losses_at(model, X, y, path[keep]),
            "plane_loss": ls.losses_at(model, X, y, ls.reconstruct(c[keep], center, d1, d2)),
            "seen": float(np.linalg.norm(in_plane) / max(np.linalg.norm(travel), 1e-300)),
        })
    overlap = [[variance_on_plane(p, *plane) for p in paths] for plane in planes]
    return {"alphas": alphas, "betas": betas, "loss": Z, "runs": runs, "overlap": overlap,
            "n_params": int(paths[0].shape[1])}


def race_sweep(rates: tuple = RACE_RATES) -> dict:
    """Step 6's optimizers at every step size of `rates`, from the same start for the same steps.

    Returns {name: (len(rates),) final loss}, nan where training diverged.
    """
    model_key, data_key, steps, seed = RACE_PROBLEM
    X, y, _, classes = load_problem(data_key)
    model = build_model(model_key, X, classes)
    start = model.init(seed)
    finals = {}
    for name, _ in RACE:
        values = []
        for lr in rates:
            history = train.run(model, optim.make(name, lr=lr), (X, y), steps, seed, params=start)
            end = ls.flatten_path(model, history.params)[-1:]
            values.append(math.nan if history.message else float(ls.losses_at(model, X, y, end)[0]))
        finals[name] = np.array(values)
    return finals


# -- which two directions: random, start to end, PCA ------------------------------------


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _orthonormal(d1: np.ndarray, d2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gram-Schmidt: d1 scaled to length 1, and d2 without its part along d1, length 1."""
    d1 = _unit(d1)
    return d1, _unit(d2 - np.dot(d1, d2) * d1)


def plane_directions(model, path: np.ndarray, kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two orthonormal directions (p,) for a path (T+1, p).

    kind "random": two filter-normalized random directions (Li et al.) drawn with
    `seed` at the last point, made orthonormal; "start-end": the unit vector from
    θ_0 to θ_T and the first of those random directions, made orthogonal to it
    (seed 001's second choice); "pca": the path's two principal components.
    """
    if kind == "pca":
        return ls.pca_directions(path)[:2]
    r1, r2 = ls.filter_normalized_directions(model, model.unflatten(path[-1]), seed=seed)
    if kind == "random":
        return _orthonormal(r1, r2)
    if kind == "start-end":
        return _orthonormal(path[-1] - path[0], r1)
    raise ValueError(f"unknown directions {str(kind)[:40]!r}; choose random, start-end or pca")


def in_plane_shares(path: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> tuple[float, float]:
    """The share of a path's variance (T+1, p) in the plane of orthonormal d1, d2, and the
    share of that in-plane variance along d1 (near 1: the path's shadow is a straight line)."""
    coords = ls.project(path, path.mean(axis=0), d1, d2)
    spread = coords.var(axis=0)
    return variance_on_plane(path, d1, d2), float(spread[0] / spread.sum()) if spread.sum() > 0 else 1.0


PLANES = ("random", "start-end", "pca")


def direction_shares(seed: int = 0) -> dict:
    """For DIRECTIONS_RUN with `seed`: per kind of PLANES, (share of the path's variance in
    the plane, share of that along its first direction); see in_plane_shares."""
    model_key, data_key, optimizer, lr, steps = DIRECTIONS_RUN
    path = training_path(model_key, data_key, optimizer, lr, steps, seed)["path"]
    X, _, _, classes = load_problem(data_key)
    model = build_model(model_key, X, classes)
    return {kind: in_plane_shares(path, *plane_directions(model, path, kind, seed)) for kind in PLANES}


def direction_planes(seed: int = 0, resolution: int = 41) -> dict:
    """Seed 001's three choices of a plane for one training path (DIRECTIONS_RUN with `seed`).

    Returns steps (k,), path_loss (k,), n_params, final_loss, and planes: per
    kind of PLANES its kind, alphas, betas, loss (the slice through θ_T), coords
    (k, 2), plane_loss (k,), share (of the path's variance in the plane), along_first
    (of the in-plane variance along d1) and span (the path's extent along each axis).
    """
    model_key, data_key, optimizer, lr, steps = DIRECTIONS_RUN
    run = training_path(model_key, data_key, optimizer, lr, steps, seed)
    X, y, _, classes = load_problem(data_key)
    model = build_model(model_key, X, classes)
    path, keep = run["path"], thin(len(run["path"]), PATH_POINTS)
    planes = []
    for kind in PLANES:
        d1, d2 = plane_directions(model, path, kind, seed)
        coords = ls.project(path[keep], path[-1], d1, d2)
        alphas, betas = ls.axes_around(coords, resolution, 0.25)
        share, along_first = in_plane_shares(path, d1, d2)
        planes.append({
            "kind": kind, "alphas": alphas, "betas": betas,
            "loss": ls.grid_losses(model, X, y, path[-1], d1, d2, alphas, betas), "coords": coords,
            "plane_loss": ls.losses_at(model, X, y, ls.reconstruct(coords, path[-1], d1, d2)),
            "share": share, "along_first": along_first, "span": np.ptp(coords, axis=0),
        })
    return {"steps": keep, "path_loss": run["loss"][keep], "n_params": int(path.shape[1]),
            "final_loss": float(run["loss"][-1]), "planes": planes}


# -- a PCA plane centred on the last point or on the path's mean ---------------------------


def centrings(model_key: str = DIRECTIONS_RUN[0], data_key: str = DIRECTIONS_RUN[1],
              optimizer: str = DIRECTIONS_RUN[2], lr: float = DIRECTIONS_RUN[3], steps: int = DIRECTIONS_RUN[4],
              seed: int = 0, resolution: int = 41) -> dict:
    """One run's PCA plane through its last point θ_T (Li et al., the lesson) and through the
    path's mean θ̄ (seed 002's inverse PCA). Same directions, so the two planes are parallel.

    The grids cover the same part of the path: the mean-centred grid is the other one
    shifted by `shift`, the coordinates of θ_T on the mean-centred plane. Returns steps
    (k,), path_loss (k,), final ({alphas, betas, loss, coords, plane_loss}), mean (the same),
    gap (the distance between the planes: how far θ_T lies off the mean-centred one),
    length (|θ_T - θ_0|), most (the largest difference of the two surfaces, cell by cell),
    ratio (2,), n_params.
    """
    run = training_path(model_key, data_key, optimizer, lr, steps, seed)
    X, y, _, classes = load_problem(data_key)
    model = build_model(model_key, X, classes)
    path, keep = run["path"], thin(len(run["path"]), PATH_POINTS)
    d1, d2, ratio, _ = ls.pca_directions(path)
    mean = path.mean(axis=0)
    shift = ls.project(path[-1], mean, d1, d2)
    coords = ls.project(path[keep], path[-1], d1, d2)
    alphas, betas = ls.axes_around(coords, resolution, 0.25)
    planes = {}
    for name, center, offset in (("final", path[-1], np.zeros(2)), ("mean", mean, shift)):
        c = coords + offset
        planes[name] = {"alphas": alphas + offset[0], "betas": betas + offset[1], "coords": c,
                        "loss": ls.grid_losses(model, X, y, center, d1, d2, alphas + offset[0], betas + offset[1]),
                        "plane_loss": ls.losses_at(model, X, y, ls.reconstruct(c, center, d1, d2))}
    return {"steps": keep, "path_loss": run["loss"][keep], **planes,
            "gap": float(ls.projection_residual(path[-1], mean, d1, d2)[0]),
            "length": float(np.linalg.norm(path[-1] - path[0])),
            "most": float(np.abs(planes["final"]["loss"] - planes["mean"]["loss"]).max()),
            "ratio": ratio, "n_params": int(path.shape[1])}


# -- images: the two parameters that moved most in a digit network --------------------------


def digit_problem() -> tuple[np.ndarray, np.ndarray, MLP, list[str]]:
    """X (1797, 64) pixels in [0, 1], y (1797,) digits, the DIGIT_SIZES relu network and a
    name for each of its parameters: "pixel r,c → hidden unit h", "bias of hidden unit h",
    "hidden unit h → digit d", "bias of digit d" (rows, columns and units counted from 1)."""
    X, y, pixels, digits = datasets.load_digits()
    model = MLP(DIGIT_SIZES)
    hidden = range(1, DIGIT_SIZES[1] + 1)
    names = ([f"{pixel} → hidden unit {h}" for pixel in pixels for h in hidden]
             + [f"bias of hidden unit {h}" for h in hidden]
             + [f"hidden unit {h} → digit {d}" for h in hidden for d in digits]
             + [f"bias of digit {d}" for d in digits])
    return X, y, model, names


def digit_run(optimizer: str = "sgd", seed: int = 0) -> dict:
    """The DIGIT_SIZES network trained on the digits for DIGIT_STEPS full-batch steps by
    `optimizer` (a key of DIGIT_OPTIMIZERS, at its learning rate) from the starting weights of `seed`.

    Returns path (T+1, p), loss (T+1,) the mean loss at each point, accuracy (on the
    1,797 training images, at the end) and message (why training stopped early, or "").
    """
    if optimizer not in DIGIT_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {str(optimizer)[:40]!r}; choose one of {', '.join(DIGIT_OPTIMIZERS)}")
    seed = _check_int("seed", seed, 0, 10_000)
    X, y, model, _ = digit_problem()
    history = train.run(model, optim.make(optimizer, lr=DIGIT_OPTIMIZERS[optimizer]), (X, y), DIGIT_STEPS, seed)
    path = ls.flatten_path(model, history.params)
    accuracy = float(np.mean(model.predict(model.unflatten(path[-1]), X) == y))
    return {"path": path, "loss": np.append(history.loss, ls.losses_at(model, X, y, path[-1:])),
            "accuracy": accuracy, "message": history.message}


def _locate(model: MLP, k: int) -> tuple[str, int | None, int]:
    """Parameter k of a one-hidden-layer network's flat vector as (array, row, column):
    ("W0", pixel, unit), ("b0", None, unit), ("W1", unit, class) or ("b1", None, class)."""
    d, h, c = model.layer_sizes
    for name, rows, columns in (("W0", d, h), ("b0", None, h), ("W1", h, c), ("b1", None, c)):
        size = (rows or 1) * columns
        if k < size:
            return (name, k // columns, k % columns) if rows else (name, None, k)
        k -= size
    raise ValueError("no such parameter")


def two_parameter_losses(model: MLP, X: np.ndarray, y: np.ndarray, center: np.ndarray, pair: tuple[int, int],
                         values: np.ndarray) -> np.ndarray:
    """The loss of a one-hidden-layer relu network with softmax cross-entropy at `center`
    (p,) with parameter pair[0] set to values[:, 0] and pair[1] to values[:, 1]: (g,).

    The same numbers as ls.losses_at of those g parameter vectors (to float rounding),
    without the whole network at every point: the hidden units that the two parameters
    feed get new activations, and the scores change by rank-one terms,
    S' = S + ΔA W1 + A' ΔW1 + Δb1.
    """
    if len(model.layer_sizes) != 3 or model.activation != "relu" or model.loss != "softmax_ce" \
            or model.l1 or model.l2 or model.residual:
        raise ValueError("two_parameter_losses needs a plain relu network with one hidden layer")
    i, j = pair
    if i == j:
        raise ValueError("the two parameters must differ")
    values = np.atleast_2d(np.asarray(values, dtype=float))
    params = model.unflatten(center)
    W0, b0, W1, b1 = params["W0"], params["b0"], params["W1"], params["b1"]
    Z = X @ W0 + b0
    A = np.maximum(Z, 0.0)
    S = A @ W1 + b1
    moves = [(_locate(model, k), values[:, m] - center[k]) for m, k in enumerate(pair)]
    units = sorted({column for (name, _, column), _ in moves if name in ("W0", "b0")})
    n, rows = len(y), np.arange(len(y))
    out = np.empty(len(values))
    block = max(1, 2**18 // (n * S.shape[1]))            # grid points per block: 2 MB of scores, in cache
    for start in range(0, len(values), block):
        part = slice(start, start + block)
        g = len(values[part])
        scores = np.empty((S.shape[1], g, n))            # class first: sums over classes add whole rows
        scores[:] = S.T[:, None, :]
        hidden = {}
        for unit in units:
            z = np.empty((g, n))
            z[:] = Z[:, unit]
            for (name, row, column), delta in moves:
                if column == unit and name == "W0":
                    z += delta[part, None] * X[:, row]
                elif column == unit and name == "b0":
                    z += delta[part, None]
            hidden[unit] = np.maximum(z, 0.0, out=z)
            scores += W1[unit][:, None, None] * (z - A[:, unit])
        for (name, row, column), delta in moves:
            if name == "W1":
                scores[column] += delta[part, None] * hidden.get(row, A[:, row])
            elif name == "b1":
                scores[column] += delta[part, None]
        right = scores[y, :, rows].T                      # (g, n): the score of each image's digit
        top = scores.max(axis=0)
        scores -= top
        np.exp(scores, out=scores)
        out[part] = (top + np.log(scores.sum(axis=0)) - right).mean(axis=1)
    return out


def two_parameter_facts(run: dict) -> dict:
    """What a digit run's two most-moved parameters hold, without drawing a slice (cheap
    enough for many seeds).

    top (i, j): the two parameters farthest from their start at the end, |θ_T - θ_0|
    (the lesson's ranking); moved (2,) how far; by_steps (i, j): the two with the longest
    travel, the sum of |θ_t+1 - θ_t| over the steps (the seed's ranking); share: the part
    of the path's variance in the plane of those two axes; pca: in the PCA plane (ratio
    (2,) per component); under_start: the height under the path's start of the slice through
    θ_T along the two parameters ("top") and of the PCA plane ("pca"); start_loss, final_loss.
    """
    path, loss = run["path"], run["loss"]
    _, _, top = ls.top_moving_directions(path)
    travel = np.abs(np.diff(path, axis=0)).sum(axis=0)
    by_steps = tuple(int(k) for k in np.argsort(-travel, kind="stable")[:2])
    axes = np.zeros((2, path.shape[1]))
    axes[0, top[0]] = axes[1, top[1]] = 1.0
    d1, d2, ratio, _ = ls.pca_directions(path)
    X, y, model, _ = digit_problem()
    on_pca = ls.reconstruct(ls.project(path[0], path[-1], d1, d2), path[-1], d1, d2)
    return {"top": top, "moved": np.abs(path[-1] - path[0])[list(top)], "by_steps": by_steps,
            "share": variance_on_plane(path, *axes), "pca": float(ratio.sum()), "ratio": ratio,
            "under_start": {"top": float(two_parameter_losses(model, X, y, path[-1], top, path[0][list(top)])[0]),
                            "pca": float(ls.losses_at(model, X, y, on_pca[None])[0])},
            "start_loss": float(loss[0]), "final_loss": float(loss[-1])}


DIGIT_SHOWN = 121        # points of a digit run's path that are drawn (of its DIGIT_STEPS + 1)


def two_parameter_slice(run: dict, pair: tuple[int, int], resolution: int = 41) -> dict:
    """The loss of a digit run's network over two of its parameters, the others at their trained
    values: a resolution × resolution grid that covers the two parameters' path with a margin.
    Returns alphas (na,) and betas (nb,), the two parameters' own values, and loss (nb, na)."""
    X, y, model, _ = digit_problem()
    values = run["path"][:, list(pair)]
    alphas, betas = ls.axes_around(values - values[-1], resolution, 0.25)
    alphas, betas = alphas + values[-1, 0], betas + values[-1, 1]
    grid = np.stack([g.ravel() for g in np.meshgrid(alphas, betas)], axis=1)
    loss = two_parameter_losses(model, X, y, run["path"][-1], pair, grid).reshape(len(betas), len(alphas))
    return {"alphas": alphas, "betas": betas, "loss": loss}


def digit_landscapes(optimizer: str = "sgd", seed: int = 0, resolution: int = 41) -> dict:
    """Seed 002's MNIST experiment on the digits: one run (digit_run) sliced through the two
    parameters that moved most, the others held at their trained values, and through its
    PCA plane (directions from the whole path), both planes through the trained net θ_T.

    Returns optimizer, lr, steps (k,) the DIGIT_SHOWN steps drawn, path_loss (k,),
    n_params, accuracy, message, names (p,), facts (two_parameter_facts), inked (64,) the
    images with ink in each pixel, pixels (2,) the pixel each of the two parameters starts
    from (None for the second layer or a bias); per plane "top" and "pca": alphas, betas
    (for "top" the two parameters' own values), loss (nb, na), coords (k, 2), plane_loss
    (k,) the surface under each drawn point, convexity.
    """
    resolution = _check_int("resolution", resolution, MIN_RESOLUTION, MAX_RESOLUTION)
    run = digit_run(optimizer, seed)
    X, y, model, names = digit_problem()
    path, shown = run["path"], thin(len(run["path"]), DIGIT_SHOWN)
    facts = two_parameter_facts(run)
    values = path[:, list(facts["top"])]
    planes = {"top": {**two_parameter_slice(run, facts["top"], resolution), "coords": values[shown],
                      "plane_loss": two_parameter_losses(model, X, y, path[-1], facts["top"], values[shown])}}
    d1, d2, _, _ = ls.pca_directions(path)
    coords = ls.project(path, path[-1], d1, d2)
    alphas, betas = ls.axes_around(coords, resolution, 0.25)
    planes["pca"] = {"alphas": alphas, "betas": betas, "coords": coords[shown],
                     "loss": ls.grid_losses(model, X, y, path[-1], d1, d2, alphas, betas),
                     "plane_loss": ls.losses_at(model, X, y, ls.reconstruct(coords[shown], path[-1], d1, d2))}
    for plane in planes.values():
        plane["convexity"] = ls.convexity_measure(plane["loss"])
    first_layer = DIGIT_SIZES[0] * DIGIT_SIZES[1]
    return {"optimizer": optimizer, "lr": DIGIT_OPTIMIZERS[optimizer], "steps": shown,
            "path_loss": run["loss"][shown], "n_params": model.n_params, "accuracy": run["accuracy"],
            "message": run["message"], "names": names, "facts": facts, **planes,
            "inked": np.count_nonzero(X, axis=0),
            "pixels": tuple(k // DIGIT_SIZES[1] if k < first_layer else None for k in facts["top"])}


# -- the ball that switches landscapes ------------------------------------------------------


def switching_ball(seed: int = 0, slices: int = BALL_SLICES, lr: float = BALL_LR, resolution: int = 41) -> dict:
    """Seed 002's ball: it rolls down one slice, and where it settles a new slice begins.

    On BALL_PROBLEM from the starting weights of `seed`, each slice frees the two
    parameters with the steepest slope where the ball is (the largest |∂L/∂θ_i|) and
    holds the others. The ball rolls by gradient descent on those two, step size `lr`,
    until a step lowers the loss by less than BALL_SETTLED (it has settled) or after
    BALL_MAX_STEPS steps; then the next slice goes through that point.

    Returns stages: per slice pair (i, j), names, alphas, betas (the two parameters' own
    values), loss (nb, na), coords (k, 2), heights (k,) the loss at each of the ball's
    points (it never leaves its slice), settled (bool); loss (N+1,) over all steps;
    switches (the step at which each slice begins); start, n_params; and gd (N+1,) the
    loss of gradient descent on all parameters at once, same start and step size.
    """
    slices = _check_int("slices", slices, 1, 20)
    lr = _check_number("lr", lr, 1e-4, 10.0)
    X, y, features, classes = load_problem(BALL_PROBLEM[1])
    model = build_model(BALL_PROBLEM[0], X, classes)
    names = parameter_names(model, features, classes)
    theta = model.flatten(model.init(seed))
    gradient = lambda point: model.flatten(model.loss_and_grad(model.unflatten(point), X, y)[1])   # noqa: E731
    loss_at = lambda points: ls.losses_at(model, X, y, np.atleast_2d(points))                       # noqa: E731
    losses, switches, stages = [float(loss_at(theta)[0])], [], []
    for _ in range(slices):
        switches.append(len(losses) - 1)
        i, j = (int(k) for k in np.argsort(-np.abs(gradient(theta)), kind="stable")[:2])
        points, settled = [theta[[i, j]].copy()], False
        for _ in range(BALL_MAX_STEPS):
            theta = theta.copy()
            theta[[i, j]] -= lr * gradient(theta)[[i, j]]
            points.append(theta[[i, j]].copy())
            losses.append(float(loss_at(theta)[0]))
            if losses[-2] - losses[-1] < BALL_SETTLED:
                settled = True
                break
        stages.append(_ball_slice(model, X, y, theta, (i, j), np.array(points), names, resolution, settled))
    history = train.run(model, optim.sgd(lr=lr), (X, y), len(losses) - 1, seed)
    gd = np.append(history.loss, loss_at(ls.flatten_path(model, history.params)[-1])[0])
    return {"stages": stages, "loss": np.array(losses), "switches": np.array(switches), "gd": gd,
            "start": losses[0], "n_params": model.n_params}


def _ball_slice(model, X, y, theta, pair, points, names, resolution, settled) -> dict:
    """One slice of switching_ball: the loss over parameters `pair` around the ball's points (k, 2)."""
    i, j = pair
    e_i, e_j = np.eye(len(theta))[i], np.eye(len(theta))[j]
    center = theta.copy()
    center[[i, j]] = 0.0               # the slice's point (a, b) is the model with θ_i = a, θ_j = b
    alphas, betas = ls.axes_around(points - points[-1], resolution, 0.5, 0.5)
    alphas, betas = alphas + points[-1][0], betas + points[-1][1]
    heights = ls.losses_at(model, X, y, ls.reconstruct(points, center, e_i, e_j))
    return {"pair": pair, "names": (names[i], names[j]), "alphas": alphas, "betas": betas,
            "loss": ls.grid_losses(model, X, y, center, e_i, e_j, alphas, betas), "coords": points,
            "heights": heights, "settled": settled}


# -- skip connections: the thin deep net's slice with and without them ---------------------


def skip_landscapes(seed: int = 0, resolution: int = 41) -> dict:
    """The PCA landscapes of the decision-boundary lesson's 20 × 5 network, plain and residual
    (decision_boundaries.skip_run with `seed`), each on its own path's plane.

    Returns per version ("plain", "residual"): alphas, betas, loss, coords (E+1, 2),
    path_loss, plane_loss, ratio (2,), convexity, final_loss, accuracy, n_params; and epochs.
    """
    out = {}
    for variant in ("plain", "residual"):
        run = spirals.trained_path(*spirals.SKIP_NET, seed, variant)
        model = run["model"]
        land = ls.pca_landscape(model, run["X_train"], run["y_train"], run["path"], resolution)
        out[variant] = {"alphas": land.alphas, "betas": land.betas, "loss": land.loss, "coords": land.path,
                        "path_loss": land.path_loss, "plane_loss": land.path_plane_loss,
                        "ratio": land.explained_variance_ratio, "convexity": ls.convexity_measure(land.loss),
                        "final_loss": float(run["loss"][-1]), "accuracy": run["accuracy"],
                        "n_params": int(model.n_params)}
    out["epochs"] = np.arange(len(out["plain"]["coords"]))
    return out


# -- export -------------------------------------------------------------------------------


def export_text(data: dict, kind: str) -> str:
    """A landscape as CSV or JSON (kind).

    data: alphas (na,), betas (nb,), loss (nb, na), paths [(name, coords (k, 2),
    loss (k,))], at least one, and meta (a dict, JSON only). One path: ls.to_csv;
    several: the first path's rows, then every path's rows named path-<name>.
    """
    if kind not in ("csv", "json"):
        raise ValueError(f"an export is csv or json, not {str(kind)[:20]!r}")
    if not data["paths"]:
        raise ValueError("an export needs at least one path")
    first_name, first, first_loss = data["paths"][0]
    if kind == "json":
        others = {name: {"alpha": c[:, 0].tolist(), "beta": c[:, 1].tolist(), "loss": loss.tolist()}
                  for name, c, loss in data["paths"][1:]}
        meta = dict(data["meta"], path=first_name, **({"other_paths": others} if others else {}))
        return ls.to_json(data["alphas"], data["betas"], data["loss"], first, first_loss, meta=meta)
    if len(data["paths"]) == 1:
        return ls.to_csv(data["alphas"], data["betas"], data["loss"], first, first_loss)
    text = ls.to_csv(data["alphas"], data["betas"], data["loss"])
    for name, coords, loss in data["paths"]:
        rows = ls.to_csv(data["alphas"], data["betas"], data["loss"], coords, loss).splitlines()
        text += "".join(f"path-{name}{row[4:]}\n" for row in rows if row.startswith("path,"))
    return text
