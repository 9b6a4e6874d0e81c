"""Data sets for the lessons, all shipped with the code (no downloads).

- The song-preference data of the perceptron lesson: four songs described by
  three yes/no features (modern, sad, piano) and whether the listener likes
  them. ``songs_unlearnable()`` is the seed's puzzle that no single plane can
  split; ``songs_learnable()`` is the "better training data" that one can.
- 2-D toy sets with noise and a seed (``make_2d``): two Gaussians, circles,
  XOR and spirals with 2 or 3 arms, plus ``train_test_split``.
- Small real tables read from CSV files in ``data/``: Iris, the Wisconsin
  breast cancer (diagnostic) data and 1,797 handwritten digits as 8 x 8
  images (see ``data/SOURCES.md``).

Every loader returns a ``Table(X, y, feature_names, class_names)``, a named
tuple that also unpacks as ``X, y, feature_names, class_names``.
"""

from __future__ import annotations

import csv
import gzip
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

N_MAX = 20_000          # most points make_2d will generate
NOISE_MAX = 5.0         # largest noise level accepted by make_2d
TEST_SHARE_MAX = 0.9    # largest share of points train_test_split holds out

DATA_DIR = Path(__file__).resolve().parent / "data"


class Table(NamedTuple):
    """A labelled data set.

    X: (n, d) float, y: (n,) int class labels in 0..len(class_names)-1,
    feature_names: d strings naming the columns of X, class_names: the labels' names.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]


# --------------------------------------------------------------------------
# Songs (perceptron lesson)
# --------------------------------------------------------------------------

SONG_FEATURES = ("modern", "sad", "piano")
SONG_CLASSES = ("dislikes", "likes")

# The seed's four songs. Liking follows "modern XOR sad" (every song has
# piano), so liked and disliked songs sit on opposite corners of a square and
# no plane through feature space separates them: a perceptron cannot fit it.
SONGS_UNLEARNABLE = (
    # (title,          modern, sad, piano, likes)
    ("Old ballad",          0,   1,     1,     1),
    ("New pop hit",         1,   0,     1,     1),
    ("Old dance tune",      0,   0,     1,     0),
    ("New sad anthem",      1,   1,     1,     0),
)

# Better data: the listener likes sad piano songs. "sad + piano >= 2" is a
# plane, so a perceptron finds it.
SONGS_LEARNABLE = (
    ("Old ballad",          0,   1,     1,     1),
    ("New piano lament",    1,   1,     1,     1),
    ("Piano party",         1,   0,     1,     0),
    ("Sad guitar song",     0,   1,     0,     0),
)


def _song_table(rows) -> Table:
    X = np.array([r[1:4] for r in rows], dtype=float)
    y = np.array([r[4] for r in rows], dtype=int)
    return Table(X, y, SONG_FEATURES, SONG_CLASSES)


def songs_unlearnable() -> Table:
    """The seed's 4 songs that no perceptron can fit.

    Returns Table with X: (4, 3) in {0, 1} over (modern, sad, piano),
    y: (4,) int, 1 = likes. Titles: ``song_titles(SONGS_UNLEARNABLE)``.
    """
    return _song_table(SONGS_UNLEARNABLE)


def songs_learnable() -> Table:
    """4 songs that a perceptron can fit (liked exactly when sad and piano).

    Returns Table with X: (4, 3) in {0, 1} over (modern, sad, piano),
    y: (4,) int, 1 = likes. Titles: ``song_titles(SONGS_LEARNABLE)``.
    """
    return _song_table(SONGS_LEARNABLE)


def song_titles(rows=SONGS_UNLEARNABLE) -> tuple[str, ...]:
    """Titles of the songs in one of the song tables, in row order."""
    return tuple(r[0] for r in rows)


# --------------------------------------------------------------------------
# 2-D toy sets
# --------------------------------------------------------------------------


class Spec2D(NamedTuple):
    """Registry entry of a 2-D toy set (for UI selectors)."""

    name: str
    label: str
    n_classes: int
    noise_default: float
    noise_help: str


DATASETS_2D: dict[str, Spec2D] = {
    s.name: s
    for s in (
        Spec2D("gaussians", "Two Gaussians", 2, 0.5,
               "standard deviation of each blob around (±1, ±1)"),
        Spec2D("circles", "Circles", 2, 0.1,
               "standard deviation added to points on rings of radius 1 and 0.5"),
        Spec2D("xor", "XOR", 2, 0.1,
               "standard deviation added to points of the square [-1, 1]²"),
        Spec2D("spiral2", "Spiral, 2 arms", 2, 0.2,
               "standard deviation of each point's angle, in radians"),
        Spec2D("spiral3", "Spiral, 3 arms", 3, 0.2,
               "standard deviation of each point's angle, in radians"),
    )
}

LIMITS_2D = {"n": (1, N_MAX), "noise": (0.0, NOISE_MAX), "test_share": (0.0, TEST_SHARE_MAX)}

#: A visitor's own points (see own_2d): given, not generated, so not in DATASETS_2D.
OWN_2D, OWN_2D_LABEL = "own", "Your points"


def own_2d(rows) -> tuple[np.ndarray, np.ndarray, int]:
    """A visitor's points as a data set: rows ((x, y, label), ...) with finite
    coordinates and whole labels 0, 1, ... Returns X (n, 2) float, y (n,) int
    and the classes, max label + 1 (at least 2). ValueError for anything else."""
    table = np.asarray(rows, dtype=float).reshape(-1, 3) if len(rows) else np.zeros((0, 3))
    X, labels = table[:, :2], table[:, 2]
    if not (np.isfinite(table).all() and (labels >= 0).all() and (labels == np.round(labels)).all()):
        raise ValueError("own points need finite coordinates and whole labels from 0")
    y = labels.astype(int)
    return X, y, max(2, int(y.max(initial=0)) + 1)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ValueError(f"n must be an integer in 1..{N_MAX} (N_MAX), got {n!r}")
    if not 1 <= n <= N_MAX:
        raise ValueError(f"n must be in 1..{N_MAX} (N_MAX), got {n}")
    return int(n)


def _check_noise(noise) -> float:
    try:
        value = float(noise)
    except (TypeError, ValueError):
        raise ValueError(f"noise must be a number in 0..{NOISE_MAX} (NOISE_MAX), got {noise!r}") from None
    if not np.isfinite(value) or not 0.0 <= value <= NOISE_MAX:
        raise ValueError(f"noise must be finite and in 0..{NOISE_MAX} (NOISE_MAX), got {noise!r}")
    return value


def _class_sizes(n: int, k: int) -> list[int]:
    """Split n points over k classes as evenly as possible (first classes get the rest)."""
    return [n // k + (1 if j < n % k else 0) for j in range(k)]


def _gaussians(n, noise, rng):
    sizes = _class_sizes(n, 2)
    centers = np.array([[-1.0, -1.0], [1.0, 1.0]])
    y = np.repeat(np.arange(2), sizes)
    X = centers[y] + noise * rng.standard_normal((n, 2))
    return X, y


def _circles(n, noise, rng):
    # class 0 on the outer ring (radius 1), class 1 on the inner ring (radius 0.5)
    sizes = _class_sizes(n, 2)
    y = np.repeat(np.arange(2), sizes)
    radius = np.where(y == 0, 1.0, 0.5)
    angle = rng.uniform(0.0, 2 * np.pi, n)
    X = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    return X + noise * rng.standard_normal((n, 2)), y


def _xor(n, noise, rng):
    # label from the clean position: class 1 where x and y share a sign
    X = rng.uniform(-1.0, 1.0, (n, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    return X + noise * rng.standard_normal((n, 2)), y


def _spiral(n, noise, rng, k):
    """After CS231n: along arm j the radius grows to 1 while the angle sweeps
    4 radians, with Gaussian noise on the angle; arms start evenly spaced
    around the circle. The radius starts just above 0 (not at 0 as in CS231n)
    so that no two arms share the centre point with different labels."""
    Xs, ys = [], []
    for j, size in enumerate(_class_sizes(n, k)):
        r = np.linspace(0.0, 1.0, size + 1)[1:]
        start = 2 * np.pi * j / k
        t = np.linspace(start, start + 4.0, size) + noise * rng.standard_normal(size)
        Xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(size, j))
    return np.concatenate(Xs), np.concatenate(ys)


_MAKERS = {
    "gaussians": _gaussians,
    "circles": _circles,
    "xor": _xor,
    "spiral2": lambda n, noise, rng: _spiral(n, noise, rng, 2),
    "spiral3": lambda n, noise, rng: _spiral(n, noise, rng, 3),
}


def make_2d(name: str, n: int = 300, noise: float | None = None, seed: int = 0):
    """Generate a 2-D toy classification set.

    name: a key of DATASETS_2D; n: total points, 1..N_MAX, split evenly over
    the classes; noise: 0..NOISE_MAX, meaning per set in DATASETS_2D[name]
    (None = that set's default); seed: non-negative int, same seed same data.
    Returns X: (n, 2) float (coordinates roughly within [-1.5, 1.5] at
    default noise), y: (n,) int class labels, rows shuffled.
    """
    if name not in DATASETS_2D:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(DATASETS_2D)}")
    n = _check_n(n)
    noise = DATASETS_2D[name].noise_default if noise is None else _check_noise(noise)
    rng = np.random.default_rng(_check_seed(seed))
    X, y = _MAKERS[name](n, noise, rng)
    order = rng.permutation(n)
    return X[order].astype(float), y[order].astype(int)


def train_test_split(X, y, test_share: float = 0.25, seed: int = 0):
    """Shuffle and split into a training and a test part.

    X: (n, ...) array, y: (n,) array; test_share: 0..TEST_SHARE_MAX, the test
    part has floor(test_share * n) rows (so the training part is never empty).
    Returns (X_train, X_test, y_train, y_test).
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim < 1 or len(X) == 0:
        raise ValueError("X must have at least one row")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows, got {len(X)} and {len(y)}")
    try:
        share = float(test_share)
    except (TypeError, ValueError):
        raise ValueError(f"test_share must be a number in 0..{TEST_SHARE_MAX} (TEST_SHARE_MAX)") from None
    if not np.isfinite(share) or not 0.0 <= share <= TEST_SHARE_MAX:
        raise ValueError(f"test_share must be in 0..{TEST_SHARE_MAX} (TEST_SHARE_MAX), got {test_share!r}")
    rng = np.random.default_rng(_check_seed(seed))
    order = rng.permutation(len(X))
    n_test = int(np.floor(share * len(X)))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


def standardize(X, mean=None, std=None):
    """Shift and scale each column to mean 0 and standard deviation 1.

    X: (n, d) float. With mean and std given ((d,) each, e.g. from the
    training part), apply those instead of computing them. Constant columns
    keep std 1 so they stay finite. Returns (Z (n, d), mean (d,), std (d,)).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty (n, d) array, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or inf")
    if mean is None:
        mean = X.mean(axis=0)
    if std is None:
        std = X.std(axis=0)
        std = np.where(std > 0, std, 1.0)
    mean = np.asarray(mean, dtype=float)
    std = np.asarray(std, dtype=float)
    if mean.shape != (X.shape[1],) or std.shape != (X.shape[1],):
        raise ValueError(f"mean and std must have shape ({X.shape[1]},)")
    if np.any(std <= 0) or not np.all(np.isfinite(std)):
        raise ValueError("std must be finite and positive")
    return (X - mean) / std, mean, std


# --------------------------------------------------------------------------
# Real tables shipped as CSV (see data/SOURCES.md)
# --------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _read_csv(filename: str, label_column: str, class_names: tuple[str, ...]):
    """Parse a CSV whose header names the features and whose label column holds class names."""
    with open(DATA_DIR / filename, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    label_at = header.index(label_column)
    feature_names = tuple(h for i, h in enumerate(header) if i != label_at)
    X = np.array([[float(v) for i, v in enumerate(r) if i != label_at] for r in rows])
    index = {c: i for i, c in enumerate(class_names)}
    y = np.array([index[r[label_at]] for r in rows], dtype=int)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y, feature_names


IRIS_CLASSES = ("setosa", "versicolor", "virginica")
BREAST_CANCER_CLASSES = ("malignant", "benign")


def load_iris() -> Table:
    """Fisher's Iris data.

    Returns Table with X: (150, 4) float in cm (sepal length, sepal width,
    petal length, petal width), y: (150,) int in 0..2, class_names IRIS_CLASSES.
    """
    X, y, names = _read_csv("iris.csv", "species", IRIS_CLASSES)
    return Table(X.copy(), y.copy(), names, IRIS_CLASSES)


def load_breast_cancer() -> Table:
    """Wisconsin breast cancer (diagnostic) data.

    Returns Table with X: (569, 30) float (mean, standard error and worst of
    ten cell-nucleus measurements), y: (569,) int, 0 = malignant, 1 = benign.
    """
    X, y, names = _read_csv("breast_cancer.csv", "diagnosis", BREAST_CANCER_CLASSES)
    return Table(X.copy(), y.copy(), names, BREAST_CANCER_CLASSES)


# --------------------------------------------------------------------------
# Handwritten digits, 8 x 8 images (see data/SOURCES.md)
# --------------------------------------------------------------------------

DIGITS_FILE = "digits.csv.gz"
DIGITS_SHAPE = (8, 8)        # rows, columns of an image
DIGITS_LEVELS = 16           # a pixel counts the set dots of a 4 x 4 block: 0..16
DIGITS_CLASSES = tuple(str(d) for d in range(10))


@lru_cache(maxsize=None)
def _read_digits(path: Path):
    """Parse the digits file: rows of 64 whole pixel values 0..16, then the digit 0..9.

    Raises ValueError naming the first bad row (wrong length, not a whole number,
    out of range), or for a file without rows.
    """
    pixels = DIGITS_SHAPE[0] * DIGITS_SHAPE[1]
    with gzip.open(path, "rt", newline="") as f:
        rows = list(csv.reader(f))
    table = np.zeros((len(rows), pixels + 1), dtype=np.int64)
    for k, row in enumerate(rows):
        if len(row) != pixels + 1:
            raise ValueError(f"{path.name} row {k + 1}: expected {pixels + 1} values, got {len(row)}")
        try:
            values = [int(v) for v in row]
        except ValueError:
            raise ValueError(f"{path.name} row {k + 1}: every value must be a whole number") from None
        if not all(0 <= v <= DIGITS_LEVELS for v in values[:-1]) or not 0 <= values[-1] < len(DIGITS_CLASSES):
            raise ValueError(f"{path.name} row {k + 1}: pixels must be 0..{DIGITS_LEVELS} and the digit 0..9")
        table[k] = values
    if not rows:
        raise ValueError(f"{path.name} holds no images")
    X = table[:, :pixels] / DIGITS_LEVELS
    y = table[:, pixels].copy()
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def digit_pixel_names() -> tuple[str, ...]:
    """Names of the 64 pixels in the order of the columns of X: "pixel r,c", row r and
    column c counted from 1 at the top left, row by row."""
    rows, columns = DIGITS_SHAPE
    return tuple(f"pixel {r},{c}" for r in range(1, rows + 1) for c in range(1, columns + 1))


def load_digits() -> Table:
    """Handwritten digits as 8 x 8 images (UCI optical digits, its test part).

    Returns Table with X: (1797, 64) float in [0, 1], each pixel's count of set
    dots (0..16) divided by 16, row by row from the top left (an image is
    X[k].reshape(8, 8)); y: (1797,) int, the digit 0..9; feature_names from
    digit_pixel_names(); class_names DIGITS_CLASSES ("0".."9").
    """
    X, y = _read_digits(DATA_DIR / DIGITS_FILE)
    return Table(X.copy(), y.copy(), digit_pixel_names(), DIGITS_CLASSES)
