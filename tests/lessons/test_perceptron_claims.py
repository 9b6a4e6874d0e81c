"""Every claim of the perceptron narration, recomputed from the lesson's own code.

Numbers in the narration are checked as the text rounds them (the tolerance is
that rounding) unless a test says otherwise; claims about "every start" are
checked over the seeds the text names.
"""

import itertools
import math
import re
from pathlib import Path

import numpy as np
import pytest

from app.lessons import perceptron as lesson
from app.ml.perceptron import Perceptron
from components.narration import load_steps

_STEPS = load_steps(Path(__file__).parents[2] / "pages" / "perceptron.md")
#: The steps by a short name: their figure, but "loss" for the second step that shows the predictions.
STEPS = {("loss" if s.title.startswith("How wrong") else s.figure): s for s in _STEPS}
SEEDS = range(20)                      # "the seeds 0–19"
LR, EPOCHS = 1.0, 300                  # the page's defaults, which the narration describes


def says(figure: str, *texts: str):
    assert len(STEPS) == len(_STEPS)
    s = STEPS[figure]
    text = " ".join((s.body, s.question, s.answer, s.task)).replace("\n", " ")
    for t in texts:
        assert t in text, f"the narration of {figure!r} should say {t!r}"


def run(songs: str, seed: int = 0, epochs: int = EPOCHS) -> dict:
    return lesson.training_run(songs, "sgd", LR, epochs, seed)


def pct(p: float) -> str:
    return f"{100 * p:.0f} %"


def right_side(probs: np.ndarray, y: np.ndarray) -> int:
    return int(np.sum((probs > 0.5) == (y == 1)))


# -- the model the lesson trains -----------------------------------------------------------


def test_the_model_is_a_sigmoid_unit_with_random_weights_and_a_zero_bias():
    says("predictions", "**sigmoid unit**", "Rosenblatt", "hard 1 or 0", "normal, mean 0, standard deviation 1",
         "the bias at 0")
    params = Perceptron(n_features=3).init(0)
    assert params["b"] == 0.0
    draws = np.array([Perceptron(n_features=3).init(s)["w"] for s in range(2000)]).ravel()
    assert abs(draws.mean()) < 0.05 and abs(draws.std() - 1.0) < 0.05
    X, y = lesson.decode_songs(lesson.UNLEARNABLE)
    z = X @ params["w"] + params["b"]
    np.testing.assert_allclose(run(lesson.UNLEARNABLE, epochs=1)["probs"][0], 1 / (1 + np.exp(-z)), rtol=1e-12)


def test_random_weights_get_one_to_three_songs_right_never_none_or_four():
    _, y = lesson.decode_songs(lesson.UNLEARNABLE)
    counts = {k: 0 for k in range(5)}
    for seed in range(1000):
        counts[right_side(run(lesson.UNLEARNABLE, seed, epochs=1)["probs"][0], y)] += 1
    assert counts[0] == counts[4] == 0
    says("predictions", "seeds 0–999", f"two are right on {counts[2]} seeds", f"one on {counts[1]}",
         f"three on {counts[3]}")
    first = run(lesson.UNLEARNABLE, 0, epochs=1)["probs"][0]
    assert (first > 0.5).all() and right_side(first, y) == 2
    says("predictions", "puts all four above 50 %: two right")


# -- one update, training, and why it fails ------------------------------------------------


def test_the_loss_of_the_random_weights_and_one_update():
    r = run(lesson.UNLEARNABLE)
    says("loss", f"{r['loss'][0]:.3f} for seed 0")
    X, y = lesson.decode_songs(lesson.UNLEARNABLE)
    assert X[:, 2].all(), "every song has piano"
    terms = (r["probs"][0] - y) * X[:, 2]
    assert (terms[y == 0] > 0).all() and (terms[y == 1] < 0).all(), "disliked pull down, liked pull up"
    piano = 2
    assert r["grads_w"][0, piano] == pytest.approx(terms.mean(), abs=1e-12)
    says("update", f"$+{r['grads_w'][0, piano]:.3f}$", f"from {r['w'][0, piano]:.3f} to {r['w'][1, piano]:.3f}",
         f"from {r['loss'][0]:.3f} to {r['loss'][1]:.3f}")
    assert r["w"][1, piano] < r["w"][0, piano] and r["loss"][1] < r["loss"][0]


def test_training_on_the_xor_songs_ends_at_log_2_from_every_seed():
    r = run(lesson.UNLEARNABLE)
    says("train", f"from {r['loss'][0]:.3f}", f"$\\log 2 \\approx {math.log(2):.3f}$", "seeds 0–19",
         "after 300 epochs", "within $10^{-12}$ of $\\log 2$", "within $10^{-6}$ of 50 %")
    for seed in SEEDS:
        r = run(lesson.UNLEARNABLE, seed)
        assert abs(r["loss"][-1] - math.log(2)) < 1e-12 and np.abs(r["probs"][-1] - 0.5).max() < 1e-6, seed


def test_log_2_is_the_lowest_loss_any_weights_reach_on_the_xor_songs():
    """The loss is convex; its lowest value on these songs is log 2 (checked on a million random weights)."""
    X, y = lesson.decode_songs(lesson.UNLEARNABLE)
    rng = np.random.default_rng(0)
    W = rng.normal(0.0, 3.0, (1_000_000, 4))
    z = W[:, :3] @ X.T + W[:, 3:]
    losses = np.mean(np.logaddexp(0.0, z) - y * z, axis=1)
    assert losses.min() >= math.log(2) - 1e-12
    says("why", "$\\log 2 \\approx 0.69$", "convex")


# -- better data, and new songs ------------------------------------------------------------


def test_the_learnable_songs_are_separated_from_every_seed_but_the_loss_never_reaches_zero():
    _, y = lesson.decode_songs(lesson.LEARNABLE)
    r = run(lesson.LEARNABLE)
    p = r["probs"][-1]
    says("learnable", f"{pct(p[0])} and {pct(p[1])}", f"the disliked ones at {pct(p[2])}",
         f"the loss is {r['loss'][-1]:.3f}")
    assert pct(p[2]) == pct(p[3])
    assert np.all(np.diff(r["loss"]) < 0) and r["loss"][-1] > 0
    finals = []
    for seed in SEEDS:
        r = run(lesson.LEARNABLE, seed)
        assert right_side(r["probs"][-1], y) == 4, seed
        finals.append(r["loss"][-1])
    assert 0.058 <= min(finals) and max(finals) <= 0.064
    says("learnable", "loss between 0.058 and 0.064")


def test_every_new_song_is_rated_a_dislike_and_the_best_is_the_piano_song():
    unseen = lesson.new_songs(lesson.LEARNABLE)
    assert len(unseen) == 4 and not (unseen[:, 1] * unseen[:, 2]).any(), "all lack sad or piano"
    piano_only = np.array([0.0, 0.0, 1.0])
    r = run(lesson.LEARNABLE)
    corners = np.array(list(itertools.product([0.0, 1.0], repeat=3)))
    rule = [lesson.predict(r, x) > 0.5 for x in corners]
    assert rule == [bool(x[1] and x[2]) for x in corners], "the learned rule is 'sad and piano'"
    rated = {tuple(x): lesson.predict(r, x) for x in unseen}
    best = rated.pop(tuple(piano_only))
    says("predict", f"gets {pct(best)}", "the other three 3 % or less")
    assert max(rated.values()) <= 0.03 < best
    bests = []
    for seed in SEEDS:
        r = run(lesson.LEARNABLE, seed)
        assert lesson.is_best_new_song(r, lesson.LEARNABLE, piano_only), seed
        assert max(lesson.predict(r, x) for x in unseen) < 0.5
        bests.append(lesson.predict(r, piano_only))
    says("predict", f"at {pct(min(bests))} to {pct(max(bests))}")


def test_the_task_can_be_done_and_only_by_the_best_new_song():
    r = run(lesson.LEARNABLE)
    X, _ = lesson.decode_songs(lesson.LEARNABLE)
    done = [x for x in itertools.product([0.0, 1.0], repeat=3)
            if lesson.is_best_new_song(r, lesson.LEARNABLE, np.array(x))]
    assert done == [(0.0, 0.0, 1.0)]
    assert not any(lesson.is_best_new_song(r, lesson.LEARNABLE, x) for x in X), "training songs never count"
    says("predict", "Find the song not in the data that the perceptron rates highest")


def numbers_in(steps) -> set[str]:
    """Every number written in the narration (in words or formulas), as written."""
    found = set()
    for s in steps:
        found |= set(re.findall(r"(?<![\w.])\d+(?:[.,]\d+)*", " ".join((s.body, s.question, s.answer, s.task))))
    return found


def test_no_number_in_the_narration_is_left_unchecked():
    """A number added to the narration must be added here, with a test above if it is measured."""
    measured = {"0.058", "0.060", "0.064", "0.154", "0.487", "0.640", "0.69", "0.693", "0.702", "0.744",
                "7", "12", "16", "18", "93", "97", "124", "130", "746"}
    given = {"0", "0.05", "0.5", "1", "2", "3", "6", "10", "19", "50", "300", "999", "1958"}  # settings, counts,
    # seeds, bounds and the free-play task's goal
    assert numbers_in(STEPS.values()) <= measured | given, sorted(numbers_in(STEPS.values()) - measured - given)
