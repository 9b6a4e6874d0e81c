"""The graph-layout page on the lesson engine: every step's outputs by name, as the server
would compute them, with good and bad input; the callbacks that are not the step's."""

import gzip
import json
import re

import dash
import flask
import numpy as np
import pytest
from dash.development.base_component import Component
from plotly.io.json import to_json_plotly

from app import cache as site_cache
from app import compute_slots
from app.lessons import graph_layout as experiments
from app.main import app
from components import graph_layout_figures as figures
from pages import graph_layout as page

NAMES = page.SCHEMA.names
DEFAULTS = page.SCHEMA.defaults()
FREE = len(page.STEPS) - 1
FIGURES = [s.figure for s in page.STEPS]


def call(step, extra=None, triggered=None, **overrides):
    """Every output of `step` by name, for the defaults with `overrides` (as the browser sends them)."""
    with app.server.test_request_context():      # the memo cache, shared by the tests
        return page.ENGINE.outputs(step, {**DEFAULTS, **overrides}, extra, triggered=triggered)


def notices(out):
    return " ".join(p.children for p in out["notices"])


def coords(scene, panel, axis="x"):
    """(F, n) coordinates of a panel's frames, decoded as the browser does."""
    return figures.dequantize(panel[axis], scene["quantum"])


def components(tree):
    """Every component of a layout, in document order."""
    if isinstance(tree, (list, tuple)):
        for node in tree:
            yield from components(node)
    elif isinstance(tree, Component):
        yield tree
        yield from components(getattr(tree, "children", None))


@pytest.mark.parametrize("step", range(len(page.STEPS)))
def test_every_step_gives_a_bounded_scene_and_loss_curve(step):
    out = call(step)
    scene, loss = out["scene"], out["figure:loss"]
    figure = FIGURES[step]
    runs = 1 if figure == "free" else len(experiments.NARRATED[figure].runs)
    assert len(scene["panels"]) == runs
    assert 1 <= scene["frames"] == len(loss["frames"]) == len(scene["steps"]) <= experiments.MAX_FRAMES
    assert scene["steps"][0] == 0 and scene["steps"] == sorted(scene["steps"])
    n = DEFAULTS["n"] if figure == "free" else experiments.NARRATED[figure].n
    for panel in scene["panels"]:
        assert coords(scene, panel).shape == coords(scene, panel, "y").shape == (scene["frames"], n)
        assert np.isfinite(panel["energy"]).all()
    assert len(json.dumps(scene)) + len(json.dumps(loss)) < 1_600_000
    assert out["caption"] and out["notices-class"] == "ls-notices is-empty"
    assert out["layout-style"] == {"height": f"{page.scene_height(runs)}px"}
    assert out["box:loss"] == "ls-figure" and out["height:loss"] == {"height": "300px"}
    assert (out["panel:playground"] == "ls-panel") == (figure == "free")
    assert (out["panel:tangle"] == "ls-figure") == (figure == "tangle")
    assert bool(loss["autoplay"]) == page.STEPS[step].play       # `play: yes` in the narration
    assert out["ran"] is dash.no_update if figure != "free" else out["ran"] == [str(DEFAULTS[n]) for n in NAMES]


def test_links_and_circles_are_the_graph_and_its_layout():
    scene = call(0)["scene"]
    edges = np.array(scene["edges"]).reshape(-1, 2)
    assert len(edges) == 15 and edges.max() == 15          # a tree of 16 circles
    run = experiments.layout_run("tree", 16, 0, "momentum", experiments.lesson_run("momentum").hyper, "random", 300,
                                 scene["frames"], scene["frames"])
    x = coords(scene, scene["panels"][0])[-1]
    assert np.allclose(x, run["positions"][-1][:, 0], atol=scene["quantum"])


def test_the_gradient_steps_draw_downhill_arrows():
    scene = call(FIGURES.index("objective"))["scene"]
    assert scene["panels"][0]["ax"] is not None and len(scene["panels"][0]["ax"]) == scene["frames"] == 1
    assert call(0)["scene"]["panels"][0]["ax"] is None


def test_quantized_frames_decode_within_half_a_step():
    values = np.cumsum(np.random.default_rng(1).normal(size=(40, 5000)), axis=0) * 30
    step = figures.quantum([-300.0, 300.0], [-10.0, 10.0])
    assert step == 600 / figures.QUANTA
    assert np.max(np.abs(figures.dequantize(figures.quantize(values, step), step) - values)) <= step / 2 + 1e-9
    far = figures.dequantize(figures.quantize(np.array([[np.nan, np.inf, 1e300]]), step), step)
    assert np.isfinite(far).all()                     # a diverged run still gives numbers


def size_kb(value) -> float:
    """Compressed size of a JSON answer (kB), as the site sends it: Plotly's serializer, gzip level 6."""
    return len(gzip.compress(to_json_plotly(value).encode(), compresslevel=6)) / 1000


@pytest.mark.parametrize("step", range(len(page.STEPS)))
def test_every_step_answer_is_at_most_300_kb_compressed(step):
    assert size_kb(call(step)) <= 300


@pytest.mark.parametrize("figure", ["big", "smart", "race"])
def test_the_browser_decodes_each_run_to_its_positions(figure):
    """Every frame of every run, decoded, is within half a quantum (1/4096 of the scene's extent) of the run."""
    scene = call(FIGURES.index(figure))["scene"]
    narrated = experiments.NARRATED[figure]
    frames, metric_frames = experiments.scene_frames(narrated)
    assert scene["quantum"] == pytest.approx(max(np.ptp(r) for r in (scene["figure"]["layout"]["xaxis"]["range"],
                                                                        scene["figure"]["layout"]["yaxis"]["range"]))
                                             / figures.QUANTA)
    for run, panel in zip(narrated.runs, scene["panels"]):
        with app.server.test_request_context():
            positions = page.scene_run(narrated, run, frames, metric_frames)["positions"].astype(float)
        for axis, k in (("x", 0), ("y", 1)):
            assert np.abs(coords(scene, panel, axis) - positions[:, :, k]).max() <= scene["quantum"] / 2 + 1e-9


def test_playground_settings_change_the_run():
    a = call(FREE)
    b = call(FREE, n="25")
    c = call(FREE, optimizer="adam")
    assert coords(b["scene"], b["scene"]["panels"][0]).shape[1] == 25
    assert a["scene"]["panels"][0]["energy"][-1] != c["scene"]["panels"][0]["energy"][-1]
    assert a["ran"] == [str(DEFAULTS[n]) for n in NAMES]
    assert b["ran"][NAMES.index("n")] == "25"


def test_a_run_plays_when_the_visitor_asked_for_it():
    asked = call(FREE, {"request": 1700000000000}, triggered="request")
    assert asked["figure:loss"]["autoplay"] and asked["scene"]["autoplay"]
    shown = call(FREE, {"request": None}, triggered="step")
    assert not shown["figure:loss"]["autoplay"] and not shown["scene"]["autoplay"]


def test_race_mode_lays_out_one_graph_from_one_start_per_optimizer():
    out = call(FREE, mode="race", race="sgd,momentum,lbfgs")
    panels = out["scene"]["panels"]
    assert [p["name"] for p in panels] == ["SGD", "Momentum", "L-BFGS"]
    starts = [coords(out["scene"], p)[0] for p in panels]
    assert all(np.allclose(s, starts[0]) for s in starts)
    assert len(out["figure:loss"]["figure"]["data"]) == 6          # a curve and a marker per run
    assert out["layout-style"] == {"height": "400px"}


@pytest.mark.parametrize("name, raw, limit", [
    ("n", "0", "1 to 5000"), ("n", "10000000", "1 to 5000"), ("n", "-3", "1 to 5000"),
    ("lr", "-1", "1e-06 to 100"), ("lr", "NaN", "1e-06 to 100"), ("lr", "1e308", "1e-06 to 100"),
    ("optimizer", "rm -rf", "one of"), ("steps", "abc", "1 to 2000"), ("seed", "1.5", "0 to 1000000"),
    ("race", "sgd", "2 to 4 optimizers"), ("race", "sgd,adam,rmsprop,adagrad,lbfgs", "2 to 4 optimizers"),
    ("family", "<b>", "one of random"), ("init", [1], "one of random"), ("beta", "1.5", "0 to 0.999"),
])
def test_bad_settings_are_told_beside_their_field_and_replaced(name, raw, limit):
    out = call(FREE, **{name: raw})
    assert out["notices-class"] == "ls-notices" and limit in notices(out)
    assert limit in out[f"note:{name}"]
    assert all(out[f"note:{other}"] == "" for other in NAMES if other != name)
    shown = "" if DEFAULTS[name] == "" else str(DEFAULTS[name])
    assert out[f"value:{name}"] == shown and out["ran"][NAMES.index(name)] == shown
    assert out[f"value:{'seed' if name != 'seed' else 'n'}"] is dash.no_update
    assert out["scene"]["panels"] and out["figure:loss"]["frames"]


def test_a_blank_hyperparameter_is_the_optimizers_default():
    out = call(FREE, lr="fast")
    assert out["note:lr"].endswith("using the optimizer's default.") and out["value:lr"] == ""
    assert out["scene"]["panels"][0]["title"] == "Momentum, η = 0.02"
    assert call(FREE, lr="")["note:lr"] == ""


def test_narrated_steps_show_their_own_runs_and_still_explain_bad_settings():
    out = call(0, n="0")
    assert "1 to 5000" in out["note:n"] and out["value:n"] == "40"
    assert out["scene"] == call(0)["scene"]


def test_an_optimizer_out_of_its_own_range_is_explained():
    out = call(FREE, optimizer="nesterov", beta="0")          # Nesterov needs momentum > 0
    assert "Cannot compute this step" in notices(out) and "momentum" in notices(out)
    assert "default settings" in notices(out) and out["scene"]["panels"]
    assert out["ran"][NAMES.index("beta")] == "0"              # the field keeps what the visitor typed


def test_when_no_run_can_be_computed_every_figure_says_why(monkeypatch):
    def busy(*args):
        raise ValueError("the server is busy")

    monkeypatch.setattr(page, "layout_frames", busy)
    out = call(FREE)
    assert "Cannot compute this step: the server is busy." in notices(out)
    assert out["scene"] == figures.blank_scene() and out["caption"] == ""
    assert "the server is busy" in json.dumps(out["figure:loss"])


def test_a_diverging_run_says_at_which_step():
    out = call(FREE, optimizer="sgd", lr="5")
    text = notices(out)
    assert re.search(r"diverged at step \d+", text), text
    step = int(re.search(r"diverged at step (\d+)", text).group(1))
    panel = out["scene"]["panels"][0]
    assert f"diverged at step {step}" in panel["status"][-1] and panel["status"][0] == ""


def test_runs_over_the_budget_are_cut_with_a_notice():
    out = call(FREE, n="5000", steps="2000")
    assert "running 50 steps" in notices(out) and out["scene"]["steps"][-1] == 50


@pytest.mark.parametrize("step", [None, -5, 10**9, "3", [1], {"a": 1}, True, 2.5])
def test_garbage_steps_show_the_first_step(step):
    out = call(step)
    assert out["scene"]["panels"][0]["title"] == page.run_title(experiments.NARRATED["intro"].runs[0])
    assert "does not exist" in notices(out) and out["panel:playground"].endswith("ls-hidden")


def test_laying_out_a_big_grid_cleanly_is_detected_as_the_task():
    done = call(FREE, family="grid", n="2000", steps="125", init="smart")
    assert done["achieved"] == [FREE]
    assert call(FREE)["achieved"] == []


def test_controls_follow_the_optimizer_and_mode():
    sgd = page.show_own_controls("sgd", "single")
    assert sgd[:3] == ("", "ls-hidden", "ls-hidden") and sgd[3] == "0.02 (default)" and sgd[-1].endswith("ls-hidden")
    adam = page.show_own_controls("adam", "race")
    assert adam[:3] == ("", "", "") and adam[4:6] == ("0.9 (default)", "0.999 (default)")
    assert adam[6:9] == ("Learning rate η", "β₁ (first-moment decay)", "β₂ (second-moment decay)")
    assert adam[-1] == "gl-racers"
    lbfgs = page.show_own_controls("lbfgs", None)
    assert lbfgs[:3] == ("ls-hidden",) * 3
    assert page.show_own_controls({"x": 1}, 5)[:3] == ("", "", "")     # garbage: Adam's controls
    assert page.racers_to_setting(["sgd", "adam"]) == "sgd,adam"
    assert page.racers_to_setting("nonsense") == page.racers_to_setting([]) == "none"
    out = call(FREE, mode="race", race=page.racers_to_setting(["adam"]))
    assert "2 to 4 optimizers" in notices(out) and len(out["scene"]["panels"]) == 3


def test_tangle_rates_fill_in_one_optimizer_per_request(monkeypatch):
    tangle = FIGURES.index("tangle")
    fake = {name: {"optimizer": name, "tangled": k, "trials": 50, "rate": k / 50, "with_crossings": k,
                   "high_energy": k, "diverged": 0} for k, name in enumerate(experiments.TANGLE_OPTIMIZERS)}
    asked = []

    def nothing_cached(name, lr):    # a cold site: under cached_only, every rate is a miss
        if site_cache._cached_only.get():
            raise site_cache.NotCached(name)
        asked.append((name, lr))
        return fake[name]

    monkeypatch.setattr(page, "tangle_result", nothing_cached)
    first, *rest = page.TANGLE_CALLBACKS
    assert first(0) == first("tangle") == [dash.no_update] * 5
    assert rest[0](None, tangle, *[None] * 4) == (dash.no_update, dash.no_update)
    *results, bars = first(tangle)
    assert results[0]["optimizer"] == "sgd" and results[1:] == [None, None, None]   # the others: one by one
    assert list(bars.data[0].text)[1:] == [""] * 3 and "computing" in bars.layout.title.text
    assert rest[0](1234, 0, *results) == (dash.no_update, dash.no_update)            # the visitor has moved on
    for k, compute in enumerate(rest, start=1):
        results[k], bars = compute(1234, tangle, *results)
        assert sum(bool(t) for t in bars.data[0].text) == k + 1                        # the bars fill in
    assert [r["optimizer"] for r in results] == list(experiments.TANGLE_OPTIMIZERS)
    partial = page.show_tangle_rates(results[0], None, "garbage", None)
    assert "computing" in partial.layout.title.text
    assert list(bars.data[0].y) == [0, 0.02, 0.04, 0.06] and "computing" not in bars.layout.title.text
    # Each optimizer at its own best step size, named under its bar.
    assert asked == list(experiments.TANGLE_RATES.items())
    assert list(bars.data[0].x) == ["SGD, η = 0.2", "Momentum, η = 0.1", "Nesterov, η = 0.07", "Adam, η = 2"]


def test_tangle_rates_are_computed_ahead_last_first(monkeypatch):
    """Ahead of the visitor (app.prefetch, the warm-up) from the last rate back: a visitor
    who arrives early asks for them first to last, and the two meet halfway."""
    asked = []
    monkeypatch.setattr(page, "tangle_result", lambda name, lr: asked.append(name))
    page.ENGINE.ahead["tangle"]()
    assert asked == list(reversed(experiments.TANGLE_OPTIMIZERS))


def test_a_warm_site_sends_every_tangle_rate_in_the_first_answer(monkeypatch):
    """Rates the cache holds come with the first one (one request, nothing left to ask
    for); one it does not hold is left empty, and that answer is not kept whole."""
    tangle = FIGURES.index("tangle")
    computed = []

    @site_cache.memoize()
    def tangle_rate_for_this_test(name, lr):
        computed.append(name)
        return {"optimizer": name, "tangled": 1, "trials": 50, "rate": 0.02, "with_crossings": 1,
                "high_energy": 0, "diverged": 0}

    monkeypatch.setattr(page, "tangle_result", tangle_rate_for_this_test)
    names = list(experiments.TANGLE_OPTIMIZERS)
    with app.server.test_request_context():
        for name in names[:3]:
            tangle_rate_for_this_test(name, experiments.TANGLE_RATES[name])
        *partial, _ = page.TANGLE_CALLBACKS[0](tangle)
        assert [r and r["optimizer"] for r in partial] == names[:3] + [None]
        assert compute_slots.answer_is_transient()
    with app.server.test_request_context():
        tangle_rate_for_this_test(names[3], experiments.TANGLE_RATES[names[3]])
        *whole, bars = page.TANGLE_CALLBACKS[0](tangle)
        assert [r["optimizer"] for r in whole] == names and "computing" not in bars.layout.title.text
        assert not compute_slots.answer_is_transient()
    assert computed == names


def test_layout_survives_any_query():
    with app.server.test_request_context():
        for query in ({}, {"step": "99", "n": "nan", "race": "x" * 500, "lr_hide": "1", "mode": "race"}):
            assert page.layout(**query) is not None


def test_a_link_with_bad_settings_explains_them_beside_their_fields():
    with app.server.test_request_context():
        tree = list(components(page.layout(n="nan", lr="-1", lr_hide="1")))
    notes = {c.id["name"]: c.children for c in tree
             if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == "ls-field-note"}
    assert set(notes) == set(NAMES)
    assert "1 to 5000" in notes["n"] and notes["lr"].endswith("using the optimizer's default.")
    assert all(not text for name, text in notes.items() if name not in ("n", "lr"))
    fields = {c.id["name"]: c for c in tree if isinstance(getattr(c, "id", None), dict)
              and c.id.get("type") == "ls-setting"}
    assert fields["n"].value == "40" and fields["lr"].value == "" and fields["lr"].placeholder == "0.02 (default)"
    hidden = [c for c in tree if getattr(c, "className", None) == "ls-control is-hidden"]
    assert any(fields["lr"] in c.children for c in hidden)


def test_every_label_and_choice_comes_from_the_schema():
    with app.server.test_request_context():
        tree = list(components(page.layout()))
    labels = [c.children for c in tree if getattr(c, "className", None) == "ls-control-label"]
    spans = {c.id["name"]: c.children for c in tree
             if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == "ls-hyper-label"}
    assert spans == {"lr": "Learning rate η", "beta": "momentum", "beta2": "β₂ / α / ρ"}   # momentum's own
    assert [t for t in labels if isinstance(t, str)] == [
        "Mode", "Optimizer", "Racers (2 to 4; yours with your settings)", "Graph", "Circles", "Graph seed",
        "Steps", "Start"]
    mode = next(c for c in tree if getattr(c, "id", None) == page.setting_id(page.LESSON, "mode"))
    assert mode.className == "gl-radio" and mode.inline
    assert [o["label"] for o in mode.options] == ["one optimizer", "race"]


def test_an_optimizer_at_two_step_sizes_is_named_with_each():
    out = call(FIGURES.index("momentum"))
    assert [p["name"] for p in out["scene"]["panels"]] == ["SGD, η = 0.02", "Momentum, η = 0.02", "SGD, η = 0.15"]
    assert [p["name"] for p in call(FIGURES.index("race"))["scene"]["panels"]] == ["SGD", "Momentum", "Adam", "L-BFGS"]


def test_a_run_and_its_metrics_are_two_cache_entries():
    """A filesystem cache past its entry limit reads every entry at each write: a narrated run
    stores its frames and the metrics of its 150 measured frames as two entries, not 151."""
    server = flask.Flask("entries")
    site_cache.init_app(server, {"CACHE_TYPE": "SimpleCache", "CACHE_KEY_PREFIX": "entries:"})
    scene = experiments.NARRATED["intro"]
    assert experiments.scene_frames(scene) == (150, 150)
    with server.app_context():
        page.build_scene(scene)
        assert len(server.extensions["cache"][site_cache.cache]._cache) == 2
