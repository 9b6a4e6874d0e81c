"""Every claim of the graph-layout narration, recomputed from the lesson's own code.

Numbers are checked as the text rounds them (the tolerance is that rounding)
unless a test says otherwise. Counts of tangled runs are exact: a run is
deterministic for its seed. Claims about "trees like these" are measured
over the seeds the text names; a sweep's best step size is checked against
every other step size of the sweep, one test per step size (each a few
seconds), so no test runs a whole sweep.
"""

import functools
import math
import re
from pathlib import Path

import numpy as np
import pytest

from app.lessons import graph_layout as lesson
from app.ml import graph_layout as gl
from app.ml import optim
from components.narration import load_steps

_STEPS = load_steps(Path(__file__).parents[2] / "pages" / "graph_layout.md")
STEPS = {s.figure: s for s in _STEPS}


def says(figure: str, *texts: str):
    """The step of `figure` (its text, question, answer and task) says each of `texts`."""
    s = STEPS[figure]
    text = re.sub(r"\s+", " ", " ".join((s.body, s.question, s.answer, s.task)))
    for t in texts:
        assert t in text, f"the narration of {figure!r} should say {t!r}"


@functools.lru_cache(maxsize=None)
def final(figure: str, k: int = 0) -> dict:
    """Run k of a narrated step's scene, exactly as the page runs it."""
    scene = lesson.NARRATED[figure]
    run = scene.runs[k]
    frames, metric_frames = lesson.scene_frames(scene)
    return lesson.layout_run(scene.family, scene.n, scene.seed, run.optimizer, run.hyper, run.init, scene.steps,
                             frames, metric_frames, scene.arrows)


@functools.lru_cache(maxsize=None)
def every_step(figure: str, k: int = 0, steps: int | None = None) -> gl.LayoutHistory:
    """Run k of a narrated scene with its positions at every step (`steps`: how many; default the scene's)."""
    scene = lesson.NARRATED[figure]
    run = scene.runs[k]
    return gl.run_layout(gl.make_graph(scene.family, scene.n, scene.seed), scene.n,
                         gl.layout_optimizer(run.optimizer, **dict(run.hyper)),
                         scene.steps if steps is None else steps, run.init, scene.seed, radius=lesson.RADIUS)


def first_below(loss, threshold):
    """The first step whose E is below `threshold`, or None."""
    below = np.asarray(loss) < threshold
    return int(np.argmax(below)) if below.any() else None


def tangled(result: dict) -> bool:
    """The tangle experiment's rule, on a run's final metrics: a crossing or > 0.01 energy per link."""
    return result["final"]["crossings"] > 0 or result["final"]["energy"] / len(result["edges"]) > 0.01


@functools.lru_cache(maxsize=None)
def tangle_count(name: str, lr: float, first_seed: int = 0, n: int = lesson.TANGLE_N) -> int:
    return lesson.tangle_result(name, lr, first_seed, n)["tangled"]


@functools.lru_cache(maxsize=None)
def race_score(name: str, lr: float) -> float:
    return lesson.race_score(name, lr)


# -- the objective -------------------------------------------------------------------------


def test_the_energy_is_the_one_written_and_the_start_has_about_780():
    edges = gl.make_graph(*lesson.TREE)
    X = gl.random_start(16, 0)
    d = lambda i, j: np.linalg.norm(X[i] - X[j])  # noqa: E731
    links = sum(max(0.0, d(i, j) - 2) ** 2 for i, j in edges)
    pairs = sum(max(0.0, 2 - d(i, j)) ** 2 for i in range(16) for j in range(i + 1, 16))
    energy, _ = gl.layout_loss_and_grad(X, edges)
    assert gl.DEFAULT_OVERLAP_WEIGHT == 4 and energy == pytest.approx(links + 4 * pairs, rel=1e-12)
    assert abs(energy - 780) < 1 and final("objective")["loss"][0] == pytest.approx(energy)
    says("objective", "weighted $w = 4$", "$E \\approx 780$", "A perfect drawing has $E = 0$")
    says("intro", "Each of these 16 circles is a node of a tree")
    assert lesson.NARRATED["intro"].n == 16 and lesson.NARRATED["intro"].family == "tree"


def test_the_arrows_are_a_tenth_of_minus_the_gradient_and_the_longest_link_pulls_hardest():
    assert lesson.NARRATED["objective"].arrows == 0.1
    says("objective", "$-\\nabla E$ for each circle (at a tenth of its length)")
    edges = gl.make_graph(*lesson.TREE)
    X = gl.random_start(16, 0)
    _, grad = gl.layout_loss_and_grad(X, edges)
    length = np.linalg.norm(X[edges[:, 0]] - X[edges[:, 1]], axis=1)
    longest = edges[np.argmax(length)]
    assert np.argmax(np.linalg.norm(grad, axis=1)) in longest      # "their circles get the longest arrows"


# -- gradient descent and momentum on the tree of 16 ----------------------------------------


def test_gradient_descent_follows_its_rule_and_falls_fast_then_crawls():
    run = lesson.NARRATED["descent"].runs[0]
    lr = dict(run.hyper)["lr"]
    assert lr == 0.02 and lr / lesson.NARRATED["descent"].arrows == pytest.approx(0.2)   # "a fifth of the arrow"
    says("descent", "$\\eta = 0.02$ (the **learning rate**) times $-\\nabla E$, a fifth of the arrow drawn")
    history = every_step("descent")
    edges = gl.make_graph(*lesson.TREE)
    _, grad = gl.layout_loss_and_grad(history.positions[0], edges)
    np.testing.assert_allclose(history.positions[1], history.positions[0] - lr * grad, rtol=1e-12)
    sgd = final("descent")
    assert round(sgd["loss"][0]) == 779 and round(sgd["loss"][50]) == 24
    says("descent", "$E$ falls from 780 to 24 in the first 50 steps")


def test_gradient_descent_is_stuck_in_a_local_minimum():
    sgd = final("descent")
    assert round(sgd["loss"][-1], 1) == 11.9
    assert sgd["final"]["crossings"] == 6 and sgd["final"]["overlapping_pairs"] == 22
    assert sgd["loss"][-1] > 0.95 * sgd["loss"][-51]                 # "less than 5 % over the last 50 steps"
    longer = every_step("descent", steps=3000)
    edges = gl.make_graph(*lesson.TREE)
    _, grad = gl.layout_loss_and_grad(longer.final_positions, edges)
    assert longer.metrics["crossings"] > 0 and round(longer.loss[-1], 1) == 11.6 and np.abs(grad).max() < 1e-11
    says("descent", "After 300 steps $E \\approx 11.9$: the drawing has 6 crossing links and 22 overlapping pairs",
         "fell by less than 5 % over the last 50 steps", "after 3,000 steps it is still tangled ($E \\approx 11.6$)",
         "its gradient has vanished (below $10^{-11}$)")


def test_the_momentum_formula_is_the_optimizer_s_update():
    """v <- beta v - eta grad, x <- x + v is torch's b <- beta b + g, x <- x - eta b with v = -eta b."""
    run = lesson.NARRATED["momentum"].runs[1]
    hyper = dict(run.hyper)
    assert run.optimizer == "momentum" and hyper == {"lr": 0.02, "momentum": 0.9}
    history = every_step("momentum", 1, steps=5)
    edges = gl.make_graph(*lesson.TREE)
    x, v = history.positions[0].copy(), np.zeros((16, 2))
    for t in range(1, 6):
        _, grad = gl.layout_loss_and_grad(x, edges)
        v = 0.9 * v - 0.02 * grad
        x = x + v
        np.testing.assert_allclose(history.positions[t], x, rtol=1e-10, atol=1e-12)
    says("momentum", "$\\beta = 0.9$", "$$v \\leftarrow \\beta v - \\eta\\, \\nabla E(x), \\qquad x \\leftarrow x + v$$")


def test_momentum_untangles_the_tree_that_gradient_descent_leaves_tangled():
    sgd, momentum = final("momentum", 0), final("momentum", 1)
    assert sgd["final"] == final("descent")["final"]                 # the same run as the last step
    assert momentum["final"]["overlapping_pairs"] == 0 and momentum["final"]["crossings"] == 0
    assert first_below(momentum["loss"], 0.01) == 98 and 1e-12 < momentum["loss"][-1] < 1e-10
    says("momentum", "same $\\eta = 0.02$: gradient descent (left) stops at $E \\approx 11.9$ with 6 crossings",
         "momentum (middle) gets $E$ below 0.01 by step 98", "ends at $E \\approx 10^{-11}$")


def test_at_momentum_s_effective_step_gradient_descent_diverges_and_just_below_it_untangles_too():
    beta, lr = 0.9, 0.02
    opt = optim.make("momentum", lr=lr, momentum=beta)
    state, g = opt.init(np.zeros(2)), np.array([1.0, -3.0])
    for _ in range(400):
        update, state = opt.update(g, state, np.zeros(2))
    np.testing.assert_allclose(update, -lr / (1 - beta) * g, rtol=1e-9)   # a steady gradient: 10 eta
    near = lesson.NARRATED["momentum"].runs[2]
    assert near.optimizer == "sgd" and dict(near.hyper)["lr"] == 0.15
    below = final("momentum", 2)
    assert first_below(below["loss"], 0.01) == 164 and below["final"]["crossings"] == 0
    assert below["final"]["overlapping_pairs"] == 0
    equal = gl.run_layout(gl.make_graph(*lesson.TREE), 16, gl.layout_optimizer("sgd", lr=lr / (1 - beta)), 300,
                          "random", 0)
    assert equal.diverged_at == 39
    says("momentum", "$\\eta / (1 - \\beta) = 10\\,\\eta$", "$\\eta = 0.15$ (right), gradient descent finds the "
         "perfect drawing too ($E$ below 0.01 at step 164)", "at exactly that step, $\\eta = 0.2$, it overshoots and "
         "diverges at step 39")


# -- adaptive step sizes ---------------------------------------------------------------------


def test_gradient_descent_at_0_3_diverges_and_the_steepest_circle_is_pulled_with_62_5():
    edges = gl.make_graph(*lesson.TREE)
    steepest = np.linalg.norm(gl.layout_loss_and_grad(gl.random_start(16, 0), edges)[1], axis=1).max()
    assert round(steepest, 1) == 62.5 and final("adaptive", 0)["diverged_at"] == 11
    assert [dict(r.hyper)["lr"] for r in lesson.NARRATED["adaptive"].runs] == [0.3, 0.3, 0.3]
    says("adaptive", "gradients up to 62.5 per circle here", "**diverges at step 11**", "the same $\\eta = 0.3$")


def test_adam_s_first_step_is_eta_and_rmsprop_s_ten_eta_in_every_coordinate():
    rmsprop, adam = every_step("adaptive", 1), every_step("adaptive", 2)
    for history, k in ((rmsprop, 1), (adam, 2)):
        np.testing.assert_array_equal(history.loss, final("adaptive", k)["loss"])   # the runs on the page
    np.testing.assert_allclose(np.abs(adam.positions[1] - adam.positions[0]), 0.3, rtol=1e-6)
    np.testing.assert_allclose(np.abs(rmsprop.positions[1] - rmsprop.positions[0]), 3.0, rtol=1e-6)
    assert optim.OPTIMIZERS["rmsprop"].hyperparameters[1].default == 0.99       # 1 / sqrt(1 - 0.99) = 10
    says("adaptive", "its first step moves every circle by $\\eta = 0.3$ in each coordinate",
         "its first step is $10\\,\\eta = 3$ radii in each coordinate")


def test_rmsprop_keeps_kicking_and_adam_stays_tangled():
    rmsprop, adam = final("adaptive", 1), final("adaptive", 2)
    assert rmsprop["diverged_at"] is None and adam["diverged_at"] is None
    assert np.sum(np.diff(rmsprop["loss"]) > 0) == 121 and np.sum(np.diff(adam["loss"]) > 0) == 12
    assert int(np.argmin(rmsprop["loss"])) == 141 and round(rmsprop["loss"].min(), 3) == 0.005
    assert round(rmsprop["loss"][-1], 2) == 0.44 and rmsprop["final"]["crossings"] == 0
    assert round(adam["loss"][-1], 1) == 7.8 and adam["final"]["crossings"] == 4
    says("adaptive", "its $E$ rose in 121 of its 300 steps (Adam's in 12)", "dipped to 0.005 at step 141",
         "ends at $E \\approx 0.44$ with no crossings", "it ends with 4 crossings and $E \\approx 7.8$")


# -- tangles: the seed's claim, at equal and at best step sizes ------------------------------


@pytest.mark.parametrize("name, lr, count", [("sgd", 0.02, 45), ("momentum", 0.02, 27), ("nesterov", 0.02, 28),
                                             ("adam", 0.1, 44), ("momentum", 0.002, 44)])
def test_tangle_counts_at_the_lesson_s_defaults_and_at_equal_effective_step(name, lr, count):
    if lr == 0.002:         # gradient descent's effective step: eta / (1 - beta) = 0.02
        assert lr / (1 - dict(lesson.lesson_run("momentum").hyper)["momentum"]) == pytest.approx(0.02)
    else:
        assert lesson.default_hyper(name)["lr"] == lr
    assert tangle_count(name, lr) == count
    says("tangle", "At the lesson's defaults ($\\eta = 0.02$, Adam 0.1) momentum ends tangled on 27 trees and "
         "Nesterov on 28, gradient descent on 45 and Adam on 44", "momentum at $\\eta = 0.002$, the same effective "
         "step as gradient descent's, is tangled on 44", "tangled on 27 of the 50 trees against gradient descent's 45")


@pytest.mark.parametrize("name, count", [("sgd", 15), ("momentum", 9), ("nesterov", 24), ("adam", 24)])
def test_tangle_counts_each_at_its_best_step_size(name, count, monkeypatch):
    """The bars' counts, on the page's 50 trees (seeds 0-49), which the sweep did not see."""
    assert lesson.TANGLE_TUNING_SEED >= lesson.TANGLE_TRIALS
    assert tangle_count(name, lesson.TANGLE_RATES[name]) == count
    monkeypatch.setattr(gl, "tangle_rate", lambda optimizer, **settings: settings)
    asked = lesson.tangle_result(name)                 # what the page asks for: the best step size
    assert asked == {"n": 12, "trials": 50, "seed": 0, "family": "tree", "steps": 300,
                     "lr": lesson.TANGLE_RATES[name]}
    says("tangle", "50 random trees of 12 circles", "300 steps per run", "more than 0.01 energy per link",
         "gradient descent 0.2, momentum 0.1, Nesterov 0.07, Adam 2", "on 9 of 50 against gradient descent's 15",
         "Nesterov and Adam, on 24 each, do worse than gradient descent",
         "each at its own best step size, on 9 against 15. Nesterov and Adam, at their best, on 24 each")


def test_the_momentum_margin_is_about_the_two_error_bars():
    sgd, momentum = (tangle_count(name, lesson.TANGLE_RATES[name]) / 50 for name in ("sgd", "momentum"))
    errors = sum(math.sqrt(p * (1 - p) / 50) for p in (sgd, momentum))   # the bars' standard errors
    assert abs((sgd - momentum) - errors) < 0.01
    says("tangle", "a gap about as large as the two error bars together")


SWEEP = [(name, lr) for name, rates in lesson.TANGLE_SWEEP.items() for lr in rates]


@pytest.mark.parametrize("name, lr", SWEEP)
def test_each_tangle_step_size_is_the_best_of_its_sweep(name, lr):
    """Checked on the sweep's own 50 trees (seeds from TANGLE_TUNING_SEED): every other step size
    leaves more of them tangled; the sweep starts at the default, about 1.5 times apart, and ends
    past the best at one that is clearly worse (45 or more of 50)."""
    rates = lesson.TANGLE_SWEEP[name]
    best = lesson.TANGLE_RATES[name]
    assert rates[0] == lesson.default_hyper(name)["lr"] and rates[-1] > best
    assert all(1.3 <= b / a <= 1.7 for a, b in zip(rates, rates[1:]))
    count, least = tangle_count(name, lr, lesson.TANGLE_TUNING_SEED), tangle_count(name, best, lesson.TANGLE_TUNING_SEED)
    assert count > least or lr == best
    if lr == rates[-1]:
        assert count >= 45
    says("tangle", "in a sweep on 50 other trees ($\\eta$ from the default up, about 1.5 times apart)")


def test_tree_18_is_untangled_by_momentum_only():
    scene = lesson.NARRATED["tangle"]
    assert (scene.family, scene.n, scene.seed, scene.steps) == ("tree", 12, 18, 300) and scene.seed < 50
    assert [(r.optimizer, dict(r.hyper)["lr"]) for r in scene.runs] == list(lesson.TANGLE_RATES.items())
    assert [tangled(final("tangle", k)) for k in range(4)] == [True, False, True, True]
    says("tangle", "tree 18 of the fifty, laid out by all four at those step sizes: only momentum untangles it")


# -- big graphs and the smart start ----------------------------------------------------------


@pytest.mark.parametrize("name, lr, count", [("momentum", 0.02, 34), ("sgd", 0.02, 49), ("momentum", 0.1, 22),
                                             ("sgd", 0.2, 38)])
def test_random_starts_often_tangle_trees_of_16_circles(name, lr, count):
    assert lr in (lesson.default_hyper(name)["lr"], lesson.TANGLE_RATES[name])
    assert tangle_count(name, lr, 0, 16) == count
    says("big", "over 50 random trees of 16 circles, at $\\eta = 0.02$ momentum ended tangled on 34 and gradient "
         "descent on 49", "(each at its best step size of the last step, on 22 and 38)")


def test_the_big_grid_from_a_random_start_is_folded():
    folded = final("big")
    assert folded["final"] == final("smart", 0)["final"]
    assert folded["final"]["overlapping_pairs"] == 5910 and folded["final"]["crossings"] == 12344
    assert round(folded["final"]["mean_edge_ratio"], 2) == 1.27
    edges = gl.make_graph("grid", 2000, 0)
    count, exact, stderr = gl.count_crossings(gl.random_start(2000, 0), edges)
    assert len(edges) == 5821 and not exact and abs(count - 3.7e6) < 0.05e6 and stderr < 0.1 * count
    says("big", "1.27 times touching", "5,910 overlapping pairs and 12,344 crossing links",
         "the grid's 5,821 links cross each other about 3.7 million times (estimated from a sample of pairs)")


def _grid_300(init: str, seed: int) -> dict:
    edges = gl.make_graph("grid", 300, 0)
    return gl.run_layout(edges, 300, gl.layout_optimizer("momentum"), 200, init, seed).metrics


@pytest.mark.parametrize("seeds", [range(0, 5), range(5, 10), range(10, 15), range(15, 20)])
def test_random_starts_fold_even_a_grid_of_300_circles(seeds):
    """Seeds 0-19 in four parts: each run ends with crossings."""
    for seed in seeds:
        assert _grid_300("random", seed)["crossings"] > 0, seed
    says("big", "200 steps of momentum left even a grid of 300 circles folded, with crossings, from each of 20 "
         "random starts")


@pytest.mark.parametrize("seeds", [range(0, 5), range(5, 10), range(10, 15), range(15, 20)])
def test_the_smart_start_gives_the_honeycomb_on_every_seed(seeds):
    for seed in seeds:
        metrics = _grid_300("smart", seed)
        assert metrics["crossings"] == 0 and metrics["overlapping_pairs"] == 0, seed
    says("smart", "the smart start led to the honeycomb, with no crossings and no overlaps, on each of 20 seeds")


def test_the_smart_start_unfolds_the_big_grid():
    random, smart = final("smart", 0), final("smart", 1)
    assert [r.init for r in lesson.NARRATED["smart"].runs] == ["random", "smart"]
    assert smart["final"]["overlapping_pairs"] == 0 and smart["final"]["crossings"] == 0
    assert round(smart["final"]["mean_edge_ratio"], 3) == 1.008 and random["final"]["crossings"] > 0
    says("smart", "momentum ends with 0 overlapping pairs, no crossings and links 1.008 times touching")


# -- the race ------------------------------------------------------------------------------


def test_the_race_at_each_optimizer_s_best_step_size():
    sgd, momentum, adam, lbfgs = (final("race", k) for k in range(4))
    assert [r.optimizer for r in lesson.NARRATED["race"].runs] == ["sgd", "momentum", "adam", "lbfgs"]
    assert lesson.NARRATED["race"].runs[3].hyper == ()                # L-BFGS: no learning rate
    assert (first_below(lbfgs["loss"], 1), first_below(lbfgs["loss"], 0.01)) == (21, 74)
    assert (first_below(momentum["loss"], 1), first_below(momentum["loss"], 0.01)) == (56, 111)
    assert (first_below(adam["loss"], 1), first_below(adam["loss"], 0.01)) == (68, 170)
    assert (first_below(sgd["loss"], 1), first_below(sgd["loss"], 0.01)) == (85, None)
    assert sgd["final"]["overlapping_pairs"] == 9
    says("race", "$\\eta = 0.07$, 0.1 and 0.5", "L-BFGS gets $E$ below 1 at step 21 and below 0.01 at step 74",
         "momentum below 1 at step 56 and below 0.01 at step 111", "Adam at steps 68 and 170",
         "gradient descent below 1 at step 85, never below 0.01", "it ends with 9 overlapping pairs")


def test_at_the_default_step_size_gradient_descent_needs_265_steps():
    family, n, seed, steps = lesson.RACE
    history = gl.run_layout(gl.make_graph(family, n, seed), n, gl.layout_optimizer("sgd"), steps, "smart", seed)
    assert first_below(history.loss, 1) == 265
    says("race", "At the lesson's default $\\eta = 0.02$, gradient descent needed 265 steps to get below 1")


RACE_SWEEP = [(name, lr) for name, rates in lesson.RACE_SWEEP.items() for lr in rates]


@pytest.mark.parametrize("name, lr", RACE_SWEEP)
def test_each_race_step_size_is_the_best_of_its_sweep(name, lr):
    """Every other step size of the sweep scores worse (a higher mean log10 E); the sweep starts at
    the default, about 1.5 times apart, and ends past the best at one ten times worse or more."""
    rates, best = lesson.RACE_SWEEP[name], lesson.RACE_RATES[name]
    assert rates[0] == lesson.default_hyper(name)["lr"] and rates[-1] > best
    assert all(1.3 <= b / a <= 1.7 for a, b in zip(rates, rates[1:]))
    assert race_score(name, lr) > race_score(name, best) or lr == best
    if lr == rates[-1]:
        assert race_score(name, lr) > race_score(name, best) + 1
    says("race", "each ran at several $\\eta$ (from the default up, about 1.5 times apart)",
         "whose $E$ was lowest on average over the run, on a log scale")


def test_the_playground_s_limits_are_the_narration_s():
    assert lesson.MAX_CIRCLES == 5000
    says("free", "Up to 5,000 circles", "at least 2,000 circles")
