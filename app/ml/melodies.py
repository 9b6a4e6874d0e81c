"""Melodies for the RNN lesson: public-domain tunes typed in by hand, and their tokens.

A note is ``(pitch, beats)``: ``pitch`` is a MIDI note number (60 = middle C,
C4; one step = one semitone) and ``beats`` its length in quarter-note beats
(1 = quarter, 0.5 = eighth, 2 = half, 4 = whole; 1.5 = dotted quarter).
Every tune is written in C major around middle C, bar by bar, so that a test
can check that each bar holds exactly ``beats_per_bar`` beats. Rests do not
occur in these tunes.

Tokens. The network reads and predicts one *note event* at a time: a token is
a (pitch, beats) pair, so a single softmax gives "the next note" as one bar
chart, and sampling a token yields a complete note. (Two heads, one for pitch
and one for duration, would make the next-note distribution a product of two
charts and the sampler a two-stage draw; with the ~25 distinct pairs of these
tunes the joint vocabulary is small enough.) Token 0, ``BOUNDARY``, marks
the start and end of a tune. The vocabulary is built from *all* shipped tunes,
so token ids do not change when the lesson trains on a subset, and a held-out
tune can still be encoded and scored.
"""

from __future__ import annotations

from typing import Iterable, NamedTuple, Sequence

import numpy as np

Note = tuple[int, float]

BOUNDARY = 0            # token id of the start/end-of-tune marker
BOUNDARY_LABEL = "|"

PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


class Tune(NamedTuple):
    """A tune: ``bars`` is a tuple of bars, each a tuple of ``(pitch, beats)`` notes."""

    name: str
    title: str
    origin: str
    beats_per_bar: int
    bars: tuple[tuple[Note, ...], ...]

    @property
    def notes(self) -> tuple[Note, ...]:
        """All notes in order, bars flattened: (n,) tuple of (pitch, beats)."""
        return tuple(note for bar in self.bars for note in bar)


# MIDI numbers used below: G3=55 A3=57 B3=59 C4=60 D4=62 E4=64 F4=65 G4=67 A4=69.
# Each line is one bar; the comment gives the note names.

TWINKLE = Tune(
    "twinkle", "Twinkle, Twinkle, Little Star", "French melody 'Ah! vous dirai-je, maman' (18th c.)", 4, (
        ((60, 1), (60, 1), (67, 1), (67, 1)),   # C C G G      Twin-kle twin-kle
        ((69, 1), (69, 1), (67, 2)),            # A A G-       lit-tle star
        ((65, 1), (65, 1), (64, 1), (64, 1)),   # F F E E      how I won-der
        ((62, 1), (62, 1), (60, 2)),            # D D C-       what you are
        ((67, 1), (67, 1), (65, 1), (65, 1)),   # G G F F      up a-bove the
        ((64, 1), (64, 1), (62, 2)),            # E E D-       world so high
        ((67, 1), (67, 1), (65, 1), (65, 1)),   # G G F F      like a dia-mond
        ((64, 1), (64, 1), (62, 2)),            # E E D-       in the sky
        ((60, 1), (60, 1), (67, 1), (67, 1)),   # C C G G      twin-kle twin-kle
        ((69, 1), (69, 1), (67, 2)),            # A A G-       lit-tle star
        ((65, 1), (65, 1), (64, 1), (64, 1)),   # F F E E      how I won-der
        ((62, 1), (62, 1), (60, 2)),            # D D C-       what you are
    ))

ODE_TO_JOY = Tune(
    "ode_to_joy", "Ode to Joy", "L. van Beethoven, Symphony No. 9 (1824)", 4, (
        ((64, 1), (64, 1), (65, 1), (67, 1)),   # E E F G
        ((67, 1), (65, 1), (64, 1), (62, 1)),   # G F E D
        ((60, 1), (60, 1), (62, 1), (64, 1)),   # C C D E
        ((64, 1.5), (62, 0.5), (62, 2)),        # E. D D-
        ((64, 1), (64, 1), (65, 1), (67, 1)),   # E E F G
        ((67, 1), (65, 1), (64, 1), (62, 1)),   # G F E D
        ((60, 1), (60, 1), (62, 1), (64, 1)),   # C C D E
        ((62, 1.5), (60, 0.5), (60, 2)),        # D. C C-
        ((62, 1), (62, 1), (64, 1), (60, 1)),   # D D E C
        ((62, 1), (64, 0.5), (65, 0.5), (64, 1), (60, 1)),   # D E/F/ E C
        ((62, 1), (64, 0.5), (65, 0.5), (64, 1), (62, 1)),   # D E/F/ E D
        ((60, 1), (62, 1), (55, 2)),            # C D G,-
        ((64, 1), (64, 1), (65, 1), (67, 1)),   # E E F G
        ((67, 1), (65, 1), (64, 1), (62, 1)),   # G F E D
        ((60, 1), (60, 1), (62, 1), (64, 1)),   # C C D E
        ((62, 1.5), (60, 0.5), (60, 2)),        # D. C C-
    ))

FRERE_JACQUES = Tune(
    "frere_jacques", "Frère Jacques", "traditional French round (18th c.)", 4, (
        ((60, 1), (62, 1), (64, 1), (60, 1)),   # C D E C      Frè-re Jac-ques
        ((60, 1), (62, 1), (64, 1), (60, 1)),   # C D E C      frè-re Jac-ques
        ((64, 1), (65, 1), (67, 2)),            # E F G-       dor-mez vous
        ((64, 1), (65, 1), (67, 2)),            # E F G-       dor-mez vous
        ((67, 0.5), (69, 0.5), (67, 0.5), (65, 0.5), (64, 1), (60, 1)),   # G/A/G/F/ E C  son-nez les ma-ti-nes
        ((67, 0.5), (69, 0.5), (67, 0.5), (65, 0.5), (64, 1), (60, 1)),   # G/A/G/F/ E C
        ((60, 1), (55, 1), (60, 2)),            # C G, C-      ding dang dong
        ((60, 1), (55, 1), (60, 2)),            # C G, C-      ding dang dong
    ))

MARY = Tune(
    "mary", "Mary Had a Little Lamb", "American nursery song (19th c.)", 4, (
        ((64, 1), (62, 1), (60, 1), (62, 1)),   # E D C D      Ma-ry had a
        ((64, 1), (64, 1), (64, 2)),            # E E E-       lit-tle lamb
        ((62, 1), (62, 1), (62, 2)),            # D D D-       lit-tle lamb
        ((64, 1), (67, 1), (67, 2)),            # E G G-       lit-tle lamb
        ((64, 1), (62, 1), (60, 1), (62, 1)),   # E D C D      Ma-ry had a
        ((64, 1), (64, 1), (64, 1), (64, 1)),   # E E E E      lit-tle lamb, its
        ((62, 1), (62, 1), (64, 1), (62, 1)),   # D D E D      fleece was white as
        ((60, 4),),                             # C---         snow
    ))

HOT_CROSS_BUNS = Tune(
    "hot_cross_buns", "Hot Cross Buns", "English street cry (18th c.)", 4, (
        ((64, 1), (62, 1), (60, 2)),            # E D C-       Hot cross buns
        ((64, 1), (62, 1), (60, 2)),            # E D C-       hot cross buns
        ((60, 0.5),) * 4 + ((62, 0.5),) * 4,    # C/C/C/C/ D/D/D/D/   one a pen-ny, two a pen-ny
        ((64, 1), (62, 1), (60, 2)),            # E D C-       hot cross buns
    ))

AU_CLAIR_DE_LA_LUNE = Tune(
    "au_clair_de_la_lune", "Au clair de la lune", "traditional French song (18th c.)", 4, (
        ((60, 1), (60, 1), (60, 1), (62, 1)),   # C C C D      Au clair de la
        ((64, 2), (62, 2)),                     # E- D-        lu-ne
        ((60, 1), (64, 1), (62, 1), (62, 1)),   # C E D D      mon a-mi Pier-
        ((60, 4),),                             # C---         rot
        ((60, 1), (60, 1), (60, 1), (62, 1)),   # C C C D      prê-te-moi ta
        ((64, 2), (62, 2)),                     # E- D-        plu-me
        ((60, 1), (64, 1), (62, 1), (62, 1)),   # C E D D      pour é-crire un
        ((60, 4),),                             # C---         mot
        ((62, 1), (62, 1), (62, 1), (62, 1)),   # D D D D      Ma chan-delle est
        ((57, 2), (57, 2)),                     # A,- A,-      mor-te,
        ((62, 1), (60, 1), (59, 1), (57, 1)),   # D C B, A,    je n'ai plus de
        ((55, 4),),                             # G,---        feu
        ((60, 1), (60, 1), (60, 1), (62, 1)),   # C C C D      Ou-vre-moi ta
        ((64, 2), (62, 2)),                     # E- D-        por-te
        ((60, 1), (64, 1), (62, 1), (62, 1)),   # C E D D      pour l'a-mour de
        ((60, 4),),                             # C---         Dieu
    ))

LONDON_BRIDGE = Tune(
    "london_bridge", "London Bridge Is Falling Down", "traditional English nursery rhyme", 4, (
        ((67, 1.5), (69, 0.5), (67, 1), (65, 1)),   # G. A/ G F    Lon-don Bridge is
        ((64, 1), (65, 1), (67, 2)),                # E F G-       fall-ing down
        ((62, 1), (64, 1), (65, 2)),                # D E F-       fall-ing down
        ((64, 1), (65, 1), (67, 2)),                # E F G-       fall-ing down
        ((67, 1.5), (69, 0.5), (67, 1), (65, 1)),   # G. A/ G F    Lon-don Bridge is
        ((64, 1), (65, 1), (67, 2)),                # E F G-       fall-ing down
        ((62, 2), (67, 2)),                         # D- G-        my fair
        ((64, 1), (60, 3)),                         # E C--        la-dy
    ))

TUNES: dict[str, Tune] = {t.name: t for t in (
    TWINKLE, ODE_TO_JOY, FRERE_JACQUES, MARY, HOT_CROSS_BUNS, AU_CLAIR_DE_LA_LUNE, LONDON_BRIDGE)}
TUNE_NAMES: tuple[str, ...] = tuple(TUNES)


def get_tune(name: str) -> Tune:
    """The tune called ``name`` (one of ``TUNE_NAMES``); ValueError for any other name."""
    if not isinstance(name, str) or name not in TUNES:
        raise ValueError(f"unknown tune {name!r}; known tunes: {', '.join(TUNE_NAMES)}")
    return TUNES[name]


def check_tune_names(names: Iterable[str] | str) -> tuple[str, ...]:
    """The names as a tuple (a single name is one tune); ValueError if empty or any is unknown."""
    if isinstance(names, str):
        names = (names,)
    names = tuple(names)
    if not names:
        raise ValueError(f"name at least one tune; known tunes: {', '.join(TUNE_NAMES)}")
    for name in names:
        get_tune(name)
    return names


def pitch_name(pitch: int) -> str:
    """Scientific pitch name of a MIDI number: 60 -> 'C4', 57 -> 'A3', 70 -> 'A#4'."""
    return f"{PITCH_NAMES[int(pitch) % 12]}{int(pitch) // 12 - 1}"


def note_label(note: Note) -> str:
    """A short label for a note: (64, 1.5) -> 'E4:1.5' (pitch name, then beats)."""
    pitch, beats = note
    return f"{pitch_name(pitch)}:{beats:g}"


class Vocabulary(NamedTuple):
    """Token ids for note events. Token 0 is ``BOUNDARY``; token ``i >= 1`` is ``notes[i - 1]``."""

    notes: tuple[Note, ...]

    @property
    def size(self) -> int:
        """V: the number of tokens, boundary included."""
        return len(self.notes) + 1

    @property
    def labels(self) -> tuple[str, ...]:
        """(V,) labels for charts: '|' for the boundary, then 'E4:1.5'-style note labels."""
        return (BOUNDARY_LABEL,) + tuple(note_label(n) for n in self.notes)

    def encode(self, notes: Sequence[Note]) -> np.ndarray:
        """(n,) int token ids of ``notes``; ValueError for a note not in the vocabulary."""
        index = {note: i + 1 for i, note in enumerate(self.notes)}
        tokens = []
        for pitch, beats in notes:
            token = index.get((int(pitch), float(beats)))
            if token is None:
                raise ValueError(f"note {note_label((pitch, beats))} (pitch {pitch}, {beats:g} beats) "
                                 f"is not in the vocabulary of {len(self.notes)} notes")
            tokens.append(token)
        return np.array(tokens, dtype=np.int64)

    def decode(self, tokens: Iterable[int]) -> list[Note]:
        """The notes of ``tokens`` in order; boundary tokens are skipped.

        ValueError for an id outside 0..V-1.
        """
        notes = []
        for token in tokens:
            token = int(token)
            if not 0 <= token < self.size:
                raise ValueError(f"token {token} is outside the vocabulary 0..{self.size - 1}")
            if token != BOUNDARY:
                notes.append(self.notes[token - 1])
        return notes


def build_vocabulary(names: Iterable[str] = TUNE_NAMES) -> Vocabulary:
    """The vocabulary of all distinct (pitch, beats) notes of the named tunes, sorted by pitch then beats."""
    notes = {(p, float(b)) for name in check_tune_names(names) for p, b in get_tune(name).notes}
    return Vocabulary(tuple(sorted(notes)))


VOCABULARY = build_vocabulary()


def encode_tunes(names: Iterable[str], vocab: Vocabulary = VOCABULARY) -> np.ndarray:
    """One token sequence for the named tunes: ``| tune1 | tune2 | ... |``.

    Returns (n,) int64, starting and ending with ``BOUNDARY``.
    """
    parts = [np.array([BOUNDARY])]
    for name in check_tune_names(names):
        parts += [vocab.encode(get_tune(name).notes), np.array([BOUNDARY])]
    return np.concatenate(parts).astype(np.int64)
