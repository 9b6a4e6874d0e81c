"""The visitor's own melody: note text read whole or refused with the note named; trained on and continued."""

import numpy as np
import pytest

from app.lessons import own_melody as om
from app.lessons import rnn as experiments
from app.ml import melodies

SHORT = "C4:1 E4:0.5 G4:1 E4:0.5 C4:1 D4:1 E4:1 D4:2"


def test_good_text_is_read_and_written_back_in_the_lesson_notation():
    assert om.parse_melody("c4:1, E4:0.5\nG4:1.5") == ((60, 1.0), (64, 0.5), (67, 1.5))
    assert om.check_melody("  C4:1   E4:0.50 ") == "C4:1 E4:0.5"
    assert om.check_melody("   ") == ""
    tokens = om.melody_tokens("C4:1 E4:0.5")
    assert tokens[0] == melodies.BOUNDARY and list(tokens[1:]) == list(melodies.VOCABULARY.encode([(60, 1), (64, 0.5)]))


def test_every_key_of_the_keyboard_at_every_length_it_allows_is_a_token():
    for pitch, lengths in om.LENGTHS.items():
        for beats in lengths:
            assert om.parse_melody(f"{melodies.pitch_name(pitch)}:{beats:g} C4:1")[0] == (pitch, beats)
    assert om.PITCHES[0] == 55 and om.PITCHES[-1] == 69 and set(om.DURATIONS) == {0.5, 1, 1.5, 2, 3, 4}


@pytest.mark.parametrize("text, words", [
    ("C4:1 C5:1", ["note 2", "C5", "above"]),
    ("G2:1 C4:1", ["note 1", "G2", "below"]),
    ("C#4:1 C4:1", ["note 1", "C#4", "not among"]),
    ("C4:1 E4:0.75", ["note 2", "0.75", "length"]),
    ("C4:1 B3:2", ["note 2", "B3", "no token", "1 beat"]),
    ("C4:1 hello", ["note 2", "hello", "pitch:beats"]),
    ("C4:nan C4:1", ["note 1", "nan"]),
    ("C4:inf C4:1", ["note 1", "inf"]),
    ("C4:1e308 C4:1", ["note 1", "1e308"]),
    ("C4:1", ["1 note", "at least 2"]),
    (" ".join(["C4:1"] * 65), ["65 notes", "at most 64"]),
    ("C4:1 " * 300, ["characters"]),
])
def test_bad_text_names_the_note_and_what_is_wrong(text, words):
    with pytest.raises(om.MelodyError) as error:
        om.check_melody(text)
    for word in words:
        assert word in str(error.value)


@pytest.mark.parametrize("value", [None, 3, ["C4:1"], b"C4:1 D4:1"])
def test_non_text_is_refused(value):
    with pytest.raises(ValueError):
        om.parse_melody(value)


def test_sixty_four_notes_fit_the_limit():
    assert len(om.parse_melody(" ".join(["C4:0.5"] * 64))) == 64


def test_the_network_trains_on_the_melody_with_the_tunes_and_continues_it():
    net = experiments.network(melodies.TUNE_NAMES, "", 32, 32, "adam", 0.01, 120, 0, 5.0, SHORT)
    assert net["melody_learned"] is True and net["loss"][-1] < net["loss"][0]
    made = om.continuation(net["params"], melodies.TUNE_NAMES, SHORT, 1.0, 0, 64, 4)
    given = melodies.VOCABULARY.encode(om.parse_melody(SHORT))
    assert made["given"] == len(given) and list(made["tokens"][:len(given)]) == list(given)
    assert len(made["tokens"]) > len(given), "the network goes on after the melody"
    assert all(s == len(melodies.TUNE_NAMES) for s in made["sources"][:len(given)])
    assert made["dists"].shape == (len(made["tokens"]), melodies.VOCABULARY.size)
    np.testing.assert_allclose(made["dists"].sum(axis=1), 1.0)


def test_free_play_passes_the_melody_on_and_leaves_the_lesson_network_alone():
    values = {"heldout": "none", "tunes": ".".join(melodies.TUNE_NAMES), "hidden": 16, "steps": 10, "unroll": 32,
              "optimizer": "adam", "lr": 0.01, "seed": 0, "clip": 5.0, "melody": SHORT}
    assert experiments.free_play_net(values)[9] == SHORT
    assert len(experiments.free_play_net({**values, "melody": ""})) == 9
    assert experiments.network(*experiments.free_play_net({**values, "melody": ""}))["melody_learned"] is None
