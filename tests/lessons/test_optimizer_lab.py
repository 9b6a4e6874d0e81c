"""The optimizer lab's experiments, called directly: no Flask, no Dash, no cache."""

import numpy as np
import pytest

from app.lessons import optimizer_lab as lab
from app.ml import adaptive, optim

SGD = (("lr", 0.05),)


def run(**changes):
    """A short full-batch gradient-descent run on the narrated problem, with `changes`."""
    args = dict(noise=0.5, seed=0, optimizer="sgd", hyper=SGD, epochs=20, batch=lab.N_POINTS)
    return lab.fit_run(**{**args, **changes})


# -- the problem ------------------------------------------------------------------------


def test_a_seed_gives_the_same_data_and_start_and_another_seed_others():
    (x, y), start = lab.problem(0.5, 3)
    (x2, y2), start2 = lab.problem(0.5, 3)
    (x3, _), start3 = lab.problem(0.5, 4)
    assert np.array_equal(x, x2) and np.array_equal(y, y2) and np.array_equal(start, start2)
    assert x.shape == y.shape == (lab.N_POINTS,) and start.shape == (2,)
    assert not np.array_equal(x, x3) and not np.array_equal(start, start3)


def test_without_noise_the_best_line_is_the_true_one_with_no_loss():
    best, loss = lab.best_line(0.0, 7)
    np.testing.assert_allclose(best, lab.TRUTH, atol=1e-12)
    assert loss == pytest.approx(0.0, abs=1e-20)


def test_the_best_line_has_no_gradient():
    (x, y), _ = lab.problem(1.0, 2)
    best, loss = lab.best_line(1.0, 2)
    value, grad = lab.LINE.loss_and_grad(best, x, y)
    assert value == pytest.approx(loss) and np.abs(grad).max() < 1e-10


@pytest.mark.parametrize("noise", [float("nan"), float("inf"), -1.0, 1e9])
def test_bad_noise_is_refused_with_its_limits(noise):
    with pytest.raises(ValueError, match="noise"):
        lab.problem(noise, 0)


@pytest.mark.parametrize("batch, expected", [(lab.N_POINTS, None), (5, 5), (1, 1)])
def test_a_batch_of_every_point_is_one_full_batch_step(batch, expected):
    assert lab.batch_size(batch) == expected


@pytest.mark.parametrize("batch", [0, -1, lab.N_POINTS + 1, 10**12, 2.5, float("nan"), True, None, ""])
def test_a_batch_size_out_of_range_is_refused(batch):
    with pytest.raises(ValueError, match="batch must be an integer in 1..50"):
        lab.batch_size(batch)


def test_thinning_keeps_the_ends_and_at_most_the_limit():
    points = np.arange(1000.0).reshape(500, 2)
    thinned = lab.thin(points, 7)
    assert len(thinned) == 7 and np.array_equal(thinned[0], points[0]) and np.array_equal(thinned[-1], points[-1])
    assert np.array_equal(lab.thin(points[:3], 7), points[:3])


# -- runs -------------------------------------------------------------------------------


def test_a_run_is_deterministic_for_a_seed_and_shaped_per_epoch():
    a, b = run(batch=5, seed=4), run(batch=5, seed=4)
    for key in ("params", "loss", "excess", "path", "norm", "angle"):
        np.testing.assert_array_equal(a[key], b[key])
    assert a["params"].shape == (21, 2) and a["loss"].shape == (21,) and a["norm"].shape == (20,)
    assert a["steps_per_epoch"] == 10 and len(a["path"]) <= lab.PATH_POINTS and a["message"] == ""
    assert not np.array_equal(run(batch=5, seed=5)["params"], a["params"])


def test_gradient_descent_follows_its_update_rule_and_never_goes_below_the_best_line():
    result = run(epochs=5)
    (x, y), start = lab.problem(0.5, 0)
    np.testing.assert_allclose(result["params"][0], start)
    _, grad = lab.LINE.loss_and_grad(start, x, y)
    np.testing.assert_allclose(result["params"][1], start - 0.05 * grad, rtol=1e-12)
    assert np.all(result["excess"] >= -1e-12) and np.all(np.diff(result["loss"]) < 0)


def test_a_rule_changes_the_run_and_eve_reports_its_jumps():
    plain, eve = run(), run(rule="eve", rule_params=(("max_doublings", 3),))
    assert not np.array_equal(plain["params"], eve["params"])
    assert set(np.unique(eve["multiplier"])) <= {1.0, 2.0, 4.0, 8.0} and np.all(plain["multiplier"] == 1)
    assert eve["extra_evals"].sum() > 0 and plain["extra_evals"].sum() == 0


def test_a_diverging_run_stops_with_a_message():
    result = run(hyper=(("lr", 10.0),), epochs=300)
    assert "diverged in epoch" in result["message"] and len(result["loss"]) < 301
    assert np.all(np.isfinite(result["path"]))


@pytest.mark.parametrize("changes, match", [
    (dict(epochs=10**9), "MAX_EPOCHS"),
    (dict(epochs=0), "epochs"),
    (dict(epochs=500, batch=1), "the limit is 5000"),
    (dict(hyper=(("lr", float("nan")),)), "lr"),
    (dict(hyper=(("lr", float("inf")),)), "lr"),
    (dict(hyper=(("lr", 1e300),)), "lr"),
    (dict(optimizer=""), "unknown optimizer"),
    (dict(rule="turbo"), "unknown rule"),
    (dict(rule="boost", rule_params=(("grow", -3.0),)), "grow"),
    (dict(seed=-1), "seed"),
    (dict(noise=float("nan")), "noise"),
])
def test_bad_run_settings_raise_a_value_error_naming_the_limit(changes, match):
    with pytest.raises(ValueError, match=match):
        run(**changes)


def test_a_rule_pair_is_the_same_run_without_and_with_the_rule():
    without, with_rule = lab.rule_pair("careful")
    name, hyper, epochs = lab.RULE_DEMO["careful"]
    np.testing.assert_array_equal(without["params"], run(hyper=hyper, epochs=epochs)["params"])
    np.testing.assert_array_equal(with_rule["params"][0], without["params"][0])
    assert np.all(with_rule["lr_scale"] <= 1.0) and np.all(without["lr_scale"] == 1.0)
    with pytest.raises(ValueError, match="unknown rule demonstration"):
        lab.rule_pair("none")


@pytest.mark.parametrize("kind", list(lab.INSIDE))
def test_inside_a_run_the_updates_add_up_to_the_path(kind):
    inside = lab.inside_run(kind)
    T = lab.INSIDE[kind][2]
    assert inside["params"].shape == (T + 1, 2) and inside["step"].shape == (T, 2)
    np.testing.assert_allclose(inside["params"][0] + np.cumsum(inside["step"], axis=0), inside["params"][1:],
                               atol=1e-12)
    assert np.all(inside["excess"] >= -1e-12)


def test_adam_s_first_step_is_the_learning_rate_whatever_the_gradient():
    inside = lab.inside_run("adam")
    np.testing.assert_allclose(np.abs(inside["step"][0]), dict(lab.INSIDE["adam"][1])["lr"], rtol=1e-6)


def test_an_unknown_optimizer_to_look_inside_is_refused():
    with pytest.raises(ValueError, match="unknown optimizer to look inside"):
        lab.inside_run("sgd")


def test_the_sizes_of_the_line_runs_are_their_epoch_changes():
    for result in lab.sizes_of_line_runs():
        np.testing.assert_allclose(result["norm"], np.linalg.norm(np.diff(result["params"], axis=0), axis=1))
        assert result["name"] and np.isnan(result["angle"][0])
        assert np.nanmax(result["angle"]) <= 180.0 and np.nanmin(result["angle"]) >= 0.0


def test_the_network_runs_are_sized_and_learn():
    runs = lab.sizes_of_mlp_runs()
    assert [r["name"] for r in runs] == [name for name, _ in lab.MLP_RUNS]
    for result in runs:
        assert result["loss"].shape == (lab.MLP_EPOCHS + 1,) and result["norm"].shape == (lab.MLP_EPOCHS,)
        assert result["loss"][-1] < result["loss"][0] and 0.9 <= result["accuracy"] <= 1.0
    assert runs[0]["n_params"] == 30 * 16 + 16 + 16 * 2 + 2


def test_the_race_runs_every_optimizer_at_one_of_its_rates_from_one_start():
    runs = lab.race()
    _, start = lab.problem(0.5, 0)
    assert [r["optimizer"] for r in runs] == list(optim.OPTIMIZERS)
    for result in runs:
        assert result["lr"] in lab.RACE_RATES and result["params"].shape == (lab.RACE_EPOCHS + 1, 2)
        np.testing.assert_array_equal(result["params"][0], start)
        assert np.all(result["excess"] >= -1e-12)


# -- with and without, over many seeds ---------------------------------------------------


def compare(**changes):
    args = dict(noise=0.5, optimizer="sgd", hyper=SGD, rules=(("none", ()), ("boost", ())), epochs=30,
                batch=lab.N_POINTS, first_seed=2, n_seeds=3)
    return lab.comparison(**{**args, **changes})


def test_a_comparison_is_deterministic_and_its_first_variant_is_the_plain_run():
    a, b = compare(), compare()
    np.testing.assert_array_equal(a["excess"], b["excess"])
    assert a["excess"].shape == (2, 3, 31) and a["epochs_to"].shape == (2, 3)
    for s, seed in enumerate(range(2, 5)):
        plain = run(seed=seed, epochs=30)
        np.testing.assert_allclose(a["excess"][0, s], plain["excess"], rtol=1e-12, atol=1e-12)


def test_the_epochs_and_work_to_the_target_agree_with_the_losses():
    result = compare(rules=(("none", ()), ("eve", ())), epochs=80)
    expected = adaptive.epochs_to_target(result["excess"], lab.TARGET)
    np.testing.assert_array_equal(result["epochs_to"], expected)
    plain = np.isfinite(result["epochs_to"][0])
    np.testing.assert_array_equal(result["work_to"][0][plain], result["epochs_to"][0][plain])  # 1 step an epoch
    eve = np.isfinite(result["epochs_to"][1])
    assert np.all(result["work_to"][1][eve] >= result["epochs_to"][1][eve])     # plus the rule's evaluations


def test_the_summary_counts_the_seeds_and_takes_medians_only_for_a_majority():
    result = {"names": ["none", "boost"], "seeds": np.arange(3),
              "epochs_to": np.array([[4.0, 6.0, np.nan], [np.nan, np.nan, 2.0]]),
              "work_to": np.array([[4.0, 6.0, np.nan], [np.nan, np.nan, 9.0]]),
              "extra_evals": np.zeros((2, 3, 5), dtype=int), "diverged": np.array([[0, 0, 1], [0, 0, 0]], bool)}
    none, boost = lab.summary_rows(result)
    assert none == {"name": "none", "reached": 2, "seeds": 3, "median": 6.0, "work": 6.0, "extra": 0, "diverged": 1}
    assert boost["reached"] == 1 and boost["median"] is None and boost["work"] is None


@pytest.mark.parametrize("changes, match", [
    (dict(n_seeds=0), "MAX_SEEDS"),
    (dict(n_seeds=10**6), "MAX_SEEDS"),
    (dict(rules=()), "at least one variant"),
    (dict(epochs=300, batch=10, n_seeds=10), "COMPARE_STEPS_MAX"),
    (dict(noise=float("inf")), "noise"),
    (dict(rules=(("none", ()), ("turbo", ()))), "unknown rule"),
])
def test_bad_comparisons_raise_a_value_error_naming_the_limit(changes, match):
    with pytest.raises(ValueError, match=match):
        compare(**changes)


def test_a_narrated_comparison_has_every_rule_and_an_unknown_case_is_refused():
    result = lab.case_comparison("gentle")
    assert result["names"] == ["none", *adaptive.RULES]
    assert result["excess"].shape == (4, lab.COMPARE_SEEDS, lab.COMPARE_EPOCHS + 1)
    with pytest.raises(ValueError, match="unknown comparison"):
        lab.case_comparison("zzz")


# -- the loss surface --------------------------------------------------------------------


def test_the_surface_is_the_loss_at_each_grid_point():
    grid = lab.surface(0.5, 0, (-1.0, 2.0, 0.0, 3.0))
    (x, y), _ = lab.problem(0.5, 0)
    assert grid["Z"].shape == (lab.GRID, lab.GRID)
    for i, j in ((0, 0), (10, 50), (lab.GRID - 1, 3)):
        point = np.array([grid["ms"][j], grid["bs"][i]])
        assert grid["Z"][i, j] == pytest.approx(lab.LINE.loss(point, x, y), rel=1e-12)


@pytest.mark.parametrize("window", [(), (0.0, 1.0, 0.0), (0.0, float("nan"), 0.0, 1.0), (1.0, 0.0, 0.0, 1.0),
                                    (0.0, 1e300, 0.0, 1.0), ("a", 1.0, 0.0, 1.0)])
def test_a_bad_window_is_refused(window):
    with pytest.raises(ValueError):
        lab.surface(0.5, 0, window)


def test_the_window_holds_the_start_the_best_line_and_the_path_but_not_a_divergence():
    (_, _), start = lab.problem(0.5, 0)
    best, _ = lab.best_line(0.5, 0)
    path = run()["params"]
    m_low, m_high, b_low, b_high = lab.window_around(0.5, 0, path)
    for m, b in (start, best, *path):
        assert m_low <= m <= m_high and b_low <= b <= b_high
    far = np.array([[1e6, 1e6], [np.nan, 0.0]])
    assert lab.window_around(0.5, 0, path, far) == lab.window_around(0.5, 0, path)


@pytest.mark.parametrize("path", [np.array([]), np.zeros((3, 3)), np.zeros(4)])
def test_a_path_of_the_wrong_shape_is_refused(path):
    with pytest.raises(ValueError, match=r"shape \(k, 2\)"):
        lab.window_around(0.5, 0, path)


@pytest.mark.parametrize("rates, match", [((("turbo", 0.1),), "unknown optimizer"), ((("sgd", float("nan")),), "lr"),
                                          ((("adam", 1e9),), "lr"), ((("sgd", -1.0),), "lr")])
def test_a_race_over_seeds_refuses_bad_rates(rates, match):
    with pytest.raises(ValueError, match=match):
        lab.race_over_seeds(rates)
