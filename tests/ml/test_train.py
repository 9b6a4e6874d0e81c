"""Tests for app.ml.train: history shapes, minibatches, divergence, limits, stack_states."""

import copy

import numpy as np
import pytest

from app.ml import optim, train


class LinearRegression:
    """y ~ X w + b with mean squared error; params {"w": (d,), "b": (1,)} or a (d+1,) array."""

    def __init__(self, d=3, as_dict=True):
        self.d, self.as_dict = d, as_dict
        self.init_calls = []

    def init(self, seed):
        self.init_calls.append(seed)
        w = np.random.default_rng(seed).normal(size=self.d)
        return {"w": w, "b": np.zeros(1)} if self.as_dict else np.concatenate([w, [0.0]])

    def loss_and_grad(self, params, X, y):
        w, b = (params["w"], params["b"][0]) if self.as_dict else (params[:-1], params[-1])
        r = X @ w + b - y
        loss = float(np.mean(r**2))
        gw, gb = 2 * X.T @ r / len(y), 2 * np.mean(r)
        return loss, ({"w": gw, "b": np.array([gb])} if self.as_dict else np.concatenate([gw, [gb]]))


class BatchRecorder(LinearRegression):
    """Remembers the rows of X each step saw (the first column holds the row index)."""

    def __init__(self):
        super().__init__(d=2)
        self.batches = []

    def loss_and_grad(self, params, X, y):
        self.batches.append(X[:, 0].astype(int).tolist())
        return super().loss_and_grad(params, X, y)


def regression_data(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ np.arange(1.0, d + 1) + 0.5 + 0.01 * rng.normal(size=n)


def test_model_gradient_matches_finite_differences():
    model, (X, y) = LinearRegression(as_dict=False), regression_data()
    p = np.array([0.3, -0.2, 0.1, 0.4])
    _, g = model.loss_and_grad(p, X, y)
    h = 1e-6
    fd = [(model.loss_and_grad(p + h * e, X, y)[0] - model.loss_and_grad(p - h * e, X, y)[0]) / (2 * h)
          for e in np.eye(4)]
    np.testing.assert_allclose(g, fd, rtol=1e-6)


@pytest.mark.parametrize("as_dict", [True, False])
def test_history_shapes(as_dict):
    hist = train.run(LinearRegression(as_dict=as_dict), optim.adam(lr=0.05), regression_data(), steps=25)
    assert hist.steps_done == 25 and hist.diverged_at is None and hist.message == ""
    assert hist.loss.shape == (25,) and hist.loss.dtype == float
    assert len(hist.states) == 26
    if as_dict:
        assert hist.params["w"].shape == (26, 3) and hist.params["b"].shape == (26, 1)
        assert hist.grads["w"].shape == (25, 3) and hist.grads["b"].shape == (25, 1)
    else:
        assert hist.params.shape == (26, 4) and hist.grads.shape == (25, 4)
    assert [s.count for s in hist.states] == list(range(26))


def test_history_replays_the_optimizer_exactly():
    model, data = LinearRegression(), regression_data()
    opt = optim.rmsprop(lr=0.01, momentum=0.5)
    hist = train.run(model, opt, data, steps=10, seed=3)
    params, state = model.init(3), opt.init(model.init(3))
    for t in range(10):
        np.testing.assert_array_equal(hist.params["w"][t], params["w"])
        loss, grads = model.loss_and_grad(params, *data)
        assert hist.loss[t] == loss
        np.testing.assert_array_equal(hist.grads["w"][t], grads["w"])
        np.testing.assert_array_equal(hist.states[t].square_avg["w"], state.square_avg["w"])
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
    np.testing.assert_array_equal(hist.params["b"][10], params["b"])


@pytest.mark.parametrize("opt", [optim.sgd(lr=0.05), optim.adam(lr=0.05), optim.nesterov(lr=0.02)],
                         ids=["sgd", "adam", "nesterov"])
def test_loss_decreases_on_a_convex_problem(opt):
    hist = train.run(LinearRegression(), opt, regression_data(), steps=300)
    assert hist.loss[-1] < 1e-2 * hist.loss[0]
    np.testing.assert_allclose(hist.params["w"][-1], [1.0, 2.0, 3.0], atol=0.05)


def test_full_batch_gradient_descent_decreases_the_loss_every_step():
    hist = train.run(LinearRegression(), optim.sgd(lr=0.05), regression_data(), steps=100)
    assert np.all(np.diff(hist.loss) < 0)


def test_seed_sets_the_initial_params_and_params_override_it():
    model = LinearRegression()
    hist = train.run(model, optim.sgd(lr=0.1), regression_data(), steps=2, seed=5)
    np.testing.assert_array_equal(hist.params["w"][0], LinearRegression().init(5)["w"])
    start = {"w": np.array([1.0, 1.0, 1.0]), "b": np.array([2.0])}
    start_copy = copy.deepcopy(start)
    model = LinearRegression()
    hist = train.run(model, optim.sgd(lr=0.1), regression_data(), steps=2, params=start)
    assert model.init_calls == []
    np.testing.assert_array_equal(hist.params["w"][0], [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(start["w"], start_copy["w"])
    np.testing.assert_array_equal(start["b"], start_copy["b"])


def test_run_leaves_data_and_params_untouched():
    X, y = regression_data()
    X0, y0 = X.copy(), y.copy()
    start = np.array([0.1, 0.2, 0.3, 0.0])
    hist = train.run(LinearRegression(as_dict=False), optim.adam(lr=0.1), (X, y), steps=5,
                     params=start, batch_size=8)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(start, [0.1, 0.2, 0.3, 0.0])
    assert hist.params[0] is not start


def test_history_keeps_its_own_copy_of_gradients():
    class ReusesBuffer(LinearRegression):
        """Writes every gradient into the same array, as an optimized model might."""

        def __init__(self):
            super().__init__(as_dict=False)
            self.buffer = np.zeros(4)

        def loss_and_grad(self, params, X, y):
            loss, grads = super().loss_and_grad(params, X, y)
            self.buffer[:] = grads
            return loss, self.buffer

    hist = train.run(ReusesBuffer(), optim.sgd(lr=0.05), regression_data(), steps=5)
    assert not np.array_equal(hist.grads[0], hist.grads[-1])
    np.testing.assert_allclose(hist.params[1], hist.params[0] - 0.05 * hist.grads[0])


def test_params_are_handed_to_the_model_as_float_arrays():
    seen = []

    class Spy(LinearRegression):
        def loss_and_grad(self, params, X, y):
            seen.append(params)
            return super().loss_and_grad(params, X, y)

    train.run(Spy(as_dict=False), optim.sgd(lr=0.05), regression_data(), steps=2, params=[1, 2, 3, 0])
    assert all(isinstance(p, np.ndarray) and p.dtype == np.float64 for p in seen)


# --------------------------------------------------------------------------
# Minibatches


def _indexed_data(n):
    X = np.column_stack([np.arange(n, dtype=float), np.linspace(-1, 1, n)])
    return X, 2 * X[:, 1] + 1


def test_minibatches_cover_each_epoch_once_in_shuffled_order():
    model = BatchRecorder()
    train.run(model, optim.sgd(lr=0.01), _indexed_data(10), steps=8, seed=1, batch_size=4)
    sizes = [len(b) for b in model.batches]
    assert sizes == [4, 4, 2, 4, 4, 2, 4, 4]
    first_epoch, second_epoch = sum(model.batches[:3], []), sum(model.batches[3:6], [])
    assert sorted(first_epoch) == list(range(10)) == sorted(second_epoch)
    assert first_epoch != list(range(10)) and first_epoch != second_epoch


def test_minibatch_runs_are_deterministic_for_a_seed():
    data = regression_data()
    first = train.run(LinearRegression(), optim.sgd(lr=0.05, momentum=0.9), data, 30, seed=4, batch_size=7)
    second = train.run(LinearRegression(), optim.sgd(lr=0.05, momentum=0.9), data, 30, seed=4, batch_size=7)
    other = train.run(LinearRegression(), optim.sgd(lr=0.05, momentum=0.9), data, 30, seed=5, batch_size=7)
    np.testing.assert_array_equal(first.params["w"], second.params["w"])
    np.testing.assert_array_equal(first.loss, second.loss)
    assert not np.array_equal(first.loss, other.loss)


def test_minibatch_order_follows_default_rng_of_the_seed():
    model = BatchRecorder()
    train.run(model, optim.sgd(lr=0.01), _indexed_data(6), steps=2, seed=9, batch_size=3)
    order = np.random.default_rng(9).permutation(6).tolist()
    assert model.batches == [order[:3], order[3:]]


def test_batch_size_equal_to_n_is_full_batch_in_shuffled_order():
    data = regression_data(n=12)
    full = train.run(LinearRegression(), optim.sgd(lr=0.05), data, 5)
    shuffled = train.run(LinearRegression(), optim.sgd(lr=0.05), data, 5, batch_size=12)
    np.testing.assert_allclose(shuffled.params["w"], full.params["w"], rtol=1e-12)


def test_data_without_targets_is_allowed():
    class Centre:
        def init(self, seed):
            return np.zeros(2)

        def loss_and_grad(self, params, X, y):
            assert y is None
            d = params - X.mean(axis=0)
            return float(d @ d), 2 * d

    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 0.0]])
    hist = train.run(Centre(), optim.sgd(lr=0.25), (X, None), steps=40, batch_size=3)
    np.testing.assert_allclose(hist.params[-1], [3.0, 2.0], atol=1e-6)


# --------------------------------------------------------------------------
# Divergence


class NanAtStep(LinearRegression):
    """Returns a NaN gradient on call number ``bad``."""

    def __init__(self, bad):
        super().__init__()
        self.bad, self.calls = bad, 0

    def loss_and_grad(self, params, X, y):
        loss, grads = super().loss_and_grad(params, X, y)
        self.calls += 1
        if self.calls - 1 == self.bad:
            grads = {"w": np.full(3, np.nan), "b": grads["b"]}
        return loss, grads


@pytest.mark.parametrize("opt", [optim.sgd(lr=0.01), optim.adam(lr=0.01),
                                 optim.hypergradient_sgd(lr=0.01, hyper_lr=1e-3)],
                         ids=["sgd", "adam", "sgd-hd"])
def test_nan_gradient_stops_the_run(opt):
    hist = train.run(NanAtStep(bad=7), opt, regression_data(), steps=50)
    assert hist.diverged_at == 8 and hist.steps_done == 7            # the 8th step (index 7) made NaN weights
    assert hist.message == "diverged at step 8: the parameters became non-finite"
    assert hist.loss.shape == (7,) and hist.params["w"].shape == (8, 3) and hist.grads["w"].shape == (7, 3)
    assert len(hist.states) == 8
    assert np.all(np.isfinite(hist.params["w"])) and np.all(np.isfinite(hist.loss))


def test_too_large_a_learning_rate_diverges_with_a_message():
    hist = train.run(LinearRegression(), optim.sgd(lr=5.0), regression_data(), steps=2000)
    assert hist.diverged_at is not None and hist.diverged_at == hist.steps_done + 1 < 2000
    assert hist.message.startswith(f"diverged at step {hist.diverged_at}: the ")
    assert np.all(np.isfinite(hist.loss)) and hist.loss[-1] > 1e100


def test_non_finite_loss_at_the_first_step():
    class Broken(LinearRegression):
        def loss_and_grad(self, params, X, y):
            return float("inf"), super().loss_and_grad(params, X, y)[1]

    hist = train.run(Broken(as_dict=False), optim.adam(), regression_data(), steps=5)
    assert hist.diverged_at == 1 and hist.message == "diverged at step 1: the loss became inf"
    assert hist.loss.shape == (0,) and hist.params.shape == (1, 4) and hist.grads.shape == (0, 4)
    assert len(hist.states) == 1


# --------------------------------------------------------------------------
# Limits and bad inputs


@pytest.mark.parametrize("steps, message", [
    (0, "steps must be an integer >= 1"),
    (-3, "steps must be an integer >= 1"),
    (2.5, "steps must be an integer >= 1"),
    (True, "steps must be an integer >= 1"),
    ("10", "steps must be an integer >= 1"),
    (100_001, r"steps must be in \[1, max_steps=100000\]"),
])
def test_steps_limits(steps, message):
    with pytest.raises(ValueError, match=message):
        train.run(LinearRegression(), optim.sgd(), regression_data(), steps=steps)


def test_max_steps_can_be_lowered():
    with pytest.raises(ValueError, match=r"steps must be in \[1, max_steps=10\]"):
        train.run(LinearRegression(), optim.sgd(), regression_data(), steps=11, max_steps=10)
    assert train.run(LinearRegression(), optim.sgd(), regression_data(), steps=10, max_steps=10).steps_done == 10


@pytest.mark.parametrize("batch_size, message", [
    (0, "batch_size must be an integer >= 1"),
    (1.0, "batch_size must be an integer >= 1"),
    (41, r"batch_size must be in \[1, n=40\]"),
])
def test_batch_size_limits(batch_size, message):
    with pytest.raises(ValueError, match=message):
        train.run(LinearRegression(), optim.sgd(), regression_data(n=40), steps=3, batch_size=batch_size)


@pytest.mark.parametrize("seed", [-1, 1.5, None, True])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        train.run(LinearRegression(), optim.sgd(), regression_data(), steps=3, seed=seed)


def test_bad_data():
    X, y = regression_data()
    with pytest.raises(ValueError, match="data must be a pair"):
        train.run(LinearRegression(), optim.sgd(), X, steps=3)
    with pytest.raises(ValueError, match="X must have at least one row"):
        train.run(LinearRegression(), optim.sgd(), (np.zeros((0, 3)), np.zeros(0)), steps=3)
    with pytest.raises(ValueError, match="same number of rows"):
        train.run(LinearRegression(), optim.sgd(), (X, y[:-1]), steps=3)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or inf"):
        train.run(LinearRegression(), optim.sgd(), (X_nan, y), steps=3)
    with pytest.raises(ValueError, match="y contains NaN or inf"):
        train.run(LinearRegression(), optim.sgd(), (X, np.where(y > 0, np.inf, y)), steps=3)


def test_history_size_limit():
    class Huge:
        def init(self, seed):
            return np.zeros(1_000_000)

        def loss_and_grad(self, params, X, y):  # pragma: no cover - never reached
            raise AssertionError("the limit must be checked before training")

    with pytest.raises(ValueError, match="history too large.*MAX_HISTORY_VALUES=20000000"):
        train.run(Huge(), optim.sgd(), regression_data(), steps=20)


# --------------------------------------------------------------------------
# stack_states


def test_stack_states_of_adam():
    hist = train.run(LinearRegression(), optim.adam(lr=0.05, amsgrad=False), regression_data(), steps=6)
    stacked = train.stack_states(hist.states)
    assert isinstance(stacked, optim.AdamState)
    np.testing.assert_array_equal(stacked.count, np.arange(7))
    assert stacked.m["w"].shape == (7, 3) and stacked.v["b"].shape == (7, 1)
    assert stacked.v_max is None
    for t in (0, 3, 6):
        np.testing.assert_array_equal(stacked.m["w"][t], hist.states[t].m["w"])
    m_hat, _ = optim.adam_bias_corrected(stacked)
    np.testing.assert_allclose(m_hat["w"][6], hist.states[6].m["w"] / (1 - 0.9**6))


def test_stack_states_of_scalars_and_arrays():
    hist = train.run(LinearRegression(as_dict=False), optim.hypergradient_sgd(lr=0.01, hyper_lr=1e-3),
                     regression_data(), steps=4)
    stacked = train.stack_states(hist.states)
    assert stacked.lr.shape == (5,) and stacked.prev_grad.shape == (5, 4)
    assert stacked.lr[0] == 0.01 and stacked.lr[4] == hist.states[4].lr


def test_stack_states_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one state"):
        train.stack_states([])
    with pytest.raises(ValueError, match="NamedTuples"):
        train.stack_states([{"m": 1}])
    a = optim.AdamState(count=0, m=np.zeros(2), v=np.zeros(2), v_max=None)
    b = optim.AdamState(count=1, m=np.zeros(2), v=np.zeros(2), v_max=np.zeros(2))
    with pytest.raises(ValueError, match="'v_max' is None in some states only"):
        train.stack_states([a, b])
