"""Logistic regression and the line fit: exact gradients, known answers, limits."""

import numpy as np
import pytest

from app.ml import linear
from app.ml.linear import LinearRegression, LogisticRegression, least_squares_line


def finite_difference(f, x, h=1e-6):
    """Central differences of a scalar function of a flat vector."""
    grad = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


@pytest.fixture
def blobs():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    y = rng.integers(0, 4, 40)
    X[np.arange(40), y % 3] += 1.5        # some signal, so the loss is not flat
    return X, y


# --------------------------------------------------------------------------
# Logistic regression
# --------------------------------------------------------------------------


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_logistic_gradient_matches_finite_differences(blobs, l2):
    X, y = blobs
    model = LogisticRegression(3, 4, l2=l2, init_scale=0.7)
    params = model.init(seed=3)
    params["b"] = np.array([0.2, -0.1, 0.4, 0.0])
    loss, grads = model.loss_and_grad(params, X, y)
    numeric = finite_difference(lambda v: model.loss(model.unflatten(v), X, y), model.flatten(params))
    np.testing.assert_allclose(model.flatten(grads), numeric, rtol=1e-6, atol=1e-8)
    assert loss == pytest.approx(model.loss(params, X, y), rel=1e-14)


def test_logistic_zero_weights_give_log_of_class_count(blobs):
    X, y = blobs
    model = LogisticRegression(3, 4)
    params = {"W": np.zeros((3, 4)), "b": np.zeros(4)}
    assert model.loss(params, X, y) == pytest.approx(np.log(4), rel=1e-14)
    np.testing.assert_allclose(model.predict_proba(params, X), 0.25)


def test_logistic_two_classes_match_binary_cross_entropy(blobs):
    # softmax over 2 classes is the sigmoid of the score difference
    X, _ = blobs
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression(3, 2)
    params = {"W": np.array([[0.5, -0.5], [0.2, 0.1], [0.0, 0.3]]), "b": np.array([0.1, -0.2])}
    z = X @ (params["W"][:, 1] - params["W"][:, 0]) + (params["b"][1] - params["b"][0])
    p = 1 / (1 + np.exp(-z))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert model.loss(params, X, y) == pytest.approx(expected, rel=1e-12)


def test_logistic_loss_many_matches_single_losses_across_chunks(blobs, monkeypatch):
    X, y = blobs
    model = LogisticRegression(3, 4, l2=0.1)
    P = np.random.default_rng(0).standard_normal((23, model.n_params))
    expected = [model.loss(model.unflatten(row), X, y) for row in P]
    np.testing.assert_allclose(model.loss_many(P, X, y), expected, rtol=1e-12)
    monkeypatch.setattr(linear, "LOSS_MANY_FLOATS", 5 * 40 * 4)   # 5 rows per pass: uneven last pass
    np.testing.assert_allclose(model.loss_many(P, X, y), expected, rtol=1e-12)


def test_logistic_flatten_round_trip_and_copies():
    model = LogisticRegression(3, 2)
    params = model.init(seed=0)
    vec = model.flatten(params)
    assert vec.shape == (model.n_params,) == (8,)
    back = model.unflatten(vec)
    np.testing.assert_array_equal(back["W"], params["W"])
    np.testing.assert_array_equal(back["b"], params["b"])
    back["W"][0, 0] = 99.0
    assert vec[0] != 99.0


def test_logistic_init_is_deterministic():
    model = LogisticRegression(4, 3, init_scale=0.5)
    np.testing.assert_array_equal(model.init(7)["W"], model.init(7)["W"])
    assert not np.array_equal(model.init(7)["W"], model.init(8)["W"])


def test_logistic_gradient_descent_decreases_the_loss(blobs):
    X, y = blobs
    model = LogisticRegression(3, 4, l2=0.01)
    params = model.init(0)
    losses = []
    for _ in range(100):
        loss, g = model.loss_and_grad(params, X, y)
        losses.append(loss)
        params = {k: params[k] - 0.5 * g[k] for k in params}
    assert np.all(np.diff(losses) < 0)
    assert losses[-1] < 0.7 * losses[0]


def test_logistic_non_finite_parameters_give_non_finite_loss(blobs):
    X, y = blobs
    model = LogisticRegression(3, 4)
    params = {"W": np.full((3, 4), np.nan), "b": np.zeros(4)}
    assert not np.isfinite(model.loss_and_grad(params, X, y)[0])


@pytest.mark.parametrize("kwargs, limit", [
    ({"n_features": 0}, "FEATURES_MAX"),
    ({"n_features": 10**4}, "FEATURES_MAX"),
    ({"n_classes": 1}, "CLASSES_MAX"),
    ({"l2": -1.0}, "REG_MAX"),
    ({"l2": float("nan")}, "REG_MAX"),
    ({"init_scale": 1e9}, "INIT_SCALE_MAX"),
])
def test_logistic_bad_settings_raise(kwargs, limit):
    with pytest.raises(ValueError, match=limit):
        LogisticRegression(**kwargs)


@pytest.mark.parametrize("X, y, message", [
    (np.full((5, 3), np.nan), np.zeros(5), "NaN or inf"),
    (np.full((5, 3), np.inf), np.zeros(5), "NaN or inf"),
    (np.full((5, 3), 1e9), np.zeros(5), "X_ABS_MAX"),
    (np.zeros((0, 3)), np.zeros(0), "N_MAX"),
    (np.zeros((5, 2)), np.zeros(5), r"shape \(n, 3\)"),
    (np.zeros((5, 3)), np.full(5, 4), "integers in 0..3"),
    (np.zeros((5, 3)), np.full(5, 0.5), "integers in 0..3"),
    (np.zeros((5, 3)), np.zeros(4), "one label per row"),
])
def test_logistic_bad_data_raise(X, y, message):
    model = LogisticRegression(3, 4)
    with pytest.raises(ValueError, match=message):
        model.loss_and_grad(model.init(0), X, y)


def test_logistic_bad_parameter_blocks_raise(blobs):
    X, y = blobs
    model = LogisticRegression(3, 4)
    with pytest.raises(ValueError, match="LOSS_MANY_K_MAX"):
        model.loss_many(np.zeros((0, model.n_params)), X, y)
    with pytest.raises(ValueError, match="LOSS_MANY_K_MAX"):
        model.loss_many(np.zeros((linear.LOSS_MANY_K_MAX + 1, model.n_params)), X, y)
    with pytest.raises(ValueError, match=r"shape \(k, 16\)"):
        model.loss_many(np.zeros((3, 15)), X, y)
    with pytest.raises(ValueError, match="shape"):
        model.loss({"W": np.zeros((4, 3)), "b": np.zeros(4)}, X, y)
    with pytest.raises(ValueError, match="seed"):
        model.init(-1)


# --------------------------------------------------------------------------
# Line fit y = m x + b
# --------------------------------------------------------------------------


@pytest.fixture
def line_data():
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 3, 30)
    return x, 1.7 * x - 0.4 + 0.3 * rng.standard_normal(30)


def test_line_gradient_matches_finite_differences(line_data):
    x, y = line_data
    model = LinearRegression()
    params = np.array([0.3, 1.2])
    loss, grad = model.loss_and_grad(params, x, y)
    numeric = finite_difference(lambda v: model.loss(v, x, y), params)
    np.testing.assert_allclose(grad, numeric, rtol=1e-7, atol=1e-9)
    assert loss == pytest.approx(np.mean((0.3 * x + 1.2 - y) ** 2), rel=1e-14)


def test_least_squares_line_is_the_minimum(line_data):
    x, y = line_data
    best = least_squares_line(x, y)
    np.testing.assert_allclose(best, np.polyfit(x, y, 1), rtol=1e-10)
    model = LinearRegression()
    np.testing.assert_allclose(model.loss_and_grad(best, x, y)[1], 0.0, atol=1e-12)


def test_line_exact_data_has_zero_loss():
    x = np.array([0.0, 1.0, 2.0])
    model = LinearRegression()
    assert model.loss(np.array([2.0, -1.0]), x, 2 * x - 1) == 0.0
    np.testing.assert_array_equal(model.predict([2.0, -1.0], x.reshape(-1, 1)), 2 * x - 1)


def test_line_loss_many_matches_loss(line_data, monkeypatch):
    x, y = line_data
    model = LinearRegression()
    P = np.random.default_rng(3).standard_normal((17, 2))
    expected = [model.loss(row, x, y) for row in P]
    np.testing.assert_allclose(model.loss_many(P, x, y), expected, rtol=1e-13)
    monkeypatch.setattr(linear, "LOSS_MANY_FLOATS", 4 * 30)
    np.testing.assert_allclose(model.loss_many(P, x[:, None], y), expected, rtol=1e-13)


def test_line_init_flatten_and_seed():
    model = LinearRegression(init_scale=2.0)
    np.testing.assert_array_equal(model.init(5), model.init(5))
    assert model.init(5).shape == (2,)
    vec = model.flatten(model.init(5))
    np.testing.assert_array_equal(model.unflatten(vec), vec)


@pytest.mark.parametrize("x, y, message", [
    ([1.0, np.nan], [0.0, 1.0], "NaN or inf"),
    ([1.0, 2.0], [0.0, np.inf], "NaN or inf"),
    ([1.0, 1e12], [0.0, 1.0], "X_ABS_MAX"),
    ([], [], "N_MAX"),
    ([1.0, 2.0], [0.0], "one target per x"),
    (np.zeros((2, 2)), [0.0, 1.0], r"\(n, 1\)"),
])
def test_line_bad_data_raise(x, y, message):
    with pytest.raises(ValueError, match=message):
        LinearRegression().loss_and_grad(np.zeros(2), x, y)


def test_line_bad_params_and_degenerate_fit_raise():
    with pytest.raises(ValueError, match=r"\[m, b\]"):
        LinearRegression().loss(np.zeros(3), [1.0], [1.0])
    with pytest.raises(ValueError, match="two distinct values"):
        least_squares_line([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])


def test_line_loss_and_gradient_are_the_mean_formulas_to_the_last_bit():
    """The fast sums must give exactly what np.mean gives (the optimizer lab's races compare runs)."""
    rng = np.random.default_rng(7)
    model = LinearRegression()
    for n in (1, 2, 7, 50, 1000):
        x, y, (m, b) = rng.normal(size=n), rng.normal(size=n), rng.normal(size=2)
        r = m * x + b - y
        loss, grad = model.loss_and_grad([m, b], x, y)
        assert loss == float(np.mean(r * r))
        assert grad.tolist() == [2.0 * np.mean(r * x), 2.0 * np.mean(r)]
