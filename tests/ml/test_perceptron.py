import numpy as np
import pytest

from app.ml import optim, train
from app.ml.datasets import songs_learnable, songs_unlearnable
from app.ml.perceptron import Perceptron, check_songs, plane_in_box, sigmoid


def numeric_grad(f, params, eps=1e-6):
    grads = {}
    for name, value in params.items():
        g = np.zeros_like(value, dtype=float)
        for idx in np.ndindex(value.shape):
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[name][idx] += eps
            minus[name][idx] -= eps
            g[idx] = (f(plus) - f(minus)) / (2 * eps)
        grads[name] = g
    return grads


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (7, 3)).astype(float)
    y = rng.integers(0, 2, 7).astype(float)
    model = Perceptron(3)
    params = model.init(seed)
    loss, grads = model.loss_and_grad(params, X, y)
    numeric = numeric_grad(lambda p: model.loss(p, X, y), params)
    for name in params:
        np.testing.assert_allclose(grads[name], numeric[name], rtol=1e-6, atol=1e-8)
    assert loss == pytest.approx(model.loss(params, X, y))


def test_loss_is_binary_cross_entropy():
    model = Perceptron(3)
    params = {"w": np.array([1.0, -2.0, 0.5]), "b": np.array(0.25)}
    X = np.array([[1, 0, 1], [0, 1, 1]], dtype=float)
    y = np.array([1.0, 0.0])
    p = 1 / (1 + np.exp(-(X @ params["w"] + 0.25)))
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert model.loss(params, X, y) == pytest.approx(expected, rel=1e-12)


def test_sigmoid_is_stable_for_huge_inputs():
    out = sigmoid(np.array([-1e6, -50.0, 0.0, 50.0, 1e6]))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[[0, 2, 4]], [0.0, 0.5, 1.0])


def _train(table, epochs=400, seed=0):
    X, y = table.X.astype(float), table.y.astype(float)
    return train.run(Perceptron(3), optim.sgd(lr=1.0), (X, y), epochs, seed), X, y


def test_learns_the_learnable_songs():
    history, X, y = _train(songs_learnable())
    params = {"w": history.params["w"][-1], "b": history.params["b"][-1]}
    p = Perceptron(3).predict_proba(params, X)
    assert np.array_equal(p > 0.5, y == 1)
    assert history.loss[-1] < 0.1


def test_cannot_learn_the_unlearnable_songs():
    history, X, y = _train(songs_unlearnable())
    assert history.loss[-1] > 0.69  # stuck at log 2, a coin toss
    params = {"w": history.params["w"][-1], "b": history.params["b"][-1]}
    p = Perceptron(3).predict_proba(params, X)
    assert not np.array_equal(p > 0.5, y == 1)


def test_runs_are_deterministic_for_a_seed():
    a, _, _ = _train(songs_learnable(), 50, seed=7)
    b, _, _ = _train(songs_learnable(), 50, seed=7)
    c, _, _ = _train(songs_learnable(), 50, seed=8)
    np.testing.assert_array_equal(a.params["w"], b.params["w"])
    assert not np.array_equal(a.params["w"], c.params["w"])


@pytest.mark.parametrize("X, y, message", [
    (np.zeros((0, 3)), np.zeros(0), "at least one song"),
    ([[0, 2, 1]], [1], "0 or 1"),
    ([[0, np.nan, 1]], [1], "0 or 1"),
    ([[0, 1, 1]], [np.inf], "0 or 1"),
    ([["a", 1, 1]], [1], "0 or 1"),
    (np.zeros((65, 3)), np.zeros(65), "at most 64"),
    ([[0, 1, 1]], [1, 0], "like"),
])
def test_bad_song_tables_get_clear_messages(X, y, message):
    with pytest.raises(ValueError, match=message):
        check_songs(X, y)


def test_plane_in_box_lies_on_the_plane_and_in_the_box():
    w, b = np.array([1.0, 2.0, -0.5]), -1.0
    polygon = plane_in_box(w, b, 0.0, 1.0)
    assert 3 <= len(polygon) <= 6
    np.testing.assert_allclose(polygon @ w + b, 0.0, atol=1e-12)
    assert (polygon >= -1e-12).all() and (polygon <= 1 + 1e-12).all()


def test_plane_in_box_is_empty_when_it_misses():
    assert plane_in_box(np.array([1.0, 0, 0]), 10.0).shape == (0, 3)
    assert plane_in_box(np.zeros(3), 0.0).shape == (0, 3)
    assert plane_in_box(np.array([np.nan, 0, 1]), 0.0).shape == (0, 3)
