"""The hand-typed tunes and their tokens.

The tunes are checked against a second, independent transcription written
below in a small ABC-like notation (letters for C4..B4, ',' an octave lower,
a number of beats after the letter, default 1; '/2' half a beat, '3/2' a
dotted quarter), and bar by bar against the meter.
"""

import numpy as np
import pytest

from app.ml import melodies
from app.ml.melodies import BOUNDARY, VOCABULARY, Vocabulary

TRANSCRIPTIONS = {
    "twinkle": "C C G G A A G2 F F E E D D C2 G G F F E E D2 G G F F E E D2 "
               "C C G G A A G2 F F E E D D C2",
    "ode_to_joy": "E E F G G F E D C C D E E3/2 D/2 D2 E E F G G F E D C C D E D3/2 C/2 C2 "
                  "D D E C D E/2 F/2 E C D E/2 F/2 E D C D G,2 E E F G G F E D C C D E D3/2 C/2 C2",
    "frere_jacques": "C D E C C D E C E F G2 E F G2 G/2 A/2 G/2 F/2 E C G/2 A/2 G/2 F/2 E C "
                     "C G, C2 C G, C2",
    "mary": "E D C D E E E2 D D D2 E G G2 E D C D E E E E D D E D C4",
    "hot_cross_buns": "E D C2 E D C2 C/2 C/2 C/2 C/2 D/2 D/2 D/2 D/2 E D C2",
    "au_clair_de_la_lune": "C C C D E2 D2 C E D D C4 C C C D E2 D2 C E D D C4 "
                           "D D D D A,2 A,2 D C B, A, G,4 C C C D E2 D2 C E D D C4",
    "london_bridge": "G3/2 A/2 G F E F G2 D E F2 E F G2 G3/2 A/2 G F E F G2 D2 G2 E C3",
}

STEPS = {"C": 60, "D": 62, "E": 64, "F": 65, "G": 67, "A": 69, "B": 71}


def parse(text):
    notes = []
    for word in text.split():
        pitch = STEPS[word[0]]
        rest = word[1:]
        while rest.startswith(","):
            pitch -= 12
            rest = rest[1:]
        if not rest:
            beats = 1.0
        elif "/" in rest:
            num, den = rest.split("/")
            beats = (float(num) if num else 1.0) / float(den)
        else:
            beats = float(rest)
        notes.append((pitch, beats))
    return notes


@pytest.mark.parametrize("name", melodies.TUNE_NAMES)
def test_tune_matches_independent_transcription(name):
    assert list(melodies.get_tune(name).notes) == parse(TRANSCRIPTIONS[name])


@pytest.mark.parametrize("name", melodies.TUNE_NAMES)
def test_every_bar_fills_the_meter(name):
    tune = melodies.get_tune(name)
    for i, bar in enumerate(tune.bars):
        assert sum(b for _, b in bar) == tune.beats_per_bar, f"{name} bar {i + 1}"


def test_known_lengths_in_beats_and_notes():
    beats = {n: sum(b for _, b in melodies.get_tune(n).notes) for n in melodies.TUNE_NAMES}
    assert beats == {"twinkle": 48, "ode_to_joy": 64, "frere_jacques": 32, "mary": 32,
                     "hot_cross_buns": 16, "au_clair_de_la_lune": 64, "london_bridge": 32}
    assert len(melodies.get_tune("twinkle").notes) == 42
    assert len(melodies.get_tune("mary").notes) == 26


def test_tunes_stay_in_c_major_around_middle_c():
    c_major = {0, 2, 4, 5, 7, 9, 11}
    for name in melodies.TUNE_NAMES:
        for pitch, beats in melodies.get_tune(name).notes:
            assert isinstance(pitch, int) and pitch % 12 in c_major, (name, pitch)
            assert 55 <= pitch <= 69 and beats in (0.5, 1, 1.5, 2, 3, 4)


def test_pitch_names():
    assert [melodies.pitch_name(p) for p in (60, 69, 55, 70, 21, 108)] == ["C4", "A4", "G3", "A#4", "A0", "C8"]
    assert melodies.note_label((64, 1.5)) == "E4:1.5"
    assert melodies.note_label((60, 2.0)) == "C4:2"


def test_vocabulary_holds_each_distinct_note_once_after_the_boundary():
    distinct = {(p, float(b)) for n in melodies.TUNE_NAMES for p, b in melodies.get_tune(n).notes}
    assert VOCABULARY.size == len(distinct) + 1
    assert set(VOCABULARY.notes) == distinct
    assert list(VOCABULARY.notes) == sorted(VOCABULARY.notes)
    assert VOCABULARY.labels[0] == "|" and len(VOCABULARY.labels) == VOCABULARY.size
    assert len(set(VOCABULARY.labels)) == VOCABULARY.size


@pytest.mark.parametrize("name", melodies.TUNE_NAMES)
def test_encode_decode_round_trip(name):
    notes = list(melodies.get_tune(name).notes)
    tokens = VOCABULARY.encode(notes)
    assert tokens.dtype == np.int64 and tokens.min() >= 1
    assert VOCABULARY.decode(tokens) == notes


def test_encode_tunes_separates_tunes_with_boundaries():
    names = ["mary", "hot_cross_buns"]
    tokens = melodies.encode_tunes(names)
    assert tokens[0] == BOUNDARY and tokens[-1] == BOUNDARY
    assert len(tokens) == 26 + 17 + 3
    assert np.flatnonzero(tokens == BOUNDARY).tolist() == [0, 27, 45]
    both = melodies.get_tune("mary").notes + melodies.get_tune("hot_cross_buns").notes
    assert VOCABULARY.decode(tokens) == list(both)


def test_small_vocabulary_is_built_from_the_named_tunes_only():
    vocab = melodies.build_vocabulary(["hot_cross_buns"])
    assert vocab.notes == ((60, 0.5), (60, 2.0), (62, 0.5), (62, 1.0), (64, 1.0))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode([(67, 1)])


def test_unknown_tune_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="unknown tune 'yesterday'.*twinkle"):
        melodies.get_tune("yesterday")
    with pytest.raises(ValueError, match="unknown tune"):
        melodies.encode_tunes(["mary", "yesterday"])
    with pytest.raises(ValueError, match="at least one tune"):
        melodies.encode_tunes([])


def test_decode_refuses_ids_outside_the_vocabulary():
    with pytest.raises(ValueError, match=r"outside the vocabulary 0\.\.28"):
        VOCABULARY.decode([1, 29])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        Vocabulary(((60, 1.0),)).decode([-1])
