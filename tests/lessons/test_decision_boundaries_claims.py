"""Every claim of the decision-boundaries narration, recomputed from the lesson's own code.

Each test computes what a step says and checks that the narration says it as
the test prints it: the tolerance of a number is its rounding in the text
("84 %" within half a point, "epoch 48" exactly). A run on screen is seed 0;
claims about "nets like this" are measured over the lesson's SEEDS (0-19, each
seed its own spiral points and starting weights), as the narration says. A
count of stuck runs is only as firm as its runs are far from the line: the
tests check that every run ends well clear of STUCK_LOSS, so another CPU's
rounding cannot move a count.
"""

import functools
import re
from pathlib import Path

import numpy as np

from app.lessons import decision_boundaries as lesson
from app.ml import decision_runs as dr
from app.ml.mlp import MLP
from components.narration import load_steps

STEPS = {s.figure: s for s in load_steps(Path(__file__).parents[2] / "pages" / "decision_boundaries.md")}
SEEDS = lesson.SEEDS
STORE = lesson.MemoryStore()            # the seed-0 runs shown, kept for the whole file


def says(figure: str, *texts: str):
    s = STEPS[figure]
    text = re.sub(r"\s+", " ", " ".join((s.title, s.body, s.question, s.answer, s.task)))
    for t in texts:
        assert t in text, f"the narration of {figure!r} should say {t!r}"


def pct(share: float, decimals: int = 0) -> str:
    return f"{100 * share:.{decimals}f} %"


def span(values, decimals: int = 0) -> str:
    return f"{pct(np.min(values), decimals)} to {pct(np.max(values), decimals)}"


def name(layers: int, width: int) -> str:
    return f"{layers} × {width}"


@functools.lru_cache(maxsize=None)
def ends(layers: int, width: int, variant: str = "plain") -> tuple[dict, ...]:
    """How the lesson's run of a layers × width network ends, for every seed."""
    return tuple(lesson.seed_summary(layers, width, seed, variant) for seed in SEEDS)


def values(layers: int, width: int, key: str, variant: str = "plain") -> np.ndarray:
    return np.array([end[key] for end in ends(layers, width, variant)], dtype=float)


def stuck(layers: int, width: int, variant: str = "plain") -> int:
    losses = values(layers, width, "final_loss", variant)
    assert np.all(np.abs(losses - lesson.STUCK_LOSS) > 0.03), "a run ends too near the line to count"
    return int((losses > lesson.STUCK_LOSS).sum())


def run(layers: int, width: int, **kwargs) -> dict:
    """A seed-0 run as a step shows it."""
    return lesson.run_of(lesson.lesson_spec(layers, width, **kwargs), STORE)


def prefix_run(layers: int, width: int, epochs: int) -> dict:
    """The first `epochs` epochs of a seed-0 run (training does not depend on the total)."""
    return lesson.run_of(lesson.lesson_spec(layers, width)._replace(epochs=epochs, frames=1, resolution=8), STORE)


def first_below(r: dict, threshold: float):
    below = np.flatnonzero(r["loss"] < threshold)
    return int(r["curve_epochs"][below[0]]) if below.size else None


def rank_from_top(layers: int, width: int) -> int:
    """Seed 0's place among SEEDS by final training accuracy (1 = best)."""
    accuracy = values(layers, width, "accuracy")
    return 1 + int((accuracy > accuracy[0]).sum())


# -- the runs over seeds are the runs shown -----------------------------------------------


def test_seed_summaries_train_exactly_the_runs_the_steps_show():
    shown = prefix_run(10, 5, 200)
    np.testing.assert_array_equal(ends(10, 5)[0]["loss"], shown["loss"])
    assert lesson.SEEDS == tuple(range(20))
    spec = lesson.lesson_spec(10, 5)
    assert (spec.seed, spec.data_seed, spec.epochs, spec.optimizer, spec.lr) == (0, 0, 200, "adam", 0.01)
    says("lines", "each seed its own points and starting weights")


# -- step 1: the perceptron's plane -------------------------------------------------------


def test_step_1_the_plane_separates_the_songs_from_epoch_9_and_the_loss_keeps_falling():
    plane = lesson.plane_run()
    says("plane", "From epoch 9 on all four are on the right side", "the loss keeps falling")
    assert plane["accuracy"][8] < 1 and (plane["accuracy"][9:] == 1).all()
    assert np.all(np.diff(plane["loss"][9:]) < 0)


# -- step 2: no hidden layer --------------------------------------------------------------


def test_step_2_logistic_regression_is_too_simple_not_badly_trained():
    r = run(0, 1, fine=True)
    says("lines", f"{len(r['y_train'])} training points", "100 per arm on average",
         f"only {pct(r['accuracy'][-1])} of the points")
    assert len(r["y_train"]) == 300
    longer = prefix_run(0, 1, 2000)
    says("lines", f"(2,000 epochs) its loss stops falling at {longer['loss'][-1]:.3f} with "
                  f"{pct(longer['accuracy'][-1])} right")
    assert abs(longer["loss"][-1] - longer["loss"][-2]) < 1e-9
    says("lines", "over seeds 0–19", f"it ends at {span(values(0, 1, 'accuracy'))}")


# -- steps 3 and 4: one hidden layer ------------------------------------------------------


def test_step_3_wider_is_better_on_every_seed_and_the_widest_is_still_learning():
    shown = [run(1, w)["accuracy"][-1] for w in (5, 20, 100)]
    says("width", f"five neurons reach {pct(shown[0])}", f"twenty {pct(shown[1])}", f"a hundred {pct(shown[2], 1)}")
    medians = [np.median(values(1, w, "accuracy")) for w in (5, 20, 100)]
    says("width", f"the medians are {pct(medians[0])}, {pct(medians[1])} and {pct(medians[2], 1)}")
    accuracy = np.array([values(1, w, "accuracy") for w in (5, 20, 100)])
    assert np.all(accuracy[1] > accuracy[0]) and np.all(accuracy[2] > accuracy[1])
    says("width", "on every seed the wider layer gets more points right")
    losses = np.array([end["loss"] for end in ends(1, 100)])
    assert np.all(losses[:, -1] < losses[:, -2])
    says("width", f"on all 20 seeds its loss is still falling at epoch 200 (it ends at {losses[:, -1].min():.3f} "
                  f"to {losses[:, -1].max():.3f})")


def test_step_4_every_neuron_map_has_one_edge():
    r = run(1, 5, fine=True, neurons=True)
    assert all((m == 0).any() and (m > 0).any() for m in r["neurons"][-1])
    says("neurons", f"it gets {pct(r['accuracy'][-1])} of the points right")


# -- steps 5 and 6: five and ten hidden layers --------------------------------------------


def test_step_5_on_seed_0():
    thin = run(5, 5)
    assert (thin["loss"][4:26] > 1.09).all()
    says("depth5", f"after 200 epochs it is at {pct(thin['accuracy'][-1])}", "until about epoch 25")
    for width, epoch in ((20, 48), (100, 37)):
        r = prefix_run(5, width, 50)
        assert first_below(r, lesson.LOW_LOSS) == epoch and r["accuracy"][-1] == 1
    says("depth5", "by epoch 48 and 37", "every training point right by epoch 50")


def test_step_5_over_seeds():
    fast = values(5, 20, "fast_epoch")
    says("depth5", f"the 5 × 20 gets below 0.01 on every seed, between epoch {fast.min():.0f} and {fast.max():.0f}")
    accuracy = values(5, 5, "accuracy")
    reach = int(np.sum([end["fast_epoch"] is not None for end in ends(5, 5)]))
    says("depth5", f"({rank_from_top(5, 5)}th of 20)", f"its median is {pct(np.median(accuracy))}",
         f"it gets stuck on {stuck(5, 5)}", f"below 0.01 on only {reach}")


def test_step_6_on_seed_0():
    says("depth10", "(by epoch 29 and 54)", "2.3 after its very first step", "from 0.018 to 0.065 at epoch 20")
    r = prefix_run(10, 20, 30)
    assert first_below(r, lesson.LOW_LOSS) == 29
    loss_at = dict(zip(r["curve_epochs"], r["loss"]))
    assert (round(loss_at[19], 3), round(loss_at[20], 3)) == (0.018, 0.065)
    r = prefix_run(10, 100, 54)
    assert first_below(r, lesson.LOW_LOSS) == 54 and round(float(r["loss"][1]), 1) == 2.3
    says("depth10", f"ends at {pct(run(10, 5)['accuracy'][-1])} on seed 0")


def test_step_6_the_thin_10_x_5_over_seeds():
    accuracy = values(10, 5, "accuracy")
    says("depth10", f"seed 0 is its {rank_from_top(10, 5)}rd best of 20", f"its median is {pct(np.median(accuracy))}",
         f"{stuck(10, 5)} of 20 runs get stuck")
    fast = values(10, 20, "fast_epoch")
    says("depth10", f"the 10 × 20 gets below 0.01 on every seed, between epoch {fast.min():.0f} and "
                    f"{fast.max():.0f}")


# -- step 7: thin and deep ----------------------------------------------------------------


def test_step_7_the_thin_deep_net_is_stuck_with_a_dead_layer():
    r, wide = run(20, 5), run(1, 100)
    says("thin", f"The wide one reaches {pct(wide['accuracy'][-1], 1)}", f"stays at {r['loss'][-1]:.2f}",
         f"{pct(r['accuracy'][-1])} right", "layer 11")
    shares = np.bincount(r["y_train"]) / len(r["y_train"])
    assert np.isclose(r["loss"][-1], -(shares * np.log(shares)).sum(), atol=1e-6)
    assert (abs(r["loss"] - r["loss"][-1]) < 0.001).all() and len(np.unique(r["grid_class"][-1])) == 1
    model, _, data = dr.build(lesson.lesson_spec(20, 5))
    hidden = model.hidden_activations(model.unflatten(r["params"]), data.X_train)
    assert [i + 1 for i, h in enumerate(hidden) if not h.any()] == [11]


def test_step_7_over_seeds():
    wide = values(1, 100, "accuracy")
    says("thin", f"the 20 × 5 net gets stuck {stuck(20, 5)} times", f"the 1 × 100 never (it ends at {span(wide, 1)})")
    assert stuck(1, 100) == 0


# -- step 8: skip connections -------------------------------------------------------------


def test_step_8_the_residual_network_is_the_plain_one_plus_its_input():
    layers, width = lesson.SKIP_NET
    plain, residual = MLP((2, *[width] * layers, 3)), MLP((2, *[width] * layers, 3), residual=True)
    assert residual.skips() == (False,) + (True,) * (layers - 1) + (False,)
    says("skip", "for layers 2 to 20", f"$1/\\sqrt{{{sum(residual.skips())}}}$")
    start, he = residual.init(0), plain.init(0)
    for l in range(1, layers):
        np.testing.assert_allclose(start[f"W{l}"], he[f"W{l}"] / np.sqrt(layers - 1), rtol=1e-12)
    np.testing.assert_array_equal(start["W0"], he["W0"])


def test_step_8_the_scaled_start_keeps_the_signal_from_blowing_up():
    layers, width = lesson.SKIP_NET
    residual = MLP((2, *[width] * layers, 3), residual=True)
    rms = lambda h: float(np.sqrt(np.mean(h ** 2)))                                 # noqa: E731
    scaled, unscaled = [], []
    for seed in SEEDS:
        _, _, data = dr.build(dr.width_depth_spec(layers, width, seed))
        start = residual.init(seed)
        he = {k: v * np.sqrt(layers - 1) if residual.skips()[int(k[1:])] and k[0] == "W" else v
              for k, v in start.items()}
        for params, growth in ((start, scaled), (he, unscaled)):
            hidden = residual.hidden_activations(params, data.X_train)
            growth.append(rms(hidden[-1]) / rms(hidden[0]))
    says("skip", f"between {min(scaled):.0f} and {max(scaled):.0f} times as large",
         f"against {min(unscaled):,.0f} to {max(unscaled):,.0f} times without the scaling")


def test_step_8_on_seed_0():
    residual = lesson.skip_run(0, "residual", frames=1, resolution=8)
    plain = lesson.skip_run(0, "plain", frames=1, resolution=8)
    np.testing.assert_array_equal(plain["loss"], run(20, 5)["loss"])        # the stuck run of step 7
    says("skip", f"it reaches {pct(residual['accuracy'][-1])} of the training points (loss "
                 f"{residual['loss'][-1]:.3f}) and {pct(residual['test_accuracy'][-1])} of the test points")


def test_step_8_over_seeds_the_skips_not_the_smaller_start():
    counts = {variant: stuck(20, 5, variant) for variant in lesson.VARIANTS}
    says("skip", f"the plain net gets stuck on {counts['plain']}", f"the residual one on {counts['residual']}",
         f"gets stuck on {counts['plain-scaled']} of the 20 seeds")
    assert counts["residual"] == 0 and counts["plain-scaled"] >= counts["plain"]
    accuracy = values(20, 5, "accuracy", "residual")
    says("skip", f"median {pct(np.median(accuracy), 1)}, lowest {pct(accuracy.min(), 1)}")


# -- step 9: the whole grid ---------------------------------------------------------------


def test_step_9_width_and_depth_over_seeds():
    median_loss = {(l, w): np.median(values(l, w, "final_loss")) for l, w in
                   ((1, 5), (1, 20), (1, 100), (5, 5), (5, 20), (10, 5), (10, 20))}
    for depth in (1, 5, 10):
        assert median_loss[(depth, 20)] < median_loss[(depth, 5)]
    assert median_loss[(1, 100)] < median_loss[(1, 20)]
    assert median_loss[(5, 20)] < median_loss[(1, 20)] and median_loss[(10, 20)] < median_loss[(1, 20)]
    fast = np.concatenate([values(5, 20, "fast_epoch"), values(10, 20, "fast_epoch")])
    wide = values(1, 100, "final_loss")
    says("grid", f"5 × 20 and 10 × 20 reach a loss below 0.01 within {fast.max():.0f} epochs on every seed",
         f"1 × 100 is still at {wide.min():.3f} or more after 200")
    reach = int(np.sum([end["fast_epoch"] is not None for end in ends(5, 5)]))
    says("grid", f"5 × 5 gets below 0.01 on only {reach} of them", f"10 × 5 gets stuck on {stuck(10, 5)}",
         f"20 × 5 on {stuck(20, 5)}", f"with skip connections on {stuck(20, 5, 'residual')}")


def test_step_9_on_seed_0_the_deep_wide_nets_agree_on_test_points_not_off_the_data():
    nets = [(5, 20), (5, 100), (10, 20), (10, 100)]
    runs = [run(l, w) for l, w in nets]
    cells = np.stack([r["grid_class"][-1] for r in runs])
    predictions = []
    for (l, w), r in zip(nets, runs):
        model, _, data = dr.build(lesson.lesson_spec(l, w))
        predictions.append(model.predict(model.unflatten(r["params"]), data.X_test))
    agree = (np.stack(predictions) == predictions[0]).all(axis=0).mean()
    says("grid", f"same answer on {pct(agree, 1)} of 300 new test points",
         f"disagree on {pct(1 - (cells == cells[0]).all(axis=0).mean())} of the grid's cells")


def test_step_9_over_seeds_two_deep_nets_agree_on_test_points_not_off_the_data():
    on_test, off_data = [], []
    for seed in SEEDS:
        spec = lesson.lesson_spec(5, 20)._replace(seed=seed, data_seed=seed)
        model5, _, data = dr.build(spec)
        model10, _, _ = dr.build(lesson.lesson_spec(10, 20)._replace(seed=seed, data_seed=seed))
        window = dr.window_of(spec, data)
        axis = np.linspace(-window, window, lesson.RESOLUTION)
        grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
        a = model5.unflatten(ends(5, 20)[seed]["params"])
        b = model10.unflatten(ends(10, 20)[seed]["params"])
        on_test.append(np.mean(model5.predict(a, data.X_test) == model10.predict(b, data.X_test)))
        off_data.append(np.mean(model5.predict(a, grid) != model10.predict(b, grid)))
    says("grid", f"Over seeds 0–19 the 5 × 20 and the 10 × 20 give the same answer on {span(on_test)} of the test "
                 f"points and disagree on {span(off_data)} of the grid's cells")
    assert min(off_data) > 1 - min(on_test)


# -- step 10: free play -------------------------------------------------------------------


def test_step_10_states_the_models_limits():
    says("free", f"0 to {dr.LAYERS_MAX} hidden layers of 1 to {dr.WIDTH_MAX}",
         f"at most {dr.NEURON_MAPS_MAX} hidden neurons", "its loss stays above 1.0")
    assert lesson.STUCK_LOSS == 1.0
