"""The perceptron lesson's experiments: Ben's songs as link text, and training runs."""

from __future__ import annotations

import numpy as np

from app.ml import optim, train
from app.ml.datasets import SONGS_LEARNABLE, SONGS_UNLEARNABLE
from app.ml.perceptron import Perceptron, check_songs, sigmoid


def encode_songs(rows) -> str:
    """Songs as link text: one group of four 0/1 digits (modern, sad, piano, like) per song."""
    return ".".join("".join(str(int(v)) for v in row) for row in rows)


def decode_songs(text: str) -> tuple[np.ndarray, np.ndarray]:
    """X (n, 3), y (n,) from `encode_songs` text; ValueError for anything else."""
    groups = text.split(".")
    if not all(len(group) == 4 and set(group) <= {"0", "1"} for group in groups):
        raise ValueError("each song is four digits 0 or 1: modern, sad, piano, like")
    table = np.array([[int(c) for c in group] for group in groups], dtype=float)
    return table[:, :3], table[:, 3]


#: The lesson's two song sets (link text -> song titles).
PRESETS = {
    encode_songs([r[1:] for r in SONGS_UNLEARNABLE]): [r[0] for r in SONGS_UNLEARNABLE],
    encode_songs([r[1:] for r in SONGS_LEARNABLE]): [r[0] for r in SONGS_LEARNABLE],
}
UNLEARNABLE, LEARNABLE = list(PRESETS)


def song_titles(songs: str) -> list[str]:
    return PRESETS.get(songs) or [f"Song {i + 1}" for i in range(songs.count(".") + 1)]


def training_run(songs: str, optimizer: str, lr: float, epochs: int, seed: int) -> dict:
    """One training run on `songs` (see encode_songs), with every epoch's numbers.

    Returns w (T+1, 3), b (T+1,), probs (T+1, n), loss (T+1,) full-data
    cross-entropy in nats, grads_w (T, 3), grads_b (T,), message (why it
    stopped early, or ""). Raises ValueError for songs the model refuses.
    """
    X, y = check_songs(*decode_songs(songs))
    model = Perceptron(n_features=3)
    history = train.run(model, optim.make(optimizer, lr=lr), (X, y), epochs, seed)
    w, b = history.params["w"], history.params["b"]
    z = w @ X.T + b[:, None]
    loss = np.mean(np.logaddexp(0.0, z) - y * z, axis=1)
    return {"w": w, "b": b, "probs": sigmoid(z), "loss": loss, "grads_w": history.grads["w"],
            "grads_b": history.grads["b"], "message": history.message}


def predict(run: dict, features: np.ndarray) -> float:
    """p(like) of a song with `features` (3,) 0/1 under the run's final weights."""
    return float(sigmoid(features @ run["w"][-1] + run["b"][-1]))


def new_songs(songs: str) -> np.ndarray:
    """(k, 3) the feature combinations (corners of the cube) that no song of `songs` has."""
    X, _ = decode_songs(songs)
    corners = np.array([[(i >> k) & 1 for k in (2, 1, 0)] for i in range(8)], dtype=float)
    return np.array([c for c in corners if not (X == c).all(axis=1).any()]).reshape(-1, 3)


def is_best_new_song(run: dict, songs: str, features: np.ndarray) -> bool:
    """Whether `features` (3,) is a song not in `songs` that the run rates highest among them."""
    unseen = new_songs(songs)
    if not (unseen == features).all(axis=1).any():
        return False
    best = max(predict(run, x) for x in unseen)
    return predict(run, features) >= best - 1e-12
