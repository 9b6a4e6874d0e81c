"""The RNN lesson's experiments, called directly: no Flask, no Dash, no cache."""

import math

import numpy as np
import pytest

from app.lessons import rnn as lesson
from app.ml import melodies, rnn

#: A small, quick network on two tunes: network() arguments.
SMALL = (("twinkle", "mary"), "", 8, 16, "adam", 0.05, 20, 3, 5.0)
NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def small():
    return lesson.network(*SMALL)


def test_a_network_is_deterministic_for_a_seed_and_shaped_per_step(small):
    again = lesson.network(*SMALL)
    for name in rnn.PARAM_NAMES:
        assert np.array_equal(small["params"][name], again["params"][name])
    assert np.array_equal(small["loss"], again["loss"]) and small["loss"].shape == small["grad_norm"].shape == (20,)
    assert small["eval_steps"].tolist() == [0, 5, 10, 15, 20]
    assert small["reproduced"].shape == (2,) and math.isnan(small["held_out_right"])
    first = lesson.tune_tokens("twinkle")
    assert small["flow_init"].shape == small["flow_trained"].shape == (len(first) - 1,)
    assert small["loss"][-1] < small["loss"][0] and small["diverged_at"] is None


def test_a_held_out_tune_is_scored_but_never_trained_on():
    net = lesson.network(("twinkle",), "mary", 8, 16, "adam", 0.05, 10, 0, 5.0)
    right = np.mean(lesson.guesses(net["params"], "mary") == lesson.tune_tokens("mary")[1:])
    assert net["held_out_right"] == pytest.approx(right)
    assert np.all(np.isfinite(net["held_out_loss"])) and len(net["held_out_loss"]) == len(net["eval_steps"])


def test_the_replayed_history_is_the_same_training_as_the_network(small):
    tunes, _, *run = SMALL
    history = lesson.training_history(tunes, *run, "twinkle", 5)
    np.testing.assert_allclose(history["loss"], small["loss"], rtol=1e-9)
    assert history["at"].tolist() == [0, 5, 10, 15, 20]
    n = len(lesson.tune_tokens("twinkle")) - 1
    assert history["guesses"].shape == history["flows"].shape == (5, n)
    np.testing.assert_array_equal(history["guesses"][-1], lesson.guesses(small["params"], "twinkle"))
    assert history["reproduced"][-1] == int(small["reproduced"].sum()) and history["reproduced"].max() <= 2


def test_reading_spells_out_the_cell(small):
    r = lesson.reading(small["params"], "twinkle")
    np.testing.assert_allclose(r["x_part"] + r["m_part"] + r["b_h"], r["pre"], atol=1e-12)
    np.testing.assert_allclose(np.tanh(r["pre"]), r["hs"], atol=1e-12)
    np.testing.assert_allclose(r["h_prev"][1:], r["hs"][:-1])
    assert not r["h_prev"][0].any()
    assert r["inputs"][0] == melodies.BOUNDARY and r["targets"][-1] == melodies.BOUNDARY
    np.testing.assert_allclose(r["probs"].sum(axis=1), 1.0)


def test_temperature_one_leaves_the_probabilities_and_low_ones_sharpen(small):
    logits = lesson.reading(small["params"], "twinkle")["logits"][0]
    plain, cold, hot = lesson.tempered(logits, (1.0, 0.05, 5.0))
    np.testing.assert_allclose(plain, rnn.softmax(logits))
    assert cold.max() > plain.max() > hot.max() and np.argmax(cold) == np.argmax(plain)


def test_a_melody_is_deterministic_starts_on_its_note_and_names_its_sources(small):
    a = lesson.melody(small["params"], SMALL[0], 1.0, "C4:1", 7)
    b = lesson.melody(small["params"], SMALL[0], 1.0, "C4:1", 7)
    assert np.array_equal(a["tokens"], b["tokens"]) and a["tokens"][0] == lesson.token_of("C4:1")
    n = len(a["tokens"])
    assert 1 <= n <= lesson.MELODY_MAX + 1 and a["stopped"] == (n <= lesson.MELODY_MAX)
    assert a["dists"].shape == (n, lesson.VOCAB.size) and np.allclose(a["dists"].sum(axis=1), 1.0)
    assert set(a["sources"].tolist()) <= {-1, 0, 1}


def test_a_melody_drawn_coldly_from_a_trained_network_is_a_tune():
    net = lesson.network(*lesson.LESSON_NET)
    m = lesson.melody(net["params"], lesson.TUNE_NAMES, 0.05, "C4:1", 0)
    tunes = [[int(t) for t in lesson.tune_tokens(n)[1:-1]] for n in lesson.TUNE_NAMES]
    assert m["stopped"] and m["tokens"].tolist() in tunes and (m["sources"] >= 0).all()


def test_copied_runs_known_answers():
    tunes = [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10]]
    assert lesson.copied_from([1, 2, 3, 4, 5], tunes) == [0] * 5
    assert lesson.copied_from([1, 2, 3, 9, 8], tunes) == [-1] * 5          # runs of 3 do not count
    assert lesson.copied_from([2, 3, 4, 5, 7, 8, 9, 10], tunes) == [0] * 4 + [1] * 4
    assert lesson.copied_from([], tunes) == [] and lesson.copied_from([1, 2, 3], tunes, min_run=3) == [0] * 3
    melody = [int(t) for t in lesson.tune_tokens("mary")[1:-1]]
    assert lesson.copied_from(melody, [list(lesson.tune_tokens(n)[1:-1]) for n in lesson.TUNE_NAMES]) == \
        [lesson.TUNE_NAMES.index("mary")] * len(melody)


def test_free_play_settings_become_network_arguments():
    values = {"hidden": 64, "unroll": 32, "optimizer": "adam", "lr": 0.01, "steps": 150, "seed": 0, "clip": 5.0,
              "tunes": ".".join(lesson.TUNE_NAMES), "heldout": "none"}
    assert lesson.free_play_net(values) == lesson.LESSON_NET
    args = lesson.free_play_net({**values, "tunes": "mary.twinkle.mary", "heldout": "twinkle"})
    assert args[:2] == (("mary",), "twinkle")
    most = lesson.free_play_net({**values, "hidden": 128, "steps": 200})      # exactly WORK_MAX
    assert (most[2], most[6]) == (128, 200)


# -- bad input: a clear ValueError ----------------------------------------------------------


@pytest.mark.parametrize("change, said", [
    ({0: ()}, "at least one tune"), ({0: ("nope",)}, "unknown tune"), ({1: "nope"}, "unknown tune"),
    ({2: 10**6}, "hidden_size"), ({2: 0}, "hidden_size"), ({3: 1}, "unroll"), ({4: "rm -rf"}, "optimizer"),
    ({5: NAN}, "lr"), ({5: INF}, "lr"), ({5: 1e300}, "lr"), ({6: 0}, "steps"), ({6: 10**9}, "steps"),
    ({7: -1}, "seed"), ({8: NAN}, "clip"), ({8: INF}, "clip"), ({0: ("mary",), 1: "mary"}, "both"),
])
def test_a_network_outside_the_limits_is_refused(change, said):
    args = [change.get(i, v) for i, v in enumerate(SMALL)]
    with pytest.raises(ValueError, match=said):
        lesson.network(*args)


@pytest.mark.parametrize("shown, every, said", [("nope", 5, "unknown tune"), ("twinkle", 0, "every"),
                                                ("twinkle", NAN, "every"), ("twinkle", 10**9, "every")])
def test_a_history_with_bad_arguments_is_refused(shown, every, said):
    tunes, _, *run = SMALL
    with pytest.raises(ValueError, match=said):
        lesson.training_history(tunes, *run, shown, every)


def test_reading_with_broken_weights_or_an_unknown_tune_is_refused(small):
    broken = {**small["params"], "W_hh": np.full_like(small["params"]["W_hh"], NAN)}
    with pytest.raises(ValueError, match="NaN or inf"):
        lesson.reading(broken, "twinkle")
    with pytest.raises(ValueError, match="unknown tune"):
        lesson.reading(small["params"], "yankee_doodle")


@pytest.mark.parametrize("temperatures, said", [((), "at least one"), ((NAN,), "temperature"),
                                                ((INF,), "temperature"), ((0.0,), "temperature")])
def test_bad_temperatures_are_refused(temperatures, said):
    with pytest.raises(ValueError, match=said):
        lesson.tempered(np.zeros(lesson.VOCAB.size), temperatures)


def test_logits_that_are_not_finite_are_refused():
    with pytest.raises(ValueError, match="NaN or inf"):
        lesson.tempered(np.full(lesson.VOCAB.size, NAN), (1.0,))


@pytest.mark.parametrize("tunes, temperature, start, draw, limit, said", [
    (("twinkle",), NAN, "C4:1", 0, 8, "temperature"), (("twinkle",), 1.0, "Z9:1", 0, 8, "unknown note"),
    (("twinkle",), 1.0, "|", 0, 8, "unknown note"), (("twinkle",), 1.0, ["C4:1"], 0, 8, "unknown note"),
    ((), 1.0, "C4:1", 0, 8, "at least one tune"), (("twinkle",), 1.0, "C4:1", -1, 8, "seed"),
    (("twinkle",), 1.0, "C4:1", 0, 10**9, "length"), (("twinkle",), 1.0, "C4:1", 0, 0, "length"),
])
def test_a_melody_with_bad_arguments_is_refused(small, tunes, temperature, start, draw, limit, said):
    with pytest.raises(ValueError, match=said):
        lesson.melody(small["params"], tunes, temperature, start, draw, limit)


@pytest.mark.parametrize("tokens, tunes, min_run", [
    ([1, NAN], [[1, 2]], 4), ([1, INF], [[1, 2]], 4), ([1.5], [[1, 2]], 4), ([[1, 2]], [[1, 2]], 4),
    (["a"], [[1, 2]], 4), ([1, 2], [[1, NAN]], 4), (list(range(lesson.COPY_TOKENS_MAX + 1)), [[1]], 4),
    ([1, 2], [[1, 2]], 0), ([1, 2], [[1, 2]], NAN),
])
def test_copied_from_refuses_what_is_not_token_ids(tokens, tunes, min_run):
    with pytest.raises(ValueError):
        lesson.copied_from(tokens, tunes, min_run)


@pytest.mark.parametrize("change, said", [
    ({"tunes": "mary", "heldout": "mary"}, "no tune is left"), ({"hidden": 128, "steps": 201}, "25,600"),
    ({"tunes": ""}, "unknown tune"), ({"tunes": "twinkle.nope"}, "unknown tune"), ({"heldout": "nope"}, "unknown tune"),
    ({"hidden": NAN}, "hidden units"), ({"steps": 10**9}, "training steps"), ({"hidden": 1e308}, "hidden units"),
])
def test_free_play_refuses_settings_it_cannot_train(change, said):
    values = {"hidden": 16, "unroll": 32, "optimizer": "adam", "lr": 0.01, "steps": 100, "seed": 0, "clip": 5.0,
              "tunes": "twinkle.mary", "heldout": "none", **change}
    with pytest.raises(ValueError, match=said):
        lesson.free_play_net(values)
