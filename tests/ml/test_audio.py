"""WAV synthesis: a valid file, the right length and pitch, no clipping, no clicks."""

import io
import math
import wave

import numpy as np
import pytest

from app.ml import audio, melodies


def read_wav(data):
    with wave.open(io.BytesIO(data), "rb") as w:
        params = w.getparams()
        frames = w.readframes(w.getnframes())
    return params, np.frombuffer(frames, dtype="<i2").astype(int)


def test_wav_header_rate_and_length():
    notes = melodies.get_tune("hot_cross_buns").notes      # 16 beats
    data = audio.melody_to_wav_bytes(notes, bpm=120, sample_rate=22050)
    assert data[:4] == b"RIFF" and data[8:16] == b"WAVEfmt "
    assert int.from_bytes(data[4:8], "little") == len(data) - 8
    params, x = read_wav(data)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 22050)
    assert params.comptype == "NONE"
    assert params.nframes == len(x) == 16 * 0.5 * 22050     # 16 beats of half a second
    assert len(data) == 44 + 2 * params.nframes


def test_no_clipping_and_clearly_audible():
    notes = [(21, 1), (108, 1), (60, 4), (69, 0.5)]
    _, x = read_wav(audio.melody_to_wav_bytes(notes, sample_rate=44100))
    assert np.abs(x).max() <= round(audio.LEVEL * 32767)
    assert np.abs(x).max() > 0.5 * audio.LEVEL * 32767


@pytest.mark.parametrize("pitch, hz", [(69, 440.0), (60, 261.63), (81, 880.0)])
def test_a_note_sounds_at_its_frequency(pitch, hz):
    sr = 22050
    x = audio.melody_to_samples([(pitch, 2)], bpm=120, sample_rate=sr)   # 1 second
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    peak_hz = np.argmax(spectrum) * sr / len(x)
    assert abs(peak_hz - hz) <= 1.0
    assert math.isclose(audio.midi_to_hz(pitch), hz, abs_tol=0.01)


def test_notes_start_and_end_at_silence_so_there_are_no_clicks():
    sr, bpm = 22050, 120
    notes = [(72, 1), (60, 0.5), (79, 1.5), (64, 1)]
    x = audio.melody_to_samples(notes, bpm=bpm, sample_rate=sr)
    starts = np.round(np.cumsum([0] + [b for _, b in notes]) * 60 / bpm * sr).astype(int)
    for a in starts[:-1]:
        assert x[a] == 0.0
    for b in starts[1:]:
        assert x[b - 1] == 0.0
    # a jump of more than a fifth of full scale between samples would be audible as a click
    assert np.abs(np.diff(x)).max() < 0.2


def test_rest_is_silent_and_tempo_sets_the_length():
    x = audio.melody_to_samples([(60, 1), (None, 1), (64, 1)], bpm=60, sample_rate=8000)
    assert len(x) == 3 * 8000
    assert np.all(x[8000:16000] == 0.0)
    assert np.abs(x[:8000]).max() > 0.1 and np.abs(x[16000:]).max() > 0.1
    assert len(audio.melody_to_samples([(60, 1)], bpm=240, sample_rate=8000)) == 2000


def test_start_samples_never_drift():
    # 1/3-beat notes do not fit a whole number of samples; starts are rounded, not accumulated
    x = audio.melody_to_samples([(60, 1 / 3)] * 300, bpm=120, sample_rate=22050)
    assert len(x) == round(100 * 0.5 * 22050)


def test_same_melody_same_bytes():
    notes = melodies.get_tune("mary").notes
    assert audio.melody_to_wav_bytes(notes) == audio.melody_to_wav_bytes(list(notes))


@pytest.mark.parametrize("notes, match", [
    ([], "no notes"),
    ([(200, 1)], r"pitch .*\[21, 108\]"),
    ([(60.5, 1)], "pitch"),
    ([(float("nan"), 1)], "pitch"),
    ([(60, float("nan"))], r"beats must be in \(0, 16\]"),
    ([(60, 0)], r"beats must be in \(0, 16\]"),
    ([(60, -1)], "beats"),
    ([(60, 17)], r"beats must be in \(0, 16\]"),
    ([(60, float("inf"))], "beats"),
    ([60, 62], r"\(pitch, beats\) pair"),
    ([(True, 1)], "pitch"),
    ([(60, 1)] * (audio.NOTES_MAX + 1), "NOTES_MAX=2048"),
    ([(60, 16)] * 80, r"lasts 640\.0 s .* SECONDS_MAX=300"),
    (None, "sequence of"),
])
def test_bad_notes_are_refused_with_the_limit(notes, match):
    with pytest.raises(ValueError, match=match):
        audio.melody_to_wav_bytes(notes)


@pytest.mark.parametrize("kwargs, match", [
    ({"bpm": 0}, r"bpm must be a number in \[20, 400\]"),
    ({"bpm": float("inf")}, "bpm"),
    ({"bpm": 1e9}, "bpm"),
    ({"sample_rate": 10**6}, r"sample_rate must be an integer in \[8000, 48000\]"),
    ({"sample_rate": 22050.5}, "sample_rate"),
])
def test_bad_tempo_or_rate_is_refused_with_the_limit(kwargs, match):
    with pytest.raises(ValueError, match=match):
        audio.melody_to_wav_bytes([(60, 1)], **kwargs)
