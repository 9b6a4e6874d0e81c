"""Tests of app/ml/datasets.py: songs, 2-D toy sets, splits, shipped tables."""

import gzip

import numpy as np
import pytest
from scipy.optimize import linprog

from app.ml import datasets
from app.ml.datasets import (DATASETS_2D, load_breast_cancer, load_iris, make_2d, songs_learnable,
                             songs_unlearnable, standardize, train_test_split)


def linearly_separable(X, y) -> bool:
    """Is there (w, b) with (2y - 1)(w . x + b) >= 1 for every row? A linear program decides it."""
    s = 2.0 * np.asarray(y) - 1.0
    A = -s[:, None] * np.c_[X, np.ones(len(X))]
    result = linprog(np.zeros(X.shape[1] + 1), A_ub=A, b_ub=-np.ones(len(X)),
                     bounds=[(None, None)] * (X.shape[1] + 1), method="highs")
    return result.status == 0


# --------------------------------------------------------------------------
# Songs
# --------------------------------------------------------------------------


@pytest.mark.parametrize("loader", [songs_unlearnable, songs_learnable])
def test_song_tables_have_the_seed_shape(loader):
    X, y, features, classes = loader()
    assert X.shape == (4, 3) and y.shape == (4,)
    assert set(np.unique(X)) <= {0.0, 1.0}
    assert features == ("modern", "sad", "piano")
    assert sorted(y.tolist()) == [0, 0, 1, 1]           # likes two songs, dislikes two
    assert len(classes) == 2
    assert len(set(map(tuple, X))) == 4                  # four different songs


def test_no_perceptron_fits_the_unlearnable_songs():
    X, y, _, _ = songs_unlearnable()
    assert not linearly_separable(X, y)


def test_a_perceptron_fits_the_learnable_songs():
    X, y, _, _ = songs_learnable()
    assert linearly_separable(X, y)
    # the rule it describes: likes exactly the sad piano songs
    np.testing.assert_array_equal(y, (X[:, 1] + X[:, 2] >= 2).astype(int))


def test_song_rows_match_the_tables_and_titles():
    for rows, loader in ((datasets.SONGS_UNLEARNABLE, songs_unlearnable), (datasets.SONGS_LEARNABLE, songs_learnable)):
        X, y, _, _ = loader()
        np.testing.assert_array_equal(X, [r[1:4] for r in rows])
        assert len(datasets.song_titles(rows)) == 4


# --------------------------------------------------------------------------
# 2-D toy sets
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DATASETS_2D))
def test_make_2d_shapes_classes_and_balance(name):
    X, y = make_2d(name, 301, seed=3)
    k = DATASETS_2D[name].n_classes
    assert X.shape == (301, 2) and X.dtype == float
    assert y.shape == (301,) and np.issubdtype(y.dtype, np.integer)
    counts = np.bincount(y, minlength=k)
    assert len(counts) == k
    if name != "xor":                                    # xor labels follow uniform positions
        assert counts.max() - counts.min() <= 1
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name", sorted(DATASETS_2D))
def test_make_2d_is_deterministic_per_seed(name):
    a, b, c = make_2d(name, 50, seed=1), make_2d(name, 50, seed=1), make_2d(name, 50, seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_gaussians_without_noise_sit_on_their_centres():
    X, y = make_2d("gaussians", 10, noise=0.0, seed=0)
    np.testing.assert_array_equal(X, np.where(y[:, None] == 0, -1.0, 1.0) * np.ones((10, 2)))


def test_circles_without_noise_lie_on_two_rings():
    X, y = make_2d("circles", 40, noise=0.0, seed=0)
    np.testing.assert_allclose(np.hypot(*X.T), np.where(y == 0, 1.0, 0.5))


def test_xor_labels_follow_the_quadrants():
    X, y = make_2d("xor", 200, noise=0.0, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    assert np.abs(X).max() <= 1.0


@pytest.mark.parametrize("name, k", [("spiral2", 2), ("spiral3", 3)])
def test_spiral_arms(name, k):
    X, y = make_2d(name, 30 * k, noise=0.0, seed=0)
    r = np.hypot(*X.T)
    assert r.min() > 0 and r.max() == pytest.approx(1.0)
    for j in range(k):
        # without noise every arm is the same curve turned by 2 pi j / k
        arm = X[y == j][np.argsort(r[y == j])]
        turn = 2 * np.pi * j / k
        rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        first = X[y == 0][np.argsort(r[y == 0])]
        np.testing.assert_allclose(arm, first @ rotation, atol=1e-12)
    assert len(set(map(tuple, X.round(9)))) == len(X)   # no point shared by two arms


def test_spiral_noise_is_angular():
    X0, _ = make_2d("spiral3", 90, noise=0.0, seed=0)
    X1, _ = make_2d("spiral3", 90, noise=0.5, seed=0)
    np.testing.assert_allclose(np.sort(np.hypot(*X0.T)), np.sort(np.hypot(*X1.T)))
    assert not np.allclose(np.sort(X0[:, 0]), np.sort(X1[:, 0]))


def test_default_noise_comes_from_the_registry():
    for name, spec in DATASETS_2D.items():
        np.testing.assert_array_equal(make_2d(name, 30, None, 4)[0], make_2d(name, 30, spec.noise_default, 4)[0])


def test_one_point_is_allowed():
    X, y = make_2d("spiral3", 1, seed=0)
    assert X.shape == (1, 2) and y.tolist() == [0]


@pytest.mark.parametrize("kwargs, match", [
    ({"name": "moons"}, "unknown data set"),
    ({"n": 0}, "N_MAX"),
    ({"n": datasets.N_MAX + 1}, "N_MAX"),
    ({"n": 10.5}, "N_MAX"),
    ({"noise": np.nan}, "NOISE_MAX"),
    ({"noise": np.inf}, "NOISE_MAX"),
    ({"noise": -0.1}, "NOISE_MAX"),
    ({"noise": datasets.NOISE_MAX + 0.1}, "NOISE_MAX"),
    ({"noise": "loud"}, "NOISE_MAX"),
    ({"seed": -1}, "seed"),
    ({"seed": 2.0}, "seed"),
])
def test_make_2d_rejects_bad_arguments(kwargs, match):
    args = {"name": "circles", "n": 10, "noise": 0.1, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=match):
        make_2d(**args)


def test_largest_n_is_accepted():
    X, _ = make_2d("gaussians", datasets.N_MAX, seed=0)
    assert len(X) == datasets.N_MAX


# --------------------------------------------------------------------------
# train_test_split and standardize
# --------------------------------------------------------------------------


def test_split_is_a_partition():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, 0.3, seed=1)
    assert len(X_te) == 3 and len(X_tr) == 7
    assert sorted(np.r_[y_tr, y_te].tolist()) == list(range(10))
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)     # rows stay paired
    again = train_test_split(X, y, 0.3, seed=1)
    np.testing.assert_array_equal(again[3], y_te)
    assert not np.array_equal(train_test_split(X, y, 0.3, seed=2)[3], y_te)


def test_split_edges():
    X, y = np.zeros((5, 2)), np.arange(5)
    assert len(train_test_split(X, y, 0.0)[1]) == 0
    assert len(train_test_split(X, y, datasets.TEST_SHARE_MAX)[0]) >= 1
    assert len(train_test_split(X[:1], y[:1], 0.9)[0]) == 1


@pytest.mark.parametrize("share", [-0.1, 0.95, np.nan, np.inf, "half"])
def test_split_rejects_bad_share(share):
    with pytest.raises(ValueError, match="TEST_SHARE_MAX"):
        train_test_split(np.zeros((4, 2)), np.zeros(4), share)


def test_split_rejects_bad_rows():
    with pytest.raises(ValueError, match="same number of rows"):
        train_test_split(np.zeros((4, 2)), np.zeros(3), 0.25)
    with pytest.raises(ValueError, match="at least one row"):
        train_test_split(np.zeros((0, 2)), np.zeros(0), 0.25)


def test_standardize():
    X = np.c_[np.arange(5.0), np.full(5, 3.0), 10 * np.arange(5.0) - 7]
    Z, mean, std = standardize(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), [1.0, 0.0, 1.0])   # constant column stays finite
    np.testing.assert_allclose(mean, [2.0, 3.0, 13.0])
    Z2, _, _ = standardize(X[:2] + 1, mean, std)                   # apply the training scaling
    np.testing.assert_allclose(Z2, (X[:2] + 1 - mean) / std)


@pytest.mark.parametrize("X, match", [
    (np.array([[np.nan, 1.0]]), "NaN or inf"),
    (np.zeros((0, 2)), "non-empty"),
    (np.zeros(3), "non-empty"),
])
def test_standardize_rejects_bad_X(X, match):
    with pytest.raises(ValueError, match=match):
        standardize(X)


def test_standardize_rejects_bad_scaling():
    with pytest.raises(ValueError, match="positive"):
        standardize(np.ones((2, 2)), np.zeros(2), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="shape"):
        standardize(np.ones((2, 2)), np.zeros(3), np.ones(3))


# --------------------------------------------------------------------------
# Shipped tables
# --------------------------------------------------------------------------


def test_iris():
    X, y, features, classes = load_iris()
    assert X.shape == (150, 4) and y.shape == (150,)
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert classes == ("setosa", "versicolor", "virginica")
    assert len(features) == 4 and features[0].startswith("sepal")
    np.testing.assert_array_equal(X[0], [5.1, 3.5, 1.4, 0.2])
    np.testing.assert_array_equal(X[-1], [5.9, 3.0, 5.1, 1.8])
    np.testing.assert_array_equal(X[34], [4.9, 3.1, 1.5, 0.2])   # Fisher's value (UCI's file has 0.1)
    assert X.sum() == pytest.approx(2078.7)


def test_breast_cancer():
    X, y, features, classes = load_breast_cancer()
    assert X.shape == (569, 30) and y.shape == (569,)
    assert classes == ("malignant", "benign")
    assert np.bincount(y).tolist() == [212, 357]
    assert len(features) == 30 and features[0] == "mean_radius"
    assert X[0, 0] == 17.99 and y[0] == 0
    assert np.all(np.isfinite(X)) and np.all(X >= 0)


def test_loaders_return_fresh_copies():
    X, y, _, _ = load_iris()
    X[0, 0] = -1.0
    y[0] = 2
    X2, y2, _, _ = load_iris()
    assert X2[0, 0] == 5.1 and y2[0] == 0


def test_sources_name_origin_and_license():
    text = (datasets.DATA_DIR / "SOURCES.md").read_text()
    for needle in ("UCI", "CC BY 4.0", "iris.csv", "breast_cancer.csv"):
        assert needle in text


TOTAL_INK = 561_718     # the sum of every pixel count of the file


def test_digits():
    X, y, features, classes = datasets.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert classes == tuple("0123456789") and np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179,
                                                                          174, 180]
    assert features[0] == "pixel 1,1" and features[8] == "pixel 2,1" and features[-1] == "pixel 8,8"
    assert len(set(features)) == 64
    # pixels are counts 0..16 of set dots, divided by 16
    assert X.min() == 0.0 and X.max() == 1.0 and np.all(np.round(16 * X) == 16 * X)
    # the first image is a 0: its top row as the file has it
    np.testing.assert_array_equal(16 * X[0, :8], [0, 0, 5, 13, 9, 1, 0, 0])
    assert y[0] == 0 and y[1] == 1 and y[-1] == 8
    assert int((16 * X).sum()) == TOTAL_INK


def test_digits_are_fresh_copies():
    X, y, _, _ = datasets.load_digits()
    X[0, 0], y[0] = 1.0, 9
    X2, y2, _, _ = datasets.load_digits()
    assert X2[0, 0] == 0.0 and y2[0] == 0


def _digits_file(folder, lines) -> None:
    with gzip.open(folder / datasets.DIGITS_FILE, "wt") as f:
        f.write("".join(line + "\n" for line in lines))


GOOD_ROW = ",".join(["0"] * 63 + ["16", "7"])


@pytest.mark.parametrize("lines, match", [
    ([GOOD_ROW, ",".join(["0"] * 64)], "row 2: expected 65 values, got 64"),
    ([GOOD_ROW.replace("16", "17")], "row 1: pixels must be 0..16 and the digit 0..9"),
    ([GOOD_ROW[:-1] + "10"], "row 1: pixels must be 0..16 and the digit 0..9"),
    ([GOOD_ROW.replace("16", "1.5")], "row 1: every value must be a whole number"),
    ([GOOD_ROW.replace("16", "nan")], "row 1: every value must be a whole number"),
    ([], "holds no images"),
])
def test_a_damaged_digits_file_is_refused_naming_the_row(tmp_path, monkeypatch, lines, match):
    _digits_file(tmp_path, lines)
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    with pytest.raises(ValueError, match=match):
        datasets.load_digits()


def test_a_good_small_digits_file_loads(tmp_path, monkeypatch):
    _digits_file(tmp_path, [GOOD_ROW])
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    X, y, _, _ = datasets.load_digits()
    assert X.shape == (1, 64) and X[0, -1] == 1.0 and y.tolist() == [7]


def test_sources_name_the_digits_origin():
    text = (datasets.DATA_DIR / "SOURCES.md").read_text()
    for needle in ("digits.csv.gz", "Alpaydin", "Kaynak", "10.24432/C50P49", "1,797", "unchanged"):
        assert needle in text
