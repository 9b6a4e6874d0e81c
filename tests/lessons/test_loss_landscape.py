"""The loss-landscape lesson's experiments, called directly: no Flask, no Dash, no cache.

Known answers are the numbers the narration states, measured on the runs the
lesson shows."""

import csv
import io
import json

import numpy as np
import pytest

from app.lessons import loss_landscape as lesson
from app.ml.landscape import pca_directions

NAN, INF = float("nan"), float("inf")


def slice_of(run_settings: tuple, directions: str, resolution: int = lesson.RESOLUTION, extent: float = 1.0):
    """A run of `run_settings` (model, data, optimizer, lr, steps, seed) sliced as the page slices it."""
    model, data, *_, seed = run_settings
    run = lesson.training_path(*run_settings)
    return lesson.landscape_slice(run, model, data, directions, resolution, extent, seed)


@pytest.fixture(scope="module")
def svm_pca():
    return slice_of(lesson.CASE_RUNS["svm"], "pca")


@pytest.fixture(scope="module")
def logistic_pca():
    return slice_of(lesson.CASE_RUNS["logistic"], "pca")


@pytest.fixture(scope="module")
def logistic_top():
    return slice_of(lesson.CASE_RUNS["logistic"], "top")


# -- problems, models, names --------------------------------------------------------------


@pytest.mark.parametrize("data, shape, classes", [("iris", (150, 4), 3), ("breast-cancer", (569, 30), 2),
                                                  ("spiral3", (300, 2), 3)])
def test_problems_have_their_shapes_and_classes(data, shape, classes):
    X, y, features, class_names = lesson.load_problem(data)
    assert X.shape == shape and y.shape == (shape[0],) and len(features) == shape[1]
    assert len(class_names) == classes and set(np.unique(y)) == set(range(classes))


def test_tabular_problems_are_standardized():
    X, *_ = lesson.load_problem("breast-cancer")
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, atol=1e-12)


@pytest.mark.parametrize("data", ["", "mnist", None, 7, "x" * 10_000])
def test_an_unknown_data_set_is_refused_with_the_choices(data):
    with pytest.raises(ValueError, match="choose one of iris"):
        lesson.load_problem(data)


@pytest.mark.parametrize("model, data, n_params", [("logistic", "iris", 15), ("svm", "breast-cancer", 31),
                                                   ("mlp-1x5", "spiral3", 2 * 5 + 5 + 5 * 3 + 3)])
def test_every_parameter_has_a_name(model, data, n_params):
    X, _, features, classes = lesson.load_problem(data)
    built = lesson.build_model(model, X, classes)
    names = lesson.parameter_names(built, features, classes)
    assert len(names) == len(set(names)) == n_params == built.n_params


def test_the_svm_refuses_three_classes_and_unknown_models_are_named():
    X, _, _, classes = lesson.load_problem("iris")
    with pytest.raises(ValueError, match="two classes, and this data has 3"):
        lesson.build_model("svm", X, classes)
    for model in ("mlp-100x100", "", None, "<script>"):
        with pytest.raises(ValueError, match="unknown model"):
            lesson.build_model(model, X, classes)


@pytest.mark.parametrize("count, limit", [(1, 5), (5, 5), (301, 120), (1000, 401)])
def test_thin_keeps_first_and_last_and_at_most_the_limit(count, limit):
    kept = lesson.thin(count, limit)
    assert kept[0] == 0 and kept[-1] == count - 1 and len(kept) == min(count, limit)
    assert np.all(np.diff(kept) > 0)


# -- training paths -----------------------------------------------------------------------


def test_a_training_path_is_deterministic_for_a_seed():
    a = lesson.training_path("mlp-1x5", "spiral3", "adam", 0.01, 30, 4)
    b = lesson.training_path("mlp-1x5", "spiral3", "adam", 0.01, 30, 4)
    c = lesson.training_path("mlp-1x5", "spiral3", "adam", 0.01, 30, 5)
    assert np.array_equal(a["path"], b["path"]) and np.array_equal(a["loss"], b["loss"])
    assert not np.array_equal(a["path"], c["path"])
    assert a["path"].shape == (31, 2 * 5 + 5 + 5 * 3 + 3) and a["loss"].shape == (31,) and a["message"] == ""


def test_a_training_path_goes_down_its_loss():
    run = lesson.training_path(*lesson.CASE_RUNS["logistic"])
    assert run["loss"][-1] < 0.5 * run["loss"][0]


@pytest.mark.parametrize("lr", [NAN, INF, -1.0, 0.0, 1e300, "0.1"])
def test_a_learning_rate_out_of_range_is_refused(lr):
    with pytest.raises(ValueError, match="lr"):
        lesson.training_path("logistic", "iris", "sgd", lr, 10, 0)


@pytest.mark.parametrize("steps", [0, -3, lesson.MAX_STEPS + 1, 10**12, 2.5, NAN, "10", None, True])
def test_steps_out_of_range_are_refused_with_the_limit(steps):
    with pytest.raises(ValueError, match="steps must be a whole number from 1 to 500"):
        lesson.training_path("logistic", "iris", "sgd", 0.1, steps, 0)


@pytest.mark.parametrize("optimizer, seed", [("rm -rf", 0), ("", 0), ("sgd", -1), ("sgd", 1.5), ("sgd", NAN)])
def test_unknown_optimizers_and_bad_seeds_are_refused(optimizer, seed):
    with pytest.raises(ValueError):
        lesson.training_path("logistic", "iris", optimizer, 0.1, 10, seed)


def test_a_diverging_run_says_where_and_cannot_be_sliced():
    settings = ("mlp-1x20", "breast-cancer", "sgd", 10.0, 200, 0)
    run = lesson.training_path(*settings)
    assert run["message"] == "diverged at step 134: the loss became inf" and len(run["path"]) == 134
    with pytest.raises(ValueError, match="diverged at step 134.*smaller learning rate"):
        lesson.landscape_slice(run, *settings[:2], "pca", 41, 1.0, 0)


def test_a_run_that_stopped_at_once_has_no_path_to_slice():
    run = {"path": np.zeros((1, 15)), "loss": np.array([1.0]), "message": "diverged at step 1: the loss became inf"}
    with pytest.raises(ValueError, match="no path to slice"):
        lesson.landscape_slice(run, "logistic", "iris", "pca", 41, 1.0, 0)


# -- slices -------------------------------------------------------------------------------


def test_a_slice_has_its_grid_and_its_path(svm_pca):
    n = lesson.RESOLUTION
    assert svm_pca["alphas"].shape == svm_pca["betas"].shape == (n,) and svm_pca["loss"].shape == (n, n)
    k = len(svm_pca["steps"])
    assert svm_pca["coords"].shape == (k, 2) and svm_pca["path_loss"].shape == svm_pca["plane_loss"].shape == (k,)
    assert svm_pca["steps"][0] == 0 and svm_pca["steps_done"] == 300 and svm_pca["message"] == ""
    assert np.all(np.isfinite(svm_pca["loss"])) and svm_pca["traces"].shape == (k, 31)


def test_steps_3_and_4_facts(svm_pca, logistic_pca):
    assert svm_pca["n_params"] == 31 and logistic_pca["n_params"] == 15 and svm_pca["loss"].size == 2601
    np.testing.assert_allclose(svm_pca["ratio"], [0.973, 0.023], atol=5e-4)
    np.testing.assert_allclose(logistic_pca["ratio"], [0.980, 0.019], atol=5e-4)
    assert svm_pca["convexity"] == 0.0 and logistic_pca["convexity"] == 0.0
    assert svm_pca["path_loss"][0] == pytest.approx(0.993, abs=5e-4)
    assert svm_pca["plane_loss"][0] == pytest.approx(0.962, abs=5e-4)
    assert round(abs(svm_pca["path_loss"][10] - svm_pca["plane_loss"][10]), 3) == 0.001


def test_step_2_facts(logistic_top):
    names = [logistic_top["names"][i] for i in logistic_top["top"]]
    assert names == ["w[petal width, virginica]", "w[petal length, setosa]"]
    assert logistic_top["path_loss"][0] == pytest.approx(1.10, abs=0.005)
    assert logistic_top["plane_loss"][0] == pytest.approx(0.41, abs=0.005)
    # the slice passes through the last point, so there the two losses agree
    assert logistic_top["path_loss"][-1] == pytest.approx(logistic_top["plane_loss"][-1], rel=1e-12)


def test_a_top_moving_slice_is_drawn_in_the_parameters_own_values(logistic_top):
    run = lesson.training_path(*lesson.CASE_RUNS["logistic"])
    i, j = logistic_top["top"]
    np.testing.assert_allclose(logistic_top["coords"][-1], run["path"][-1][[i, j]], atol=1e-12)
    assert logistic_top["alphas"][0] < run["path"][-1][i] < logistic_top["alphas"][-1]


def test_random_directions_depend_on_the_seed_only():
    settings = ("logistic", "iris", "sgd", 0.1, 50, 0)
    run = lesson.training_path(*settings)
    a, b, c = (lesson.landscape_slice(run, "logistic", "iris", "random", 15, 1.0, seed) for seed in (3, 3, 4))
    assert np.array_equal(a["loss"], b["loss"]) and not np.array_equal(a["loss"], c["loss"])
    np.testing.assert_allclose(a["coords"][-1], [0.0, 0.0], atol=1e-12)    # the plane's center is the last point
    assert a["ratio"] is None and a["top"] is None


def test_the_extent_scales_the_grid():
    settings = ("logistic", "iris", "sgd", 0.1, 50, 0)
    run = lesson.training_path(*settings)
    one, two = (lesson.landscape_slice(run, "logistic", "iris", "pca", 11, extent, 0) for extent in (1.0, 2.0))
    np.testing.assert_allclose(two["alphas"], 2 * one["alphas"], rtol=1e-12)
    np.testing.assert_allclose(two["betas"], 2 * one["betas"], rtol=1e-12)


@pytest.mark.parametrize("directions, resolution, extent, message", [
    ("bogus", 21, 1.0, "unknown directions"), (None, 21, 1.0, "unknown directions"),
    ("pca", 5, 1.0, "resolution"), ("pca", 10_000, 1.0, "resolution"), ("pca", 21.5, 1.0, "resolution"),
    ("pca", NAN, 1.0, "resolution"), ("pca", 21, 0.0, "extent"), ("pca", 21, NAN, "extent"),
    ("pca", 21, INF, "extent"), ("pca", 21, 1e9, "extent"), ("pca", 21, "2", "extent"),
])
def test_bad_slice_settings_are_refused_with_their_limits(directions, resolution, extent, message):
    run = lesson.training_path("logistic", "iris", "sgd", 0.1, 20, 0)
    with pytest.raises(ValueError, match=message):
        lesson.landscape_slice(run, "logistic", "iris", directions, resolution, extent, 0)


def test_a_path_with_nan_is_refused():
    run = lesson.training_path("logistic", "iris", "sgd", 0.1, 20, 0)
    run = {**run, "path": np.where(np.arange(21)[:, None] == 5, NAN, run["path"])}
    with pytest.raises(ValueError, match="NaN"):
        lesson.landscape_slice(run, "logistic", "iris", "pca", 21, 1.0, 0)


# -- the narrated experiments -------------------------------------------------------------


def test_step_1_facts():
    land = lesson.feature_landscape()
    np.testing.assert_allclose(land["ratio"], [0.74, 0.14], atol=0.005)
    assert land["b"][0] == 0 and land["b"][-1] == pytest.approx(0.14, abs=0.005)
    assert land["path_loss"][-1] == pytest.approx(0.21, abs=0.005)
    np.testing.assert_allclose(land["w"][-1], [2.7, 2.6], atol=0.05)
    assert land["path_loss"][-1] - land["loss"].min() < 0.001        # at the bottom of the bowl
    # the surface holds the final bias, so there it is the model's own loss
    assert land["plane_loss"][-1] == pytest.approx(land["path_loss"][-1], rel=1e-12)


def test_the_feature_landscape_is_deterministic_and_refuses_bad_settings():
    a, b = lesson.feature_landscape(20), lesson.feature_landscape(20)
    assert np.array_equal(a["loss"], b["loss"]) and np.array_equal(a["w"], b["w"])
    for settings in [dict(steps=0), dict(steps=10**9), dict(lr=NAN), dict(lr=-1.0), dict(seed=-1),
                     dict(resolution=1), dict(resolution=10**6)]:
        with pytest.raises(ValueError):
            lesson.feature_landscape(**settings)


def test_step_5_facts():
    runs = {key: lesson.spiral_net(*lesson.NETS[key]) for key in lesson.NETS}
    first = [run["ratio"][0] for run in runs.values()]
    assert 0.815 <= min(first) and max(first) < 0.945                  # "82 % to 94 %"
    convexity = {key: run["convexity"] for key, run in runs.items()}
    deep_narrow = [convexity["5x5"], convexity["10x5"]]
    others = [convexity["1x5"], convexity["1x20"], convexity["5x20"]]
    assert min(deep_narrow) > max(others)                                # the seed's observation
    np.testing.assert_allclose(deep_narrow, [0.70, 0.58], atol=0.005)
    assert 0.275 <= min(others) and max(others) < 0.475                 # "28 % to 47 %"
    for run in runs.values():
        assert len(run["coords"]) == len(run["path_loss"]) == len(run["frame_epochs"])
        assert run["loss"].shape == (lesson.RESOLUTION, lesson.RESOLUTION)


@pytest.mark.parametrize("layers, width, seed", [(-1, 5, 0), (1, 0, 0), (1, 10**6, 0), (1, 5, -1), (1, 5, NAN)])
def test_a_spiral_network_out_of_limits_is_refused(layers, width, seed):
    with pytest.raises(ValueError):
        lesson.spiral_net(layers, width, seed)


def test_step_6_facts():
    race = lesson.optimizer_race()
    sgd, momentum, adam = race["runs"]
    assert [run["name"] for run in race["runs"]] == ["sgd", "momentum", "adam"]
    overlap = np.array(race["overlap"])
    assert overlap[0, 0] == pytest.approx(0.999, abs=5e-4)
    assert overlap[0, 2] == pytest.approx(0.790, abs=5e-4) and overlap[2, 0] == pytest.approx(0.761, abs=5e-4)
    assert (sgd["path_loss"][-1], momentum["path_loss"][-1], adam["path_loss"][-1]) == \
        (pytest.approx(0.267, abs=5e-4), pytest.approx(0.086, abs=5e-4), pytest.approx(0.087, abs=5e-4))
    seen = [run["seen"] for run in race["runs"]]
    assert 0.335 <= min(seen) and max(seen) < 0.455
    for run in race["runs"]:
        np.testing.assert_allclose(run["coords"][0], [0.0, 0.0], atol=1e-9)    # one shared start
    # momentum and Adam go further along the fixed plane than SGD
    assert min(np.linalg.norm(momentum["coords"][-1]), np.linalg.norm(adam["coords"][-1])) > \
        np.linalg.norm(sgd["coords"][-1])


@pytest.mark.parametrize("resolution", [1, 10**6, 2.5, NAN])
def test_the_race_refuses_a_bad_grid(resolution):
    with pytest.raises(ValueError, match="resolution"):
        lesson.optimizer_race(resolution)


def test_variance_on_plane_known_answers():
    rng = np.random.default_rng(0)
    d1, d2 = np.eye(5)[0], np.eye(5)[1]
    in_plane = np.zeros((30, 5))
    in_plane[:, :2] = rng.normal(size=(30, 2))
    assert lesson.variance_on_plane(in_plane, d1, d2) == pytest.approx(1.0, rel=1e-12)
    across = np.zeros((30, 5))
    across[:, 3] = rng.normal(size=30)
    assert lesson.variance_on_plane(across, d1, d2) == pytest.approx(0.0, abs=1e-12)
    assert lesson.variance_on_plane(np.ones((30, 5)), d1, d2) == 0.0           # a path that does not move
    path = rng.normal(size=(40, 5))
    own = pca_directions(path)
    share = lesson.variance_on_plane(path, *own[:2])
    assert 0.0 < share < 1.0 and share == pytest.approx(own[2].sum(), rel=1e-9)


# -- the digit network: two parameters that moved most ------------------------------------


@pytest.fixture(scope="module")
def digits_adam():
    return lesson.digit_landscapes("adam")


def test_the_digit_network_names_every_parameter():
    X, y, model, names = lesson.digit_problem()
    assert X.shape == (1797, 64) and y.shape == (1797,) and model.n_params == 64 * 16 + 16 + 16 * 10 + 10
    assert len(names) == len(set(names)) == model.n_params
    assert names[0] == "pixel 1,1 → hidden unit 1" and names[16] == "pixel 1,2 → hidden unit 1"
    assert names[64 * 16] == "bias of hidden unit 1" and names[64 * 16 + 16] == "hidden unit 1 → digit 0"
    assert names[-1] == "bias of digit 9"
    # the names follow model.flatten: W0 (pixel, unit), b0, W1 (unit, digit), b1
    for k in (0, 17, 64 * 16 - 1, 64 * 16 + 3, 64 * 16 + 16 + 25, model.n_params - 2):
        vector = np.zeros(model.n_params)
        vector[k] = 1.0
        params = model.unflatten(vector)
        where = next((name, np.argwhere(v)[0]) for name, v in params.items() if v.any())
        assert lesson._locate(model, k)[0] == where[0]


def pairs_of_every_kind(model):
    d, h, c = model.layer_sizes
    w0 = lambda pixel, unit: pixel * h + unit                       # noqa: E731
    b0 = lambda unit: d * h + unit                                  # noqa: E731
    w1 = lambda unit, digit: d * h + h + unit * c + digit           # noqa: E731
    b1 = lambda digit: d * h + h + h * c + digit                    # noqa: E731
    return [(w0(5, 2), w0(7, 2)), (w0(5, 2), w0(9, 4)), (w0(16, 3), b0(3)), (w0(3, 1), w1(1, 4)),
            (w1(2, 3), b1(3)), (b0(5), b1(9)), (w1(0, 3), w1(0, 5)), (b1(3), w0(2, 8)), (w1(6, 1), w0(40, 6))]


def test_two_parameter_losses_are_the_networks_own_losses():
    X, y, model, _ = lesson.digit_problem()
    rng = np.random.default_rng(0)
    theta = model.flatten(model.init(3)) + 0.1 * rng.standard_normal(model.n_params)
    for pair in pairs_of_every_kind(model):
        values = rng.normal(0.0, 2.0, (30, 2))
        P = np.repeat(theta[None], len(values), axis=0)
        P[:, list(pair)] = values
        expected = model.loss_many(P, X, y, dtype=np.float64)
        got = lesson.two_parameter_losses(model, X, y, theta, pair, values)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_two_parameter_losses_refuse_other_networks_and_one_parameter_twice():
    X, y, model, _ = lesson.digit_problem()
    theta = model.flatten(model.init(0))
    with pytest.raises(ValueError, match="must differ"):
        lesson.two_parameter_losses(model, X, y, theta, (3, 3), np.zeros((1, 2)))
    deeper = lesson.MLP((64, 8, 8, 10))
    with pytest.raises(ValueError, match="one hidden layer"):
        lesson.two_parameter_losses(deeper, X, y, deeper.flatten(deeper.init(0)), (0, 1), np.zeros((1, 2)))


def test_a_digit_run_is_deterministic_and_refuses_what_it_cannot_use():
    a, b = lesson.digit_run("sgd", 1), lesson.digit_run("sgd", 1)
    assert np.array_equal(a["path"], b["path"]) and a["message"] == ""
    assert a["path"].shape == (lesson.DIGIT_STEPS + 1, 1210) and a["loss"].shape == (lesson.DIGIT_STEPS + 1,)
    assert a["loss"][-1] < 0.2 * a["loss"][0] and 0.9 < a["accuracy"] <= 1.0
    for optimizer in ("rmsprop", "", None, "<script>"):
        with pytest.raises(ValueError, match="choose one of sgd, adam"):
            lesson.digit_run(optimizer)
    for seed in (-1, 1.5, NAN, "0", True, 10**6):
        with pytest.raises(ValueError, match="seed"):
            lesson.digit_run("sgd", seed)


def test_the_two_parameter_slice_passes_through_the_trained_net(digits_adam):
    top, pca, facts = digits_adam["top"], digits_adam["pca"], digits_adam["facts"]
    final = facts["final_loss"]
    # both planes go through θ_T: the last point of the path lies on both, at the trained net's loss
    assert top["plane_loss"][-1] == pytest.approx(final, rel=1e-5)
    assert pca["plane_loss"][-1] == pytest.approx(final, rel=1e-5)
    np.testing.assert_allclose(pca["coords"][-1], 0.0, atol=1e-9)
    run = lesson.digit_run("adam")
    np.testing.assert_array_equal(top["coords"], run["path"][digits_adam["steps"]][:, list(facts["top"])])
    # the grid is the network's own loss at those parameter values
    X, y, model, _ = lesson.digit_problem()
    for row, column in ((0, 0), (20, 33), (40, 40)):
        theta = run["path"][-1].copy()
        theta[list(facts["top"])] = top["alphas"][column], top["betas"][row]
        assert top["loss"][row, column] == pytest.approx(model.loss_value(model.unflatten(theta), X, y), rel=1e-9)
    assert top["loss"].shape == pca["loss"].shape == (41, 41)
    assert len(digits_adam["steps"]) == lesson.DIGIT_SHOWN and digits_adam["steps"][-1] == lesson.DIGIT_STEPS


def test_the_two_parameters_and_their_pixels(digits_adam):
    facts = digits_adam["facts"]
    assert digits_adam["pixels"] == (16, 16) and digits_adam["inked"][16] == 4
    assert [digits_adam["names"][k] for k in facts["top"]] == ["pixel 3,1 → hidden unit 9",
                                                              "pixel 3,1 → hidden unit 10"]
    assert 0 < facts["share"] < facts["pca"] < 1
    assert facts["pca"] == pytest.approx(facts["ratio"].sum(), rel=1e-12)
    sgd = lesson.digit_landscapes("sgd")
    assert sgd["pixels"] == (None, None)                               # two weights of the second layer


@pytest.mark.parametrize("resolution", [1, 10**6, 2.5, NAN])
def test_the_digit_landscapes_refuse_a_bad_grid(resolution):
    with pytest.raises(ValueError, match="resolution"):
        lesson.digit_landscapes("sgd", 0, resolution)


# -- export -------------------------------------------------------------------------------


def export_data(paths: int = 1) -> dict:
    alphas, betas = np.linspace(-1, 1, 3), np.linspace(-2, 2, 4)
    loss = np.add.outer(betas ** 2, alphas ** 2)
    return {"alphas": alphas, "betas": betas, "loss": loss,
            "paths": [(f"p{i}", np.array([[1.0, 2.0], [0.0, 0.0]]) * (i + 1), np.array([5.0, 0.0]))
                      for i in range(paths)],
            "meta": {"model": "bowl"}}


def test_a_csv_export_holds_the_surface_and_the_path():
    rows = list(csv.DictReader(io.StringIO(lesson.export_text(export_data(), "csv"))))
    surface = [r for r in rows if r["kind"] == "surface"]
    assert len(surface) == 12 and [r["kind"] for r in rows[12:]] == ["path", "path"]
    assert {(float(r["alpha"]), float(r["beta"]), float(r["loss"])) for r in surface} >= {(1.0, 2.0, 5.0)}


def test_several_paths_are_named_in_csv_and_json():
    data = export_data(paths=3)
    kinds = {r["kind"] for r in csv.DictReader(io.StringIO(lesson.export_text(data, "csv")))}
    assert kinds == {"surface", "path-p0", "path-p1", "path-p2"}
    document = json.loads(lesson.export_text(data, "json"))
    assert document["path"]["alpha"] == [1.0, 0.0] and document["meta"]["path"] == "p0"
    assert set(document["meta"]["other_paths"]) == {"p1", "p2"} and document["meta"]["model"] == "bowl"
    assert np.array(document["loss"]).shape == (4, 3)


@pytest.mark.parametrize("change, message", [
    (dict(kind="xml"), "csv or json"), (dict(paths=[]), "at least one path"),
    (dict(alphas=np.array([0.0, NAN, 1.0])), "finite"), (dict(alphas=np.array([])), "alphas"),
    (dict(loss=np.zeros((2, 2))), "loss must have shape"),
])
def test_a_bad_export_is_refused(change, message):
    data = {**export_data(), **{k: v for k, v in change.items() if k != "kind"}}
    with pytest.raises(ValueError, match=message):
        lesson.export_text(data, change.get("kind", "json"))
