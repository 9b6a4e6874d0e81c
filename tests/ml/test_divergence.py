"""The shared divergence rule and wording, and every training loop that uses it.

Each loop is forced to diverge and must say so in the same words, counting
steps and epochs from 1 (diverged_at is the number the message names; in
these runs one more than the steps or epochs completed), and keep the last
finite parameters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.lessons import own_melody
from app.ml import adaptive, decision_runs, divergence, graph_layout, optim, rnn, train
from app.ml.decision_runs import RunSpec

INF, NAN = math.inf, math.nan


# -- the rule -------------------------------------------------------------------------------


@pytest.mark.parametrize("loss, words", [(INF, "the loss became inf"), (-INF, "the loss became -inf"),
                                         (NAN, "the loss became nan"), (np.float32(INF), "the loss became inf"),
                                         (np.array(NAN), "the loss became nan")])
def test_a_loss_that_is_not_finite_is_named(loss, words):
    assert divergence.reason(loss, np.zeros(3)) == words


@pytest.mark.parametrize("params", [np.array([1.0, INF]), np.array([[NAN]]),
                                    {"w": np.ones((2, 2)), "b": np.array([0.0, -INF])},
                                    {"w": np.array(NAN)}])
def test_parameters_that_are_not_finite_are_named(params):
    assert divergence.reason(1.5, params) == "the parameters became non-finite"
    assert not divergence.finite(params)


def test_all_finite_is_no_divergence():
    assert divergence.reason(0.25, np.arange(4.0)) is None
    assert divergence.reason(1e308, {"w": np.full((3, 2), -1e308), "b": np.zeros(2), "n": np.arange(3)}) is None
    assert divergence.finite({}) and divergence.finite(np.zeros(0))


def test_the_loss_comes_first_then_the_parameters_then_the_callers_reasons():
    assert divergence.reason(NAN, np.array([INF]), "too far") == "the loss became nan"
    assert divergence.reason(1.0, np.array([INF]), "too far") == "the parameters became non-finite"
    assert divergence.reason(1.0, np.zeros(2), None, "too far", "piled up") == "too far"
    assert divergence.reason(1.0, np.zeros(2), None, None) is None


def test_a_loss_not_computed_yet_is_not_checked():
    assert divergence.reason(None, np.zeros(2)) is None
    assert divergence.reason(None, np.array([NAN])) == "the parameters became non-finite"
    assert divergence.reason(None, np.zeros(2), "too far") == "too far"


def test_the_message_counts_from_1_in_steps_or_epochs():
    assert divergence.message("step", 37, "the loss became inf") == "diverged at step 37: the loss became inf"
    assert divergence.message("epoch", 4, "the parameters became non-finite") == \
        "diverged in epoch 4: the parameters became non-finite"


@pytest.mark.parametrize("unit, number", [("steps", 3), ("batch", 1), ("step", 0), ("epoch", -2)])
def test_the_message_refuses_other_units_and_counts_below_1(unit, number):
    with pytest.raises(ValueError):
        divergence.message(unit, number, "the loss became inf")


def test_quiet_switches_numpy_warnings_off():
    with np.errstate(all="raise"):
        with divergence.quiet():
            assert np.isinf(np.float64(1e308) * 10) and np.isnan(np.float64(INF) - INF)
        with pytest.raises(FloatingPointError):
            np.float64(1e308) * 10


# -- every loop -----------------------------------------------------------------------------
# Plain SGD on a gradient g(w) = w multiplies w by (1 - lr) per step: with lr = 1e10 the
# weights grow by about 1e10 a step, so |w_t| ~ 1e(10 t). The bowl's loss |w|^2 / 2 overflows
# at w_16 (1e320); the flat model's loss stays 0, and lr * w_30 = 1e310 makes w_31 infinite.

LR = 1e10


class Bowl:
    """loss = |w|^2 / 2 for w: (2,), gradient w (the data are ignored)."""

    def init(self, seed):
        return np.array([1.0, -1.0])

    def loss_and_grad(self, params, X, y):
        return 0.5 * float(params @ params), params.copy()


class Flat(Bowl):
    """The bowl's gradient with a loss that stays 0: only the parameters run away."""

    def loss_and_grad(self, params, X, y):
        return 0.0, params.copy()


class InfiniteStart(Bowl):
    def loss_and_grad(self, params, X, y):
        return INF, params.copy()


DATA = (np.zeros((4, 1)), None)


class NanAtStep3:
    """An optimizer that moves every circle a little, and to NaN at its third step."""

    def init(self, params):
        return 0

    def update(self, grads, state, params):
        return np.full_like(params, NAN if state == 2 else 0.01), state + 1


def _train(model):
    hist = train.run(model, optim.sgd(lr=LR), DATA, steps=100)
    return hist.message, hist.diverged_at, hist.steps_done, hist.params[-1]


def _epochs(model):
    hist = adaptive.run_epochs(model, optim.sgd(lr=LR), DATA, 100)
    return hist.message, hist.diverged_at, hist.epochs_done, hist.params[-1]


def _decision_run():
    spec = RunSpec(layers=2, width=16, points=100, activation="linear", loss="squared_error", optimizer="sgd",
                   lr=10.0, batch_size=5, epochs=50, frames=5, resolution=8)
    progress = decision_runs.start(spec)
    while not progress.done:
        progress = decision_runs.advance(spec, progress, 7)
    return progress.message, progress.diverged_at, progress.epoch, decision_runs.finish(spec, progress)["params"]


MELODY = dict(hidden=8, unroll=None, lr=10.0, optimizer="rmsprop", steps=20, seed=0, clip=None)


def _melodies():
    run = rnn.train_melodies(("mary",), MELODY["hidden"], MELODY["unroll"], MELODY["lr"], MELODY["optimizer"],
                             MELODY["steps"], MELODY["seed"], MELODY["clip"])
    return run.message, run.diverged_at, len(run.loss), run.params


def _own_melody():
    run = own_melody.train_with_melody(("mary",), own_melody.EXAMPLE, **MELODY)
    return run.message, run.diverged_at, len(run.loss), run.params


def _layout(optimizer, edges=None, n=50, init="random"):
    edges = graph_layout.make_graph("random", n, 0) if edges is None else edges
    h = graph_layout.run_layout(edges, n, optimizer, 200, init, 0)
    assert len(h.loss) == h.metrics["steps_run"] + 1 and h.frame_steps[-1] == h.metrics["steps_run"]
    return h.message, h.diverged_at, h.metrics["steps_run"], h.positions


EDGE = np.array([[0, 1]])
AT_THE_EDGE = np.array([[999_990.0, 0.0], [999_990.1, 0.0]])   # overlapping, 10 radii inside DIVERGENCE_EXTENT
TOO_FAR = "a circle went beyond 1e+06 radii (DIVERGENCE_EXTENT)"
HINT = "; try a smaller learning rate"

LOOPS = {
    "train.run, loss": (lambda: _train(Bowl()), "step", 17, "the loss became inf", ""),
    "train.run, parameters": (lambda: _train(Flat()), "step", 31, "the parameters became non-finite", ""),
    "adaptive.run_epochs, loss": (lambda: _epochs(Bowl()), "epoch", 16, "the loss became inf", ""),
    "adaptive.run_epochs, parameters": (lambda: _epochs(Flat()), "epoch", 31, "the parameters became non-finite", ""),
    "adaptive.run_epochs, start": (lambda: _epochs(InfiniteStart()), "epoch", 1, "the loss became inf", ""),
    "decision_runs.advance": (_decision_run, "epoch", 1, "the loss became inf", ""),
    "rnn.train_melodies": (_melodies, "step", 3, "the loss became inf", ""),
    "own_melody.train_with_melody": (_own_melody, "step", 3, "the loss became inf", ""),
    "graph layout, gradient steps": (lambda: _layout(graph_layout.layout_optimizer("sgd", lr=10.0)),
                                     "step", 3, TOO_FAR, HINT),
    "graph layout, gradient steps, parameters": (lambda: _layout(NanAtStep3()),
                                                 "step", 3, "the parameters became non-finite", HINT),
    "graph layout, L-BFGS": (lambda: _layout(graph_layout.lbfgs(max_move=1e3, max_backtracks=1), EDGE, 2,
                                             AT_THE_EDGE), "step", 1, TOO_FAR, ""),
}


@pytest.mark.parametrize("name", LOOPS)
def test_every_loop_reports_divergence_in_the_same_words_and_keeps_finite_parameters(name):
    runner, unit, number, why, hint = LOOPS[name]
    with np.errstate(all="raise"):           # expected overflow stays inside the loop's divergence.quiet()
        message, diverged_at, done, params = runner()
    assert message == divergence.message(unit, number, why) + hint
    assert diverged_at == number == done + 1                     # counted from 1, after `done` whole ones
    assert divergence.finite(params)


def test_the_loops_kept_the_parameters_of_the_last_whole_step():
    *_, done, params = _train(Bowl())
    np.testing.assert_allclose(params, (1 - LR) ** done * np.array([1.0, -1.0]), rtol=1e-12)
    *_, done, params = _epochs(Flat())
    np.testing.assert_allclose(params, (1 - LR) ** done * np.array([1.0, -1.0]), rtol=1e-12)
    *_, positions = _layout(graph_layout.lbfgs(max_move=1e3, max_backtracks=1), EDGE, 2, AT_THE_EDGE)
    np.testing.assert_array_equal(positions[-1], AT_THE_EDGE)   # the start: step 1 never happened
    a, b = _melodies()[3], _own_melody()[3]
    assert a.keys() == b.keys() and all(np.isfinite(a[k]).all() and np.isfinite(b[k]).all() for k in a)


def test_runs_that_do_not_diverge_say_nothing():
    hist = train.run(Bowl(), optim.sgd(lr=0.5), DATA, steps=20)
    assert hist.diverged_at is None and hist.message == "" and hist.steps_done == 20
    run = rnn.train_melodies(("mary",), 8, None, 0.01, "adam", 5, 0, 5.0)
    assert run.diverged_at is None and run.message == "" and len(run.loss) == 5
