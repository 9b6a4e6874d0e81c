"""Every claim of the loss-landscape narration, recomputed from the lesson's own code.

Each test computes what a step says and checks that the narration says it as
the test prints it: the tolerance of a number is its rounding in the text
("97.3 %" within 0.05 points). Numbers of trained networks can move a little
on another CPU; where a claim rests on a comparison, the test also checks
that it holds with room to spare. Claims about "nets like this" are measured
over SEEDS, as the narration says.
"""

import functools
import math
import re
from pathlib import Path

import numpy as np
import pytest

from app.lessons import decision_boundaries as spirals
from app.lessons import loss_landscape as lesson
from app.ml import decision_runs, optim, train
from app.ml import landscape as ls
from app.ml.linear import LogisticRegression
from components.narration import load_steps

STEPS = {s.figure: s for s in load_steps(Path(__file__).parents[2] / "pages" / "loss_landscape.md")}
SEEDS = range(20)                       # "seeds 0–19"


def says(figure: str, *texts: str):
    s = STEPS[figure]
    text = re.sub(r"\s+", " ", " ".join((s.title, s.body, s.question, s.answer, s.task)))
    for t in texts:
        assert t in text, f"the narration of {figure!r} should say {t!r}"


def pct(share: float, decimals: int = 0) -> str:
    return f"{100 * share:.{decimals}f} %"


def span(values, decimals: int = 0, unit: str = " %", scale: float = 100.0) -> str:
    """"a % to b %" of the smallest and largest of values, as the narration writes a range."""
    low, high = scale * np.min(values), scale * np.max(values)
    return f"{low:.{decimals}f}{unit} to {high:.{decimals}f}{unit}"


@functools.lru_cache(maxsize=None)
def net(key: str, seed: int) -> dict:
    """lesson.spiral_net's landscape numbers, without its decision areas (the run is the same:
    training does not depend on the areas' grid; test_net_is_spiral_net checks it)."""
    layers, width = lesson.NETS[key]
    run = spirals.width_depth_run(layers, width, seed, keep_path=True, resolution=decision_runs.RESOLUTION_MIN)
    model, _, data = decision_runs.build(decision_runs.width_depth_spec(layers, width, seed))
    land = ls.pca_landscape(model, data.X_train, data.y_train, run["path"], lesson.RESOLUTION)
    return {"ratio": land.explained_variance_ratio, "convexity": ls.convexity_measure(land.loss),
            "final_loss": float(run["loss"][-1]), "coords": land.path}


@functools.lru_cache(maxsize=None)
def skip(seed: int) -> dict:
    return lesson.skip_landscapes(seed)


def test_net_is_spiral_net():
    shown = lesson.spiral_net(*lesson.NETS["10x5"], 1)
    ours = net("10x5", 1)
    np.testing.assert_allclose(ours["ratio"], shown["ratio"], rtol=1e-12)
    assert ours["convexity"] == shown["convexity"] and ours["final_loss"] == shown["final_loss"]


def slice_of(settings: tuple, directions: str) -> dict:
    model, data, *_, seed = settings
    return lesson.landscape_slice(lesson.training_path(*settings), model, data, directions, lesson.RESOLUTION,
                                  1.0, seed)


# -- steps 1 to 4: linear models ----------------------------------------------------------


def test_step_1_the_bowl_does_not_reach_zero_because_no_line_separates_the_flowers():
    land = lesson.feature_landscape()
    says("features", "100 Iris flowers", f"keep {pct(land['ratio'][0])} and {pct(land['ratio'][1])}",
         f"from 0 to {land['b'][-1]:.2f}", f"about ${land['path_loss'][-1]:.2f}$",
         f"$w = ({land['w'][-1][0]:.1f}, {land['w'][-1][1]:.1f})$")
    assert len(land["F"]) == 100 and land["b"][0] == 0
    # trained 20 times longer the loss settles above 0.2, with flowers on the wrong side:
    # a separable set would let the loss fall towards 0
    model = LogisticRegression(2, 2, init_scale=1.5)
    history = train.run(model, optim.sgd(lr=0.5), (land["F"], land["y"]), lesson.MAX_STEPS * 6, 2,
                        max_steps=lesson.MAX_STEPS * 6)
    end = {k: v[-1] for k, v in history.params.items()}
    scores = land["F"] @ end["W"] + end["b"]
    assert history.loss[-1] > 0.2 and abs(history.loss[-1] - history.loss[-100]) < 1e-4
    assert np.mean(scores.argmax(axis=1) == land["y"]) < 1


def test_step_2_the_path_floats_above_the_slice_of_the_two_parameters_that_moved_most():
    top = slice_of(lesson.CASE_RUNS["logistic"], "top")
    says("top", "**15 parameters**: 4 × 3 weights and 3 biases", "surface in 16 dimensions",
         "other 13 at their final values", "*petal width* to *virginica*", "*petal length* to *setosa*")
    assert top["n_params"] == 15
    assert [top["names"][i] for i in top["top"]] == ["w[petal width, virginica]", "w[petal length, setosa]"]
    assert np.all(top["path_loss"] >= top["plane_loss"] - 1e-12)      # floats above, never below
    assert top["path_loss"][-1] == pytest.approx(top["plane_loss"][-1], rel=1e-12)
    says("top", f"loss of {top['path_loss'][0]:.2f}", f"slice under it says {top['plane_loss'][0]:.2f}")


def test_step_3_two_convex_slices_and_their_variance():
    svm, logistic = slice_of(lesson.CASE_RUNS["svm"], "pca"), slice_of(lesson.CASE_RUNS["logistic"], "pca")
    says("pca", "51 × 51 = 2,601", "31 parameters", f"holds **{pct(svm['ratio'][0], 1)}**",
         f"the second {pct(svm['ratio'][1], 1)}", f"{pct(logistic['ratio'][0], 1)} and",
         f"{pct(logistic['ratio'][1], 1)}", "Step 8 shows both")
    assert svm["loss"].size == 2601 and svm["convexity"] == 0.0 == logistic["convexity"]
    assert STEPS["centring"] == list(STEPS.values())[7]             # "step 8"


def test_step_4_the_path_starts_off_the_plane():
    svm = slice_of(lesson.CASE_RUNS["svm"], "pca")
    says("ball", f"step 0 is {svm['path_loss'][0]:.3f}", f"surface under it {svm['plane_loss'][0]:.3f}",
         f"differ by only {abs(svm['path_loss'][10] - svm['plane_loss'][10]):.3f}")


# -- step 5: the seed's two observations, on seed 0 and over seeds ------------------------


def test_step_5_on_seed_0_the_seeds_observations_hold():
    runs = {key: net(key, 0) for key in lesson.NETS}
    first = [run["ratio"][0] for run in runs.values()]
    convexity = {key: run["convexity"] for key, run in runs.items()}
    narrow = [convexity["5x5"], convexity["10x5"]]
    others = [convexity[k] for k in ("1x5", "1x20", "5x20")]
    says("nets", f"{span(first)} on seed 0", f"{pct(narrow[0])} and {pct(narrow[1])} of the grid points",
         f"against {span(others)} in the other three", "path kept at 41 of its epochs")
    assert min(narrow) > max(others) + 0.05                            # with room to spare
    assert all(len(run["coords"]) == 41 for run in runs.values())


def test_step_5_over_seeds_the_first_component_stays_below_the_seeds_95_percent():
    first = np.array([[net(key, seed)["ratio"][0] for seed in SEEDS] for key in lesson.NETS])
    says("nets", '"almost always gets **95 %+**"', f"{span(first)} over the 100 runs of seeds 0–19",
         f"of which {int((first >= 0.95).sum())} reach 95 %", "do not confirm the seed's number")
    assert first.size == 100 and np.median(first) < 0.95


def test_step_5_a_stuck_10_x_5_has_an_almost_convex_slice():
    stuck = [net("10x5", seed) for seed in (1, 2)]
    assert all(run["final_loss"] > spirals.STUCK_LOSS for run in stuck)
    assert not net("10x5", 0)["final_loss"] > spirals.STUCK_LOSS
    says("nets", "Seeds 1 and 2 do not: there the 10 × 5 gets stuck",
         f"almost convex ({pct(stuck[0]['convexity'])} and {pct(stuck[1]['convexity'])})")
    assert max(run["convexity"] for run in stuck) < 0.1


def test_step_5_over_seeds_deep_narrow_slices_are_not_always_the_least_convex():
    convexity = {key: np.array([net(key, seed)["convexity"] for seed in SEEDS]) for key in lesson.NETS}
    narrow = np.maximum(convexity["5x5"], convexity["10x5"])
    others = np.maximum.reduce([convexity[k] for k in ("1x5", "1x20", "5x20")])
    wins = int((narrow > others).sum())
    medians = {key: np.median(values) for key, values in convexity.items()}
    says("nets", f"Over seeds 0–19 the least convex slice is a deep narrow one on {wins} of 20 seeds",
         "median share of non-convex grid points: " + ", ".join(
             f"{key.replace('x', ' × ')} {pct(medians[key])}" for key in lesson.NETS))


# -- step 6: optimizers on one plane, and their step sizes --------------------------------


def test_step_6_pca_planes_differ_and_the_fixed_plane_catches_part_of_each_path():
    race = lesson.optimizer_race()
    overlap = np.array(race["overlap"])
    says("optimizers", f"shows {pct(overlap[0, 0], 1)} of SGD's path", f"only {pct(overlap[0, 2], 1)} of Adam's",
         f"Adam's plane only {pct(overlap[2, 0], 1)} of SGD's",
         f"{span([run['seen'] for run in race['runs']])} of its travel")


def test_step_6_the_final_losses_and_what_the_step_size_does():
    race = lesson.optimizer_race()
    sgd, momentum, adam = (run["path_loss"][-1] for run in race["runs"])
    says("optimizers", f"(final loss {momentum:.3f} and {adam:.3f}) than SGD ({sgd:.3f})")
    assert lesson.RACE == (("sgd", 0.1), ("momentum", 0.1), ("adam", 0.05))
    effective = lesson.RACE[1][1] / (1 - 0.9)                         # momentum's β is torch's default 0.9
    same_step = lesson.race_sweep((effective,))["sgd"][0]
    says("optimizers", f"$\\eta / (1 - \\beta) = {effective:.1f}$", f"SGD with $\\eta = {effective:.1f}$ ends at "
         f"{same_step:.3f}")
    assert abs(same_step - momentum) < 0.01                           # the step size, not the method


def test_step_6_each_optimizer_at_its_best_step_size():
    sweep = lesson.race_sweep()
    rates = lesson.RACE_RATES
    says("optimizers", f"best of {len(rates)} step sizes from {rates[0]:g} to {rates[-1]:g}")
    best = {name: int(np.nanargmin(values)) for name, values in sweep.items()}
    for name, label in (("sgd", "SGD at"), ("momentum", "momentum at"), ("adam", "Adam at")):
        k = best[name]
        says("optimizers", f"{label} {sweep[name][k]:.3f} ($\\eta = {rates[k]:g}$)")
        assert 0 < k < len(rates) - 1                                   # an optimum inside the sweep
    values = [sweep[name][k] for name, k in best.items()]
    assert max(values) - min(values) < 0.002
    says("optimizers", "within 0.002 of each other")


# -- step 7: which two directions ---------------------------------------------------------


def test_step_7_three_planes_on_seed_0():
    data = lesson.direction_planes()
    random, start_end, pca = data["planes"]
    says("directions", f"{data['n_params']:,} parameters", f"holds **{pct(random['share'], 1)}**",
         f"its shadow spans {random['span'].max():.1f} where the PCA one spans {pca['span'].max():.1f}",
         f"holds {pct(start_end['share'], 1)}, and {pct(start_end['along_first'], 2)} of that",
         f"The PCA plane holds {pct(pca['share'], 1)}")
    assert lesson.DIRECTIONS_RUN == ("mlp-5x20", "spiral3", "adam", 0.01, 200)
    for plane in data["planes"]:   # orthonormal directions: shares are of one ruler
        assert 0 < plane["share"] < 1


def test_step_7_over_seeds_the_seeds_two_warnings_hold():
    shares = {kind: np.array([lesson.direction_shares(seed)[kind] for seed in SEEDS]) for kind in lesson.PLANES}
    random, start_end, pca = shares["random"], shares["start-end"], shares["pca"]
    says("directions", f"the random plane holds {span(random[:, 0], 2)}",
         f"the start-to-end plane {span(start_end[:, 0])} with at least {pct(start_end[:, 1].min(), 2)}",
         f"the PCA plane {span(pca[:, 0])}", "hold on every seed")
    assert random[:, 0].max() < 0.02 and start_end[:, 1].min() > 0.999
    assert np.all(pca[:, 0] > start_end[:, 0]) and np.all(start_end[:, 0] > random[:, 0])


# -- step 8: centred on the end or on the mean --------------------------------------------


def test_step_8_what_changes_between_the_two_centrings():
    data = lesson.centrings()
    final, mean = data["final"]["plane_loss"][-1], data["mean"]["plane_loss"][-1]
    says("centring", f"({pct(data['ratio'].sum(), 1)} of its path", f"lie {data['gap']:.2f} apart",
         f"the path is {data['length']:.1f} long", f"own loss, {final:.4f}", f"gives {mean:.4f}, "
         f"{mean / final:.0f} times", f"differ by up to {data['most']:.2f}")
    assert final == pytest.approx(data["path_loss"][-1], rel=1e-9)   # the plane through θ_T holds the trained net
    # the shadows are the same, shifted; the planes are parallel
    shift = data["mean"]["coords"] - data["final"]["coords"]
    np.testing.assert_allclose(shift, np.broadcast_to(shift[0], shift.shape), atol=1e-9)
    svm = lesson.centrings(*lesson.CASE_RUNS["svm"])
    assert svm["ratio"].sum() > 0.995
    says("centring", "almost flat in its plane (over 99.5 %)", f"lie {svm['gap']:.3f} apart",
         f"read {svm['final']['plane_loss'][-1]:.4f} and {svm['mean']['plane_loss'][-1]:.4f}")


# -- step 9: skip connections in a slice --------------------------------------------------


def test_step_9_the_stuck_plain_slice_is_the_more_convex_one():
    data = skip(0)
    plain, residual = data["plain"], data["residual"]
    says("skip", f"{pct(plain['convexity'], 1)} for the plain slice",
         f"{pct(residual['convexity'], 1)} for the residual", f"stays at {plain['final_loss']:.2f}",
         f"ends at {residual['final_loss']:.3f}")
    assert plain["final_loss"] > spirals.STUCK_LOSS > residual["final_loss"]
    assert np.ptp(plain["loss"]) < 0.01 < np.ptp(residual["loss"])
    says("skip", "the loss varies by less than 0.01 over the whole grid")
    stuck = {variant: sum(skip(seed)[variant]["final_loss"] > spirals.STUCK_LOSS for seed in SEEDS)
             for variant in ("plain", "residual")}
    says("skip", f"the plain network is stuck on {stuck['plain']}", f"the residual one on {stuck['residual']}")


def test_step_9_over_seeds():
    rows = [skip(seed) for seed in SEEDS]
    plain = np.array([r["plain"]["convexity"] for r in rows])
    residual = np.array([r["residual"]["convexity"] for r in rows])
    stuck = np.array([r["plain"]["final_loss"] > spirals.STUCK_LOSS for r in rows])
    less_convex = int((residual > plain).sum())
    says("skip", f"Over seeds 0–19 the residual slice is the less convex one on {less_convex} of 20",
         f"median {pct(np.median(residual))} against {pct(np.median(plain))}",
         f"the {int(stuck.sum())} stuck plain slices have at most {pct(plain[stuck].max())}")


# -- step 10: the ball that switches landscapes -------------------------------------------


def test_step_10_the_ball_on_seed_0():
    ball = lesson.switching_ball()
    says("switch", "logistic regression on Iris", "(15 parameters)", "other 13 held",
         f"($\\eta = {lesson.BALL_LR:.1f}$)", f"less than {lesson.BALL_SETTLED:g}",
         f"at most {lesson.BALL_MAX_STEPS} steps",
         f"{lesson.BALL_SLICES} slices take the loss from {ball['loss'][0]:.3f} to {ball['loss'][-1]:.3f} in "
         f"{len(ball['loss']) - 1} steps")
    assert len(ball["stages"]) == lesson.BALL_SLICES == 6 and ball["n_params"] == 15
    assert np.all(np.diff(ball["loss"]) <= 1e-12)                    # "it never goes up"
    for stage in ball["stages"]:   # the ball stays on its slice: its height is the model's loss
        assert len(set(stage["pair"])) == 2


def test_step_10_over_seeds_gradient_descent_on_all_parameters_ends_lower():
    balls = [lesson.switching_ball(seed) for seed in SEEDS]
    ends_ = np.array([b["loss"][-1] for b in balls])
    gd = np.array([b["gd"][-1] for b in balls])
    assert all(np.all(np.diff(b["loss"]) <= 1e-12) for b in balls)
    assert np.all(gd < ends_) and all(len(b["gd"]) == len(b["loss"]) for b in balls)   # as many steps
    says("switch", f"six slices end at {ends_.min():.2f} to {ends_.max():.2f}",
         f"ends lower on all 20 seeds ({gd.min():.3f} to {gd.max():.3f})")
    assert math.isfinite(gd.sum())
