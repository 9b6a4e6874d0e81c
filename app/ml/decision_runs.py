"""Training runs of the decision-boundary lesson, recorded for animation.

A run trains an MLP (``app.ml.mlp``) on a 2-D toy set (``app.ml.datasets``)
with an optimizer from ``app.ml.optim``, and records

- at every curve epoch: training and test loss and accuracy,
- at every frame epoch: the decision areas on a square grid (class and
  confidence per cell), optionally each hidden neuron's output on a coarser
  grid, and optionally the flat parameter vector (the path a loss landscape
  projects).

Epoch e means "after e passes over the training points" (e = 0: the initial
weights). Everything a run depends on is in a ``RunSpec`` of scalars, so a
server can memoize it. Runs are resumable: ``start`` / ``advance`` / ``finish``
train a run in chunks of a few epochs (state passed in and returned), so a
long run can be spread over several short requests that report progress::

    progress = start(spec)
    while not progress.done:
        progress = advance(spec, progress, epochs_per_chunk(spec))
    run = finish(spec, progress)          # == train_run(spec)

Results do not depend on where the chunks end: minibatches of epoch e are
shuffled by ``default_rng([seed, e])``.

The losses shown are the data loss (mean over points, without the L1/L2
penalty), so training and test loss compare directly.
"""

from __future__ import annotations

import functools
import math
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from app.ml import datasets, divergence, optim
from app.ml.mlp import HIDDEN_LAYERS_MAX, LOSSES, MLP, decision_grid

# Limits, enforced by check_spec (ValueError naming them).
POINTS_MIN, POINTS_MAX = 4, 2000        # data points, training and test together
WIDTH_MAX = 256                         # neurons per hidden layer
LAYERS_MAX = HIDDEN_LAYERS_MAX          # hidden layers (0 = logistic regression)
EPOCHS_MAX = 3000                       # passes over the training points
STEPS_MAX = 10_000                       # optimizer steps, epochs x batches per epoch (about 0.1-0.4 ms each)
FRAMES_MAX = 120                        # animation frames (recorded epochs) after epoch 0
RESOLUTION_MIN, RESOLUTION_MAX = 8, 100  # decision-grid cells per axis
NEURON_RESOLUTION_MAX = 32              # cells per axis of a hidden neuron's map
NEURON_MAPS_MAX = 24                    # hidden neurons in all, for neuron maps
WINDOW_MAX = 100.0                      # half-width of the heatmap square
CURVE_POINTS = 300                      # curve epochs recorded (all of them for shorter runs)
# Multiply-adds of a run, about epochs x parameters x (3 x training points +
# all points) (backprop costs about twice the forward pass, and every epoch
# evaluates all points once) plus frames x (resolution^2 + neuron_resolution^2)
# x parameters for the maps. 4e10 is a little more than the lesson's largest
# run (10 layers x 100 neurons, 200 epochs on 300 + 300 points: 3.4e10).
WORK_MAX = 4e10
#: Work of one chunk of ``advance`` (see epochs_per_chunk): about half a second, long enough for
#: the records of its epochs to be computed beside the training (see advance).
CHUNK_WORK = 1.5e9

REGULARIZATIONS = ("none", "l1", "l2")


class RunSpec(NamedTuple):
    """Everything a run depends on; the defaults are the lesson's spiral runs.

    dataset: a key of datasets.DATASETS_2D; points: POINTS_MIN..POINTS_MAX,
    split into training and test points by test_share (0..0.9); noise and
    data_seed as for datasets.make_2d.
    layers: hidden layers, 0..LAYERS_MAX; width: neurons per hidden layer,
    1..WIDTH_MAX; activation: a key of mlp.ACTIVATIONS; loss: a key of mlp.LOSSES.
    optimizer: a key of optim.OPTIMIZERS, lr its learning rate (within the
    registry's range); batch_size: 0 = all training points (full batch),
    otherwise points per optimizer step; regularization: "none", "l1" or
    "l2" with rate reg_rate (0..mlp.REG_MAX). epochs: 1..EPOCHS_MAX; seed:
    initial weights and minibatch order.
    frames: frames recorded after epoch 0 (1..FRAMES_MAX); resolution: decision
    grid cells per axis; window: half-width of the square the grid covers
    (0 = fit the data); neuron_resolution: 0 = no neuron maps, else cells per
    axis (networks of at most NEURON_MAPS_MAX hidden neurons); keep_path: also
    record the flat parameters at every frame.
    own: for dataset datasets.OWN_2D, the visitor's points ((x, y, label), ...),
    as many as `points` (noise is then unused; data_seed still splits them).
    """

    dataset: str = "spiral3"
    points: int = 600
    noise: float = 0.2
    data_seed: int = 0
    test_share: float = 0.5
    layers: int = 1
    width: int = 20
    activation: str = "relu"
    loss: str = "softmax_ce"
    optimizer: str = "adam"
    lr: float = 0.01
    batch_size: int = 0
    regularization: str = "none"
    reg_rate: float = 0.0
    epochs: int = 200
    seed: int = 0
    frames: int = 40
    resolution: int = 40
    window: float = 0.0
    neuron_resolution: int = 0
    keep_path: bool = False
    own: tuple = ()


class Data(NamedTuple):
    """X_train (n, 2), y_train (n,) int, X_test (k, 2), y_test (k,) int (k may be 0), classes m."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: int


class Progress(NamedTuple):
    """A run part way: the state after `epoch` epochs and what was recorded so far.

    curve: list of (epoch, loss, accuracy, test_loss, test_accuracy);
    frames: list of (epoch, classes (R, R) int8, confidence (R, R) float32,
    neuron maps (H, r, r) float32 or None, flat params (p,) or None).
    diverged_at: None, or the epoch, counted from 1 (1-based), in which the loss
    or the weights stopped being finite; message: "" or the divergence message.
    """

    epoch: int
    params: dict
    opt_state: object
    curve: list
    frames: list
    done: bool = False
    diverged_at: int | None = None
    message: str = ""


# --------------------------------------------------------------------------
# Checking a spec
# --------------------------------------------------------------------------


def _int_in(spec: RunSpec, name: str, low: int, high: int, limit: str) -> int:
    value = getattr(spec, name)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number from {low} to {high} ({limit}), got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high} ({limit}), got {value}")
    return int(value)


def _float_in(spec: RunSpec, name: str, low: float, high: float, limit: str) -> float:
    value = getattr(spec, name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number from {low:g} to {high:g} ({limit}), got {value!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g} ({limit}), got {value!r}")
    return number


def build(spec: RunSpec) -> tuple[MLP, optim.GradientTransformation, Data]:
    """The model, optimizer and data of `spec`; ValueError (naming the limit) if
    any setting is out of range or the run would be too much work."""
    if not isinstance(spec, RunSpec):
        raise ValueError("spec must be a RunSpec")
    if spec.dataset not in datasets.DATASETS_2D and spec.dataset != datasets.OWN_2D:
        raise ValueError(f"unknown data set {spec.dataset!r}; choose one of {', '.join(datasets.DATASETS_2D)}")
    points = _int_in(spec, "points", POINTS_MIN, POINTS_MAX, "POINTS_MAX")
    noise = _float_in(spec, "noise", 0.0, datasets.NOISE_MAX, "NOISE_MAX")
    test_share = _float_in(spec, "test_share", 0.0, datasets.TEST_SHARE_MAX, "TEST_SHARE_MAX")
    layers = _int_in(spec, "layers", 0, LAYERS_MAX, "LAYERS_MAX")
    width = _int_in(spec, "width", 1, WIDTH_MAX, "WIDTH_MAX")
    epochs = _int_in(spec, "epochs", 1, EPOCHS_MAX, "EPOCHS_MAX")
    _int_in(spec, "seed", 0, 2**32 - 1, "a 32-bit seed")
    _int_in(spec, "data_seed", 0, 2**32 - 1, "a 32-bit seed")
    _int_in(spec, "frames", 1, FRAMES_MAX, "FRAMES_MAX")
    _int_in(spec, "resolution", RESOLUTION_MIN, RESOLUTION_MAX, "RESOLUTION_MAX")
    _float_in(spec, "window", 0.0, WINDOW_MAX, "WINDOW_MAX")
    if spec.neuron_resolution:
        _int_in(spec, "neuron_resolution", 2, NEURON_RESOLUTION_MAX, "NEURON_RESOLUTION_MAX")
        if layers * width > NEURON_MAPS_MAX:
            raise ValueError(f"neuron maps need at most {NEURON_MAPS_MAX} hidden neurons (NEURON_MAPS_MAX), "
                             f"this network has {layers * width}")
    if spec.regularization not in REGULARIZATIONS:
        raise ValueError(f"regularization must be one of {', '.join(REGULARIZATIONS)}, got {spec.regularization!r}")

    classes = classes_of(spec)
    reg = _float_in(spec, "reg_rate", 0.0, 10.0, "REG_MAX") if spec.regularization != "none" else 0.0
    model = MLP((2, *[width] * layers, classes), spec.activation, spec.loss,
                l1=reg if spec.regularization == "l1" else 0.0,
                l2=reg if spec.regularization == "l2" else 0.0)
    optimizer = optim.make(spec.optimizer, lr=spec.lr)

    X, y = _points_of(spec, points, noise)
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_share, spec.data_seed)
    n_train = len(X_train)
    batch = _int_in(spec, "batch_size", 0, POINTS_MAX, "POINTS_MAX")
    steps = epochs * (1 if batch == 0 or batch >= n_train else math.ceil(n_train / batch))
    if steps > STEPS_MAX:
        raise ValueError(f"{epochs} epochs of batches of {batch} points are {steps:,} optimizer steps; "
                         f"the limit is {STEPS_MAX:,} (STEPS_MAX): use fewer epochs or larger batches")
    maps = (len(frame_epochs(epochs, spec.frames)) * (spec.resolution ** 2 + spec.neuron_resolution ** 2)
            * model.n_params)
    work = run_work(model.n_params, n_train, points, epochs) + maps
    if work > WORK_MAX:
        raise ValueError(f"this run needs about {work:.1e} multiply-adds (epochs × parameters × points, "
                         f"plus the decision maps); the limit is {WORK_MAX:.0e} (WORK_MAX): "
                         "use fewer epochs, points, layers or neurons")
    return model, optimizer, Data(X_train, y_train, X_test, y_test, classes)


def classes_of(spec: RunSpec) -> int:
    """The classes a run's network tells apart: its data set's, or for own points max label + 1."""
    if spec.dataset == datasets.OWN_2D:
        return datasets.own_2d(spec.own)[2]
    return datasets.DATASETS_2D[spec.dataset].n_classes


def _points_of(spec: RunSpec, points: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    if spec.dataset != datasets.OWN_2D:
        return datasets.make_2d(spec.dataset, points, noise, spec.data_seed)
    X, y, _ = datasets.own_2d(spec.own)
    if len(X) != points:
        raise ValueError(f"points must be the number of own points, {len(X)}, got {points}")
    return X, y


def run_work(n_params: int, n_train: int, points: int, epochs: int) -> float:
    """Multiply-adds of a run, roughly: epochs × n_params × (3 n_train + points)."""
    return float(epochs) * n_params * (3 * n_train + points)


def param_count(layers: int, width: int, classes: int, inputs: int = 2) -> int:
    """Weights and biases of an MLP with `layers` hidden layers of `width` neurons."""
    sizes = [inputs] + [width] * layers + [classes]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def epochs_per_chunk(spec: RunSpec, work: float = CHUNK_WORK) -> int:
    """Epochs whose training costs about `work` multiply-adds (at least 1)."""
    model, _, data = build(spec)
    per_epoch = run_work(model.n_params, len(data.X_train), len(data.X_train) + len(data.X_test), 1)
    return max(1, int(work // per_epoch))


# --------------------------------------------------------------------------
# Which epochs are recorded
# --------------------------------------------------------------------------


def frame_epochs(epochs: int, frames: int) -> np.ndarray:
    """Epochs of the animation frames: 0, then `frames` evenly spread up to `epochs` (unique ints)."""
    return np.unique(np.linspace(0, epochs, min(frames, epochs) + 1).round().astype(int))


def curve_epochs(epochs: int, frames: int) -> np.ndarray:
    """Epochs at which loss and accuracy are recorded: every epoch up to CURVE_POINTS, and all frames."""
    spread = np.linspace(0, epochs, min(epochs, CURVE_POINTS) + 1).round().astype(int)
    return np.union1d(spread, frame_epochs(epochs, frames))


# --------------------------------------------------------------------------
# Reading a network
# --------------------------------------------------------------------------


def class_confidence(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predicted class and how sure the network is, from class scores (..., m).

    Returns classes (...) int8, the highest score's index, and confidence (...)
    float32 in [0, 1]: 0 when the top score is 1/m (undecided), 1 when it is 1.
    Scores of a squared-error network are clipped to [0, 1] first.
    """
    scores = np.asarray(scores, dtype=float)
    m = scores.shape[-1]
    top = np.clip(np.nan_to_num(scores.max(axis=-1), nan=0.0), 0.0, 1.0)
    confidence = np.clip((top - 1.0 / m) / (1.0 - 1.0 / m), 0.0, 1.0)
    return scores.argmax(axis=-1).astype(np.int8), confidence.astype(np.float32)


def window_of(spec: RunSpec, data: Data) -> float:
    """Half-width of the heatmap square: spec.window, or 1.15 × the farthest coordinate (at least 1.5)."""
    if spec.window:
        return float(spec.window)
    extent = max(np.abs(data.X_train).max(initial=0.0), np.abs(data.X_test).max(initial=0.0))
    return float(max(1.5, math.ceil(11.5 * extent) / 10.0))


def _evaluate(model: MLP, params, X, y) -> tuple[float, float]:
    """Data loss (mean over points, no penalty) and accuracy; (nan, nan) without points."""
    if len(X) == 0:
        return math.nan, math.nan
    with np.errstate(over="ignore", invalid="ignore"):
        return _scored(model, model.forward(params, X), y)


def _scored(model: MLP, out: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Data loss and accuracy of the network outputs `out` (n, m) for labels y (n,)."""
    with np.errstate(over="ignore", invalid="ignore"):
        targets = y if model.loss == "softmax_ce" else np.eye(model.layer_sizes[-1])[y]
        loss = float(LOSSES[model.loss].value(out, targets).mean())
    return loss, float(np.mean(out.argmax(axis=1) == y))


def _frame(spec: RunSpec, model: MLP, params, window: float, epoch: int) -> tuple:
    # float32: the map is stored in float32 and drawn in colours; no cell changes class (see decision_grid)
    _, _, scores = decision_grid(model, params, (-window, window), (-window, window), spec.resolution,
                                 dtype=np.float32)
    classes, confidence = class_confidence(scores)
    neurons = None
    if spec.neuron_resolution and spec.layers:
        axis = np.linspace(-window, window, spec.neuron_resolution)
        gx, gy = np.meshgrid(axis, axis)
        with np.errstate(over="ignore", invalid="ignore"):
            hidden = model.hidden_activations(params, np.c_[gx.ravel(), gy.ravel()])
        r = spec.neuron_resolution
        neurons = np.concatenate(hidden, axis=1).T.reshape(-1, r, r).astype(np.float32)
    path = model.flatten(params) if spec.keep_path else None
    return epoch, classes, confidence, neurons, path


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------


def start(spec: RunSpec) -> Progress:
    """A run at epoch 0: initial weights (from spec.seed) and their records."""
    model, optimizer, data = build(spec)
    params = model.init(spec.seed)
    progress = Progress(0, params, optimizer.init(params), [], [])
    return _record(spec, model, data, progress)


def advance(spec: RunSpec, progress: Progress, epochs: int) -> Progress:
    """Train `epochs` more epochs (fewer at the end of the run). Pure: returns a new Progress.

    Stops early, with done=True, diverged_at (the epoch, counted from 1, in
    which it happened) and a message (``app.ml.divergence``), when the loss or
    the weights of a step stop being finite; the weights are the last finite
    ones. A finite epoch whose recorded loss is not finite stops the run too,
    that epoch counted as done.

    An epoch's records (its evaluation and its decision map) are computed on a
    second thread while training goes on (numpy's matrix products leave the
    interpreter free), so a run takes about the longer of the two, not their sum.
    """
    if progress.done:
        return progress
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}")
    model, optimizer, data = build(spec)
    n = len(data.X_train)
    batch = spec.batch_size if 0 < spec.batch_size < n else n
    recorded = _curve_set(spec.epochs, spec.frames) | _frame_set(spec.epochs, spec.frames)
    params, state = progress.params, progress.opt_state
    pending = []        # (Progress after a recorded epoch, its records on the second thread)
    waiting = None      # a recorded epoch whose training loss the next full-batch pass gives
    epoch = progress.epoch
    # A pool per call: a pool made before a fork would have no thread in the child.
    with ThreadPoolExecutor(max_workers=1) as pool, divergence.quiet():
        def submit(after: Progress, train=None):
            pending.append((after, pool.submit(_records, spec, model, data, after, train)))

        for epoch in range(progress.epoch, min(progress.epoch + int(epochs), spec.epochs)):
            order = np.random.default_rng([spec.seed, epoch]).permutation(n) if batch < n else None
            for begin in range(0, n, batch):
                rows = slice(None) if order is None else order[begin:begin + batch]
                loss, grads, out = model.loss_grad_and_output(params, data.X_train[rows], data.y_train[rows])
                if waiting is not None:        # full batch: out is the network's answer on every training point
                    submit(waiting, _scored(model, out, data.y_train))
                    waiting = None
                updates, new_state = optimizer.update(grads, state, params)
                new_params = optim.apply_updates(params, updates)
                why = divergence.reason(loss, new_params)
                if why is not None:
                    current = _collect(progress, pending)
                    if current.done:        # an earlier epoch's recorded loss stopped it
                        return current
                    return _stop(params, state, current.curve, current.frames, epoch, epoch + 1, why)
                params, state = new_params, new_state
            if epoch + 1 in recorded:
                after = Progress(epoch + 1, params, state, [], [])
                if batch == n and epoch + 1 < spec.epochs:
                    waiting = after
                else:
                    submit(after)
        if waiting is not None:
            submit(waiting)
        current = _collect(progress, pending)
    if current.done:
        return current
    last = epoch + 1 if spec.epochs > progress.epoch else progress.epoch
    return Progress(last, params, state, current.curve, current.frames, done=last >= spec.epochs)


def _collect(progress: Progress, pending: list) -> Progress:
    """`progress` with the pending records appended in epoch order; stopped (done) at the
    first epoch whose recorded loss is not finite, with that epoch's weights."""
    curve, frames = list(progress.curve), list(progress.frames)
    for after, future in pending:
        row, frame = future.result()
        curve += [row] if row else []
        frames += [frame] if frame else []
        if row and (why := divergence.reason(row[1], after.params)):
            return _stop(after.params, after.opt_state, curve, frames, after.epoch, after.epoch, why)
    return progress._replace(curve=curve, frames=frames)


def _stop(params, state, curve, frames, done: int, diverged_in: int, why: str) -> Progress:
    """A run that diverged in epoch `diverged_in` (1-based) after `done` complete epochs."""
    return Progress(done, params, state, curve, frames, done=True, diverged_at=diverged_in,
                    message=divergence.message("epoch", diverged_in, why))


def _records(spec: RunSpec, model: MLP, data: Data, progress: Progress, train=None) -> tuple:
    """The curve row and the frame of progress.epoch (None where that epoch has none).
    train: (loss, accuracy) on the training points, when already known."""
    e = progress.epoch
    row = frame = None
    with divergence.quiet():
        if e in _curve_set(spec.epochs, spec.frames):
            loss, acc = train or _evaluate(model, progress.params, data.X_train, data.y_train)
            test_loss, test_acc = _evaluate(model, progress.params, data.X_test, data.y_test)
            row = (e, loss, acc, test_loss, test_acc)
        if e in _frame_set(spec.epochs, spec.frames):
            frame = _frame(spec, model, progress.params, window_of(spec, data), e)
    return row, frame


def _record(spec: RunSpec, model: MLP, data: Data, progress: Progress) -> Progress:
    """Append the records of progress.epoch (if it is a curve or frame epoch)."""
    row, frame = _records(spec, model, data, progress)
    return progress._replace(curve=progress.curve + ([row] if row else []),
                             frames=progress.frames + ([frame] if frame else []))


@functools.lru_cache(maxsize=64)
def _curve_set(epochs: int, frames: int) -> frozenset:
    return frozenset(curve_epochs(epochs, frames).tolist())


@functools.lru_cache(maxsize=64)
def _frame_set(epochs: int, frames: int) -> frozenset:
    return frozenset(frame_epochs(epochs, frames).tolist())


def finish(spec: RunSpec, progress: Progress) -> dict:
    """The run as plain arrays, once `progress` is done.

    Returns a dict:
      X_train (n, 2), y_train (n,), X_test (k, 2), y_test (k,), classes m,
      window (heatmap half-width), xs (R,) grid axis (the same for y),
      curve_epochs (C,), loss, accuracy, test_loss, test_accuracy (C,) each
        (test values nan without test points),
      frame_epochs (F,), grid_class (F, R, R) int8, grid_confidence (F, R, R)
        float32 (rows along y, as a heatmap expects),
      neurons (F, H, r, r) float32 or None (hidden neurons in layer order),
      path (F, p) float or None, params (p,) the last weights (model.unflatten
        gives the dict), n_params, layer_sizes,
      diverged_at (the epoch, from 1, in which the loss or the weights stopped
        being finite, or None), message ("" or why it stopped early).
    """
    if not progress.done:
        raise ValueError("the run is not finished: call advance until progress.done")
    model, _, data = build(spec)
    window = window_of(spec, data)
    curve = np.array(progress.curve, dtype=float).reshape(-1, 5)
    frames = progress.frames
    return {
        "X_train": data.X_train, "y_train": data.y_train, "X_test": data.X_test, "y_test": data.y_test,
        "classes": data.classes, "window": window,
        "xs": np.linspace(-window, window, spec.resolution),
        "curve_epochs": curve[:, 0].astype(int), "loss": curve[:, 1], "accuracy": curve[:, 2],
        "test_loss": curve[:, 3], "test_accuracy": curve[:, 4],
        "frame_epochs": np.array([f[0] for f in frames], dtype=int),
        "grid_class": np.stack([f[1] for f in frames]),
        "grid_confidence": np.stack([f[2] for f in frames]),
        "neurons": np.stack([f[3] for f in frames]) if frames and frames[0][3] is not None else None,
        "path": np.stack([f[4] for f in frames]) if spec.keep_path and frames else None,
        "params": model.flatten(progress.params),
        "n_params": model.n_params, "layer_sizes": model.layer_sizes,
        "diverged_at": progress.diverged_at, "message": progress.message,
    }


def train_run(spec: RunSpec) -> dict:
    """The whole run of `spec` in one call (see finish for what it returns)."""
    progress = start(spec)
    chunk = epochs_per_chunk(spec)
    while not progress.done:
        progress = advance(spec, progress, chunk)
    return finish(spec, progress)


def width_depth_spec(layers: int, width: int, seed: int = 0, **overrides) -> RunSpec:
    """The lesson's spiral run of a `layers` × `width` relu network (Adam, lr 0.01,
    200 full-batch epochs on 300 training points of the 3-arm spiral, 300 test points).
    overrides: other RunSpec fields (e.g. keep_path=True, frames=50)."""
    return RunSpec(layers=layers, width=width, seed=seed, data_seed=seed, **overrides)
