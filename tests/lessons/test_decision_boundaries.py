"""The decision-boundaries lesson's experiments, with no Flask, Dash or cache:
which runs a step trains, resumable training in a store, the perceptron's plane."""

import math

import numpy as np
import pytest

from app.lessons import decision_boundaries as ex
from app.lessons import perceptron
from app.ml import decision_runs as dr

#: Free-play settings as the lesson's schema cleans them (its defaults).
FREE = dict(dataset="spiral3", points=600, noise=0.2, test=0.5, data_seed=0, layers=2, width=8,
            activation="relu", loss="softmax_ce", optimizer="adam", lr=0.01, batch=0, reg="none", rate=0.0,
            epochs=300, seed=0)
SMALL = dr.RunSpec(layers=1, width=4, points=80, epochs=9, frames=3, resolution=8)


class CountingStore(ex.MemoryStore):
    """A dict store that remembers every write and delete."""

    def __init__(self):
        super().__init__()
        self.writes, self.deletes = [], []

    def set(self, key, value, timeout=None):
        self.writes.append(key)
        return super().set(key, value, timeout)

    def delete(self, key):
        self.deletes.append(key)
        return super().delete(key)


def same_run(a: dict, b: dict) -> bool:
    keys = ("curve_epochs", "loss", "accuracy", "frame_epochs", "grid_class", "grid_confidence", "params")
    return all(np.array_equal(a[k], b[k], equal_nan=True) for k in keys)


# -- which runs ---------------------------------------------------------------------------


def test_lesson_specs_are_the_spiral_runs_of_the_narration():
    spec = ex.lesson_spec(5, 20)
    assert (spec.dataset, spec.layers, spec.width, spec.epochs, spec.seed) == ("spiral3", 5, 20, 200, 0)
    assert ex.lesson_spec(0, 7).width == 1                      # no hidden layer: the width means nothing
    fine = ex.lesson_spec(1, 5, fine=True, neurons=True)
    assert (fine.resolution, fine.neuron_resolution) == (ex.FINE_RESOLUTION, ex.NEURON_RESOLUTION)


def test_each_step_trains_its_networks():
    for figure, nets in ex.STEP_NETS.items():
        specs = ex.step_specs(figure, FREE)
        assert [(s.layers, s.width if s.layers else 1) for s in specs] == [(l, w) for l, w in nets]
    assert len(ex.step_specs("grid", FREE)) == len(ex.GRID) == 10
    assert ex.step_specs("neurons", FREE)[0].neuron_resolution == ex.NEURON_RESOLUTION
    assert ex.step_specs("free", FREE) == [ex.free_spec(FREE)]


def test_free_play_maps_neurons_of_small_networks_and_coarsens_big_ones():
    small = ex.free_spec(FREE)
    assert (small.layers, small.width, small.frames) == (2, 8, ex.FREE_FRAMES)
    assert (small.resolution, small.neuron_resolution) == (ex.FREE_RESOLUTION, ex.FREE_NEURON_RESOLUTION)
    big = ex.free_spec({**FREE, "layers": 3, "width": 100, "epochs": 10})
    assert (big.resolution, big.neuron_resolution) == (ex.FREE_RESOLUTION_BIG, 0)
    short = ex.free_spec({**FREE, "epochs": 7, "reg": "none", "rate": 3.0})
    assert short.frames == 7 and short.reg_rate == 0.0          # no regularization, no rate


def test_free_spec_values_are_exact_types_for_the_keys():
    spec = ex.free_spec({**FREE, "noise": 0, "lr": 1, "test": 0})
    assert all(isinstance(v, float) for v in (spec.noise, spec.lr, spec.test_share, spec.reg_rate))


@pytest.mark.parametrize("change, words", [
    ({"noise": math.nan}, "noise"),
    ({"lr": math.inf}, "lr"),
    ({"layers": math.nan}, "layers"),
    ({"width": 10**9}, "WIDTH_MAX"),
    ({"points": 10**12}, "POINTS_MAX"),
    ({"layers": 10, "width": 200, "epochs": 3000}, "WORK_MAX"),
    ({"batch": 1, "epochs": 1000}, "STEPS_MAX"),
    ({"dataset": ""}, "unknown data set"),
    ({"reg": "l7", "rate": 1.0}, "regularization"),
])
def test_a_free_play_network_out_of_limits_is_a_clear_value_error(change, words):
    with pytest.raises(ValueError, match="cannot train this network") as error:
        ex.free_spec({**FREE, **change})
    assert words in str(error.value)


def test_missing_settings_and_unknown_figures_are_value_errors():
    with pytest.raises(ValueError, match="missing settings: dataset"):
        ex.free_spec({})
    with pytest.raises(ValueError, match="no runs for the figure"):
        ex.step_specs("plane", FREE)


# -- training in a store ------------------------------------------------------------------


def test_a_run_is_trained_once_then_read_from_the_store():
    store = CountingStore()
    epochs = []
    first = ex.run_of(SMALL, store, epochs.append)
    assert epochs and epochs[-1] == SMALL.epochs and epochs == sorted(epochs)
    assert store.writes == [ex.run_key("run", SMALL)] and store.deletes == [ex.run_key("progress", SMALL)]
    again = []
    assert ex.run_of(SMALL, store, again.append) is first and again == []


def test_a_run_is_deterministic_and_the_one_decision_runs_trains():
    a, b = ex.run_of(SMALL, ex.MemoryStore()), ex.run_of(SMALL, ex.MemoryStore())
    assert same_run(a, b) and same_run(a, dr.train_run(SMALL))
    assert not same_run(a, ex.run_of(SMALL._replace(seed=1), ex.MemoryStore()))


def test_training_resumes_from_a_saved_state_and_deletes_it_when_done():
    store = CountingStore()
    halfway = dr.advance(SMALL, dr.start(SMALL), 4)
    store.set(ex.run_key("progress", SMALL), halfway)
    epochs = []
    run = ex.run_of(SMALL, store, epochs.append)
    assert epochs[0] > 4 and same_run(run, dr.train_run(SMALL))
    assert ex.run_key("progress", SMALL) not in store.items


def test_a_long_run_saves_its_state_between_chunks():
    spec = SMALL._replace(layers=3, width=100)
    spec = spec._replace(epochs=2 * dr.epochs_per_chunk(spec) + 10)     # three chunks
    store = CountingStore()
    ex.run_of(spec, store, save_every_s=0.0)
    assert store.writes.count(ex.run_key("progress", spec)) == 2
    assert store.writes[-1] == ex.run_key("run", spec) and ex.run_key("progress", spec) not in store.items


def test_a_stale_entry_that_is_not_a_state_is_ignored():
    store = ex.MemoryStore()
    store.set(ex.run_key("progress", SMALL), "garbage")
    assert same_run(ex.run_of(SMALL, store), dr.train_run(SMALL))


@pytest.mark.parametrize("spec, words", [
    (None, "spec must be a RunSpec"),
    ((1, 2, 3), "spec must be a RunSpec"),
    (SMALL._replace(noise=math.nan), "noise"),
    (SMALL._replace(lr=math.inf), "lr"),
    (SMALL._replace(epochs=10**9), "EPOCHS_MAX"),
    (SMALL._replace(points=0), "points"),
])
def test_bad_specs_are_clear_value_errors_and_store_nothing(spec, words):
    store = CountingStore()
    with pytest.raises(ValueError, match=words):
        ex.run_of(spec, store)
    assert store.writes == []


def test_width_depth_runs_use_the_store_and_take_overrides():
    store = CountingStore()
    run = ex.width_depth_run(1, 4, store=store, epochs=6, frames=2, resolution=8, points=60, keep_path=True)
    assert run["path"].shape == (3, run["n_params"]) and len(store.writes) == 1
    assert ex.width_depth_run(1, 4, store=store, epochs=6, frames=2, resolution=8, points=60,
                              keep_path=True) is run
    with pytest.raises(ValueError, match="WIDTH_MAX"):
        ex.width_depth_run(1, 10**6, epochs=6)


# -- the perceptron's plane ---------------------------------------------------------------


def test_the_plane_is_the_perceptron_lessons_run():
    plane = ex.plane_run()
    theirs = perceptron.training_run(perceptron.LEARNABLE, "sgd", 1.0, 300, 0)
    assert np.array_equal(plane["w"], theirs["w"]) and np.array_equal(plane["b"], theirs["b"])
    assert plane["X"].shape == (4, 3) and plane["y"].tolist() == [1, 1, 0, 0]
    assert same_plane(plane, ex.plane_run())


def same_plane(a: dict, b: dict) -> bool:
    return all(np.array_equal(a[k], b[k]) for k in ("w", "b", "loss", "accuracy"))


def test_the_plane_separates_the_four_songs_from_epoch_9():
    accuracy = ex.plane_run()["accuracy"]
    assert accuracy[8] < 1 and (accuracy[9:] == 1).all() and set(np.unique(accuracy)) <= {0, .25, .5, .75, 1}


@pytest.mark.parametrize("args", [dict(lr=math.nan), dict(lr=math.inf), dict(lr=-1.0), dict(epochs=0),
                                  dict(epochs=10**12), dict(seed=-1)])
def test_bad_plane_settings_are_value_errors(args):
    with pytest.raises(ValueError):
        ex.plane_run(**args)
