"""Tests of app/ml/decision_runs.py: recorded runs, resumable training, limits."""

import math

import numpy as np
import pytest

from app.ml import decision_runs as dr
from app.ml.decision_runs import RunSpec
from app.ml.mlp import MLP, softmax

SMALL = RunSpec(layers=1, width=6, points=120, epochs=12, frames=4, resolution=10)


def same_run(a: dict, b: dict) -> bool:
    keys = ["curve_epochs", "loss", "accuracy", "test_loss", "test_accuracy", "frame_epochs",
            "grid_class", "grid_confidence"]
    return all(np.array_equal(a[k], b[k], equal_nan=True) for k in keys)


def test_a_run_is_deterministic_for_a_fixed_spec():
    assert same_run(dr.train_run(SMALL), dr.train_run(SMALL))


def test_another_seed_gives_another_run():
    assert not same_run(dr.train_run(SMALL), dr.train_run(SMALL._replace(seed=1)))


@pytest.mark.parametrize("batch_size", [0, 25])
def test_results_do_not_depend_on_where_the_chunks_end(batch_size):
    spec = SMALL._replace(batch_size=batch_size)
    progress = dr.start(spec)
    sizes = iter([1, 5, 2, 100])
    while not progress.done:
        progress = dr.advance(spec, progress, next(sizes))
    assert same_run(dr.finish(spec, progress), dr.train_run(spec))


@pytest.mark.parametrize("batch_size", [0, 25])
def test_every_curve_row_is_the_network_of_that_epoch_on_all_its_points(batch_size):
    """Full batch reads an epoch's training loss off the next pass's outputs and the
    records are computed beside the training: each row must still be exactly what
    evaluating that epoch's weights gives."""
    spec = SMALL._replace(batch_size=batch_size, keep_path=True, frames=12)
    run = dr.train_run(spec)
    model, _, data = dr.build(spec)
    assert run["frame_epochs"].tolist() == run["curve_epochs"].tolist() == list(range(13))
    for e, flat in enumerate(run["path"]):
        params = model.unflatten(flat)
        train = dr._evaluate(model, params, data.X_train, data.y_train)
        test = dr._evaluate(model, params, data.X_test, data.y_test)
        assert (run["loss"][e], run["accuracy"][e]) == train
        assert (run["test_loss"][e], run["test_accuracy"][e]) == test


@pytest.mark.parametrize("chunk", [1, 4, 100])
def test_a_recorded_loss_that_is_not_finite_stops_the_run_at_that_epoch(monkeypatch, chunk):
    """The records come from a second thread; the run must still stop at the first epoch
    whose recorded loss is not finite, with that epoch's weights, wherever the chunks end."""
    real = dr._records
    def records(spec, model, data, progress, train=None):
        row, frame = real(spec, model, data, progress, train)
        return ((row[0], math.inf, *row[2:]) if progress.epoch in (5, 9) else row), frame
    monkeypatch.setattr(dr, "_records", records)
    spec = SMALL._replace(keep_path=True, frames=12)
    progress = dr.start(spec)
    while not progress.done:
        progress = dr.advance(spec, progress, chunk)
    run = dr.finish(spec, progress)
    assert run["curve_epochs"].tolist() == run["frame_epochs"].tolist() == [0, 1, 2, 3, 4, 5]
    assert run["diverged_at"] == 5 and progress.epoch == 5
    assert run["message"] == "diverged in epoch 5: the loss became inf"
    assert np.array_equal(run["params"], run["path"][-1])


def test_frames_and_resolution_do_not_change_the_training():
    a = dr.train_run(SMALL)
    b = dr.train_run(SMALL._replace(frames=1, resolution=8))
    shared = np.isin(a["curve_epochs"], b["curve_epochs"])
    assert np.array_equal(a["loss"][shared], b["loss"])


def test_minibatches_change_the_run_but_stay_deterministic():
    full = dr.train_run(SMALL)
    mini = dr.train_run(SMALL._replace(batch_size=16))
    assert not np.array_equal(full["loss"], mini["loss"])
    assert same_run(mini, dr.train_run(SMALL._replace(batch_size=16)))


def test_what_a_run_records():
    spec = SMALL._replace(neuron_resolution=5, keep_path=True)
    run = dr.train_run(spec)
    F = len(dr.frame_epochs(spec.epochs, spec.frames))
    assert run["frame_epochs"].tolist() == [0, 3, 6, 9, 12]
    assert run["curve_epochs"].tolist() == list(range(13))
    assert run["grid_class"].shape == (F, 10, 10) and run["grid_class"].dtype == np.int8
    assert run["grid_confidence"].shape == (F, 10, 10)
    assert 0 <= run["grid_confidence"].min() and run["grid_confidence"].max() <= 1
    assert run["neurons"].shape == (F, 6, 5, 5)
    assert run["path"].shape == (F, run["n_params"])
    assert len(run["X_train"]) == 60 and len(run["X_test"]) == 60
    assert run["diverged_at"] is None and run["message"] == ""


def test_the_decision_grid_and_neuron_maps_match_the_network_cell_by_cell():
    spec = SMALL._replace(neuron_resolution=4, keep_path=True, resolution=9, window=2.0)
    run = dr.train_run(spec)
    model, _, _ = dr.build(spec)
    params = model.unflatten(run["path"][-1])
    xs = np.linspace(-2, 2, 9)
    i, j = 1, 7                       # row i is y = xs[i], column j is x = xs[j]
    point = np.array([[xs[j], xs[i]]])
    assert run["grid_class"][-1][i, j] == model.predict(params, point)[0]
    axis = np.linspace(-2, 2, 4)
    hidden = model.hidden_activations(params, np.array([[axis[3], axis[0]]]))[0][0]
    assert np.allclose(run["neurons"][-1][:, 0, 3], hidden, atol=1e-6)


def test_logistic_regression_draws_the_argmax_of_linear_scores():
    spec = RunSpec(layers=0, width=1, points=90, epochs=20, frames=2, resolution=12, keep_path=True)
    run = dr.train_run(spec)
    W, b = run["path"][-1][:6].reshape(2, 3), run["path"][-1][6:]
    gx, gy = np.meshgrid(run["xs"], run["xs"])
    scores = np.c_[gx.ravel(), gy.ravel()] @ W + b
    assert np.array_equal(run["grid_class"][-1].ravel(), scores.argmax(axis=1))


def test_class_confidence_known_answers():
    scores = np.array([[1 / 3, 1 / 3, 1 / 3], [0.0, 1.0, 0.0], [0.2, 0.1, 0.7], [0.0, 1.7, -0.5]])
    classes, confidence = dr.class_confidence(scores)
    assert classes.tolist() == [0, 1, 2, 1]
    assert np.allclose(confidence, [0.0, 1.0, (0.7 - 1 / 3) / (2 / 3), 1.0])  # squared-error scores clip at 1
    assert np.allclose(dr.class_confidence(softmax(np.zeros((2, 4))))[1], 0.0)


def test_frame_and_curve_epochs():
    assert dr.frame_epochs(200, 40).tolist() == list(range(0, 201, 5))
    assert dr.frame_epochs(3, 40).tolist() == [0, 1, 2, 3]
    curve = dr.curve_epochs(3000, 7)
    assert curve[0] == 0 and curve[-1] == 3000 and len(curve) <= dr.CURVE_POINTS + 8
    assert set(dr.frame_epochs(3000, 7)) <= set(curve.tolist())


def test_a_diverging_run_stops_with_a_message():
    spec = RunSpec(layers=2, width=16, points=100, activation="linear", loss="squared_error", optimizer="sgd",
                   lr=10.0, epochs=50, frames=10, resolution=8)
    run = dr.train_run(spec)
    # After 4 epochs the weights are finite but the loss on them is not: the run stops there.
    assert run["diverged_at"] == 4
    assert run["message"] == "diverged in epoch 4: the loss became inf"
    assert run["curve_epochs"][-1] == 4 and run["frame_epochs"][-1] <= 4
    assert np.isfinite(run["loss"][:-1]).all()


def test_without_test_points_the_test_curves_are_nan():
    run = dr.train_run(SMALL._replace(test_share=0.0))
    assert len(run["X_test"]) == 0 and np.isnan(run["test_loss"]).all()


def test_width_depth_spec_is_the_lessons_setting():
    spec = dr.width_depth_spec(5, 20, 3, keep_path=True)
    assert (spec.layers, spec.width, spec.seed, spec.data_seed, spec.keep_path) == (5, 20, 3, 3, True)
    assert (spec.dataset, spec.points, spec.test_share, spec.optimizer, spec.lr, spec.epochs) == \
        ("spiral3", 600, 0.5, "adam", 0.01, 200)


def test_param_count_matches_the_model():
    assert dr.param_count(3, 7, 2) == MLP((2, 7, 7, 7, 2)).n_params
    assert dr.param_count(0, 9, 3) == 9


@pytest.mark.parametrize("change, match", [
    (dict(layers=21), "LAYERS_MAX"),
    (dict(layers=-1), "LAYERS_MAX"),
    (dict(width=0), "WIDTH_MAX"),
    (dict(width=10**6), "WIDTH_MAX"),
    (dict(width=2.5), "whole number"),
    (dict(points=0), "POINTS_MAX"),
    (dict(points=10**9), "POINTS_MAX"),
    (dict(noise=math.nan), "NOISE_MAX"),
    (dict(noise=1e308), "NOISE_MAX"),
    (dict(test_share=0.95), "TEST_SHARE_MAX"),
    (dict(epochs=0), "EPOCHS_MAX"),
    (dict(epochs=10**7), "EPOCHS_MAX"),
    (dict(seed=-1), "seed"),
    (dict(frames=0), "FRAMES_MAX"),
    (dict(resolution=1000), "RESOLUTION_MAX"),
    (dict(window=math.inf), "WINDOW_MAX"),
    (dict(dataset="moons"), "unknown data set"),
    (dict(activation="swish"), "activation"),
    (dict(optimizer="magic"), "unknown optimizer"),
    (dict(lr=1e9), "lr"),
    (dict(lr=math.nan), "lr"),
    (dict(regularization="l3"), "regularization"),
    (dict(regularization="l2", reg_rate=math.nan), "REG_MAX"),
    (dict(batch_size=-3), "POINTS_MAX"),
    (dict(neuron_resolution=8, layers=3, width=10), "NEURON_MAPS_MAX"),
    (dict(neuron_resolution=999), "NEURON_RESOLUTION_MAX"),
    (dict(layers=10, width=200, epochs=3000), "WORK_MAX"),
    (dict(layers=20, width=256), "PARAMS_MAX"),
    (dict(batch_size=1, epochs=200, points=400), "STEPS_MAX"),
])
def test_out_of_limit_specs_raise_a_clear_error(change, match):
    with pytest.raises(ValueError, match=match):
        dr.build(SMALL._replace(**change))


def test_runs_just_inside_the_step_and_work_limits_are_accepted():
    dr.build(SMALL._replace(batch_size=1, points=600, epochs=dr.STEPS_MAX // 300))
    dr.build(dr.width_depth_spec(10, 100))


def test_not_a_spec_and_bad_chunks_are_refused():
    with pytest.raises(ValueError, match="RunSpec"):
        dr.build((1, 2, 3))
    with pytest.raises(ValueError, match="epochs"):
        dr.advance(SMALL, dr.start(SMALL), 0)
    with pytest.raises(ValueError, match="not finished"):
        dr.finish(SMALL, dr.start(SMALL))


def test_the_largest_allowed_lesson_run_is_within_the_work_limit():
    model, _, _ = dr.build(dr.width_depth_spec(10, 100))   # raises if not
    assert model.n_params == 91_503
    assert dr.epochs_per_chunk(dr.width_depth_spec(10, 100)) >= 1
