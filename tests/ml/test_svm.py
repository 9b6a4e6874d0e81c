"""Linear SVM on the hinge loss: exact (sub)gradients, known answers, limits."""

import numpy as np
import pytest

from app.ml import svm
from app.ml.svm import LinearSVM, signed_labels


def finite_difference(f, x, h=1e-6):
    grad = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


@pytest.fixture
def data():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 5))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 1.0]) + 0.3 * rng.standard_normal(60) > 0).astype(int)
    return X, y


def test_svm_gradient_matches_finite_differences(data):
    X, y = data
    model = LinearSVM(5, l2=0.2, init_scale=0.5)
    params = model.init(seed=1)
    params["b"] = np.array([0.1])
    # finite differences only see the gradient away from the hinge's kinks
    margins = signed_labels(y) * model.decision_function(params, X)
    assert np.min(np.abs(1 - margins)) > 1e-3
    assert 0 < np.sum(margins < 1) < len(y)              # some points active, some not
    loss, grads = model.loss_and_grad(params, X, y)
    numeric = finite_difference(lambda v: model.loss(model.unflatten(v), X, y), model.flatten(params))
    np.testing.assert_allclose(model.flatten(grads), numeric, rtol=1e-6, atol=1e-9)
    assert loss == pytest.approx(model.loss(params, X, y), rel=1e-14)


def test_svm_zero_parameters_known_answer(data):
    X, y = data
    model = LinearSVM(5, l2=0.5)
    params = {"W": np.zeros((5, 1)), "b": np.zeros(1)}
    t = np.where(y == 1, 1.0, -1.0)
    loss, grads = model.loss_and_grad(params, X, y)
    assert loss == 1.0                                   # every point has slack 1
    np.testing.assert_allclose(grads["W"][:, 0], -(t[:, None] * X).mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(grads["b"], [-t.mean()], rtol=1e-13)


def test_svm_point_on_the_margin_takes_subgradient_zero():
    model = LinearSVM(1, l2=0.0)
    params = {"W": np.array([[1.0]]), "b": np.zeros(1)}
    loss, grads = model.loss_and_grad(params, np.array([[1.0], [-1.0]]), np.array([1, 0]))
    assert loss == 0.0
    np.testing.assert_array_equal(model.flatten(grads), [0.0, 0.0])


def test_svm_labels_zero_one_and_signed_agree(data):
    X, y = data
    model = LinearSVM(5)
    params = model.init(0)
    assert model.loss(params, X, y) == model.loss(params, X, 2 * y - 1)
    with pytest.raises(ValueError, match=r"\{0, 1\} or in \{-1, \+1\}"):
        model.loss(params, X, np.where(y == 1, 2, 0))
    with pytest.raises(ValueError, match=r"\{0, 1\} or in \{-1, \+1\}"):
        signed_labels([0, -1, 1])


def test_svm_loss_many_matches_single_losses_across_chunks(data, monkeypatch):
    X, y = data
    model = LinearSVM(5, l2=0.1)
    P = np.random.default_rng(5).standard_normal((19, model.n_params))
    expected = [model.loss(model.unflatten(row), X, y) for row in P]
    np.testing.assert_allclose(model.loss_many(P, X, y), expected, rtol=1e-13)
    monkeypatch.setattr(svm, "LOSS_MANY_FLOATS", 4 * 60)
    np.testing.assert_allclose(model.loss_many(P, X, y), expected, rtol=1e-13)


def test_svm_subgradient_descent_separates_separable_data():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((80, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    X += np.where(y == 1, 0.5, -0.5)[:, None]          # open a gap between the classes
    model = LinearSVM(2, l2=1e-3)
    params = model.init(0)
    for _ in range(300):
        _, g = model.loss_and_grad(params, X, y)
        params = {k: params[k] - 0.2 * g[k] for k in params}
    np.testing.assert_array_equal(model.predict(params, X), y)


def test_svm_flatten_layout_and_determinism():
    model = LinearSVM(3)
    params = {"W": np.array([[1.0], [2.0], [3.0]]), "b": np.array([4.0])}
    np.testing.assert_array_equal(model.flatten(params), [1, 2, 3, 4])
    back = model.unflatten([1, 2, 3, 4])
    assert back["W"].shape == (3, 1) and back["b"].shape == (1,)
    np.testing.assert_array_equal(model.init(2)["W"], model.init(2)["W"])


@pytest.mark.parametrize("kwargs, limit", [
    ({"n_features": 0}, "FEATURES_MAX"),
    ({"n_features": 1001}, "FEATURES_MAX"),
    ({"l2": 11.0}, "REG_MAX"),
    ({"l2": float("inf")}, "REG_MAX"),
])
def test_svm_bad_settings_raise(kwargs, limit):
    with pytest.raises(ValueError, match=limit):
        LinearSVM(**kwargs)


@pytest.mark.parametrize("X, y, message", [
    (np.full((4, 2), np.nan), [0, 1, 0, 1], "NaN or inf"),
    (np.full((4, 2), -np.inf), [0, 1, 0, 1], "NaN or inf"),
    (np.full((4, 2), 1e7), [0, 1, 0, 1], "X_ABS_MAX"),
    (np.zeros((0, 2)), [], "N_MAX"),
    (np.zeros((4, 3)), [0, 1, 0, 1], r"shape \(n, 2\)"),
    (np.zeros((4, 2)), [0, 1, 0], "one label per row"),
    (np.zeros((4, 2)), [0, 1, np.nan, 1], "no NaN"),
])
def test_svm_bad_data_raise(X, y, message):
    model = LinearSVM(2)
    with pytest.raises(ValueError, match=message):
        model.loss_and_grad(model.init(0), X, y)


def test_svm_bad_parameter_blocks_raise(data):
    X, y = data
    model = LinearSVM(5)
    with pytest.raises(ValueError, match="LOSS_MANY_K_MAX"):
        model.loss_many(np.zeros((0, 6)), X, y)
    with pytest.raises(ValueError, match=r"shape \(k, 6\)"):
        model.loss_many(np.zeros((2, 5)), X, y)
    with pytest.raises(ValueError, match="shape"):
        model.loss({"W": np.zeros(5), "b": np.zeros(1)}, X, y)
