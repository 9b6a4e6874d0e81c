"""Epoch rules, the scaled optimizer, the epoch loop and the with/without comparison."""

import math

import numpy as np
import pytest

from app.ml import adaptive, optim, train
from app.ml.adaptive import (EpochRule, careful, compare_rules, direction_boost, epochs_to_target, eve,
                             make_rule, noisy_line, run_epochs, scale_updates, set_scale)


class Line:
    """y ~ m x + b by mean squared error, params [m, b] (written out here, independent of linear.py)."""

    def init(self, seed):
        return np.random.default_rng(seed).normal(size=2)

    def loss_and_grad(self, params, x, y):
        r = params[0] * x + params[1] - y
        return float(np.mean(r * r)), np.array([2 * np.mean(r * x), 2 * np.mean(r)])


class Bowl:
    """L = |theta - c|^2 / 2 for dict params {"a": (2,), "b": (1,)}; data ignored."""

    center = {"a": np.array([3.0, -1.0]), "b": np.array([2.0])}

    def init(self, seed):
        return {"a": np.zeros(2), "b": np.zeros(1)}

    def loss_and_grad(self, params, X, y):
        d = {k: params[k] - self.center[k] for k in params}
        return 0.5 * sum(float(v @ v) for v in d.values()), d


def never_called(_params):
    raise AssertionError("this rule must not evaluate the loss")


@pytest.fixture
def line_data():
    return noisy_line(40, 0.3, seed=2)


# --------------------------------------------------------------------------
# scale_updates: the same as changing the learning rate


@pytest.mark.parametrize("name, hyper", [("sgd", {}), ("momentum", {"momentum": 0.9}), ("adam", {}),
                                         ("rmsprop", {}), ("adagrad", {}), ("adadelta", {})])
def test_scaling_the_updates_is_scaling_the_learning_rate(name, hyper, line_data):
    factor, lr = 0.37, 0.02
    model = Line()
    params0 = np.array([-1.0, 2.0])
    slow = scale_updates(optim.make(name, lr=lr, **hyper), scale=factor)
    direct = optim.make(name, lr=lr * factor, **hyper)
    a = train.run(model, slow, line_data, 30, 0, params=params0).params
    b = train.run(model, direct, line_data, 30, 0, params=params0).params
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_set_scale_changes_only_the_factor_and_checks_it():
    state = scale_updates(optim.sgd(lr=0.1)).init(np.zeros(2))
    assert state.scale == 1.0
    new = set_scale(state, 4.0)
    assert new.scale == 4.0 and new.inner is state.inner and state.scale == 1.0
    for bad in (0.0, -1.0, math.nan, math.inf, adaptive.SCALE_MAX * 2, "2", None):
        with pytest.raises(ValueError, match="scale"):
            set_scale(state, bad)


# --------------------------------------------------------------------------
# The rules on constructed cases


def test_boost_raises_the_rate_while_epochs_point_the_same_way():
    rule = direction_boost(max_angle=30.0, grow=2.0, max_scale=8.0)
    state = rule.init()
    points = [np.array([0.0, 0.0]), np.array([1.0, 0.0]), np.array([2.0, 0.1]), np.array([3.0, 0.1]),
              np.array([4.0, 0.2]), np.array([5.0, 0.2])]
    scales = []
    for before, after in zip(points, points[1:]):
        scale, params, loss, state = rule.after_epoch(state, before, after, 1.0, 0.9, never_called)
        assert params is after and loss == 0.9
        scales.append(scale)
    # first epoch: no previous change, so no evidence; then x2 per epoch up to max_scale
    assert scales == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert state.angle == pytest.approx(math.degrees(math.atan(0.1)), abs=1e-9)


def test_boost_falls_back_to_the_base_rate_when_the_direction_turns():
    rule = direction_boost(max_angle=30.0, grow=1.5)
    state = rule.init()._replace(scale=5.0, previous=np.array([1.0, 0.0]))
    # a change at 90 degrees to the previous one
    scale, _, _, state = rule.after_epoch(state, np.zeros(2), np.array([0.0, 1.0]), 1.0, 0.9, never_called)
    assert scale == 1.0 and state.angle == pytest.approx(90.0)
    # a zero change has no direction: no boost
    scale, _, _, state = rule.after_epoch(state, np.ones(2), np.ones(2), 1.0, 1.0, never_called)
    assert scale == 1.0 and math.isnan(state.angle)


def test_boost_works_on_dict_parameters():
    rule = direction_boost(max_angle=10.0, grow=3.0)
    state = rule.init()
    p0 = {"w": np.zeros((2, 2)), "b": np.zeros(1)}
    p1 = {"w": np.ones((2, 2)), "b": np.ones(1)}
    p2 = {"w": 2 * np.ones((2, 2)), "b": 2 * np.ones(1)}
    _, _, _, state = rule.after_epoch(state, p0, p1, 1.0, 1.0, never_called)
    scale, _, _, state = rule.after_epoch(state, p1, p2, 1.0, 1.0, never_called)
    assert scale == 3.0 and state.angle == pytest.approx(0.0, abs=1e-6)


def test_careful_cuts_the_rate_when_the_loss_jumps_up():
    rule = careful(jump=0.0, cut=0.5)
    state = rule.init()
    p = np.zeros(2)
    scale, _, _, state = rule.after_epoch(state, p, p, 1.0, 0.8, never_called)     # down: keep
    assert scale == 1.0 and state.cuts == 0
    scale, _, _, state = rule.after_epoch(state, p, p, 0.8, 0.9, never_called)     # up: halve
    assert scale == 0.5 and state.cuts == 1
    scale, _, _, state = rule.after_epoch(state, p, p, 0.9, 1.5, never_called)     # up again
    assert scale == 0.25 and state.cuts == 2
    scale, _, _, state = rule.after_epoch(state, p, p, 1.5, 1.0, never_called)     # down: the cut stays
    assert scale == 0.25


def test_careful_tolerates_a_rise_within_its_jump_threshold():
    rule = careful(jump=0.1, cut=0.5)
    p = np.zeros(2)
    assert rule.after_epoch(rule.init(), p, p, 1.0, 1.09, never_called)[0] == 1.0
    assert rule.after_epoch(rule.init(), p, p, 1.0, 1.11, never_called)[0] == 0.5


def test_eve_goes_as_far_along_the_epoch_as_the_loss_keeps_falling():
    # L(t) along the line theta = t [1, 0]: a parabola with its minimum at t = 5
    target = np.array([5.0, 0.0])
    calls = []

    def loss_fn(p):
        calls.append(p.copy())
        return float(np.sum((p - target) ** 2))

    rule = eve(max_doublings=5)
    before, after = np.zeros(2), np.array([1.0, 0.0])
    scale, params, loss, state = rule.after_epoch(rule.init(), before, after, loss_fn(before), loss_fn(after),
                                                  loss_fn)
    # tries 2 (L=9), 4 (L=1), 8 (L=9: worse, stop) -> goes to 4
    np.testing.assert_allclose(params, [4.0, 0.0])
    assert loss == 1.0 and scale == 1.0
    assert state.multiplier == 4.0 and state.evaluations == 3
    assert len(calls) == 2 + 3


def test_eve_stays_put_when_looking_further_does_not_help():
    rule = eve(max_doublings=3)
    before, after = np.zeros(1), np.ones(1)
    _, params, loss, state = rule.after_epoch(rule.init(), before, after, 1.0, 0.0,
                                              lambda p: float((p[0] - 1.0) ** 2))
    assert params is after and loss == 0.0 and state.multiplier == 1.0 and state.evaluations == 1


def test_eve_treats_a_nan_loss_as_no_improvement():
    rule = eve(max_doublings=3)
    _, params, _, state = rule.after_epoch(rule.init(), np.zeros(1), np.ones(1), 1.0, 0.5, lambda p: math.nan)
    np.testing.assert_array_equal(params, [1.0])
    assert state.evaluations == 1


@pytest.mark.parametrize("factory, kwargs, word", [
    (direction_boost, {"max_angle": -1}, "max_angle"), (direction_boost, {"grow": 0.5}, "grow"),
    (direction_boost, {"max_scale": math.inf}, "max_scale"), (careful, {"cut": 0.0}, "cut"),
    (careful, {"jump": math.nan}, "jump"), (eve, {"max_doublings": 0}, "max_doublings"),
    (eve, {"max_doublings": 2.5}, "max_doublings"), (eve, {"max_doublings": 11}, "max_doublings"),
])
def test_rule_hyperparameters_out_of_range_raise(factory, kwargs, word):
    with pytest.raises(ValueError, match=word):
        factory(**kwargs)


def test_make_rule_builds_from_the_registry_and_checks_names():
    for name, spec in adaptive.RULES.items():
        rule = make_rule(name)
        assert isinstance(rule, EpochRule) and rule.name == name
        assert all(p.min <= p.default <= p.max for p in spec.params)
    with pytest.raises(ValueError, match="unknown rule"):
        make_rule("turbo")
    with pytest.raises(ValueError, match="unknown parameter"):
        make_rule("eve", speed=3)
    with pytest.raises(ValueError, match="cut"):
        make_rule("careful", cut=5.0)


# --------------------------------------------------------------------------
# The epoch loop


@pytest.mark.parametrize("batch_size", [None, 7])
def test_without_a_rule_the_epochs_are_train_runs_steps(batch_size, line_data):
    model, opt = Line(), optim.adam(lr=0.05)
    hist = run_epochs(model, opt, line_data, 12, seed=4, batch_size=batch_size, keep_path=True)
    per_epoch = 1 if batch_size is None else math.ceil(40 / 7)
    assert hist.steps_per_epoch == per_epoch
    reference = train.run(model, opt, line_data, 12 * per_epoch, seed=4, batch_size=batch_size)
    np.testing.assert_allclose(hist.params, reference.params[::per_epoch], rtol=1e-12)
    np.testing.assert_allclose(hist.path, reference.params, rtol=1e-12)
    full = [model.loss_and_grad(p, *line_data)[0] for p in hist.params]
    np.testing.assert_allclose(hist.loss, full, rtol=1e-12)
    assert hist.epochs_done == 12 and np.all(hist.lr_scale == 1.0) and hist.message == ""


def test_a_rule_s_factor_scales_the_next_epoch(line_data):
    halve = EpochRule("halve", lambda: None,
                      lambda state, before, after, lb, la, f: (0.5, after, la, state))
    model, params0 = Line(), np.array([0.0, 0.0])
    hist = run_epochs(model, optim.sgd(lr=0.1), line_data, 3, params=params0, rule=halve)
    np.testing.assert_array_equal(hist.lr_scale, [1.0, 0.5, 0.5])
    # by hand: one full-batch step at lr 0.1, then two at lr 0.05
    p = params0
    for lr in (0.1, 0.05, 0.05):
        p = p - lr * model.loss_and_grad(p, *line_data)[1]
    np.testing.assert_allclose(hist.params[-1], p, rtol=1e-12)


def test_eve_moves_the_parameters_and_the_run_continues_from_there(line_data):
    model = Line()
    hist = run_epochs(model, optim.sgd(lr=0.01), line_data, 5, params=np.array([0.0, 0.0]), rule=eve(),
                      keep_path=True)
    assert np.all(hist.extra_evals >= 1)
    assert [s.evaluations for s in hist.rule_states[1:]] == list(np.cumsum(hist.extra_evals))
    # where an epoch jumped, the path holds the optimizer's point and the jump
    assert len(hist.path) == 1 + 5 + sum(s.multiplier > 1 for s in hist.rule_states[1:])
    np.testing.assert_allclose(hist.loss, [model.loss_and_grad(p, *line_data)[0] for p in hist.params])


def test_dict_parameters_run_with_every_rule():
    model = Bowl()
    for rule in (None, direction_boost(), careful(), eve()):
        hist = run_epochs(model, optim.sgd(lr=0.1), (np.zeros((4, 1)), None), 10, rule=rule)
        assert set(hist.params) == {"a", "b"} and hist.params["a"].shape == (11, 2)
        assert hist.loss[-1] < hist.loss[0]


def test_the_same_seed_gives_the_same_history(line_data):
    runs = [run_epochs(Line(), optim.adam(lr=0.1), line_data, 8, seed=11, batch_size=5, rule=direction_boost())
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0].params, runs[1].params)
    np.testing.assert_array_equal(runs[0].lr_scale, runs[1].lr_scale)
    other = run_epochs(Line(), optim.adam(lr=0.1), line_data, 8, seed=12, batch_size=5, rule=direction_boost())
    assert not np.array_equal(runs[0].params, other.params)


def test_divergence_stops_the_run_with_the_epoch_in_the_message(line_data):
    hist = run_epochs(Line(), optim.sgd(lr=50.0), line_data, 400, params=np.array([1.0, 1.0]), keep_path=True)
    assert hist.diverged_at is not None and hist.epochs_done == hist.diverged_at - 1
    assert hist.message.startswith(f"diverged in epoch {hist.diverged_at}: the ")
    assert np.all(np.isfinite(hist.params)) and np.all(np.isfinite(hist.loss)) and np.all(np.isfinite(hist.path))
    assert len(hist.params) == len(hist.loss) == hist.epochs_done + 1 == len(hist.rule_states)


@pytest.mark.parametrize("kwargs, word", [
    ({"epochs": 0}, "epochs"), ({"epochs": adaptive.MAX_EPOCHS + 1}, "MAX_EPOCHS"), ({"epochs": 2.0}, "epochs"),
    ({"epochs": 300, "batch_size": 1, "max_steps": 1000}, "limit is 1000"),
    ({"max_steps": adaptive.MAX_STEPS + 1}, "MAX_STEPS"),
    ({"batch_size": 0}, "batch_size"), ({"batch_size": 41}, "batch_size"), ({"seed": -1}, "seed"),
    ({"rule": "boost"}, "EpochRule"),
])
def test_bad_arguments_raise_clear_errors(kwargs, word, line_data):
    args = {"epochs": 5, **kwargs}
    with pytest.raises(ValueError, match=word):
        run_epochs(Line(), optim.sgd(lr=0.1), line_data, args.pop("epochs"), **args)


@pytest.mark.parametrize("data, word", [
    ((np.array([1.0, np.nan]), np.array([1.0, 2.0])), "NaN"),
    ((np.array([1.0, 2.0]), np.array([1.0, np.inf])), "NaN"),
    ((np.zeros(0), np.zeros(0)), "at least one row"),
    ((np.zeros(3), np.zeros(4)), "same number of rows"),
    (np.zeros(3), "pair"),
])
def test_bad_data_raise_clear_errors(data, word):
    with pytest.raises(ValueError, match=word):
        run_epochs(Line(), optim.sgd(lr=0.1), data, 3)


# --------------------------------------------------------------------------
# With and without, over seeds


def line_problem(seed):
    return noisy_line(30, 0.3, seed), np.array([-2.0, 3.0])


def test_compare_rules_runs_each_variant_on_each_seed_like_run_epochs():
    opt = optim.sgd(lr=0.05)
    result = compare_rules(Line(), opt, line_problem, {"none": None, "boost": direction_boost()}, 40, [3, 5])
    assert result["names"] == ["none", "boost"] and result["loss"].shape == (2, 2, 41)
    for s, seed in enumerate([3, 5]):
        data, start = line_problem(seed)
        alone = run_epochs(Line(), opt, data, 40, seed, params=start, rule=direction_boost())
        np.testing.assert_allclose(result["loss"][1, s], alone.loss)
        np.testing.assert_allclose(result["lr_scale"][1, s], alone.lr_scale)
    assert result["extra_evals"].shape == (2, 2, 40) and not result["diverged"].any()


def test_the_comparison_measures_a_speed_up_where_epochs_agree():
    # gradient descent on a long valley: epochs point the same way, so raising the rate helps
    result = compare_rules(Line(), optim.sgd(lr=0.05), line_problem,
                           {"none": None, "boost": direction_boost(), "careful": careful()}, 120, range(4))
    floor = np.array([Line().loss_and_grad(adaptive_best(*line_problem(s)[0]), *line_problem(s)[0])[0]
                      for s in range(4)])
    reached = epochs_to_target(result["loss"] - floor[None, :, None], 0.01)
    never = np.inf  # not reached within the epochs
    assert np.all(np.isfinite(reached[1]))
    assert np.all(reached[1] < np.nan_to_num(reached[0], nan=never))   # boost: faster on every seed
    np.testing.assert_array_equal(reached[2], reached[0])              # careful: the loss never rises


def adaptive_best(x, y):
    A = np.c_[x, np.ones_like(x)]
    return np.linalg.lstsq(A, y, rcond=None)[0]


def test_comparison_limits():
    with pytest.raises(ValueError, match="COMPARE_STEPS_MAX"):
        compare_rules(Line(), optim.sgd(lr=0.1), line_problem, {"none": None, "eve": eve()}, 2000, range(10),
                      batch_size=1)
    with pytest.raises(ValueError, match="MAX_SEEDS"):
        compare_rules(Line(), optim.sgd(lr=0.1), line_problem, {"none": None}, 2, range(adaptive.MAX_SEEDS + 1))
    with pytest.raises(ValueError, match="at least one"):
        compare_rules(Line(), optim.sgd(lr=0.1), line_problem, {}, 2, [0])


def test_epochs_to_target_known_answers():
    loss = np.array([[5.0, 3.0, 1.0, 0.5, 0.2], [5.0, 4.0, 3.0, 2.0, 1.5], [5.0, np.nan, np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(epochs_to_target(loss, 1.0), [2.0, np.nan, np.nan])
    np.testing.assert_array_equal(epochs_to_target(loss, [0.5, 2.0, 10.0]), [3.0, 3.0, 0.0])
    assert epochs_to_target(np.array([3.0, 1.0]), 2.0) == 1.0
    assert np.isnan(epochs_to_target(np.array([3.0, 3.0]), 2.0))
    with pytest.raises(ValueError, match="finite"):
        epochs_to_target(loss, np.nan)
    with pytest.raises(ValueError, match="epochs"):
        epochs_to_target(np.zeros((2, 0)), 1.0)


def test_noisy_line_is_seeded_and_checked():
    x, y = noisy_line(20, 0.0, seed=1, slope=2.0, intercept=-1.0)
    np.testing.assert_allclose(y, 2 * x - 1)
    assert np.all((0 <= x) & (x <= 4))
    np.testing.assert_array_equal(noisy_line(20, 0.5, 3)[1], noisy_line(20, 0.5, 3)[1])
    assert not np.array_equal(noisy_line(20, 0.5, 3)[1], noisy_line(20, 0.5, 4)[1])
    for kwargs, word in (({"n": 1}, "LINE_N_MAX"), ({"n": 10**6}, "LINE_N_MAX"), ({"noise": -1}, "noise"),
                         ({"noise": math.nan}, "noise"), ({"seed": -2}, "seed"), ({"x_low": 5.0}, "x_low")):
        with pytest.raises(ValueError, match=word):
            noisy_line(**{"n": 10, "noise": 0.1, "seed": 0, **kwargs})
