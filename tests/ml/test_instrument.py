"""Step sizes, angles and optimizer internals against hand computation."""

import math

import numpy as np
import pytest

from app.ml import instrument, optim, train
from app.ml.instrument import (adam_internals, change_angles, change_norms, epoch_changes, flat_history,
                               momentum_internals, rmsprop_internals)


class Valley:
    """L = (theta_0^2 + 10 theta_1^2) / 2, gradient [theta_0, 10 theta_1]; data ignored."""

    def init(self, seed):
        return np.array([1.0, 1.0])

    def loss_and_grad(self, params, X, y):
        return 0.5 * float(params[0] ** 2 + 10 * params[1] ** 2), np.array([params[0], 10 * params[1]])


DATA = (np.zeros((3, 1)), None)


def run(opt, steps=4):
    return train.run(Valley(), opt, DATA, steps, 0)


# --------------------------------------------------------------------------
# Sizes and angles


def test_norms_and_angles_of_a_constructed_path():
    P = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0], [6.0, 10.0], [6.0, 8.0], [6.0, 8.0]])
    np.testing.assert_allclose(change_norms(P), [5.0, 5.0, 2.0, 2.0, 0.0])
    angles = change_angles(P)
    assert angles[0] == pytest.approx(0.0, abs=1e-6)                           # same direction
    assert angles[1] == pytest.approx(math.degrees(math.acos(0.8)))            # (3,4) then (0,2)
    assert angles[2] == pytest.approx(180.0)                                    # straight back
    assert math.isnan(angles[3])                                                # no change: no angle


def test_epoch_changes_summarize_a_history():
    P = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    out = epoch_changes(P)
    np.testing.assert_allclose(out["norm"], [1.0, 1.0])
    assert math.isnan(out["angle"][0]) and out["angle"][1] == pytest.approx(90.0)
    assert out["total"] == pytest.approx(math.sqrt(2)) and out["path_length"] == pytest.approx(2.0)
    single = epoch_changes(P[:1])
    assert single["norm"].shape == (0,) and single["angle"].shape == (0,)


def test_flat_history_lays_dict_entries_side_by_side():
    params = {"W": np.arange(12.0).reshape(3, 2, 2), "b": np.array([[10.0], [20.0], [30.0]])}
    flat = flat_history(params)
    np.testing.assert_array_equal(flat[1], [4, 5, 6, 7, 20])
    # the norm over all parameters at once
    np.testing.assert_allclose(change_norms(params), [math.sqrt(4 * 16 + 100)] * 2)


@pytest.mark.parametrize("bad, word", [({}, "at least one"), ({"a": np.zeros((2, 1)), "b": np.zeros((3, 1))},
                                                              "same number of rows"),
                                       (np.float64(3.0), "leading axis"), ([["x"]], "numbers")])
def test_bad_histories_raise(bad, word):
    with pytest.raises(ValueError, match=word):
        flat_history(bad)


def test_the_size_limit_is_named(monkeypatch):
    monkeypatch.setattr(instrument, "MAX_VALUES", 10)
    with pytest.raises(ValueError, match="MAX_VALUES"):
        flat_history(np.zeros((6, 2)))


# --------------------------------------------------------------------------
# Inside one step, by hand


def test_adam_internals_match_hand_computation():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    hist = run(optim.adam(lr=lr, betas=(b1, b2), eps=eps), steps=3)
    inside = adam_internals(hist, lr, (b1, b2), eps)
    theta, m, v = np.array([1.0, 1.0]), np.zeros(2), np.zeros(2)
    for t in range(1, 4):
        g = np.array([theta[0], 10 * theta[1]])
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        step = -lr * m_hat / (np.sqrt(v_hat) + eps)
        k = t - 1
        np.testing.assert_allclose(inside["g"][k], g, rtol=1e-12)
        np.testing.assert_allclose(inside["m"][k], m, rtol=1e-12)
        np.testing.assert_allclose(inside["v"][k], v, rtol=1e-12)
        assert inside["bias1"][k] == pytest.approx(1 - b1**t) and inside["bias2"][k] == pytest.approx(1 - b2**t)
        np.testing.assert_allclose(inside["m_hat"][k], m_hat, rtol=1e-12)
        np.testing.assert_allclose(inside["v_hat"][k], v_hat, rtol=1e-12)
        np.testing.assert_allclose(inside["step"][k], step, rtol=1e-10)
        theta = theta + step
        np.testing.assert_allclose(inside["theta"][k], theta, rtol=1e-12)
    np.testing.assert_allclose(inside["step"], inside["change"], rtol=1e-10)
    np.testing.assert_array_equal(inside["t"], [1, 2, 3])


def test_adam_s_first_step_moves_every_parameter_by_the_learning_rate():
    inside = adam_internals(run(optim.adam(lr=0.3), steps=1), 0.3)
    np.testing.assert_allclose(np.abs(inside["step"][0]), [0.3, 0.3], rtol=1e-7)


def test_momentum_internals_match_hand_computation():
    lr, mu = 0.05, 0.9
    inside = momentum_internals(run(optim.momentum(lr=lr, momentum=mu)), lr, mu)
    theta, b = np.array([1.0, 1.0]), None
    for k in range(4):
        g = np.array([theta[0], 10 * theta[1]])
        b = g if b is None else mu * b + g
        theta = theta - lr * b
        np.testing.assert_allclose(inside["buffer"][k], b, rtol=1e-12)
        np.testing.assert_allclose(inside["theta"][k], theta, rtol=1e-12)
    np.testing.assert_allclose(inside["step"], inside["change"], rtol=1e-12)


def test_rmsprop_internals_match_hand_computation():
    lr, alpha, eps = 0.01, 0.99, 1e-8
    inside = rmsprop_internals(run(optim.rmsprop(lr=lr, alpha=alpha, eps=eps)), lr, alpha, eps)
    theta, v = np.array([1.0, 1.0]), np.zeros(2)
    for k in range(4):
        g = np.array([theta[0], 10 * theta[1]])
        v = alpha * v + (1 - alpha) * g * g
        theta = theta - lr * g / (np.sqrt(v) + eps)
        np.testing.assert_allclose(inside["v"][k], v, rtol=1e-12)
        np.testing.assert_allclose(inside["rms"][k], np.sqrt(v) + eps, rtol=1e-12)
        np.testing.assert_allclose(inside["theta"][k], theta, rtol=1e-12)
    # no bias correction: the first step is lr / sqrt(1 - alpha) = 10 lr in size
    np.testing.assert_allclose(np.abs(inside["step"][0]), 10 * lr, rtol=1e-6)
    np.testing.assert_allclose(inside["step"], inside["change"], rtol=1e-10)


def test_internals_of_dict_parameters_are_flattened_in_order():
    class Split(Valley):
        def init(self, seed):
            return {"a": np.array([1.0]), "b": np.array([1.0])}

        def loss_and_grad(self, params, X, y):
            return 0.0, {"a": params["a"], "b": 10 * params["b"]}

    hist = train.run(Split(), optim.adam(lr=0.1), DATA, 3, 0)
    split = adam_internals(hist, 0.1)
    whole = adam_internals(run(optim.adam(lr=0.1), steps=3), 0.1)
    for key in ("g", "m", "v", "m_hat", "v_hat", "step", "theta"):
        np.testing.assert_allclose(split[key], whole[key], rtol=1e-12)


def test_internals_check_the_history_they_read():
    with pytest.raises(ValueError, match="AdamState"):
        adam_internals(run(optim.sgd(lr=0.1)), 0.1)
    with pytest.raises(ValueError, match="momentum buffer"):
        momentum_internals(run(optim.sgd(lr=0.1)), 0.1, 0.0)
    with pytest.raises(ValueError, match="train.History"):
        rmsprop_internals(object(), 0.1)
    hist = run(optim.adam(lr=0.1))
    broken = train.History(params=hist.params, grads=hist.grads[:-1], loss=hist.loss, states=hist.states)
    with pytest.raises(ValueError, match="does not fit together"):
        adam_internals(broken, 0.1)


def test_a_history_without_steps_gives_empty_internals():
    hist = train.History(params=np.ones((1, 2)), grads=np.zeros((0, 2)), loss=np.zeros(0),
                         states=[optim.adam().init(np.ones(2))])
    inside = adam_internals(hist, 0.1)
    assert inside["g"].shape == (0, 2) and inside["step"].shape == (0, 2)
