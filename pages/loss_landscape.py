"""Lesson: loss landscapes — slicing a high-dimensional loss into a surface.

Seeds: "Visualizing 3D loss landscapes for high-dimensional machine learning
models" (reduce the features, slice through the parameters that move most,
PCA of the parameters' path, a ball rolling down) and "Visualizing
optimization trajectory of neural nets" (width and depth on the 3-arm spiral,
explained variance on the axes, fixed directions to compare optimizers).

The math is app.ml.landscape's (directions, projection, batched grids,
convexity, export); the spiral runs are the decision-boundary lesson's
(app.ml.decision_runs), so both lessons show the same networks. Figures come
from components.landscape_figures. Every computation is memoized on scalar
settings; the ball rolls clientside through the step player.
"""

from __future__ import annotations

from pathlib import Path

import dash
import numpy as np
from dash import Input, Output, State, ctx, dcc, html

from app.cache import memoize
from app.ml import datasets, decision_runs, optim, train
from app.ml import landscape as ls
from app.ml.linear import LogisticRegression
from app.ml.mlp import MLP
from app.ml.svm import LinearSVM
from components import decision_figures
from components import landscape_figures as figures
from components.ids import lesson_id, setting_id
from components.lesson import lesson_shell, setting_control
from components.narration import load_steps
from components.player import animated_graph, step_player
from components.settings_schema import Schema, Setting, parse_step
from components.theme import BLACK, PURPLE, VERMILION
from pages.decision_boundaries import width_depth_run

LESSON = "loss-landscape"
STEPS = load_steps(Path(__file__).with_suffix(".md"))
STEPS_PLAY = {s.figure: s.play for s in STEPS}

MAX_FRAMES = 120         # animation frames of a run
PATH_POINTS = 401        # points of a path that are sliced and drawn (longer paths are thinned evenly)
RESOLUTION = 51          # grid points per axis of the narrated steps
MAX_STEPS = 500          # training steps in free play
MAX_RESOLUTION = 81      # grid points per axis in free play (81 x 81 = 6,561 losses)
TRACED_PARAMETERS = 64   # parameter traces are drawn for models this small
FREE_TASK_SHARE = 0.85   # free play's task: a path whose first principal component explains less

NETS = {"1x5": (1, 5), "1x20": (1, 20), "5x5": (5, 5), "5x20": (5, 20), "10x5": (10, 5)}
MODELS = {"logistic": "Logistic regression", "svm": "Linear SVM (two classes)",
          **{f"mlp-{k}": f"Network {l} × {w} (relu)" for k, (l, w) in NETS.items()}}
DATA = {
    "iris": "Iris (4 features)",
    "breast-cancer": "Breast cancer (30 features)",
    **{name: f"{spec.label} (2-D)" for name, spec in datasets.DATASETS_2D.items()},
}
DIRECTIONS = {"pca": "PCA of the path", "random": "Random (filter-normalized)",
              "top": "Two parameters that moved most"}
CONTOUR_TITLES = {"pca": "The PCA plane from above", "random": "The random plane from above",
                  "top": "The two parameters from above"}
CASES = {"svm": "Linear SVM · breast cancer (31 parameters)",
         "logistic": "Logistic regression · Iris (15 parameters)"}
#: The runs of steps 2 to 4: (model, data, optimizer, learning rate, steps, seed).
CASE_RUNS = {"svm": ("svm", "breast-cancer", "sgd", 0.01, 300, 0),
             "logistic": ("logistic", "iris", "sgd", 0.1, 300, 0)}
#: Step 6: three optimizers from one start on one plane of fixed directions.
RACE = (("sgd", "SGD", 0.1, BLACK), ("momentum", "Momentum 0.9", 0.1, VERMILION), ("adam", "Adam", 0.05, PURPLE))
RACE_PROBLEM = ("logistic", "iris", 200, 0)     # model, data, steps, seed
RACE_DIRECTION_SEED = 0

SCHEMA = Schema((
    Setting("case", "Model of steps 3 and 4", "choice", "svm", choices=tuple(CASES)),
    Setting("net", "Network of step 5", "choice", "1x5", choices=tuple(NETS)),
    Setting("model", "Model", "choice", "mlp-1x20", choices=tuple(MODELS)),
    Setting("data", "Data", "choice", "spiral3", choices=tuple(DATA)),
    Setting("optimizer", "Optimizer", "choice", "adam", choices=tuple(optim.OPTIMIZERS)),
    Setting("lr", "Learning rate", "float", 0.01, low=1e-5, high=10.0),
    Setting("steps", "Steps", "int", 200, low=2, high=MAX_STEPS),
    Setting("seed", "Seed", "int", 0, low=0, high=10_000),
    Setting("directions", "Directions", "choice", "pca", choices=tuple(DIRECTIONS)),
    Setting("resolution", "Grid points per axis", "int", 41, low=11, high=MAX_RESOLUTION),
    Setting("extent", "Grid extent", "float", 1.0, low=0.1, high=10.0),
    Setting("log", "Log-scale loss", "bool", False),
))

PAGE = dict(
    path="/loss-landscape", name="Loss landscapes", order=6, lesson=True, icon="loss-landscape.svg",
    title="Loss landscapes — Learnscape", steps=len(STEPS),
    description="A loss has as many dimensions as the model has parameters. Slice it into a surface "
                "you can see, and watch a ball roll down the optimizer's path.",
)


# --------------------------------------------------------------------------
# Problems and runs (memoized on scalars, returning plain dicts of arrays)


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
        raise ValueError(f"unknown data set {data_key!r}; choose one of {', '.join(DATA)}")
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
    if model_key.startswith("mlp-") and model_key[4:] in NETS:
        layers, width = NETS[model_key[4:]]
        return MLP((d, *[width] * layers, c))
    raise ValueError(f"unknown model {model_key!r}; choose one of {', '.join(MODELS)}")


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


@memoize()
def training_path(model_key: str, data_key: str, optimizer: str, lr: float, steps: int, seed: int) -> dict:
    """One full-batch run: path (T+1, p) flat parameters, loss (T+1,) at each, message."""
    X, y, features, classes = load_problem(data_key)
    model = build_model(model_key, X, classes)
    history = train.run(model, optim.make(optimizer, lr=lr), (X, y), steps, seed)
    path = ls.flatten_path(model, history.params)
    final = ls.losses_at(model, X, y, path[-1:])
    return {"path": path, "loss": np.append(history.loss, final), "message": history.message}


@memoize()
def landscape_slice(model_key: str, data_key: str, optimizer: str, lr: float, steps: int, seed: int,
                    directions: str, resolution: int, extent: float) -> dict:
    """A run's path (at most PATH_POINTS of its points, evenly spread) and the
    loss on a plane through its last point. directions: "pca", the path's
    principal plane; "random", filter-normalized directions drawn with the
    run's seed; "top", the axes of the two parameters that moved most.

    Returns alphas (na,), betas (nb,) as shown (for "top" the parameters'
    own values), loss (nb, na), steps (k,) the step of each drawn path point,
    coords (k, 2), path_loss (k,) the model's loss there, plane_loss (k,) the
    surface's height under it, ratio (2,) or None, top (i, j) or None,
    axis_titles, convexity (share of non-convex grid points, None if the
    grid has non-finite losses), traces (k, p) or None, names, n_params,
    message (why training stopped early, or "").
    """
    run = training_path(model_key, data_key, optimizer, lr, steps, seed)
    path = run["path"]
    if len(path) < 2:
        raise ValueError(f"{run['message'] or 'the run stopped at once'}, so there is no path to slice; "
                         "try a smaller learning rate")
    X, y, features, classes = load_problem(data_key)
    model = build_model(model_key, X, classes)
    names = parameter_names(model, features, classes)
    keep = thin(len(path), PATH_POINTS)
    path, losses = path[keep], run["loss"][keep]
    try:
        return _slice(model, X, y, names, path, losses, keep, directions, resolution, extent, seed, run["message"])
    except ValueError as error:
        if run["message"]:
            raise ValueError(f"training {run['message']}, and the parameters before that are too far out to "
                             f"draw ({error}); try a smaller learning rate") from None
        raise


def _slice(model, X, y, names, path, losses, keep, directions, resolution, extent, seed, message) -> dict:
    """landscape_slice's plane and grid for a (thinned) path: (k, p), losses (k,), keep (k,) their steps."""
    ratio, top, offset = None, None, np.zeros(2)
    if directions == "pca":
        d1, d2, ratio, center = ls.pca_directions(path)
        titles = (f"PC 1 ({figures.percent(ratio[0])} of the path)", f"PC 2 ({figures.percent(ratio[1])})")
    elif directions == "random":
        center = path[-1]
        d1, d2 = ls.filter_normalized_directions(model, model.unflatten(center), seed=seed)
        titles = ("random direction 1", "random direction 2")
    elif directions == "top":
        d1, d2, top = ls.top_moving_directions(path)
        center = path[-1]
        offset = center[list(top)]
        titles = (names[top[0]], names[top[1]])
    else:
        raise ValueError(f"unknown directions {directions!r}; choose one of {', '.join(DIRECTIONS)}")
    coords = ls.project(path, center, d1, d2)
    alphas, betas = ls.axes_around(coords, resolution, 0.25, 1.0 if directions == "random" else None)
    alphas, betas = alphas * extent, betas * extent
    Z = ls.grid_losses(model, X, y, center, d1, d2, alphas, betas)
    plane = ls.losses_at(model, X, y, ls.reconstruct(coords, center, d1, d2))
    return {
        "alphas": alphas + offset[0], "betas": betas + offset[1], "loss": Z,
        "steps": keep, "coords": coords + offset, "path_loss": losses, "plane_loss": plane,
        "ratio": ratio, "top": top, "axis_titles": titles,
        "convexity": ls.convexity_measure(Z) if np.all(np.isfinite(Z)) else None,
        "traces": path if path.shape[1] <= TRACED_PARAMETERS else None, "names": names,
        "n_params": int(path.shape[1]), "steps_done": int(keep[-1]), "message": message,
    }


@memoize()
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


@memoize()
def spiral_net(layers: int, width: int, seed: int = 0, resolution: int = RESOLUTION) -> dict:
    """Step 5: the decision-boundary lesson's spiral run of a layers × width
    network (its own cached run, with the parameter path kept) and its PCA
    landscape. Returns the run's frame_epochs (F,), xs, grid_class and
    grid_confidence (F, R, R), X_train, y_train, the landscape's alphas,
    betas, loss, coords (F, 2), path_loss, plane_loss, ratio (2,),
    convexity, final_loss, accuracy (final), n_params, message.
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


@memoize()
def optimizer_race(resolution: int = RESOLUTION) -> dict:
    """Step 6: RACE's optimizers from one start on RACE_PROBLEM, and one plane
    of fixed filter-normalized directions through the start.

    Returns alphas, betas, loss; runs: per optimizer name, label, color,
    steps (k,), coords (k, 2), path_loss (k,), plane_loss (k,), seen (the
    share of its travel θ_T - θ_0 that lies in the plane), final loss;
    overlap[i][j]: share of run j's variance on run i's own PCA plane.
    """
    model_key, data_key, steps, seed = RACE_PROBLEM
    X, y, _, classes = load_problem(data_key)
    model = build_model(model_key, X, classes)
    start = model.init(seed)
    paths = [ls.flatten_path(model, train.run(model, optim.make(name, lr=lr), (X, y), steps, seed,
                                              params=start).params)
             for name, _, lr, _ in RACE]
    center = paths[0][0]
    d1, d2 = ls.filter_normalized_directions(model, start, seed=RACE_DIRECTION_SEED)
    coords = [ls.project(p, center, d1, d2) for p in paths]
    alphas, betas = ls.axes_around(np.concatenate(coords), resolution, 0.25)
    Z = ls.grid_losses(model, X, y, center, d1, d2, alphas, betas)
    planes = [ls.pca_directions(p)[:2] for p in paths]
    runs = []
    for (name, label, lr, color), path, c in zip(RACE, paths, coords):
        keep = thin(len(path), PATH_POINTS)
        travel = path[-1] - path[0]
        in_plane = ls.reconstruct(c[-1], center, d1, d2) - center
        runs.append({
            "name": name, "label": f"{label} (η = {lr:g})", "color": color, "steps": keep, "coords": c[keep],
            "path_loss": ls.losses_at(model, X, y, path[keep]),
            "plane_loss": ls.losses_at(model, X, y, ls.reconstruct(c[keep], center, d1, d2)),
            "seen": float(np.linalg.norm(in_plane) / max(np.linalg.norm(travel), 1e-300)),
        })
    overlap = [[variance_on_plane(p, *plane) for p in paths] for plane in planes]
    return {"alphas": alphas, "betas": betas, "loss": Z, "runs": runs, "overlap": overlap,
            "n_params": int(paths[0].shape[1])}


# --------------------------------------------------------------------------
# Layout


def layout(**query) -> html.Div:
    values, notices = SCHEMA.clean(query)
    step, step_notices = parse_step(query.get("step"), len(STEPS))
    hidden = SCHEMA.hidden(query)
    stage = [
        _choice_panel("case", "Model", CASES, values, hidden),
        _choice_panel("net", "Network (hidden layers × neurons)", {k: f"{l} × {w}" for k, (l, w) in NETS.items()},
                      values, hidden),
        step_player(LESSON, label="step"),
        dcc.Loading(
            [
                html.Div([animated_graph(LESSON, "surface", height=520), animated_graph(LESSON, "contour", height=520)],
                         className="ls-figures-row"),
                html.Div([animated_graph(LESSON, "side", height=420),
                          html.Div(id=lesson_id("facts", LESSON), className="ls-panel ll-facts")],
                         className="ll-lower"),
            ],
            type="circle", delay_show=300, className="ll-loading",
        ),
        dcc.Loading(html.Div(id=lesson_id("nets-table", LESSON), className="ls-panel ls-hidden"),
                    type="dot", delay_show=300),
        _export_panel(),
        _settings_panel(values, hidden),
    ]
    return lesson_shell(LESSON, STEPS, stage, step=step, notices=notices + step_notices,
                        defaults=SCHEMA.defaults())


def _choice_panel(name: str, label: str, choices: dict, values: dict, hidden: set) -> html.Div:
    radio = dcc.RadioItems(id=setting_id(LESSON, name), options=[{"label": v, "value": k} for k, v in choices.items()],
                           value=values[name], inline=True, className="ll-choices")
    return html.Div(setting_control(LESSON, name, label, radio, hidden=name in hidden),
                    id=lesson_id(f"{name}-panel", LESSON), className="ls-panel ls-hidden")


def _export_panel() -> html.Div:
    return html.Div(
        [
            html.H3("Take this landscape with you"),
            html.Div(
                [
                    html.Button("⤓ CSV", id=lesson_id("export-csv", LESSON), className="ls-prev"),
                    html.Button("⤓ JSON", id=lesson_id("export-json", LESSON), className="ls-prev"),
                    html.Small("the loss at every grid point and the path, as the figures show them",
                               className="ls-control-help"),
                ],
                className="ll-export-row",
            ),
            dcc.Download(id=lesson_id("download", LESSON)),
        ],
        className="ls-panel",
    )


def _settings_panel(values: dict, hidden: set) -> html.Div:
    def text_input(name):
        return dcc.Input(id=setting_id(LESSON, name), type="text", value=str(values[name]), debounce=True)

    def dropdown(name, options):
        return dcc.Dropdown(id=setting_id(LESSON, name), options=[{"label": v, "value": k} for k, v in options.items()],
                            value=values[name], clearable=False)

    optimizers = {name: spec.label for name, spec in optim.OPTIMIZERS.items()}
    controls = [
        ("model", "Model", dropdown("model", MODELS), ""),
        ("data", "Data", dropdown("data", DATA), ""),
        ("optimizer", "Optimizer", dropdown("optimizer", optimizers), ""),
        ("lr", "Learning rate η", text_input("lr"), "10⁻⁵ to 10"),
        ("steps", "Steps", text_input("steps"), f"2 to {MAX_STEPS:,}"),
        ("seed", "Seed", text_input("seed"), "starting weights, random directions"),
        ("directions", "Directions", dropdown("directions", DIRECTIONS), ""),
        ("resolution", "Grid points per axis", text_input("resolution"), f"11 to {MAX_RESOLUTION}"),
        ("extent", "Grid extent", text_input("extent"), "0.1 to 10 × the path's span"),
        ("log", "Scale", dcc.Checklist(id=setting_id(LESSON, "log"),
                                        options=[{"label": " log₁₀ loss", "value": "log"}],
                                        value=["log"] if values["log"] else [], className="ls-checklist"), ""),
    ]
    return html.Div(
        [
            html.H3("Free play"),
            html.Div([setting_control(LESSON, name, label, widget, hidden=name in hidden, help_text=help_text)
                      for name, label, widget, help_text in controls], className="ls-controls"),
        ],
        id=lesson_id("settings-panel", LESSON), className="ls-panel ls-hidden",
    )


# --------------------------------------------------------------------------
# Callbacks


def step_index(step) -> int:
    """A valid step index for any value the step store may hold."""
    if isinstance(step, bool) or not isinstance(step, int):
        return 0
    return min(max(step, 0), len(STEPS) - 1)


@dash.callback(
    Output({"type": "pl-frames", "player": LESSON, "name": "surface"}, "data"),
    Output({"type": "pl-frames", "player": LESSON, "name": "contour"}, "data"),
    Output({"type": "pl-frames", "player": LESSON, "name": "side"}, "data"),
    Output(lesson_id("facts", LESSON), "children"),
    Output(lesson_id("case-panel", LESSON), "className"),
    Output(lesson_id("net-panel", LESSON), "className"),
    Output(lesson_id("settings-panel", LESSON), "className"),
    Output(lesson_id("notices", LESSON), "children"),
    Output(lesson_id("notices", LESSON), "className"),
    Output(lesson_id("achieved", LESSON), "data"),
    Input(lesson_id("step", LESSON), "data"),
    *[Input(setting_id(LESSON, name), "value") for name in SCHEMA.names],
)
def show_step(step, *raw):
    values, notices = SCHEMA.clean(dict(zip(SCHEMA.names, raw)))
    index = step_index(step)
    figure = STEPS[index].figure
    try:
        view = build_view(figure, values, notices)
    except ValueError as error:
        notices.append(f"Cannot draw this landscape: {error}. Showing the default settings instead.")
        view = build_view(figure, SCHEMA.defaults(), notices)
    # Step 5's task is judged by show_nets_table, which sees all the networks.
    achieved = dash.no_update if figure == "nets" else [index] if view.pop("achieved", False) else []
    panel, hidden = "ls-panel", "ls-panel ls-hidden"
    return (view["surface"], view["contour"], view["side"], view["facts"],
            panel if figure in ("pca", "ball") else hidden,
            panel if figure == "nets" else hidden,
            panel if figure == "free" else hidden,
            [html.P(n) for n in notices], "ls-notices" if notices else "ls-notices is-empty",
            achieved)


def build_view(figure: str, values: dict, notices: list) -> dict:
    """The three payloads and the facts panel of a step (ValueError if a model limit is hit)."""
    play = STEPS_PLAY.get(figure, False)
    motion = dict(autoplay=play, start="first" if play else "last")
    if figure == "features":
        return _features_view(motion)
    if figure == "top":
        return _slice_view(CASE_RUNS["logistic"], "top", RESOLUTION, 1.0, False, motion, figure, notices)
    if figure in ("pca", "ball"):
        return _slice_view(CASE_RUNS[values["case"]], "pca", RESOLUTION, 1.0, False, motion, figure, notices)
    if figure == "nets":
        return _nets_view(values["net"], motion)
    if figure == "optimizers":
        return _race_view(motion)
    run = (values["model"], values["data"], values["optimizer"], float(values["lr"]), int(values["steps"]),
           int(values["seed"]))
    return _slice_view(run, values["directions"], int(values["resolution"]), float(values["extent"]),
                       bool(values["log"]), motion, "free", notices)


def _labels(steps, losses, frames) -> list[str]:
    return [f"step {int(steps[f])} · loss {losses[f]:.4g}" for f in frames]


def _stamp(payloads, revision: str):
    """Give each payload's figure the uirevision `revision`: zoom and camera survive frames, not new content."""
    for payload in payloads:
        payload["figure"].setdefault("layout", {})["uirevision"] = revision
    return payloads


def _features_view(motion: dict) -> dict:
    land = feature_landscape()
    frames = thin(len(land["steps"]), MAX_FRAMES)
    labels = _labels(land["steps"], land["path_loss"], frames)
    path = [{"name": "SGD path", "color": VERMILION, "coords": land["w"], "heights": land["plane_loss"]}]
    titles = ("weight w₁ (PC 1)", "weight w₂ (PC 2)")
    surface = figures.surface_figure(land["alphas"], land["betas"], land["loss"], path, frames, labels,
                                     title="The loss over the two weights", axis_titles=titles,
                                     revision="features", **motion)
    contour = figures.contour_figure(land["alphas"], land["betas"], land["loss"], path, frames, labels,
                                     title="The same loss seen from above", axis_titles=titles,
                                     marks=[{"name": "w = 0 (p = 50 % everywhere)", "x": 0, "y": 0, "symbol": "x",
                                             "color": BLACK}], **motion)
    side = figures.features_figure(land["F"], land["y"], ("versicolor", "virginica"), land["w"], land["b"],
                                   frames, labels, title="Iris flowers in two PCA features",
                                   axis_titles=(f"PC 1 ({figures.percent(land['ratio'][0])} of the variance)",
                                                f"PC 2 ({figures.percent(land['ratio'][1])})"), **motion)
    facts = _facts([
        ("data", "100 Iris flowers, 4 measurements"),
        ("features", f"2 principal components, {figures.percent(land['ratio'].sum())} of the variance"),
        ("parameters", "w₁, w₂ and a bias b"),
        ("bias b", f"{land['b'][0]:+.2f} → {land['b'][-1]:+.2f} (the surface holds it at {land['b'][-1]:+.2f})"),
        ("loss", f"{land['path_loss'][0]:.3f} → {land['path_loss'][-1]:.3f}"),
        ("weights", f"({land['w'][0][0]:+.2f}, {land['w'][0][1]:+.2f}) → "
                    f"({land['w'][-1][0]:+.2f}, {land['w'][-1][1]:+.2f})"),
    ])
    return {"facts": facts, **dict(zip(("surface", "contour", "side"), _stamp([surface, contour, side], "features")))}


def _slice_view(run: tuple, directions: str, resolution: int, extent: float, log: bool, motion: dict,
                figure: str, notices: list) -> dict:
    land = landscape_slice(*run, directions, resolution, extent)
    if land["message"]:
        notices.append(f"Training stopped early — {land['message']}; the landscape shows the "
                       f"{land['steps_done']} steps before. Try a smaller learning rate.")
    frames = thin(len(land["steps"]), MAX_FRAMES)
    labels = _labels(land["steps"], land["path_loss"], frames)
    on_path = directions == "top"     # the path leaves a top-moving slice: draw it at its own loss
    path = [{"name": "the training path", "color": VERMILION, "coords": land["coords"],
             "heights": land["path_loss"] if on_path else land["plane_loss"]}]
    model_label = MODELS[run[0]].split(" (")[0] + " · " + DATA[run[1]].split(" (")[0]
    revision = f"{figure}-{run}-{directions}-{resolution}-{extent}-{log}"
    surface = figures.surface_figure(land["alphas"], land["betas"], land["loss"], path, frames, labels,
                                     title=model_label,
                                     axis_titles=land["axis_titles"], log=log, revision=revision, **motion)
    contour = figures.contour_figure(land["alphas"], land["betas"], land["loss"], path, frames, labels,
                                     title="The grid of sampled points" if figure == "pca"
                                     else CONTOUR_TITLES[directions],
                                     axis_titles=land["axis_titles"], log=log, grid_points=figure == "pca", **motion)
    steps = land["steps"]
    if directions == "top" and land["traces"] is not None:
        side = figures.parameters_figure(steps, land["traces"], land["names"], land["top"], frames, labels,
                                         title=f"All {land['n_params']} parameters during training", **motion)
    else:
        side = figures.curves_figure(steps, [
            {"name": "loss of the model on the path", "values": land["path_loss"], "color": VERMILION},
            {"name": "height of the surface under it", "values": land["plane_loss"], "color": BLACK, "dash": "dash",
             "width": 2.5},
        ], frames, labels, title="Loss during training", log=log, **motion)
    if directions == "top":
        other = [("loss on the path", "→".join(f"{v:.3f}" for v in land["path_loss"][[0, -1]])),
                 ("slice under the path", "→".join(f"{v:.3f}" for v in land["plane_loss"][[0, -1]]))]
    else:
        other = [("loss", f"{land['path_loss'][0]:.3f} → {land['path_loss'][-1]:.3f}")]
    facts = [("parameters", f"{land['n_params']:,}"), ("training steps", f"{land['steps_done']:,}"), *other,
             ("grid", f"{len(land['alphas'])} × {len(land['betas'])} = {land['loss'].size:,} losses")]
    if land["ratio"] is not None:
        facts += [("PC 1 explains", figures.percent(land["ratio"][0])),
                  ("PC 2 explains", figures.percent(land["ratio"][1]))]
    facts.append(("non-convex grid points", figures.percent(land["convexity"])))
    view = {"facts": _facts(facts), **dict(zip(("surface", "contour", "side"),
                                                _stamp([surface, contour, side], revision)))}
    if figure == "free":
        view["achieved"] = directions == "pca" and land["ratio"] is not None and land["ratio"][0] < FREE_TASK_SHARE
    return view


def _nets_view(net: str, motion: dict) -> dict:
    layers, width = NETS[net]
    run = spiral_net(layers, width)
    frames = np.arange(len(run["coords"]))
    steps = run["frame_epochs"][: len(run["coords"])]
    labels = _labels(steps, run["path_loss"], frames)
    ratio = run["ratio"]
    titles = (f"PC 1 ({figures.percent(ratio[0])})", f"PC 2 ({figures.percent(ratio[1])})")
    path = [{"name": "the training path", "color": VERMILION, "coords": run["coords"], "heights": run["plane_loss"]}]
    revision = f"nets-{net}"
    surface = figures.surface_figure(run["alphas"], run["betas"], run["loss"], path, frames, labels,
                                     title=f"Network {layers} × {width}: PCA landscape", axis_titles=titles,
                                     revision=revision, **motion)
    contour = figures.contour_figure(run["alphas"], run["betas"], run["loss"], path, frames, labels,
                                     title="The same slice from above", axis_titles=titles, **motion)
    z = decision_figures.area_z(run["grid_class"], run["grid_confidence"])
    captions = [f"epoch {int(e)}" for e in steps]
    side = decision_figures.areas_figure(
        [{"title": f"Decision areas of the {layers} × {width} network", "xs": run["xs"], "z": z,
          "X": run["X_train"], "y": run["y_train"], "captions": captions}],
        3, labels, class_names=["arm 1", "arm 2", "arm 3"])
    side["autoplay"], side["start"] = motion["autoplay"], motion["start"]
    side["figure"]["layout"].update(legend=dict(side["figure"]["layout"].get("legend", {}), y=-0.1),
                                    margin=dict(l=40, r=10, t=40, b=70))
    facts = _facts([
        ("network", f"{layers} hidden × {width} neurons, {run['n_params']:,} parameters"),
        ("path", f"{len(run['coords'])} points, epochs 0 to {int(steps[-1])}"),
        ("loss", f"{run['path_loss'][0]:.3f} → {run['path_loss'][-1]:.3f}"),
        ("training accuracy", figures.percent(run["accuracy"])),
        ("PC 1 explains", figures.percent(ratio[0])), ("PC 2 explains", figures.percent(ratio[1])),
        ("non-convex grid points", figures.percent(run["convexity"])),
    ])
    return {"facts": facts, **dict(zip(("surface", "contour", "side"), _stamp([surface, contour, side], revision)))}


def nets_summary(net: str) -> tuple[list, bool]:
    """The table of all five spiral networks, the chosen one marked, and
    whether the chosen one has the least convex slice (step 5's task)."""
    runs = {key: spiral_net(*NETS[key]) for key in NETS}
    least_convex = max(runs, key=lambda key: runs[key]["convexity"])
    rows = []
    for key, run in runs.items():
        cells = [f"{NETS[key][0]} × {NETS[key][1]}", f"{run['n_params']:,}", figures.percent(run["ratio"][0]),
                 figures.percent(run["ratio"][1]), figures.percent(run["convexity"]), figures.percent(run["accuracy"])]
        rows.append(html.Tr([html.Td(c) for c in cells], className="is-current" if key == net else ""))
    table = [html.H3("All five networks, same data, same optimizer"),
             html.Table([html.Thead(html.Tr([html.Th(h) for h in ("network", "parameters", "PC 1", "PC 2",
                                                                 "non-convex grid points", "training accuracy")])),
                         html.Tbody(rows)], className="ls-table ll-table is-numbers")]
    return table, net == least_convex


@dash.callback(
    Output(lesson_id("nets-table", LESSON), "children"),
    Output(lesson_id("nets-table", LESSON), "className"),
    Output(lesson_id("achieved", LESSON), "data", allow_duplicate=True),
    Input(lesson_id("step", LESSON), "data"),
    Input(setting_id(LESSON, "net"), "value"),
    prevent_initial_call="initial_duplicate",
)
def show_nets_table(step, raw_net):
    """Step 5's table of all networks: its own callback, so the chosen net's figures need not wait for it."""
    index = step_index(step)
    if STEPS[index].figure != "nets":
        return dash.no_update, "ls-panel ls-hidden", dash.no_update
    values, _ = SCHEMA.clean({"net": raw_net})
    try:
        table, least_convex = nets_summary(values["net"])
    except ValueError as error:
        return [html.P(f"Cannot compare the networks: {error}.")], "ls-panel", []
    return table, "ls-panel", [index] if least_convex else []


def _race_view(motion: dict) -> dict:
    race = optimizer_race()
    first = race["runs"][0]
    frames = thin(len(first["steps"]), MAX_FRAMES)
    labels = [f"step {int(first['steps'][f])} · " + " · ".join(
        f"{run['label'].split(' ')[0]} {run['path_loss'][min(f, len(run['path_loss']) - 1)]:.3f}"
        for run in race["runs"]) for f in frames]
    paths = [{"name": run["label"], "color": run["color"], "coords": run["coords"], "heights": run["plane_loss"]}
             for run in race["runs"]]
    titles = ("fixed direction 1", "fixed direction 2")
    surface = figures.surface_figure(race["alphas"], race["betas"], race["loss"], paths, frames, labels,
                                     title="Three optimizers, one fixed plane", axis_titles=titles,
                                     revision="optimizers", **motion)
    contour = figures.contour_figure(race["alphas"], race["betas"], race["loss"], paths, frames, labels,
                                     title="Seen from above: one shared start", axis_titles=titles, **motion)
    side = figures.curves_figure(first["steps"], [
        {"name": run["label"], "values": run["path_loss"], "color": run["color"]} for run in race["runs"]
    ], frames, labels, title="Loss of each optimizer", **motion)
    names = [run["label"].split(" ")[0] for run in race["runs"]]
    header = html.Tr([html.Th("")] + [html.Th(n) for n in names])
    rows = [
        html.Tr([html.Td("final loss")] + [html.Td(f"{run['path_loss'][-1]:.3f}") for run in race["runs"]]),
        html.Tr([html.Td("travel in this plane")] + [html.Td(figures.percent(run["seen"])) for run in race["runs"]]),
    ]
    for name, shares in zip(names, race["overlap"]):
        rows.append(html.Tr([html.Td(f"on {name}'s PCA plane")] + [html.Td(figures.percent(s)) for s in shares]))
    facts = [html.H3(f"Logistic regression on Iris, {race['n_params']} parameters"),
             html.Table([html.Thead(header), html.Tbody(rows)], className="ls-table ll-table is-numbers"),
             html.Small("“on X's PCA plane”: the share of each path's variance that X's own PCA plane shows.",
                        className="ls-control-help")]
    return {"facts": facts, **dict(zip(("surface", "contour", "side"),
                                        _stamp([surface, contour, side], "optimizers")))}


def _facts(rows: list[tuple[str, str]]) -> list:
    return [html.H3("This landscape"),
            html.Table(html.Tbody([html.Tr([html.Td(k), html.Td(v)]) for k, v in rows]), className="ls-table ll-table")]


# --------------------------------------------------------------------------
# Export


def export_data(figure: str, values: dict) -> dict:
    """What the step's figures show, for download: alphas, betas, loss (the
    surface), paths [(name, coords (k, 2), loss (k,))] and meta."""
    if figure == "features":
        land = feature_landscape()
        return {"alphas": land["alphas"], "betas": land["betas"], "loss": land["loss"],
                "paths": [("sgd", land["w"], land["path_loss"])],
                "meta": {"model": "logistic regression, Iris versicolor vs virginica, 2 PCA features",
                         "alpha": "weight w1", "beta": "weight w2", "bias": float(land["b"][-1])}}
    if figure == "nets":
        layers, width = NETS[values["net"]]
        run = spiral_net(layers, width)
        return {"alphas": run["alphas"], "betas": run["betas"], "loss": run["loss"],
                "paths": [("adam", run["coords"], run["path_loss"])],
                "meta": {"model": f"mlp {layers}x{width} relu, 3-arm spiral", "directions": "pca",
                         "explained_variance_ratio": run["ratio"].tolist(), "convexity_measure": run["convexity"]}}
    if figure == "optimizers":
        race = optimizer_race()
        return {"alphas": race["alphas"], "betas": race["betas"], "loss": race["loss"],
                "paths": [(run["name"], run["coords"], run["path_loss"]) for run in race["runs"]],
                "meta": {"model": "logistic regression, Iris", "directions": "filter-normalized random, fixed"}}
    if figure == "top":
        run, directions, resolution, extent = CASE_RUNS["logistic"], "top", RESOLUTION, 1.0
    elif figure in ("pca", "ball"):
        run, directions, resolution, extent = CASE_RUNS[values["case"]], "pca", RESOLUTION, 1.0
    else:
        run = (values["model"], values["data"], values["optimizer"], float(values["lr"]), int(values["steps"]),
               int(values["seed"]))
        directions, resolution, extent = values["directions"], int(values["resolution"]), float(values["extent"])
    land = landscape_slice(*run, directions, resolution, extent)
    meta = {"model": run[0], "data": run[1], "optimizer": run[2], "lr": run[3], "steps": land["steps_done"],
            "seed": run[5], "directions": directions, "alpha": land["axis_titles"][0],
            "beta": land["axis_titles"][1]}
    if land["ratio"] is not None:
        meta["explained_variance_ratio"] = land["ratio"].tolist()
    return {"alphas": land["alphas"], "betas": land["betas"], "loss": land["loss"],
            "paths": [(run[2], land["coords"], land["path_loss"])], "meta": meta}


def export_text(data: dict, kind: str) -> str:
    """The export as CSV (one path: ls.to_csv; several: their rows named path-<name>) or JSON."""
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


@dash.callback(
    Output(lesson_id("download", LESSON), "data"),
    Output(lesson_id("notices", LESSON), "children", allow_duplicate=True),
    Output(lesson_id("notices", LESSON), "className", allow_duplicate=True),
    Input(lesson_id("export-csv", LESSON), "n_clicks"),
    Input(lesson_id("export-json", LESSON), "n_clicks"),
    State(lesson_id("step", LESSON), "data"),
    *[State(setting_id(LESSON, name), "value") for name in SCHEMA.names],
    prevent_initial_call=True,
)
def export_landscape(_csv, _json, step, *raw):
    trigger = ctx.triggered_id
    kind = "json" if isinstance(trigger, dict) and trigger.get("type") == "ls-export-json" else "csv"
    return export_file(kind, step, *raw)


def export_file(kind: str, step, *raw) -> tuple:
    """The download of step `step` with settings `raw` as CSV or JSON (kind),
    or no download and a notice naming what went wrong."""
    values, _ = SCHEMA.clean(dict(zip(SCHEMA.names, raw)))
    figure = STEPS[step_index(step)].figure
    try:
        try:
            data = export_data(figure, values)
        except ValueError:
            data = export_data(figure, SCHEMA.defaults())     # as show_step does: the defaults' landscape
        text = export_text(data, kind)
    except ValueError as error:
        return dash.no_update, [html.P(f"Cannot export this landscape: {error}.")], "ls-notices"
    name = f"loss-landscape-{figure}.{kind}"
    return dict(content=text, filename=name, type="text/csv" if kind == "csv" else "application/json"), \
        dash.no_update, dash.no_update
