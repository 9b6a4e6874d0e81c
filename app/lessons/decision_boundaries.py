"""The decision-boundaries lesson's experiments: which networks a step trains,
resumable training runs kept in a store, the perceptron's plane, how a network
ends over the seeds SEEDS (seed_summary), and the thin deep network with and
without skip connections (skip_run, trained_path).

Runs themselves are app.ml.decision_runs; this module chooses them (a step's
networks, a free-play network from settings) and trains them in chunks so a
long run reports progress and survives an interrupted job. The store is any
object with `get(key) -> (found, value)`, `set(key, value, timeout=None)` and
`delete(key)` (the site passes its cache; `MemoryStore` keeps a dict).
"""

from __future__ import annotations

import hashlib
import time
from typing import Callable, Mapping

import numpy as np

from app.lessons import own_points
from app.lessons.perceptron import LEARNABLE, decode_songs, training_run
from app.ml import datasets, decision_runs, optim, train
from app.ml.decision_runs import RunSpec
from app.ml.mlp import MLP, decision_grid

LESSON = "decision-boundaries"

#: An unfinished run's state is saved this often (seconds), so a cancelled job's work is kept.
SAVE_EVERY_S = 2.0
#: A run's claim (app.cache.claim_or_wait) lapses this many seconds after its last chunk:
#: a cancelled job's claim soon, so that the next request trains the run on from its state.
CLAIM_S = 5

#: The seed's grid of networks (hidden layers, neurons per layer) and its thin deep net.
GRID = ((1, 5), (1, 20), (1, 100), (5, 5), (5, 20), (5, 100), (10, 5), (10, 20), (10, 100), (20, 5))
#: Which networks each narrated step trains (figure name -> (layers, width) pairs).
STEP_NETS = {
    "lines": ((0, 1),),
    "width": ((1, 5), (1, 20), (1, 100)),
    "neurons": ((1, 5),),
    "depth5": ((5, 5), (5, 20), (5, 100)),
    "depth10": ((10, 5), (10, 20), (10, 100)),
    "thin": ((1, 100), (20, 5)),
    "grid": GRID,
}
#: The seeds that claims about "nets like this" are measured on. Seed s draws both the
#: spiral's points (its data seed) and the starting weights, as seed 0 does for the runs shown.
SEEDS = tuple(range(20))
#: A run is stuck when its training loss ends above this: always answering each arm's share
#: of the points costs about ln 3 = 1.10, and a run that learns anything ends far below.
STUCK_LOSS = 1.0
#: A run is fast when its training loss falls below this.
LOW_LOSS = 0.01
#: The skip-connection step's network (hidden layers, neurons per layer) and its three versions:
#: "plain" (the lesson's run), "residual" (skip connections, the residual start of MLP.init) and
#: "plain-scaled" (no skips, started from the residual network's weights: the start alone).
SKIP_NET = (20, 5)
VARIANTS = ("plain", "residual", "plain-scaled")
#: Decision-grid cells per axis: the lesson's runs, single-network steps, and a neuron's map.
RESOLUTION, FINE_RESOLUTION, NEURON_RESOLUTION = 40, 64, 24
#: Free-play networks with more parameters than this get a coarser decision map (it costs as much as training).
BIG_NETWORK = 20_000
#: Free-play decision grids (cells per axis): small networks, big ones; and their neuron maps.
FREE_RESOLUTION, FREE_RESOLUTION_BIG, FREE_NEURON_RESOLUTION = 60, 40, 16
#: Free-play animations have at most this many frames after epoch 0.
FREE_FRAMES = 50

#: The perceptron lesson's "better data" run (its default settings), for the plane step.
PERCEPTRON_EPOCHS, PERCEPTRON_LR, PERCEPTRON_SEED = 300, 1.0, 0

#: The settings a free-play network is made of (see free_spec).
FREE_SETTINGS = ("dataset", "points", "noise", "test", "data_seed", "layers", "width", "activation", "loss",
                 "optimizer", "lr", "batch", "reg", "rate", "epochs", "seed")

Report = Callable[[int], None]


class MemoryStore:
    """A store in a dict, with the interface of the site's cache (for tests and scripts)."""

    def __init__(self):
        self.items: dict = {}

    def get(self, key: str) -> tuple[bool, object]:
        return key in self.items, self.items.get(key)

    def set(self, key: str, value, timeout: int | None = None) -> bool:
        self.items[key] = value
        return True

    def delete(self, key: str) -> bool:
        return self.items.pop(key, None) is not None

    def claim_or_wait(self, key: str, hold_s: int) -> tuple[bool, object]:
        return self.get(key)      # one process: no one else computes

    def renew(self, key: str, hold_s: int) -> None:
        pass

    def release(self, key: str) -> None:
        pass


# -- which runs ---------------------------------------------------------------------------


def lesson_spec(layers: int, width: int, *, fine: bool = False, neurons: bool = False) -> RunSpec:
    """The lesson's spiral run of a layers × width network (see decision_runs.width_depth_spec).

    fine: a finer decision grid (steps that show one network); neurons: record
    each hidden neuron's map. Limits are checked when the run is built.
    """
    return decision_runs.width_depth_spec(
        layers, width if layers else 1, 0,
        resolution=FINE_RESOLUTION if fine else RESOLUTION,
        neuron_resolution=NEURON_RESOLUTION if neurons else 0,
    )


def free_spec(values: Mapping) -> RunSpec:
    """The free-play run of settings `values` (the names in FREE_SETTINGS, and "own": the
    visitor's packed points, used when the data set is datasets.OWN_2D; see with_own_points).

    Small networks (at most NEURON_MAPS_MAX hidden neurons) also record their
    neurons' maps; big ones (over BIG_NETWORK parameters) get a coarser grid.
    Raises ValueError naming the limit for a network out of the run limits.
    """
    if missing := [name for name in FREE_SETTINGS if name not in values]:
        raise ValueError(f"missing settings: {', '.join(missing)}")
    layers = values["layers"]
    spec = RunSpec(
        dataset=values["dataset"], points=values["points"], noise=values["noise"], data_seed=values["data_seed"],
        test_share=values["test"], layers=layers, width=values["width"] if layers else 1,
        activation=values["activation"], loss=values["loss"], optimizer=values["optimizer"], lr=values["lr"],
        batch_size=values["batch"], regularization=values["reg"],
        reg_rate=values["rate"] if values["reg"] != "none" else 0.0, epochs=values["epochs"],
        seed=values["seed"], frames=1,
    )
    spec = with_own_points(spec, values.get("own", ""))
    _check(spec)   # every value in range before it is used below
    small = 1 <= spec.layers * spec.width <= decision_runs.NEURON_MAPS_MAX
    big = decision_runs.param_count(spec.layers, spec.width, decision_runs.classes_of(spec)) \
        > BIG_NETWORK
    spec = spec._replace(
        noise=float(spec.noise), test_share=float(spec.test_share), lr=float(spec.lr),
        reg_rate=float(spec.reg_rate), frames=min(FREE_FRAMES, spec.epochs),
        resolution=FREE_RESOLUTION_BIG if big else FREE_RESOLUTION,
        neuron_resolution=FREE_NEURON_RESOLUTION if small else 0,
    )
    _check(spec)   # the maps add work
    return spec


def with_own_points(spec: RunSpec, code: str) -> RunSpec:
    """`spec` trained on the visitor's packed points `code` (see own_points) when its data set
    is theirs (datasets.OWN_2D); ValueError saying what the points lack or how they are damaged."""
    if spec.dataset != datasets.OWN_2D:
        return spec
    points = own_points.decode(code)
    if missing := own_points.shortfall(points):
        raise ValueError(f"your points: {missing}")
    rows = tuple(zip(points.X[:, 0].tolist(), points.X[:, 1].tolist(), points.y.tolist()))
    return spec._replace(own=rows, points=len(rows), noise=0.0)


def _check(spec: RunSpec) -> None:
    try:
        decision_runs.build(spec)
    except ValueError as error:
        raise ValueError(f"cannot train this network: {error}") from error


def step_specs(figure: str, values: Mapping) -> list[RunSpec]:
    """The runs the step showing `figure` trains: its networks, or in free play
    the one of `values` (see free_spec). ValueError for a figure without runs."""
    if figure == "free":
        return [free_spec(values)]
    if figure not in STEP_NETS:
        raise ValueError(f"no runs for the figure {figure!r}; figures with runs: {', '.join(STEP_NETS)}, free")
    nets = STEP_NETS[figure]
    return [lesson_spec(layers, width, fine=len(nets) == 1, neurons=figure == "neurons") for layers, width in nets]


# -- training, resumable, in a store ------------------------------------------------------


def run_key(kind: str, spec: RunSpec) -> str:
    """The store key of a finished run ("run") or of an unfinished one's state ("progress")."""
    return f"{LESSON}:{kind}:" + hashlib.sha1(repr(tuple(spec)).encode()).hexdigest()


def run_of(spec: RunSpec, store, report: Report | None = None, *, save_every_s: float = SAVE_EVERY_S) -> dict:
    """The finished run of `spec` (see decision_runs.finish), from `store` or trained now.

    Training resumes from a state an interrupted call left in the store, saves
    its own state every `save_every_s` seconds, and calls report(epochs done)
    after every chunk of epochs. The finished run is stored and the saved
    state deleted. Raises ValueError for a spec out of limits.
    """
    if not isinstance(spec, RunSpec):
        raise ValueError(f"spec must be a RunSpec, got {type(spec).__name__}")
    key = run_key("run", spec)
    found, run = store.get(key)
    if found:
        return run
    found, run = store.claim_or_wait(key, CLAIM_S)   # another process may be training it
    if found:
        return run
    try:
        found, progress = store.get(run_key("progress", spec))
        if not (found and isinstance(progress, decision_runs.Progress)):
            progress = decision_runs.start(spec)
        chunk = decision_runs.epochs_per_chunk(spec)
        saved = time.monotonic()
        while not progress.done:
            progress = decision_runs.advance(spec, progress, chunk)
            store.renew(key, CLAIM_S)
            if report is not None:
                report(progress.epoch)
            if time.monotonic() - saved >= save_every_s and not progress.done:
                store.set(run_key("progress", spec), progress)
                saved = time.monotonic()
        run = decision_runs.finish(spec, progress)
        store.set(key, run)
        store.delete(run_key("progress", spec))
    finally:
        store.release(key)
    return run


def width_depth_run(layers: int, width: int, seed: int = 0, *, store=None, report: Report | None = None,
                    **overrides) -> dict:
    """The lesson's spiral run of a `layers` × `width` relu network, kept in `store`
    (none: trained on every call).

    overrides: RunSpec fields, e.g. keep_path=True for the parameter path at
    every frame ("path": (F, n_params)); see decision_runs.finish for the dict.
    """
    spec = decision_runs.width_depth_spec(layers, width, seed, **overrides)
    return run_of(spec, MemoryStore() if store is None else store, report)


# -- nets like this: the same network over seeds, and skip connections --------------------


def _check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"unknown network version {str(variant)[:40]!r}; choose one of {', '.join(VARIANTS)}")
    return variant


def _trained(layers: int, width: int, seed: int, variant: str) -> tuple:
    """The lesson's spiral run of a `layers` × `width` network in version `variant`, trained by
    train.run (the same full-batch Adam steps as decision_runs, from the same start for "plain").

    Returns (spec, model, data, history); history.params holds every epoch's weights.
    """
    _check_variant(variant)
    spec = decision_runs.width_depth_spec(layers, width, seed)
    plain, _, data = decision_runs.build(spec)
    residual = MLP(plain.layer_sizes, plain.activation, plain.loss, residual=True)
    model = residual if variant == "residual" else plain
    start = plain.init(seed) if variant == "plain" else residual.init(seed)
    history = train.run(model, optim.make(spec.optimizer, lr=spec.lr), (data.X_train, data.y_train), spec.epochs,
                        seed, params=start)
    return spec, model, data, history


def _losses(model: MLP, path: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The mean loss (nats) at every row of path (k, p): (k,), in double precision."""
    return model.loss_many(path, X, y, dtype=np.float64)


def seed_summary(layers: int, width: int, seed: int, variant: str = "plain") -> dict:
    """How the lesson's spiral run of a `layers` × `width` network ends for one seed.

    Returns loss (E+1,) training loss after each epoch (nats), final_loss, accuracy
    and test_accuracy (final shares of the 300 training and 300 test points right),
    fast_epoch (the first epoch with loss below LOW_LOSS, or None), stuck (the final
    loss is above STUCK_LOSS) and params (p,) the final weights. ValueError for a
    network or seed out of limits.
    """
    spec, model, data, history = _trained(layers, width, seed, variant)
    final = {name: values[-1] for name, values in history.params.items()}
    # full batch: the loss of every step but the last is the one training computed
    loss = np.append(history.loss, model.loss_value(final, data.X_train, data.y_train))
    below = np.flatnonzero(loss < LOW_LOSS)
    return {"loss": loss, "final_loss": float(loss[-1]),
            "accuracy": float(np.mean(model.predict(final, data.X_train) == data.y_train)),
            "test_accuracy": float(np.mean(model.predict(final, data.X_test) == data.y_test)),
            "fast_epoch": int(below[0]) if below.size else None, "stuck": bool(loss[-1] > STUCK_LOSS),
            "params": model.flatten(final), "message": history.message}


def model_path(model: MLP, history) -> np.ndarray:
    """A history's weights, one flat row per epoch: (E+1, p)."""
    return np.stack([model.flatten({k: v[t] for k, v in history.params.items()})
                     for t in range(len(history.loss) + 1)])


def trained_path(layers: int, width: int, seed: int, variant: str = "plain") -> dict:
    """The weights of a `layers` × `width` run in version `variant` after every epoch, for a landscape.

    Returns model (the MLP), X_train (n, 2), y_train (n,), path (E+1, p), loss (E+1,)
    training loss after each epoch, accuracy (the final share of training points right).
    """
    _, model, data, history = _trained(layers, width, seed, variant)
    path = model_path(model, history)
    loss = np.append(history.loss, model.loss_value(model.unflatten(path[-1]), data.X_train, data.y_train))
    accuracy = float(np.mean(model.predict(model.unflatten(path[-1]), data.X_train) == data.y_train))
    return {"model": model, "X_train": data.X_train, "y_train": data.y_train, "path": path, "loss": loss,
            "accuracy": accuracy}


def skip_run(seed: int = 0, variant: str = "residual", *, frames: int = 40, resolution: int = FINE_RESOLUTION) -> dict:
    """The skip-connection step's run of SKIP_NET in version `variant` (see VARIANTS), for display.

    The same keys as decision_runs.finish (curves at every epoch, decision areas
    at `frames` + 1 frame epochs on a `resolution`² grid, params), plus path
    (E+1, p): the flat weights after every epoch.
    """
    layers, width = SKIP_NET
    spec, model, data, history = _trained(layers, width, seed, variant)
    spec = spec._replace(frames=frames, resolution=resolution)
    decision_runs.build(spec)                      # frames and resolution within the run limits
    path = model_path(model, history)
    epochs = np.arange(len(path))
    predictions = [model.predict(model.unflatten(p), np.vstack([data.X_train, data.X_test])) for p in path]
    n = len(data.X_train)
    window = decision_runs.window_of(spec, data)
    shown = decision_runs.frame_epochs(spec.epochs, spec.frames)
    areas = [decision_runs.class_confidence(decision_grid(model, model.unflatten(path[e]), (-window, window),
                                                          (-window, window), resolution)[2]) for e in shown]
    return {
        "X_train": data.X_train, "y_train": data.y_train, "X_test": data.X_test, "y_test": data.y_test,
        "classes": data.classes, "window": window, "xs": np.linspace(-window, window, resolution),
        "curve_epochs": epochs, "loss": _losses(model, path, data.X_train, data.y_train),
        "accuracy": np.array([np.mean(p[:n] == data.y_train) for p in predictions]),
        "test_loss": _losses(model, path, data.X_test, data.y_test),
        "test_accuracy": np.array([np.mean(p[n:] == data.y_test) for p in predictions]),
        "frame_epochs": shown, "grid_class": np.stack([a[0] for a in areas]),
        "grid_confidence": np.stack([a[1] for a in areas]), "neurons": None,
        "path": path, "params": path[-1], "n_params": model.n_params, "layer_sizes": model.layer_sizes,
        "residual": model.residual, "diverged_at": history.diverged_at, "message": history.message,
    }


# -- the perceptron's plane ---------------------------------------------------------------


def plane_run(epochs: int = PERCEPTRON_EPOCHS, lr: float = PERCEPTRON_LR, seed: int = PERCEPTRON_SEED) -> dict:
    """The perceptron lesson's run on its learnable songs (plain SGD), with accuracy.

    Returns w (T+1, 3), b (T+1,), loss (T+1,) cross-entropy in nats and
    accuracy (T+1,) on the four songs, X (4, 3) and y (4,). ValueError for
    epochs, lr or seed the perceptron's training refuses.
    """
    run = training_run(LEARNABLE, "sgd", lr, epochs, seed)
    X, y = decode_songs(LEARNABLE)
    return {"w": run["w"], "b": run["b"], "loss": run["loss"],
            "accuracy": np.mean((run["probs"] > 0.5) == y, axis=1), "X": X, "y": y}
