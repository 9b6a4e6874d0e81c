"""Melodies to sound: a mono 16-bit WAV synthesized with numpy.

A note ``(pitch, beats)`` (MIDI number, length in beats; ``pitch=None`` is a
rest) lasts ``beats * 60 / bpm`` seconds and sounds at

    f = 440 Hz * 2 ** ((pitch - 69) / 12)          (69 = A4)

as a band-limited triangle wave, the odd harmonics k = 1, 3, 5, ... with
amplitudes 1/k^2 and alternating signs, stopped below the Nyquist frequency
so that no harmonic aliases. Each note is shaped by an envelope: a short
linear attack from 0, a gentle exponential decay (a soft mallet), and a
linear release back to 0 at the note's end. Starting and ending every note
at 0 is what avoids clicks between notes. The peak level is ``LEVEL`` of
full scale, so the int16 samples never clip.
"""

from __future__ import annotations

import io
import math
import numbers
import wave
from typing import Any, Iterable

import numpy as np

# Limits, enforced here so the server can rely on them.
PITCH_MIN, PITCH_MAX = 21, 108              # MIDI numbers of a piano's keys, A0..C8
BEATS_MAX = 16.0                            # longest note, in beats (> 0)
NOTES_MAX = 2048                            # notes per melody
BPM_MIN, BPM_MAX = 20.0, 400.0              # tempo, beats per minute
SAMPLE_RATE_MIN, SAMPLE_RATE_MAX = 8000, 48000   # samples per second
SECONDS_MAX = 300.0                         # longest melody (26 MB of WAV at 44.1 kHz)

LEVEL = 0.8                                 # peak amplitude, as a share of int16 full scale
ATTACK_S = 0.01                             # attack ramp, seconds
RELEASE_S = 0.03                            # release ramp, seconds (at most half the note)
DECAY_S = 0.8                               # time constant of the decay, seconds
SUSTAIN = 0.35                              # level the decay tends to
HARMONICS_MAX = 8                           # odd harmonics summed at most


def midi_to_hz(pitch: float) -> float:
    """Frequency in Hz of a MIDI pitch (equal temperament, A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


def _check_number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def _check_notes(notes: Iterable[Any]) -> list[tuple[int | None, float]]:
    try:
        notes = list(notes)
    except TypeError:
        raise ValueError(f"notes must be a sequence of (pitch, beats) pairs, got {notes!r}") from None
    if not notes:
        raise ValueError("the melody has no notes")
    if len(notes) > NOTES_MAX:
        raise ValueError(f"the melody has {len(notes)} notes, limit NOTES_MAX={NOTES_MAX}")
    checked = []
    for i, note in enumerate(notes):
        try:
            pitch, beats = note
        except (TypeError, ValueError):
            raise ValueError(f"note {i} must be a (pitch, beats) pair, got {note!r}") from None
        if pitch is not None:
            if isinstance(pitch, bool) or not isinstance(pitch, numbers.Real) \
                    or not math.isfinite(pitch) or pitch != int(pitch) or not PITCH_MIN <= pitch <= PITCH_MAX:
                raise ValueError(f"note {i}: pitch must be None (a rest) or a MIDI number in "
                                 f"[{PITCH_MIN}, {PITCH_MAX}], got {pitch!r}")
            pitch = int(pitch)
        if isinstance(beats, bool) or not isinstance(beats, numbers.Real) or not math.isfinite(beats) \
                or not 0 < beats <= BEATS_MAX:
            raise ValueError(f"note {i}: beats must be in (0, {BEATS_MAX:g}], got {beats!r}")
        checked.append((pitch, float(beats)))
    return checked


def _tone(f: float, n: int, sample_rate: int) -> np.ndarray:
    """(n,) band-limited triangle wave of frequency f, peak at most 1."""
    t = np.arange(n) / sample_rate
    wave_ = np.zeros(n)
    total = 0.0
    for i in range(HARMONICS_MAX):
        k = 2 * i + 1
        if k * f >= sample_rate / 2:
            break
        amp = (-1) ** i / k**2
        wave_ += amp * np.sin(2 * np.pi * k * f * t)
        total += abs(amp)
    return wave_ / total


def _envelope(n: int, sample_rate: int) -> np.ndarray:
    """(n,) attack, decay and release, 0 at both ends, at most 1."""
    t = np.arange(n) / sample_rate
    env = SUSTAIN + (1 - SUSTAIN) * np.exp(-t / DECAY_S)
    attack = max(1, min(int(ATTACK_S * sample_rate), n // 2))
    release = max(1, min(int(RELEASE_S * sample_rate), n // 2))
    env[:attack] *= np.arange(attack) / attack
    env[n - release:] *= np.arange(release, 0, -1) / release - 1 / release
    return env


def melody_to_samples(notes: Iterable[tuple[int | None, float]], bpm: float = 120,
                      sample_rate: int = 22050) -> np.ndarray:
    """The melody as (n,) float samples in [-LEVEL, LEVEL].

    notes: (pitch, beats) pairs, pitch a MIDI number in [PITCH_MIN, PITCH_MAX]
    or None for a rest, beats in (0, BEATS_MAX]. Note i starts at sample
    round(start_beat_i * 60 / bpm * sample_rate), so rounding never drifts:
    n = round(total_beats * 60 / bpm * sample_rate).
    ValueError for notes, bpm or sample_rate outside their limits, or a melody
    longer than SECONDS_MAX.
    """
    notes = _check_notes(notes)
    bpm = _check_number("bpm", bpm, BPM_MIN, BPM_MAX)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Integral) \
            or not SAMPLE_RATE_MIN <= sample_rate <= SAMPLE_RATE_MAX:
        raise ValueError(f"sample_rate must be an integer in [{SAMPLE_RATE_MIN}, {SAMPLE_RATE_MAX}], "
                         f"got {sample_rate!r}")
    sample_rate = int(sample_rate)
    seconds_per_beat = 60.0 / bpm
    total_s = sum(b for _, b in notes) * seconds_per_beat
    if total_s > SECONDS_MAX:
        raise ValueError(f"the melody lasts {total_s:.1f} s at {bpm:g} bpm, limit SECONDS_MAX={SECONDS_MAX:g} s")

    starts = np.round(np.concatenate([[0.0], np.cumsum([b for _, b in notes])])
                      * seconds_per_beat * sample_rate).astype(int)
    out = np.zeros(starts[-1])
    for (pitch, _), a, b in zip(notes, starts[:-1], starts[1:]):
        if pitch is not None and b > a:
            out[a:b] = _tone(midi_to_hz(pitch), b - a, sample_rate) * _envelope(b - a, sample_rate)
    return LEVEL * out


def melody_to_wav_bytes(notes: Iterable[tuple[int | None, float]], bpm: float = 120,
                        sample_rate: int = 22050) -> bytes:
    """The melody as the bytes of a mono 16-bit PCM WAV file (see ``melody_to_samples``)."""
    samples = melody_to_samples(notes, bpm, sample_rate)
    pcm = np.clip(np.round(samples * 32767), -32767, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return buffer.getvalue()
