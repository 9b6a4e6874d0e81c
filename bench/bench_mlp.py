"""Speed of the MLP core, printed as JSON lines (one figure per line).

    python bench/bench_mlp.py            # from the repository root

Figures, each beside the peer it is compared with in the same run:

- ``epochs_per_second``: full-batch Adam epochs of a 5 x 20 relu net on 500
  spiral points (one epoch = loss_and_grad + one optimizer update). Peer:
  scikit-learn's MLPClassifier doing the same (``partial_fit`` on the full
  batch), when scikit-learn happens to be installed; it is not a dependency.
- ``decision_grid_ms``: a 100 x 100 decision heatmap of that net.
- ``loss_many_speedup``: loss_many on k parameter vectors against a Python
  loop calling ``loss_value(unflatten(row))`` on the same rows. Goal >= 10x
  for the 5 x 20 net, reported for several architectures since the ratio
  depends on how much of the loop's time is per-call overhead rather than
  arithmetic. Two variants: ``float32``, as the site calls it, and
  ``float64``, the arithmetic of the loop itself.

Times are the best of several repeats (the machine may be shared).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.ml import datasets, optim  # noqa: E402
from app.ml.mlp import MLP, decision_grid  # noqa: E402

N_POINTS = 500
REPEATS = 5
GOAL_NET = (20,) * 5        # the 5 x 20 net the speed goals are set for


def best_time(fn, repeats: int = REPEATS) -> float:
    """Fastest of `repeats` calls of fn, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def bench_epochs(X, y, epochs: int = 200) -> None:
    model = MLP((2, 20, 20, 20, 20, 20, 3), "relu", "softmax_ce")
    opt = optim.adam(lr=1e-2)

    def train():
        params = model.init(0)
        state = opt.init(params)
        for _ in range(epochs):
            _, grads = model.loss_and_grad(params, X, y)
            updates, state = opt.update(grads, state, params)
            params = optim.apply_updates(params, updates)

    seconds = best_time(train, 3)
    emit(figure="epochs_per_second", model="mlp 5x20 relu", n=len(X), value=round(epochs / seconds, 1))

    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        emit(figure="epochs_per_second", peer="sklearn MLPClassifier", skipped="scikit-learn not installed")
        return

    import warnings

    def train_peer():
        clf = MLPClassifier(hidden_layer_sizes=(20,) * 5, solver="adam", learning_rate_init=1e-2,
                            batch_size=len(X), alpha=0.0, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(epochs):
                clf.partial_fit(X, y, classes=np.arange(3))

    seconds = best_time(train_peer, 3)
    emit(figure="epochs_per_second", peer="sklearn MLPClassifier 5x20 relu", n=len(X),
         value=round(epochs / seconds, 1))


def bench_heatmap(X, y) -> None:
    model = MLP((2, 20, 20, 20, 20, 20, 3))
    params = model.init(0)
    seconds = best_time(lambda: decision_grid(model, params, (-1.5, 1.5), (-1.5, 1.5), 100))
    emit(figure="decision_grid_ms", model="mlp 5x20 relu", resolution=100, value=round(seconds * 1e3, 2))


def bench_loss_many(X, y, hidden: tuple[int, ...], k: int = 400) -> None:
    """loss_many as the site calls it (float32 layers) and in float64 against the loop."""
    model = MLP((2, *hidden, 3))
    theta = model.flatten(model.init(0))
    P = theta + 0.1 * np.random.default_rng(0).standard_normal((k, model.n_params))

    def loop():
        return np.array([model.loss_value(model.unflatten(row), X, y) for row in P])

    variants = {"float32": lambda: model.loss_many(P, X, y), "float64": lambda: model.loss_many(P, X, y, np.float64)}
    reference = loop()
    for name, fn in variants.items():
        if not np.allclose(fn(), reference, rtol=1e-10 if name == "float64" else 1e-6, atol=1e-12):
            raise SystemExit(f"loss_many ({name}) disagrees with the loop")
    # interleave the variants so that a busy machine slows all alike
    best = dict.fromkeys([*variants, "loop"], float("inf"))
    for _ in range(REPEATS):
        for name, fn in [*variants.items(), ("loop", loop)]:
            best[name] = min(best[name], best_time(fn, 1))
    name = "x".join(map(str, (len(hidden), hidden[0]))) if hidden else "0 hidden"
    common = {"model": f"mlp {name} relu", "k": k, "n": len(X)}
    for variant in variants:
        emit(figure="loss_many_ms", variant=variant, **common, value=round(best[variant] * 1e3, 2))
    emit(figure="loss_many_ms", peer="python loop of loss_value", **common, value=round(best["loop"] * 1e3, 2))
    for variant in variants:
        speedup = best["loop"] / best[variant]
        goal = {"goal": 10.0, "met": bool(speedup >= 10.0)} if variant == "float32" and hidden == GOAL_NET else {}
        emit(figure="loss_many_speedup", variant=variant, **common, value=round(speedup, 1), **goal)


def main() -> None:
    X, y = datasets.make_2d("spiral3", N_POINTS, seed=0)
    bench_epochs(X, y)
    bench_heatmap(X, y)
    for hidden in ((), (5,), (20,), (20,) * 5, (100,), (5,) * 20):
        bench_loss_many(X, y, hidden)


if __name__ == "__main__":
    main()
