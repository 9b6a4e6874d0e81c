"""The decision-boundaries page: every step through the lesson engine (with bad
input), read by output name. The facts its narration states are checked in
tests/lessons/test_decision_boundaries_claims.py."""

import json
import math

import numpy as np
import pytest
from dash._utils import to_json

from app.lessons import decision_boundaries as experiments
from app.main import app
from app.ml import decision_runs as dr
from components.controls import widget_value
from pages import decision_boundaries as page
from pages import perceptron

DEFAULTS = page.SCHEMA.defaults()
FIGURES = [s.figure for s in page.STEPS]
FREE = FIGURES.index("free")
GRAPHS = ("areas", "curves", "neurons", "seeds")


def step_of(figure: str) -> int:
    return FIGURES.index(figure)


@pytest.fixture
def cheap_nets(monkeypatch):
    """The lesson's steps with small, short runs: for wiring and payload checks, not for facts.
    (The skip-connection step keeps its runs, over two seeds instead of twenty.)"""
    real = experiments.lesson_spec

    def cheap(layers, width, **kwargs):
        return real(min(layers, 2), min(width, 6), **kwargs)._replace(epochs=40, points=120)

    monkeypatch.setattr(experiments, "lesson_spec", cheap)
    monkeypatch.setattr(experiments, "SEEDS", (0, 1))


def call_show_step(step, progress=None, **overrides):
    """Every output of the step callback by name; progress reports go to the list `progress`."""
    reports = progress if progress is not None else []
    with app.server.test_request_context():
        return page.ENGINE.outputs(step, {**DEFAULTS, **overrides},
                                   report=lambda text, fraction: reports.append((text, fraction)))


def shown(out) -> dict:
    """The payloads of the graphs the step shows, by name."""
    return {name: out[f"figure:{name}"] for name in GRAPHS if "ls-hidden" not in out[f"box:{name}"]}


def notices(out) -> list[str]:
    return [str(n.children) for n in out["notices"]]


def area_titles(out) -> list[str]:
    return [a["text"] for a in out["figure:areas"]["figure"]["layout"]["annotations"]]


# --------------------------------------------------------------------------
# The step callback
# --------------------------------------------------------------------------


@pytest.mark.parametrize("step", range(len(page.STEPS)))
def test_every_step_gives_animations_of_one_length_under_the_size_limit(step, cheap_nets):
    out = call_show_step(step)
    payloads = shown(out)
    lengths = {len(p["frames"]) for p in payloads.values() if len(p["frames"]) > 1}
    assert payloads["areas"]["figure"]["data"] and payloads["curves"]["figure"]["data"]
    assert len(lengths) == 1 and 2 <= lengths.pop() <= 150
    assert sum(len(to_json(p)) for p in payloads.values()) < 2_000_000
    assert out["notices-class"] == "ls-notices is-empty"
    assert ("ls-hidden" in out["panel:settings"]) == (FIGURES[step] != "free")
    assert all(p["autoplay"] == page.STEPS[step].play for p in payloads.values())


def test_the_lesson_steps_show_their_networks(cheap_nets):
    width = call_show_step(step_of("width"))
    assert len(width["figure:areas"]["frames"][0]["data"]) == 3
    grid = call_show_step(step_of("grid"))
    assert len(grid["figure:areas"]["frames"][0]["data"]) == len(experiments.GRID) == 10
    assert len(grid["figure:areas"]["frames"]) == page.GRID_FRAMES
    assert grid["height:areas"] == {"height": "760px"} and grid["figure:areas"]["start"] == "last"
    neurons = call_show_step(step_of("neurons"))
    assert "ls-hidden" not in neurons["box:neurons"] and len(neurons["figure:neurons"]["figure"]["data"]) == 5
    assert neurons["figures-class"] == "db-figures is-pair"
    assert "ls-hidden" in width["box:neurons"] and width["figures-class"] == "db-figures"
    assert "Logistic regression" in area_titles(call_show_step(step_of("lines")))[0]


def test_the_skip_step_shows_both_networks_and_their_curves(cheap_nets):
    out = call_show_step(step_of("skip"))
    assert [t.split("</b>")[0].removeprefix("<b>") for t in area_titles(out)] == \
        ["plain 20 × 5", "with skip connections"]
    curves = out["figure:curves"]["figure"]["data"]
    assert [t["name"] for t in curves if t.get("showlegend", True) is not False] == \
        [page.SKIP_STYLE[v][0] for v in experiments.VARIANTS]
    assert out["figures-class"] == "db-figures is-pair" and out["notices"] == []
    assert "ls-hidden" in out["box:seeds"]                                   # until its button is pressed
    for figure_name in FIGURES:
        shows = "ls-hidden" not in call_show_step(step_of(figure_name))["panel:seeds"] if figure_name in (
            "skip", "thin", "plane") else None
        assert shows in (None, figure_name == "skip")


def test_every_seeds_end_is_drawn_on_request_with_progress(cheap_nets):
    reports = []
    with app.server.test_request_context():
        payload = page.seeds_figure(lambda text, fraction: reports.append((text, fraction)))
    seeds = payload["figure"]["data"]
    assert [t["name"].split(":")[0] for t in seeds] == ["plain 20 × 5", "with skip connections"]
    assert all(len(t["y"]) == len(experiments.SEEDS) for t in seeds) and seeds[0]["name"].endswith(" stuck")
    assert len(reports) == 2 * len(experiments.SEEDS) and any("seed 1" in text for text, _ in reports)
    assert all(0 <= fraction < 1 for _, fraction in reports)


def test_the_plane_step_reuses_the_perceptron_lessons_weights():
    out = call_show_step(step_of("plane"))
    assert out["figure:areas"]["figure"]["data"][0]["type"] == "mesh3d"
    assert out["height:areas"] == {"height": "520px"} and "ls-hidden" in out["box:neurons"]
    with app.server.test_request_context():
        ours = page.plane_run()
    theirs = perceptron.training_run(perceptron.LEARNABLE, "sgd", 1.0, 300, 0)
    assert np.allclose(ours["w"], theirs["w"]) and np.allclose(ours["b"], theirs["b"])
    assert (perceptron.SCHEMA.defaults()["optimizer"], perceptron.SCHEMA.defaults()["lr"],
            perceptron.SCHEMA.defaults()["epochs"]) == ("sgd", 1.0, 300)


def test_training_reports_progress_and_is_deterministic():
    reports = []
    settings = dict(layers="1", width="30", epochs="400", points="800")
    first = call_show_step(FREE, reports, **settings)
    assert reports and all(isinstance(text, str) and 0 <= fraction <= 1 for text, fraction in reports)
    assert "epoch" in reports[-1][0]
    again = call_show_step(FREE, **settings)
    assert all(to_json(first[f"figure:{g}"]) == to_json(again[f"figure:{g}"]) for g in GRAPHS)


def test_a_setting_change_changes_the_figure():
    a = call_show_step(FREE)["figure:areas"]["frames"][-1]
    b = call_show_step(FREE, layers="1")["figure:areas"]["frames"][-1]
    c = call_show_step(FREE, discretize=["on"])["figure:areas"]["frames"][-1]
    assert a != b and a != c


def test_small_free_play_networks_show_their_neurons_and_big_ones_do_not():
    small = call_show_step(FREE)
    big = call_show_step(FREE, layers="1", width="100", epochs="20")
    assert "ls-hidden" not in small["box:neurons"] and len(small["figure:neurons"]["figure"]["data"]) == 16
    assert small["height:neurons"] == {"height": f"{70 + 125 * 4}px"}
    assert "ls-hidden" in big["box:neurons"]


@pytest.mark.parametrize("name, raw, said", [
    ("width", "0", "Neurons per layer"),
    ("width", "1000000", "Neurons per layer"),
    ("layers", "-1", "Hidden layers"),
    ("layers", "1e308", "Hidden layers"),
    ("noise", "NaN", "Noise"),
    ("noise", "inf", "Noise"),
    ("lr", "-1", "Learning rate"),
    ("epochs", "1000000000", "Epochs"),
    ("optimizer", "<script>", "Optimizer"),
    ("dataset", ["spiral3"], "Data set"),
    ("batch", "2.5", "Batch size"),
    ("test", "0.99", "Test share"),
    ("reg", "l7", "Regularization"),
    ("seed", "-3", "Seed"),
    ("discretize", "maybe", "Decision areas"),
    ("points", "", None),
])
def test_bad_settings_give_a_note_beside_the_field_and_a_working_page(name, raw, said):
    out = call_show_step(FREE, **{name: raw})
    assert out["figure:areas"]["figure"]["data"] and len(out["figure:areas"]["frames"]) > 1
    if said is None:
        assert out["notices-class"] == "ls-notices is-empty" and out[f"note:{name}"] == ""
    else:
        assert out["notices-class"] == "ls-notices"
        assert any(said in n and "not allowed" in n for n in notices(out))
        assert said in out[f"note:{name}"] and "not allowed" in out[f"note:{name}"]
        assert out[f"value:{name}"] == widget_value(page.SCHEMA.get(name), DEFAULTS[name])   # the value used


def test_zero_layers_of_zero_neurons_and_a_huge_network():
    out = call_show_step(FREE, layers="0", width="0")
    assert any("Neurons per layer" in n and "1 to 256" in n for n in notices(out))
    assert "no hidden layer" in area_titles(out)[0]
    huge = call_show_step(FREE, layers="10", width="200", epochs="3000")
    assert any("WORK_MAX" in n and "Cannot compute this step" in n and "default settings" in n
               for n in notices(huge))
    assert huge["figure:areas"]["figure"]["data"] and "Your network: 2 × 8" in area_titles(huge)[0]
    assert "ls-hidden" not in huge["panel:settings"]


def test_too_many_optimizer_steps_are_refused_with_the_limit():
    out = call_show_step(FREE, batch="1", epochs="1000")
    assert any("STEPS_MAX" in n and f"{dr.STEPS_MAX:,}" in n for n in notices(out))


def test_a_diverging_run_says_in_which_epoch():
    out = call_show_step(FREE, activation="linear", loss="squared_error", optimizer="sgd", lr="10", epochs="50")
    assert any("diverged in epoch" in n and "smaller learning rate" in n for n in notices(out))
    assert out["figure:areas"]["figure"]["data"]


@pytest.mark.parametrize("step", [None, "3", [1], {"a": 1}, True, math.nan, -5])
def test_garbage_steps_show_the_first_step(step):
    out = call_show_step(step)
    assert out["figure:areas"]["figure"]["data"][0]["type"] == "mesh3d"
    assert any("does not exist" in n for n in notices(out))


def test_a_step_past_the_end_is_told_and_shows_the_first_step():
    out = call_show_step(10**9)
    assert out["figure:areas"]["figure"]["data"][0]["type"] == "mesh3d"
    assert any("does not exist" in n for n in notices(out))


def test_the_free_play_task_is_a_stuck_thin_deep_net():
    assert call_show_step(FREE, layers="10", width="5", seed="1")["achieved"] == [FREE]
    assert call_show_step(FREE, layers="10", width="5", seed="0")["achieved"] == []
    assert call_show_step(FREE)["achieved"] == []


def test_new_points_take_the_next_data_seed():
    assert page.regenerate(1, "41") == "42"
    assert page.regenerate(1, "garbage") == "1"
    assert page.regenerate(1, "1000000") == "0"


def test_layout_with_garbage_query_and_hidden_controls():
    with app.server.test_request_context():
        tree = page.layout(step="x", layers="nan", width="-1", lr="1e999", dataset="../../etc",
                           layers_hide="1", discretize="maybe")
    text = json.dumps(tree.to_plotly_json(), default=str)
    assert "is not allowed" in text and "ls-control is-hidden" in text


def test_the_limits_stated_on_the_page_are_the_models():
    by_name = {s.name: s for s in page.SCHEMA.settings}
    assert by_name["layers"].high == dr.LAYERS_MAX and by_name["width"].high == dr.WIDTH_MAX
    assert by_name["epochs"].high == dr.EPOCHS_MAX and by_name["points"].high == dr.POINTS_MAX
    narration = page.STEPS[FREE].body
    assert f"0 to {dr.LAYERS_MAX}" in narration and f"1 to {dr.WIDTH_MAX}" in narration
    assert f"at most {dr.NEURON_MAPS_MAX} hidden" in narration
