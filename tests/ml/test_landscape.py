"""Loss-landscape slices: directions, projections, batched grids, convexity, export."""

import csv
import io
import json

import numpy as np
import pytest

from app.ml import landscape as ls
from app.ml import optim, train
from app.ml.linear import LinearRegression, LogisticRegression
from app.ml.mlp import MLP
from app.ml.svm import LinearSVM


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    X = rng.standard_normal((60, 2)) + np.array([[2.0, 0.0], [-1.0, 2.0], [-1.0, -2.0]])[y]
    return X, y


@pytest.fixture
def logistic_run(blobs):
    X, y = blobs
    model = LogisticRegression(2, 3, l2=0.01, init_scale=0.5)
    hist = train.run(model, optim.sgd(lr=0.3), (X, y), steps=60, seed=1)
    return model, X, y, ls.flatten_path(model, hist.params)


def path_in_plane(rng, p=12, steps=30):
    """A curved path that lies exactly in a 2-D affine plane of R^p."""
    basis, _ = np.linalg.qr(rng.standard_normal((p, 2)))
    t = np.linspace(0, 1, steps + 1)
    coords = np.c_[3 * t, np.sin(3 * t)]
    return rng.standard_normal(p) + coords @ basis.T


# --------------------------------------------------------------------------
# PCA directions
# --------------------------------------------------------------------------


def test_pca_directions_are_orthonormal(logistic_run):
    *_, path = logistic_run
    d1, d2, ratio, center = ls.pca_directions(path)
    np.testing.assert_allclose([d1 @ d1, d2 @ d2, d1 @ d2], [1.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_array_equal(center, path[-1])
    assert 1 >= ratio[0] >= ratio[1] >= 0 and ratio.sum() <= 1 + 1e-12


@pytest.mark.parametrize("points, p", [(50, 6), (8, 30)])    # more points than parameters, and fewer
def test_pca_matches_the_covariance_eigenvectors(points, p):
    rng = np.random.default_rng(1)
    path = np.cumsum(rng.standard_normal((points, p)) * np.geomspace(3, 0.1, p), axis=0)
    d1, d2, ratio, _ = ls.pca_directions(path)
    values, vectors = np.linalg.eigh(np.cov(path.T))
    np.testing.assert_allclose(ratio, values[::-1][:2] / values.sum(), rtol=1e-10)
    np.testing.assert_allclose(abs(d1 @ vectors[:, -1]), 1.0, atol=1e-10)
    np.testing.assert_allclose(abs(d2 @ vectors[:, -2]), 1.0, atol=1e-10)


@pytest.mark.parametrize("points, p", [(20, 6), (6, 20)])
def test_pca_signs_point_along_training(points, p):
    rng = np.random.default_rng(2)
    for _ in range(6):
        path = np.cumsum(rng.standard_normal((points, p)) * np.geomspace(3, 1, p), axis=0)
        for walk in (path, path[::-1]):
            d1, d2, _, _ = ls.pca_directions(walk)
            assert (walk[-1] - walk[0]) @ d1 >= 0 and (walk[-1] - walk[0]) @ d2 >= 0


@pytest.mark.parametrize("p, steps", [(12, 30), (40, 10)])
def test_path_in_a_plane_projects_back_exactly(p, steps):
    rng = np.random.default_rng(3)
    path = path_in_plane(rng, p, steps)
    for center in (None, path.mean(axis=0), path[0]):
        d1, d2, ratio, c = ls.pca_directions(path, center)
        assert ratio.sum() == pytest.approx(1.0, abs=1e-12)
        coords = ls.project(path, c, d1, d2)
        np.testing.assert_allclose(ls.reconstruct(coords, c, d1, d2), path, atol=1e-12)
        np.testing.assert_allclose(ls.projection_residual(path, c, d1, d2), 0.0, atol=1e-12)
    # the last point is the default center, so it sits at the origin
    d1, d2, _, c = ls.pca_directions(path)
    np.testing.assert_allclose(ls.project(path, c, d1, d2)[-1], [0.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("points, p", [(40, 8), (9, 25)])
def test_residual_off_the_plane_is_the_unexplained_variance(points, p):
    rng = np.random.default_rng(4)
    path = np.cumsum(rng.standard_normal((points, p)), axis=0)
    mean = path.mean(axis=0)
    d1, d2, ratio, c = ls.pca_directions(path, center=mean)
    residual = ls.projection_residual(path, c, d1, d2)
    total = np.sum((path - mean) ** 2)
    assert np.sum(residual ** 2) == pytest.approx(total * (1 - ratio.sum()), rel=1e-9)
    assert residual.max() > 0


def test_pca_of_a_straight_path_still_gives_two_orthonormal_directions():
    path = np.outer(np.linspace(0, 1, 5), np.arange(1.0, 8.0))      # 5 points in R^7 on a line
    d1, d2, ratio, _ = ls.pca_directions(path)
    np.testing.assert_allclose([d1 @ d1, d2 @ d2, d1 @ d2], [1.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(ratio, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(d1, np.arange(1.0, 8.0) / np.linalg.norm(np.arange(1.0, 8.0)), rtol=1e-12)


def test_pca_rejects_bad_paths():
    with pytest.raises(ValueError, match="does not move"):
        ls.pca_directions(np.ones((5, 3)))
    with pytest.raises(ValueError, match="MAX_PATH_POINTS"):
        ls.pca_directions(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="MAX_PARAMETERS"):
        ls.pca_directions(np.zeros((5, 1)))
    with pytest.raises(ValueError, match="NaN or inf"):
        ls.pca_directions(np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="MAX_PATH_VALUES"):
        ls.pca_directions(np.zeros((2001, 1000)))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        ls.pca_directions(np.eye(3), center=np.zeros(2))


# --------------------------------------------------------------------------
# Filter-normalized and top-moving directions
# --------------------------------------------------------------------------


def test_filter_normalized_directions_of_an_mlp():
    model = MLP((2, 6, 5, 3))
    params = model.init(seed=0)
    params["b0"] = np.linspace(-1, 1, 6)
    d1, d2 = ls.filter_normalized_directions(model, params, seed=5)
    for d in (d1, d2):
        direction = model.unflatten(d)
        for name, w in params.items():
            if name.startswith("W"):
                # each column is one unit's incoming weights: same norm as in params
                np.testing.assert_allclose(np.linalg.norm(direction[name], axis=0),
                                           np.linalg.norm(w, axis=0), rtol=1e-12)
            else:
                np.testing.assert_array_equal(direction[name], 0.0)
    assert abs(d1 @ d2) < np.linalg.norm(d1) * np.linalg.norm(d2)    # two different draws
    copied = model.unflatten(ls.filter_normalized_directions(model, params, seed=5, bias="copy")[0])
    np.testing.assert_array_equal(copied["b0"], params["b0"])
    np.testing.assert_array_equal(copied["W0"], model.unflatten(d1)["W0"])


def test_filter_normalized_directions_are_deterministic_and_keep_zero_filters():
    model = LogisticRegression(4, 3)
    params = model.init(0)
    params["W"][:, 1] = 0.0
    a = ls.filter_normalized_directions(model, params, seed=3)
    b = ls.filter_normalized_directions(model, params, seed=3)
    c = ls.filter_normalized_directions(model, params, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    np.testing.assert_array_equal(model.unflatten(a[0])["W"][:, 1], 0.0)


def test_filter_normalized_directions_need_a_weight_matrix():
    model = LinearRegression()
    with pytest.raises(ValueError, match="weight matrix"):
        ls.filter_normalized_directions(model, np.array([1.0, 2.0]), seed=0)
    with pytest.raises(ValueError, match="'zero' or 'copy'"):
        ls.filter_normalized_directions(LinearSVM(2), LinearSVM(2).init(0), bias="keep")
    zero = {"W": np.zeros((2, 1)), "b": np.zeros(1)}
    with pytest.raises(ValueError, match="norm 0"):
        ls.filter_normalized_directions(LinearSVM(2), zero)


def test_top_moving_directions_pick_the_largest_changes():
    path = np.zeros((4, 5))
    path[-1] = [0.1, -2.0, 0.0, 3.0, -0.5]
    path[1] = [9.0, 0, 0, 0, 0]          # only the net change counts
    d1, d2, (i, j) = ls.top_moving_directions(path)
    assert (i, j) == (3, 1)
    np.testing.assert_array_equal(d1, np.eye(5)[3])
    np.testing.assert_array_equal(d2, np.eye(5)[1])
    with pytest.raises(ValueError, match="no parameter changed"):
        ls.top_moving_directions(np.ones((3, 4)))


# --------------------------------------------------------------------------
# Projection onto any directions (comparing optimizers)
# --------------------------------------------------------------------------


def test_project_solves_least_squares_for_non_orthogonal_directions():
    rng = np.random.default_rng(6)
    center, d1, d2 = rng.standard_normal((3, 10))
    d2 = d2 + 0.8 * d1                                   # clearly not orthogonal
    off_plane = rng.standard_normal(10)
    D = np.c_[d1, d2]
    off_plane -= D @ np.linalg.lstsq(D, off_plane, rcond=None)[0]   # orthogonal to both
    point = center + 2.0 * d1 - 3.0 * d2 + off_plane
    np.testing.assert_allclose(ls.project(point, center, d1, d2), [2.0, -3.0], atol=1e-12)
    np.testing.assert_allclose(ls.projection_residual(point, center, d1, d2), [np.linalg.norm(off_plane)])
    with pytest.raises(ValueError, match="not parallel"):
        ls.project(point, center, d1, 2 * d1)
    with pytest.raises(ValueError, match="NaN"):
        ls.project(point, center, d1, np.full(10, np.nan))


def test_optimizer_paths_share_one_plane(blobs):
    X, y = blobs
    model = MLP((2, 8, 3))
    start = model.init(seed=0)
    paths = [ls.flatten_path(model, train.run(model, opt, (X, y), 20, seed=0, params=start).params)
             for opt in (optim.sgd(lr=0.1), optim.sgd(lr=0.1, momentum=0.9), optim.adam(lr=0.05))]
    center = paths[0][0]
    d1, d2 = ls.filter_normalized_directions(model, start, seed=1)
    coords = [ls.project(p, center, d1, d2) for p in paths]
    for c in coords:
        assert c.shape == (21, 2)
        np.testing.assert_allclose(c[0], [0.0, 0.0], atol=1e-12)    # same start, at the center
    assert not np.allclose(coords[0][-1], coords[2][-1])


# --------------------------------------------------------------------------
# Grid losses
# --------------------------------------------------------------------------


def test_grid_center_is_the_models_loss(logistic_run):
    model, X, y, path = logistic_run
    d1, d2, _, center = ls.pca_directions(path)
    axis = ls.axis_values(-2, 2, 21)
    Z = ls.grid_losses(model, X, y, center, d1, d2, axis, axis)
    assert Z[10, 10] == pytest.approx(model.loss(model.unflatten(center), X, y), rel=1e-12)


def test_grid_orientation_rows_are_betas(logistic_run):
    model, X, y, path = logistic_run
    d1, d2, _, center = ls.pca_directions(path)
    alphas, betas = ls.axis_values(-1, 3, 7), ls.axis_values(-2, 0.5, 5)
    Z = ls.grid_losses(model, X, y, center, d1, d2, alphas, betas)
    assert Z.shape == (5, 7)
    theta = center + alphas[2] * d1 + betas[4] * d2
    assert Z[4, 2] == pytest.approx(model.loss(model.unflatten(theta), X, y), rel=1e-12)


@pytest.mark.parametrize("chunk", [1, 7, 256])
def test_batched_and_looped_grids_agree_for_an_mlp(blobs, chunk):
    X, y = blobs
    model = MLP((2, 5, 5, 3))
    params = model.init(0)
    center = model.flatten(params)
    d1, d2 = ls.filter_normalized_directions(model, params, seed=2)
    alphas, betas = ls.axis_values(-1, 1, 9), ls.axis_values(-0.5, 1.5, 6)
    batched = ls.grid_losses(model, X, y, center, d1, d2, alphas, betas, chunk=chunk)
    looped = ls.grid_losses_reference(model, X, y, center, d1, d2, alphas, betas,
                                      single_loss=lambda p, X, y: model.loss_and_grad(p, X, y)[0])
    np.testing.assert_allclose(batched, looped, rtol=1e-6)     # the MLP's batched layers run in float32


def test_batched_and_looped_grids_agree_for_the_svm():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((30, 4))
    y = (X[:, 0] > 0).astype(int)
    model = LinearSVM(4, l2=0.1)
    center = model.flatten(model.init(0))
    d1, d2 = rng.standard_normal((2, 5))
    axis = ls.axis_values(-1, 1, 8)
    np.testing.assert_allclose(ls.grid_losses(model, X, y, center, d1, d2, axis, axis, chunk=5),
                               ls.grid_losses_reference(model, X, y, center, d1, d2, axis, axis, model.loss),
                               rtol=1e-13)


def test_line_fit_grid_is_the_analytic_mean_squared_error():
    x = np.array([-1.0, 0.0, 2.0, 3.0])
    y = np.array([1.0, 0.5, -1.0, 2.0])
    m, b = np.meshgrid(ls.axis_values(-2, 2, 11), ls.axis_values(-1, 1, 5))
    expected = np.mean((m[..., None] * x + b[..., None] - y) ** 2, axis=-1)
    Z = ls.grid_losses(LinearRegression(), x, y, np.zeros(2), np.array([1.0, 0.0]), np.array([0.0, 1.0]),
                       m[0], b[:, 0])
    np.testing.assert_allclose(Z, expected, rtol=1e-13)


class CountingModel:
    """A quadratic bowl that records how often loss_many is called."""

    def __init__(self):
        self.calls = 0

    def loss_many(self, P, X, y):
        self.calls += 1
        return (P ** 2).sum(axis=1)


def test_grid_losses_call_the_model_once_per_chunk():
    model = CountingModel()
    axis = ls.axis_values(-1, 1, 51)
    Z = ls.grid_losses(model, None, None, np.zeros(3), np.eye(3)[0], np.eye(3)[1], axis, axis, chunk=256)
    assert model.calls == int(np.ceil(51 * 51 / 256))
    np.testing.assert_allclose(Z, axis[None, :] ** 2 + axis[:, None] ** 2)
    looped = ls.grid_losses_reference(model, None, None, np.zeros(3), np.eye(3)[0], np.eye(3)[1], axis, axis)
    assert model.calls == int(np.ceil(51 * 51 / 256)) + 51 * 51
    np.testing.assert_array_equal(looped, Z)


@pytest.mark.parametrize("resolution", [0, 1, 202, 10**4, 2.5, "51"])
def test_bad_resolutions_raise_with_the_limit(resolution):
    with pytest.raises(ValueError, match="MAX_RESOLUTION"):
        ls.axis_values(-1, 1, resolution)


@pytest.mark.parametrize("low, high, message", [
    (np.nan, 1.0, "finite"),
    (-1.0, np.inf, "finite"),
    (-1e7, 1.0, "MAX_EXTENT"),
    (1.0, 1.0, "low < high"),
])
def test_bad_extents_raise(low, high, message):
    with pytest.raises(ValueError, match=message):
        ls.axis_values(low, high, 11)


def test_grid_losses_reject_bad_axes_and_planes():
    model = CountingModel()
    ok = ls.axis_values(-1, 1, 5)
    plane = (np.zeros(3), np.eye(3)[0], np.eye(3)[1])
    for axis, message in [(np.array([0.0, np.nan, 1.0]), "finite"), (np.zeros(10**4), "MAX_RESOLUTION"),
                          (np.array([1.0]), "MAX_RESOLUTION"), (np.array([0.0, 2.0, 1.0]), "increasing")]:
        with pytest.raises(ValueError, match=message):
            ls.grid_losses(model, None, None, *plane, axis, ok)
    with pytest.raises(ValueError, match="MAX_CHUNK"):
        ls.grid_losses(model, None, None, *plane, ok, ok, chunk=0)
    with pytest.raises(ValueError, match=r"d2 must have shape \(3,\)"):
        ls.grid_losses(model, None, None, np.zeros(3), np.eye(3)[0], np.ones(4), ok, ok)
    assert model.calls == 0


def test_axes_around_cover_the_path_and_the_origin():
    coords = np.array([[2.0, -0.1], [1.0, 0.0], [0.5, 0.05]])
    alphas, betas = ls.axes_around(coords, resolution=31, margin=0.5, min_half_width=1.0)
    assert alphas.shape == betas.shape == (31,)
    np.testing.assert_allclose([alphas[0], alphas[-1]], [-1.0, 3.0])     # origin, path, half a span each side
    np.testing.assert_allclose([betas[0], betas[-1]], [-1.0, 1.0])       # min_half_width for a flat direction
    alphas, betas = ls.axes_around(coords, resolution=5, margin=0.0)
    np.testing.assert_allclose([alphas[0], alphas[-1], betas[0], betas[-1]], [-0.2, 2.0, -0.2, 0.2])
    with pytest.raises(ValueError, match="NaN"):
        ls.axes_around(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="MAX_RESOLUTION"):
        ls.axes_around(coords, resolution=10**4)


def test_pca_landscape_is_deterministic_and_consistent(logistic_run):
    model, X, y, path = logistic_run
    a = ls.pca_landscape(model, X, y, path, resolution=15)
    b = ls.pca_landscape(model, X, y, path, resolution=15)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert a.loss.shape == (15, 15) and a.path.shape == (path.shape[0], 2)
    expected = [model.loss(model.unflatten(p), X, y) for p in path]
    np.testing.assert_allclose(a.path_loss, expected, rtol=1e-12)
    on_plane = [model.loss(model.unflatten(a.center + u * a.d1 + v * a.d2), X, y) for u, v in a.path]
    np.testing.assert_allclose(a.path_plane_loss, on_plane, rtol=1e-12)
    assert a.path_plane_loss[-1] == pytest.approx(a.path_loss[-1], rel=1e-12)    # the center is on the path
    assert a.alphas[0] <= a.path[:, 0].min() and a.alphas[-1] >= a.path[:, 0].max()


def test_flatten_path_follows_the_models_layout(logistic_run):
    model, X, y, _ = logistic_run
    hist = train.run(model, optim.sgd(lr=0.1), (X, y), steps=3, seed=0)
    path = ls.flatten_path(model, hist.params)
    assert path.shape == (4, model.n_params)
    np.testing.assert_array_equal(path[2], model.flatten({k: v[2] for k, v in hist.params.items()}))


# --------------------------------------------------------------------------
# Convexity of a slice
# --------------------------------------------------------------------------


def grid(f, n=21):
    a, b = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n))
    return f(a, b)


def test_convexity_known_answers():
    assert ls.convexity_measure(grid(lambda a, b: 3 * a**2 + 2 * a * b + b**2)) == 0.0
    assert ls.convexity_measure(grid(lambda a, b: a**2 - b**2)) == 1.0
    # a convex function with kinks (hinge-like) is never called non-convex
    assert ls.convexity_measure(grid(lambda a, b: np.maximum(0, a + b - 0.33) + abs(a - 0.1))) == 0.0
    assert ls.convexity_measure(grid(lambda a, b: 0 * a + 5.0)) == 0.0
    # negative curvature along one diagonal only
    assert ls.convexity_measure(grid(lambda a, b: (a + b) ** 2 - 0.5 * (a - b) ** 2)) == 1.0
    assert ls.convexity_measure(grid(lambda a, b: (a - b) ** 2 - 0.5 * (a + b) ** 2)) == 1.0
    # a bump on a bowl: non-convex on a ring around the bump only
    bump = ls.convexity_measure(grid(lambda a, b: a**2 + b**2 + 2 * np.exp(-(a**2 + b**2) / 0.1), 41))
    assert 0.05 < bump < 0.6


def test_convexity_ignores_scale_offset_and_spacing():
    Z = grid(lambda a, b: np.sin(3 * a) * np.cos(2 * b) + a**2)
    share = ls.convexity_measure(Z)
    assert 0 < share < 1
    assert ls.convexity_measure(1e4 * Z + 7.0) == share


def test_convex_models_give_convex_slices(logistic_run):
    model, X, y, path = logistic_run
    assert ls.convexity_measure(ls.pca_landscape(model, X, y, path, resolution=21).loss) == 0.0


def test_convexity_rejects_bad_grids():
    with pytest.raises(ValueError, match="3 x 3"):
        ls.convexity_measure(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="NaN or inf"):
        ls.convexity_measure(np.full((3, 3), np.nan))


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------


@pytest.fixture
def surface():
    alphas, betas = ls.axis_values(-1, 1, 4), ls.axis_values(0, 0.3, 3)
    loss = np.arange(12, dtype=float).reshape(3, 4) / 7
    loss[1, 2] = np.inf
    path = np.array([[0.1, 0.2], [0.3, 1 / 3]])
    return alphas, betas, loss, path, np.array([0.5, np.nan])


def test_csv_round_trips(surface):
    alphas, betas, loss, path, path_loss = surface
    rows = list(csv.DictReader(io.StringIO(ls.to_csv(alphas, betas, loss, path, path_loss))))
    assert len(rows) == 12 + 2
    cells = [r for r in rows if r["kind"] == "surface"]
    got = np.array([float(r["loss"]) for r in cells]).reshape(3, 4)
    np.testing.assert_array_equal(got, loss)
    assert [float(cells[5]["alpha"]), float(cells[5]["beta"])] == [alphas[1], betas[1]]
    steps = [r for r in rows if r["kind"] == "path"]
    assert [r["step"] for r in steps] == ["0", "1"]
    assert float(steps[1]["beta"]) == 1 / 3 and steps[1]["loss"] == "nan"
    assert ls.to_csv(alphas, betas, loss).count("\n") == 13


def test_json_round_trips(surface):
    alphas, betas, loss, path, path_loss = surface
    doc = json.loads(ls.to_json(alphas, betas, loss, path, path_loss, meta={"ratio": np.array([0.9, 0.1])}))
    assert doc["alphas"] == alphas.tolist() and doc["betas"] == betas.tolist()
    assert doc["loss"][1][2] is None and doc["loss"][2][3] == loss[2, 3]
    assert doc["path"] == {"alpha": [0.1, 0.3], "beta": [0.2, 1 / 3], "loss": [0.5, None]}
    assert doc["meta"] == {"ratio": [0.9, 0.1]}
    assert json.loads(ls.to_json(alphas, betas, loss))["path"] is None


def test_export_rejects_mismatched_shapes(surface):
    alphas, betas, loss, path, _ = surface
    with pytest.raises(ValueError, match=r"shape \(3, 4\)"):
        ls.to_csv(alphas, betas, loss.T)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        ls.to_json(alphas, betas, loss, path, np.zeros(3))
    with pytest.raises(ValueError, match="NaN or inf"):
        ls.to_json(alphas, betas, loss, np.array([[np.nan, 0.0]]))
