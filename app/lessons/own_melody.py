"""A visitor's own melody for the RNN lesson: read, checked, encoded, trained on and continued.

The melody is written in the note text the lesson already uses (`melodies.note_label`):
``C4:1 E4:0.5 G4:1.5``, one ``pitch:beats`` per note, separated by spaces,
commas or new lines. The network reads and writes one token per (pitch, beats)
pair, so a note must be one of the lesson's tokens: a white key from G3 to A4,
for a length the tunes give that key. Every refusal names the note and what is
wrong with it, and nothing is half-read: a melody is taken whole or not at all.

Pure functions over app.ml: settings in, arrays out.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np

from app.ml import melodies, optim, rnn

VOCAB = melodies.VOCABULARY
NOTES_MIN, NOTES_MAX = 2, 64               # notes of a visitor's melody
TEXT_MAX = 1_000                           # characters of the raw text (spaces included)
DURATIONS = tuple(sorted({beats for _, beats in VOCAB.notes}))           # beats: 0.5 ... 4
PITCHES = tuple(sorted({pitch for pitch, _ in VOCAB.notes}))             # MIDI numbers, G3 ... A4
#: pitch -> the lengths (beats) the lesson's tokens give it.
LENGTHS = {p: tuple(b for q, b in VOCAB.notes if q == p) for p in PITCHES}
LOWEST, HIGHEST = melodies.pitch_name(PITCHES[0]), melodies.pitch_name(PITCHES[-1])
EXAMPLE = "C4:1 E4:0.5 G4:1.5"

_NOTE = re.compile(r"([A-Ga-g])([#b]?)(-?\d{1,2}):(\S*)")
_SEMITONE = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SEPARATORS = re.compile(r"[\s,;]+")


class MelodyError(ValueError):
    """A melody refused, with the reason in words (naming the note at fault)."""


def _beats_text(beats: float) -> str:
    return f"{beats:g} beat" + ("" if beats == 1 else "s")


def _choices(values: Sequence[float]) -> str:
    words = [f"{v:g}" for v in values]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def parse_note(word: str, index: int) -> melodies.Note:
    """One note of the text, e.g. 'E4:0.5' -> (64, 0.5); index: its 1-based place, for messages.

    Raises MelodyError naming the note and what is wrong: its spelling, a pitch
    outside the lesson's keys, a length the lesson does not use, or a pair the
    network has no token for.
    """
    shown = f"note {index}, “{word[:12]}”"
    match = _NOTE.fullmatch(word)
    if not match:
        raise MelodyError(f"{shown}: write a note as pitch:beats, for example {EXAMPLE.split()[0]}")
    letter, accidental, octave, beats_text = match.groups()
    pitch = 12 * (int(octave) + 1) + _SEMITONE[letter.upper()] + {"#": 1, "b": -1, "": 0}[accidental]
    name = f"{letter.upper()}{accidental}{octave}"
    if pitch not in LENGTHS:
        where = "below" if pitch < PITCHES[0] else "above" if pitch > PITCHES[-1] else "not among"
        raise MelodyError(f"{shown}: {name} is {where} the lesson's notes (the white keys {LOWEST} to {HIGHEST})")
    try:
        beats = float(beats_text)
    except ValueError:
        raise MelodyError(f"{shown}: “{beats_text[:8]}” is not a length in beats "
                          f"(one of {_choices(DURATIONS)})") from None
    if not math.isfinite(beats) or beats not in DURATIONS:
        raise MelodyError(f"{shown}: {beats_text[:8]} beats is not a length the lesson uses "
                          f"(one of {_choices(DURATIONS)})")
    if beats not in LENGTHS[pitch]:
        raise MelodyError(f"{shown}: the network has no token for {name} held {_beats_text(beats)}; "
                          f"the tunes hold {name} for {_choices(LENGTHS[pitch])} beats")
    return pitch, beats


def parse_melody(text) -> tuple[melodies.Note, ...]:
    """The notes of a melody text, in order: NOTES_MIN..NOTES_MAX (pitch, beats) pairs.

    Raises MelodyError (a ValueError) for text that is not a string, too long,
    with too few or too many notes, or with any bad note (the first is named).
    """
    if not isinstance(text, str):
        raise MelodyError("a melody is text such as " + EXAMPLE)
    if len(text) > TEXT_MAX:
        raise MelodyError(f"the melody text has {len(text):,} characters; at most {TEXT_MAX:,}")
    words = [w for w in _SEPARATORS.split(text.strip()) if w]
    if len(words) > NOTES_MAX:
        raise MelodyError(f"the melody has {len(words)} notes; at most {NOTES_MAX}")
    notes = tuple(parse_note(word, i + 1) for i, word in enumerate(words))
    if len(notes) < NOTES_MIN:
        raise MelodyError(f"the melody has {len(notes)} note{'' if len(notes) == 1 else 's'}; "
                          f"write at least {NOTES_MIN}, for example {EXAMPLE}")
    return notes


def melody_text(notes: Sequence[melodies.Note]) -> str:
    """Notes in the lesson's note text: [(60, 1.0), (64, 0.5)] -> 'C4:1 E4:0.5'."""
    return " ".join(melodies.note_label(note) for note in notes)


def check_melody(text) -> str:
    """The melody text as the link keeps it (one space between notes), "" for no melody.

    Raises MelodyError as `parse_melody`.
    """
    if isinstance(text, str) and not text.strip():
        return ""
    return melody_text(parse_melody(text))


def melody_tokens(text: str) -> np.ndarray:
    """| notes: (n + 1,) int64 token ids of a melody text, the start marker first.

    No end marker: the melody is an opening the network learns to go on from,
    not a whole tune it learns to stop after.
    """
    return np.concatenate([[melodies.BOUNDARY], VOCAB.encode(parse_melody(text))]).astype(np.int64)


# -- training on the tunes and the melody, and continuing it ---------------------------------


def train_with_melody(tunes: Sequence[str], melody: str, hidden: int, unroll: int | None, lr: float,
                      optimizer: str, steps: int, seed: int, clip: float | None, held_out: Sequence[str] = (),
                      eval_every: int = 10) -> rnn.MelodyRun:
    """`rnn.train_melodies` with the visitor's melody as one more row of the batch
    (`melody_tokens`: its opening marker and notes, no end marker).

    tunes / held_out: names from `melodies.TUNE_NAMES`; melody: note text
    (`parse_melody`). The loss is the mean over every real target of the
    batch, so the melody weighs as much per note as a tune. Divergence ends
    the run as in `rnn.train_batch` (diverged_at counted from 1, a message).
    """
    tunes = melodies.check_tune_names(tunes)
    if set(tunes) & set(held_out):
        raise ValueError("tunes cannot be both trained on and held out")
    model = rnn.RNN(VOCAB.size, hidden, clip, unroll)
    X, y = rnn.pad_sequences([melodies.encode_tunes([name]) for name in tunes] + [melody_tokens(melody)])
    held = rnn.tune_batch(held_out) if held_out else None
    return rnn.train_batch(model, X, y, held, optim.make(optimizer, lr=lr), steps, seed, eval_every)


def melody_learned(params: dict, melody: str, prime: int = 3) -> bool:
    """Whether the network writes out the rest of the melody, greedily, after its first `prime` notes."""
    tokens = melody_tokens(melody)
    return rnn.next_token_accuracy(params, tokens, skip=min(prime, len(tokens) - 2)) == 1.0


def continuation(params: dict, tunes: Sequence[str], melody: str, temperature: float, draw: int,
                 limit: int, copy_run: int) -> dict:
    """The visitor's melody and what the network writes after it.

    The network reads | melody from h = 0, then draws at most `limit` notes at
    `temperature` with the dice `draw`. Returns tokens (n,) the melody's notes then
    the drawn ones, given: how many of them are the visitor's, dists (n, V): row k the
    tempered distribution the token after tokens[k] is drawn from (for k < given - 1,
    the network's guess of the visitor's next note), stopped: whether the network
    ended the melody itself, sources (n,): index into `tunes` of the tune a note was
    copied from, len(tunes) for the visitor's melody, -1 for none.
    """
    from app.lessons.rnn import copied_from    # the RNN lesson's own measure of copying

    given = melody_tokens(melody)[1:]
    drawn = rnn.sample(params, np.concatenate([[melodies.BOUNDARY], given]), limit, temperature, draw,
                       stop_token=melodies.BOUNDARY)
    tokens = np.concatenate([given, drawn]).astype(int)
    logits = rnn.forward(params, np.concatenate([[melodies.BOUNDARY], tokens])).logits[1:]
    sources = [list(melodies.encode_tunes([name])[1:-1]) for name in tunes] + [list(given)]
    return {"tokens": tokens, "given": len(given), "stopped": len(drawn) < limit,
            "dists": rnn.probabilities_with_temperature(logits, temperature),
            "sources": np.array(copied_from(tokens, sources, copy_run), dtype=int)}


__all__ = ["MelodyError", "parse_melody", "check_melody", "melody_text", "melody_tokens", "train_with_melody",
           "continuation", "melody_learned", "PITCHES", "DURATIONS", "LENGTHS", "NOTES_MAX"]
