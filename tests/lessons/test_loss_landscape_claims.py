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
from app.ml import datasets, decision_runs, optim, train
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
         f"{pct(logistic['ratio'][1], 1)}", "Step 9 shows both")
    assert svm["loss"].size == 2601 and svm["convexity"] == 0.0 == logistic["convexity"]
    assert STEPS["centring"] == list(STEPS.values())[8]             # "step 9"


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


# -- step 8: two parameters of a digit network --------------------------------------------


@functools.lru_cache(maxsize=None)
def digits(optimizer: str, seed: int) -> dict:
    """A digit run's two most-moved parameters (lesson.two_parameter_facts), what they are,
    and for Adam the span of the loss over the slice the step draws."""
    run = lesson.digit_run(optimizer, seed)
    facts = lesson.two_parameter_facts(run)
    _, _, model, names = lesson.digit_problem()
    where = [lesson._locate(model, k) for k in facts["top"]]
    steps = np.abs(np.diff(run["path"][:, list(facts["top"])], axis=0))
    out = {**facts, "names": [names[k] for k in facts["top"]], "layers": [w[0] for w in where],
           "pixels": [w[1] if w[0] == "W0" else None for w in where], "mean_step": steps.mean(axis=0)}
    if optimizer == "adam":
        out["span"] = float(np.ptp(lesson.two_parameter_slice(run, facts["top"])["loss"]))
    return out


def test_step_8_the_digits_and_the_network():
    X, y, model, _ = lesson.digit_problem()
    d, h, c = lesson.DIGIT_SIZES
    says("digits", f"{len(y):,} handwritten digits of {' × '.join(map(str, datasets.DIGITS_SHAPE))} pixels",
         f"from 0 to {datasets.DIGITS_LEVELS}, divided by {datasets.DIGITS_LEVELS}", f"with {h} hidden units",
         f"in {lesson.DIGIT_STEPS} full-batch steps",
         f"{d} × {h} + {h} + {h} × {c} + {c} = **{model.n_params:,} parameters**",
         f"the other {model.n_params - 2:,} held", "41 × 41 = 1,681 points")
    assert X.shape[1] == d and np.isclose(X.max(), 1.0) and set(np.unique(y)) == set(range(c))
    assert lesson.DIGIT_OPTIMIZERS == {"sgd": 0.5, "adam": 0.01}


def test_step_8_with_sgd_two_weights_of_the_second_layer():
    sgd = digits("sgd", 0)
    says("digits", f"the seed's step size, $\\eta = {lesson.DIGIT_OPTIMIZERS['sgd']:g}$",
         "*{}* and *{}*".format(*sgd["names"]),
         f"Their plane holds {pct(sgd['share'], 1)} of the path's variance, the PCA plane {pct(sgd['pca'], 1)}",
         f"Under the path's start the slice says {sgd['under_start']['top']:.2f}, the PCA plane "
         f"{sgd['under_start']['pca']:.2f} and the network {sgd['start_loss']:.2f}")
    assert sgd["layers"] == ["W1", "W1"]
    # "it misses most of the descent": under the start the slice is nearer the trained net's loss
    # than the start's, since only two of the parameters are back at their start
    says("digits", f"keeps the other {lesson.MLP(lesson.DIGIT_SIZES).n_params - 2:,} parameters where training",
         "misses most of the descent")
    drop = sgd["start_loss"] - sgd["final_loss"]
    assert sgd["under_start"]["top"] - sgd["final_loss"] < 0.5 * drop


def test_step_8_with_adam_weights_of_a_pixel_that_is_almost_always_blank():
    adam = digits("adam", 0)
    X, *_ = lesson.digit_problem()
    pixel = adam["pixels"][0]
    row, column = divmod(pixel, datasets.DIGITS_SHAPE[1])
    inked = int(np.count_nonzero(X[:, pixel]))
    lr = lesson.DIGIT_OPTIMIZERS["adam"]
    says("digits", f"**Adam**, $\\eta = {lr:g}$", f"*pixel {row + 1},{column + 1}* (row {row + 1},",
         f"column {column + 1}, at the left edge), which has ink in only {inked} of the {len(X):,} images",
         f"travel far ({adam['moved'][0]:.2f} and {adam['moved'][1]:.2f})", "changes by less than 0.001",
         f"Their plane holds {pct(adam['share'], 1)} of the path, the PCA plane {pct(adam['pca'], 1)}")
    assert adam["pixels"] == [pixel, pixel] and column == 0 and adam["span"] < 0.001
    # "Adam steps about η however gentle the slope": each of the two moves by η ± 20 % a step on average
    assert np.all(np.abs(adam["mean_step"] / lr - 1) < 0.2)


def test_step_8_over_seeds():
    sgd = [digits("sgd", seed) for seed in SEEDS]
    adam = [digits("adam", seed) for seed in SEEDS]
    X, *_ = lesson.digit_problem()
    inked = np.count_nonzero(X, axis=0)
    most = int(inked[adam[0]["pixels"][0]])
    shares = [r["share"] for r in sgd + adam]
    pcas = [r["pca"] for r in sgd + adam]
    blank = sum(all(p is not None and inked[p] <= most for p in r["pixels"]) for r in adam)
    flat = sum(r["span"] < 0.001 for r in adam)
    second = sum(r["layers"] == ["W1", "W1"] for r in sgd)
    says("digits", f"Over seeds 0–19, with either optimizer, the two-parameter plane holds {span(shares, 1)} of "
                   "the path",
         f"the PCA plane {span(pcas, 1)}", f"a pixel with ink in at most {most} images on {blank} of 20 seeds",
         f"all {flat} slices change by less than 0.001" if flat == 20 else "(not all flat)",
         f"both lead from a hidden unit to a digit on {second} of 20")
    assert max(shares) < 0.1 < 0.95 < min(pcas)
    # "which ones move most depends on the optimizer": never a second-layer weight with Adam, never a
    # weight of a pixel blank in 99 % of the images with SGD
    assert all("W1" not in r["layers"] for r in adam)
    assert all(p is None or inked[p] > 0.01 * len(X) for r in sgd for p in r["pixels"])


def test_step_8_the_seeds_ranking_and_its_line():
    same = {name: sum(set(digits(name, seed)["top"]) == set(digits(name, seed)["by_steps"]) for seed in SEEDS)
            for name in ("sgd", "adam")}
    says("digits", f"the same pair on {same['sgd']} of 20 seeds with SGD and on {same['adam']} of 20 with Adam",
         "ranks the parameters by the total length of their steps", "its network has no hidden layer",
         "(dashed)")


# -- step 9: centred on the end or on the mean --------------------------------------------


def test_step_9_what_changes_between_the_two_centrings():
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


# -- step 10: skip connections in a slice -------------------------------------------------


def test_step_10_the_stuck_plain_slice_is_the_more_convex_one():
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


def test_step_10_over_seeds():
    rows = [skip(seed) for seed in SEEDS]
    plain = np.array([r["plain"]["convexity"] for r in rows])
    residual = np.array([r["residual"]["convexity"] for r in rows])
    stuck = np.array([r["plain"]["final_loss"] > spirals.STUCK_LOSS for r in rows])
    less_convex = int((residual > plain).sum())
    says("skip", f"Over seeds 0–19 the residual slice is the less convex one on {less_convex} of 20",
         f"median {pct(np.median(residual))} against {pct(np.median(plain))}",
         f"the {int(stuck.sum())} stuck plain slices have at most {pct(plain[stuck].max())}")


# -- step 11: the ball that switches landscapes -------------------------------------------


def test_step_11_the_ball_on_seed_0():
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


def test_step_11_over_seeds_gradient_descent_on_all_parameters_ends_lower():
    balls = [lesson.switching_ball(seed) for seed in SEEDS]
    ends_ = np.array([b["loss"][-1] for b in balls])
    gd = np.array([b["gd"][-1] for b in balls])
    assert all(np.all(np.diff(b["loss"]) <= 1e-12) for b in balls)
    assert np.all(gd < ends_) and all(len(b["gd"]) == len(b["loss"]) for b in balls)   # as many steps
    says("switch", f"six slices end at {ends_.min():.2f} to {ends_.max():.2f}",
         f"ends lower on all 20 seeds ({gd.min():.3f} to {gd.max():.3f})")
    assert math.isfinite(gd.sum())
