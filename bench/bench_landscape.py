"""Speed of loss-landscape grids, printed as JSON lines (one figure per line).

    python bench/bench_landscape.py                  # from the repository root
    python bench/bench_landscape.py --observations   # also the lesson's figures per architecture

Figures, each beside the peer it is compared with in the same run:

- ``grid_ms``: landscape.grid_losses on a 51 x 51 grid of the PCA plane of a
  trained 5 x 20 relu MLP (5 hidden layers of 20 units, 1,803 parameters) on
  300 spiral points. Goal: <= 1000 ms. Peer: a Python loop over the grid
  points calling the single-vector loss, ``model.loss_value(unflatten(θ))``
  (landscape.grid_losses_reference). Goal: >= 10x faster than the peer.
  The same two figures, without goals, for a 1 x 5 MLP, logistic regression
  on Iris and the linear SVM on the breast cancer data.

  For the MLPs a second variant, ``float64``, evaluates the layers in
  double precision instead of the default single (see MLP.loss_many).
- ``pca_landscape_ms``: the whole PCA landscape of that MLP run (directions,
  projection of the 201-point path, grid, losses along the path).

With ``--observations``: for 3-arm spirals and several architectures, the
share of the path's variance on the first two principal components and the
convexity measure of the 51 x 51 PCA slice (share of interior grid points
curving downwards, see landscape.convexity_measure), over a few seeds.

Times are the best of several repeats, batched and looped runs interleaved
so that a busy machine slows both alike.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.ml import datasets, landscape, optim, train  # noqa: E402
from app.ml.linear import LogisticRegression  # noqa: E402
from app.ml.mlp import MLP  # noqa: E402
from app.ml.svm import LinearSVM  # noqa: E402

REPEATS = 3
RESOLUTION = 51
GRID_GOAL_MS = 1000.0
SPEEDUP_GOAL = 10.0


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def bench_grid(name: str, model, X, y, path, single_loss, goals: bool, rtol: float = 1e-10) -> None:
    """grid_losses against the per-point loop on the PCA plane of path.

    rtol: how closely the two must agree; 1e-4 for the trained MLPs, whose
    batched layers run in float32 (see MLP.loss_many): their large, partly
    cancelling activations leave about 3e-5 relative error where the loss
    is smallest (1e-3), far below what a drawn surface shows."""
    d1, d2, _, center = landscape.pca_directions(path)
    alphas, betas = landscape.axes_around(landscape.project(path, center, d1, d2), RESOLUTION)

    def batched():
        return landscape.grid_losses(model, X, y, center, d1, d2, alphas, betas)

    def looped():
        return landscape.grid_losses_reference(model, X, y, center, d1, d2, alphas, betas, single_loss)

    variants = {"default": batched}
    if isinstance(model, MLP):
        double = SimpleNamespace(loss_many=lambda P, X, y: model.loss_many(P, X, y, np.float64))
        variants["float64"] = lambda: landscape.grid_losses(double, X, y, center, d1, d2, alphas, betas)
    best = dict.fromkeys([*variants, "loop"], float("inf"))
    values = {}
    for _ in range(REPEATS):
        for variant, fn in [*variants.items(), ("loop", looped)]:
            seconds, values[variant] = timed(fn)
            best[variant] = min(best[variant], seconds)
    for variant in variants:
        if not np.allclose(values[variant], values["loop"], rtol=rtol, atol=1e-12):
            raise SystemExit(f"{name}: grid_losses ({variant}) disagrees with the loop")

    grid = f"{RESOLUTION}x{RESOLUTION}"
    for variant in variants:
        ms, speedup = best[variant] * 1e3, best["loop"] / best[variant]
        extra = {"goal": GRID_GOAL_MS, "met": ms <= GRID_GOAL_MS} if goals and variant == "default" else {}
        emit(figure="grid_ms", variant=variant, model=name, grid=grid, value=round(ms, 1), **extra)
        extra = {"goal": SPEEDUP_GOAL, "met": speedup >= SPEEDUP_GOAL} if goals and variant == "default" else {}
        emit(figure="grid_speedup", variant=variant, model=name, grid=grid, value=round(speedup, 1), **extra)
    emit(figure="grid_ms", peer="python loop of the single-vector loss", model=name, grid=grid,
         value=round(best["loop"] * 1e3, 1))


def mlp_run(hidden: tuple[int, ...], seed: int, steps: int = 200, n: int = 300):
    X, y = datasets.make_2d("spiral3", n, seed=0)
    model = MLP((2, *hidden, 3))
    hist = train.run(model, optim.adam(lr=0.01), (X, y), steps, seed)
    return model, X, y, landscape.flatten_path(model, hist.params), hist


def bench_mlp() -> None:
    model, X, y, path, _ = mlp_run((20,) * 5, seed=0)
    bench_grid("mlp 5x20 relu, 300 spiral points", model, X, y, path, model.loss_value, goals=True, rtol=1e-4)
    small, X, y, small_path, _ = mlp_run((5,), seed=0)
    bench_grid("mlp 1x5 relu, 300 spiral points", small, X, y, small_path, small.loss_value, goals=False, rtol=1e-4)
    best = min(timed(lambda: landscape.pca_landscape(model, X, y, path, RESOLUTION))[0] for _ in range(REPEATS))
    emit(figure="pca_landscape_ms", model="mlp 5x20 relu, 300 spiral points", path_points=len(path),
         grid=f"{RESOLUTION}x{RESOLUTION}", value=round(best * 1e3, 1))


def bench_linear() -> None:
    iris = datasets.load_iris()
    X, _, _ = datasets.standardize(iris.X)
    model = LogisticRegression(4, 3, l2=0.01)
    path = landscape.flatten_path(model, train.run(model, optim.sgd(lr=0.5), (X, iris.y), 200, 0).params)
    bench_grid("logistic regression, iris", model, X, iris.y, path, model.loss, goals=False)

    cancer = datasets.load_breast_cancer()
    X, _, _ = datasets.standardize(cancer.X)
    model = LinearSVM(30, l2=0.01)
    path = landscape.flatten_path(model, train.run(model, optim.sgd(lr=0.1), (X, cancer.y), 200, 0).params)
    bench_grid("linear svm, breast cancer", model, X, cancer.y, path, model.loss, goals=False)


def observations(seeds=(0, 1, 2)) -> None:
    for hidden in ((5,), (20,), (5,) * 5, (20,) * 5, (5,) * 10):
        for seed in seeds:
            model, X, y, path, hist = mlp_run(hidden, seed, steps=300)
            land = landscape.pca_landscape(model, X, y, path, RESOLUTION)
            emit(figure="observation", model=f"mlp {len(hidden)}x{hidden[0]} relu", seed=seed,
                 explained_variance_ratio=[round(float(r), 3) for r in land.explained_variance_ratio],
                 convexity_measure=round(landscape.convexity_measure(land.loss), 3),
                 final_loss=round(float(hist.loss[-1]), 4))


def main() -> None:
    bench_mlp()
    bench_linear()
    if "--observations" in sys.argv[1:]:
        observations()


if __name__ == "__main__":
    main()
