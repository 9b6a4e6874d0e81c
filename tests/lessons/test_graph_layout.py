"""The graph-layout lesson's experiments, called directly: no Flask, no Dash, no cache.
(The narration's claims are measured in test_graph_layout_claims.py.)"""

import numpy as np
import pytest

from app.lessons import graph_layout as lesson
from app.ml import graph_layout as gl

PLAYGROUND = {"mode": "single", "race": "sgd,momentum,adam", "optimizer": "momentum", "lr": "", "beta": "",
              "beta2": "", "family": "tree", "n": 40, "seed": 0, "steps": 300, "init": "random"}
SMALL = ("tree", 16, 0, "momentum", lesson.lesson_run("momentum").hyper, "random", 60, 31, 4)


# -- runs ------------------------------------------------------------------------------------


def test_a_run_is_deterministic_for_a_seed_and_shaped_per_frame():
    a, b = lesson.layout_run(*SMALL), lesson.layout_run(*SMALL)
    assert np.array_equal(a["positions"], b["positions"]) and np.array_equal(a["loss"], b["loss"])
    assert a["positions"].shape == (31, 16, 2) and a["positions"].dtype == np.float32
    assert a["frame_steps"].tolist() == lesson.wanted_steps(60, 31).tolist() and a["loss"].shape == (61,)
    assert len(a["metric_index"]) == len(a["overlaps"]) == len(a["crossings"]) == 4
    assert a["metric_index"][0] == 0 and a["metric_index"][-1] == 30 and a["arrows"] is None
    assert a["edges"].shape == (15, 2) and a["diverged_at"] is None
    other_seed = lesson.layout_run("tree", 16, 1, *SMALL[3:])
    assert not np.array_equal(a["positions"][0], other_seed["positions"][0])


def test_the_energy_at_each_frame_is_that_of_its_positions():
    run = lesson.layout_run(*SMALL)
    for k in (0, 10, 30):
        energy, _ = gl.layout_loss_and_grad(run["positions"][k].astype(float), run["edges"], lesson.RADIUS)
        assert energy == pytest.approx(run["loss"][run["frame_steps"][k]], rel=1e-4, abs=1e-4)


def test_arrows_point_downhill_at_their_scale():
    run = lesson.layout_run(*SMALL[:-1], 2, 0.1)
    _, grad = gl.layout_loss_and_grad(run["positions"][5].astype(float), run["edges"], lesson.RADIUS)
    assert run["arrows"].shape == run["positions"].shape and np.allclose(run["arrows"][5], -0.1 * grad)


@pytest.mark.parametrize("change", [
    {3: "nesterov", 4: (("momentum", 0.0),)},       # Nesterov needs momentum > 0
    {4: (("lr", float("nan")),)}, {4: (("lr", float("inf")),)}, {4: (("lr", 1e300),)},
    {1: float("nan")}, {1: float("inf")}, {1: 10**9}, {1: 0},
    {6: float("inf")}, {6: 10**9}, {0: ""}, {3: ""}, {5: ""},
    {7: 0}, {7: 10**6}, {8: 0}, {8: 32}, {9: float("nan")}, {9: float("inf")},
])
def test_bad_run_settings_raise_a_value_error(change):
    args = list(SMALL) + [0.0]
    for index, value in change.items():
        args[index] = value
    with pytest.raises(ValueError, match="must|unknown"):
        lesson.layout_run(*args)


# -- frames ----------------------------------------------------------------------------------


def test_frames_stay_within_the_budgets():
    assert lesson.frame_count(5000, 50, 1) == 20 and lesson.frame_count(16, 300, 1) == lesson.MAX_FRAMES
    assert lesson.frame_count(2000, 200, 1) == lesson.frame_count(2000, 200, 2) == 50   # big and smart share a run
    assert lesson.frame_count(16, 0, 1) == 1
    for n, steps, runs in ((5000, 2000, 4), (300, 300, 4), (1, 1, 1), (2000, 200, 2)):
        frames = lesson.frame_count(n, steps, runs)
        assert 1 <= frames <= min(lesson.MAX_FRAMES, steps + 1)
        assert frames == 1 or n * frames * runs <= lesson.POSITION_BUDGET and n * frames <= lesson.FRAME_CIRCLE_BUDGET
    steps = lesson.wanted_steps(300, 150)
    assert steps[0] == 0 and steps[-1] == 300 and len(steps) == 150 and (np.diff(steps) > 0).all()
    assert lesson.wanted_steps(0, 1).tolist() == [0]


def test_metrics_are_measured_on_fewer_frames_when_they_cost_more():
    assert lesson.metric_count(16, 15, 1, 150) == 150
    big = [lesson.metric_count(2000, 5800, runs, 50) for runs in (1, 2, 4)]
    assert 2 <= big[2] <= big[1] <= big[0] < 50
    assert lesson.metric_count(5000, 20000, 4, 1) == 1
    assert lesson.scene_frames(lesson.NARRATED["objective"]) == (1, 1)


@pytest.mark.parametrize("call", [
    lambda: lesson.frame_count(0, 10, 1), lambda: lesson.frame_count(float("nan"), 10, 1),
    lambda: lesson.frame_count(10, 10, 5), lambda: lesson.frame_count(10, float("inf"), 1),
    lambda: lesson.wanted_steps(float("nan"), 3), lambda: lesson.wanted_steps(10, 0),
    lambda: lesson.wanted_steps(10, 10**9), lambda: lesson.metric_count(10, -1, 1, 10),
    lambda: lesson.metric_count(10, 9, 0, 10), lambda: lesson.metric_count(10**9, 9, 1, 10),
])
def test_bad_frame_sizes_raise_a_value_error(call):
    with pytest.raises(ValueError, match="must be a whole number"):
        call()


# -- the playground ----------------------------------------------------------------------------


def test_the_playground_scene_of_the_default_settings():
    scene, said = lesson.playground_scene(PLAYGROUND)
    assert said == [] and (scene.family, scene.n, scene.seed, scene.steps) == ("tree", 40, 0, 300)
    assert scene.runs == (lesson.Run("momentum", (("lr", 0.02), ("momentum", 0.9)), "random"),)


def test_your_hyperparameters_apply_to_your_racer_only():
    values = {**PLAYGROUND, "optimizer": "momentum", "lr": 0.05, "beta": 0.5, "mode": "race",
              "race": "sgd,momentum"}
    scene, _ = lesson.playground_scene(values)
    assert dict(scene.runs[1].hyper) == {"lr": 0.05, "momentum": 0.5}
    assert dict(scene.runs[0].hyper) == gl.LESSON_DEFAULTS["sgd"]
    assert lesson.hyper_for("lbfgs", {"lr": 3.0}) == ()
    assert dict(lesson.hyper_for("rmsprop", {"beta2": 0.9, "beta": 0.7})) == {"lr": 0.02, "alpha": 0.9}
    assert lesson.default_hyper("lbfgs") == {} and lesson.default_hyper("adam")["beta2"] == 0.999


def test_a_race_of_one_races_gradient_descent_against_yours():
    scene, said = lesson.playground_scene({**PLAYGROUND, "mode": "race", "race": "adam,adam"})
    assert [r.optimizer for r in scene.runs] == ["momentum", "sgd"] and "two different" in said[0]


def test_runs_over_the_budget_are_cut_with_a_notice():
    values = {**PLAYGROUND, "n": 5000, "steps": 2000}
    scene, said = lesson.playground_scene(values)
    assert scene.steps == lesson.CIRCLE_STEP_BUDGET // 5000 == 50
    assert "250,000" in said[0] and "running 50 steps" in said[0]
    race, said = lesson.playground_scene({**values, "mode": "race", "race": "sgd,momentum,adam,lbfgs"})
    assert race.steps == 12 and "4 runs" in said[0]


@pytest.mark.parametrize("change", [
    {"n": float("nan")}, {"n": float("inf")}, {"n": 10**9}, {"n": ""}, {"steps": float("inf")},
    {"steps": 0}, {"seed": -1}, {"mode": ""}, {"mode": "race", "race": ""}, {"optimizer": "rm -rf"}, {"family": None},
    {"init": [1]}, {"mode": "race", "race": "sgd,adam,rmsprop,adagrad,lbfgs"},
])
def test_bad_playground_settings_raise_a_value_error(change):
    with pytest.raises(ValueError, match="must be"):
        lesson.playground_scene({**PLAYGROUND, **change})


def test_missing_playground_settings_are_named():
    with pytest.raises(ValueError, match="needs the settings mode, race, optimizer"):
        lesson.playground_scene({})


def test_an_unknown_optimizer_has_no_tangle_rate():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        lesson.tangle_result("")


@pytest.mark.parametrize("call", [
    lambda: lesson.tangle_result("sgd", 0.02, -1), lambda: lesson.tangle_result("sgd", 0.02, 0, 10**6),
    lambda: lesson.tangle_result("sgd", float("nan")), lambda: lesson.tangle_result("sgd", 0.02, 0.5),
    lambda: lesson.race_score("lbfgs", 0.1), lambda: lesson.race_score("sgd", float("inf")),
])
def test_bad_sweep_settings_raise_a_value_error(call):
    with pytest.raises(ValueError, match="must"):
        call()
