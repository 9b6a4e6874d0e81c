"""The decision-boundaries lesson's experiments: which networks a step trains,
resumable training runs kept in a store, and the perceptron's plane.

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

from app.lessons.perceptron import LEARNABLE, decode_songs, training_run
from app.ml import datasets, decision_runs
from app.ml.decision_runs import RunSpec

LESSON = "decision-boundaries"

#: An unfinished run's state is saved this often (seconds), so a cancelled job's work is kept.
SAVE_EVERY_S = 2.0

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
    """The free-play run of settings `values` (the names in FREE_SETTINGS).

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
    _check(spec)   # every value in range before it is used below
    small = 1 <= spec.layers * spec.width <= decision_runs.NEURON_MAPS_MAX
    big = decision_runs.param_count(spec.layers, spec.width, datasets.DATASETS_2D[spec.dataset].n_classes) \
        > BIG_NETWORK
    spec = spec._replace(
        noise=float(spec.noise), test_share=float(spec.test_share), lr=float(spec.lr),
        reg_rate=float(spec.reg_rate), frames=min(FREE_FRAMES, spec.epochs),
        resolution=FREE_RESOLUTION_BIG if big else FREE_RESOLUTION,
        neuron_resolution=FREE_NEURON_RESOLUTION if small else 0,
    )
    _check(spec)   # the maps add work
    return spec


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
    found, run = store.get(run_key("run", spec))
    if found:
        return run
    found, progress = store.get(run_key("progress", spec))
    if not (found and isinstance(progress, decision_runs.Progress)):
        progress = decision_runs.start(spec)
    chunk = decision_runs.epochs_per_chunk(spec)
    saved = time.monotonic()
    while not progress.done:
        progress = decision_runs.advance(spec, progress, chunk)
        if report is not None:
            report(progress.epoch)
        if time.monotonic() - saved >= save_every_s and not progress.done:
            store.set(run_key("progress", spec), progress)
            saved = time.monotonic()
    run = decision_runs.finish(spec, progress)
    store.set(run_key("run", spec), run)
    store.delete(run_key("progress", spec))
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
