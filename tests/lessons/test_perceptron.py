"""The perceptron lesson's experiments, called directly: no Flask, no Dash, no cache."""

import numpy as np
import pytest

from app.lessons import perceptron as lesson


def test_songs_round_trip_through_link_text():
    rows = [[1, 0, 1, 1], [0, 1, 0, 0]]
    X, y = lesson.decode_songs(lesson.encode_songs(rows))
    assert X.tolist() == [[1, 0, 1], [0, 1, 0]] and y.tolist() == [1, 0]


def test_a_run_is_deterministic_for_a_seed_and_shaped_per_epoch():
    a = lesson.training_run(lesson.LEARNABLE, "sgd", 1.0, 50, 3)
    b = lesson.training_run(lesson.LEARNABLE, "sgd", 1.0, 50, 3)
    assert np.array_equal(a["w"], b["w"]) and a["w"].shape == (51, 3) and a["probs"].shape == (51, 4)
    assert a["grads_w"].shape == (50, 3) and a["message"] == ""


def test_the_loss_is_the_mean_cross_entropy_of_the_probabilities():
    run = lesson.training_run(lesson.UNLEARNABLE, "adam", 0.1, 20, 0)
    _, y = lesson.decode_songs(lesson.UNLEARNABLE)
    p = run["probs"]
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1)
    assert np.allclose(run["loss"], expected, atol=1e-12)


def test_learnable_songs_are_learned_and_predicted():
    run = lesson.training_run(lesson.LEARNABLE, "sgd", 1.0, 300, 0)
    X, y = lesson.decode_songs(lesson.LEARNABLE)
    assert run["loss"][-1] < run["loss"][0]
    assert [lesson.predict(run, x) > 0.5 for x in X] == [bool(v) for v in y]


@pytest.mark.parametrize("lr", [1e300, float("nan"), float("inf"), -1.0])
def test_a_learning_rate_out_of_range_is_refused_with_its_limits(lr):
    with pytest.raises(ValueError, match="lr must be"):
        lesson.training_run(lesson.LEARNABLE, "sgd", lr, 50, 0)


@pytest.mark.parametrize("songs", ["2000", "0000.1111.", "", "1111." * 70])
def test_songs_the_model_refuses_raise_a_value_error(songs):
    with pytest.raises(ValueError):
        lesson.training_run(songs, "sgd", 1.0, 10, 0)
