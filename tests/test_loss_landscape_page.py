"""The loss-landscape page's callbacks, called as the server would, and the
facts its narration states, measured on the runs it shows."""

import csv
import io
import json

import dash
import numpy as np
import pytest

from app.main import app
from pages import loss_landscape as page

NAMES = page.SCHEMA.names
DEFAULTS = page.SCHEMA.defaults()
FIGURES = [s.figure for s in page.STEPS]
FREE = FIGURES.index("free")


def step_of(figure: str) -> int:
    return FIGURES.index(figure)


def call_show_step(step, **overrides):
    raw = [overrides.get(n, DEFAULTS[n]) for n in NAMES]
    with app.server.test_request_context():
        surface, contour, side, facts, case, net, settings, notices, notice_class, achieved = page.show_step(step, *raw)
    return {"surface": surface, "contour": contour, "side": side, "facts": facts, "case": case, "net": net,
            "settings": settings, "notices": notices, "notice_class": notice_class, "achieved": achieved}


def call_export(kind: str, step, **overrides):
    raw = [overrides.get(n, DEFAULTS[n]) for n in NAMES]
    with app.server.test_request_context():
        return page.export_file(kind, step, *raw)


def ball_positions(payload) -> list:
    """The patched x/y of the first patched trace in every frame."""
    return [(f["data"][0].get("x"), f["data"][0].get("y")) for f in payload["frames"] if f.get("data")]


# --------------------------------------------------------------------------
# Every step


@pytest.mark.parametrize("step", range(len(page.STEPS)))
def test_every_step_gives_three_figures_and_facts(step):
    out = call_show_step(step)
    for name in ("surface", "contour", "side"):
        payload = out[name]
        assert payload["figure"]["data"], name
        assert 1 <= len(payload["frames"]) <= page.MAX_FRAMES
        assert len(payload["labels"]) == len(payload["frames"])
    assert out["notices"] == [] and out["notice_class"] == "ls-notices is-empty"
    assert out["facts"]
    size = len(json.dumps([out["surface"], out["contour"], out["side"]]))
    assert size < 1_500_000, f"payload of {size} bytes"


@pytest.mark.parametrize("figure", ["features", "top", "pca", "ball", "optimizers", "free"])
def test_the_ball_moves_along_the_path(figure):
    out = call_show_step(step_of(figure))
    positions = ball_positions(out["surface"])
    assert len(positions) >= 40 and len(set(map(str, positions))) >= 20
    surface = out["surface"]["figure"]["data"][0]
    assert surface["type"] == "surface" and len(surface["z"]) >= 41


def test_panels_show_on_their_steps_only():
    for figure in FIGURES:
        out = call_show_step(step_of(figure))
        assert ("ls-hidden" not in out["case"]) == (figure in ("pca", "ball"))
        assert ("ls-hidden" not in out["net"]) == (figure == "nets")
        assert ("ls-hidden" not in out["settings"]) == (figure == "free")


def test_steps_that_play_start_at_the_first_frame():
    for figure in FIGURES:
        payload = call_show_step(step_of(figure))["surface"]
        play = page.STEPS_PLAY[figure]
        assert payload["autoplay"] is play
        assert payload["start"] == ("first" if play else "last")


def test_the_pca_step_draws_the_grid_of_sampled_points():
    contour = call_show_step(step_of("pca"))["contour"]
    grid = [t for t in contour["figure"]["data"] if t.get("name", "").startswith("grid points")]
    assert len(grid) == 1 and len(grid[0]["x"]) == page.RESOLUTION ** 2


# --------------------------------------------------------------------------
# Settings change what is shown


def test_the_case_choice_changes_steps_3_and_4():
    for figure in ("pca", "ball"):
        svm = call_show_step(step_of(figure))["surface"]["figure"]["data"][0]["z"]
        logistic = call_show_step(step_of(figure), case="logistic")["surface"]["figure"]["data"][0]["z"]
        assert svm != logistic


def test_the_network_choice_changes_step_5():
    a = call_show_step(step_of("nets"))
    b = call_show_step(step_of("nets"), net="5x5")
    assert a["surface"]["figure"]["data"][0]["z"] != b["surface"]["figure"]["data"][0]["z"]
    assert a["side"]["frames"][-1] != b["side"]["frames"][-1]     # its decision areas


@pytest.mark.parametrize("name, value", [("lr", "0.05"), ("optimizer", "sgd"), ("seed", "3"), ("steps", "50"),
                                         ("directions", "random"), ("directions", "top"), ("extent", "2"),
                                         ("log", ["log"]), ("model", "logistic"), ("data", "circles")])
def test_a_free_play_setting_changes_the_figure(name, value):
    before = call_show_step(FREE)["contour"]["figure"]
    after = call_show_step(FREE, **{name: value})
    assert after["notices"] == []
    assert after["contour"]["figure"] != before


def test_free_play_resolution_sets_the_grid():
    out = call_show_step(FREE, resolution="11")
    surface = out["surface"]["figure"]["data"][0]
    assert len(surface["x"]) == 11 and len(surface["z"]) == 11 and len(surface["z"][0]) == 11


def test_log_scale_draws_log_losses():
    plain = call_show_step(FREE)["surface"]["figure"]["data"][0]["z"]
    logged = call_show_step(FREE, log=["log"])["surface"]["figure"]["data"][0]["z"]
    np.testing.assert_allclose(np.log10(np.array(plain)[5, 5]), np.array(logged)[5, 5], atol=2e-3)


def test_top_moving_directions_in_free_play_show_the_parameters_own_values():
    out = call_show_step(FREE, directions="top", model="logistic", data="iris", optimizer="sgd", lr="0.1",
                         steps="300")
    titles = out["contour"]["figure"]["layout"]["xaxis"]["title"]["text"], \
        out["contour"]["figure"]["layout"]["yaxis"]["title"]["text"]
    assert titles == ("w[petal width, virginica]", "w[petal length, setosa]")
    assert out["side"]["figure"]["layout"]["yaxis"]["title"]["text"] == "parameter value"


# --------------------------------------------------------------------------
# Garbage in, a notice and a working page out


@pytest.mark.parametrize("name, raw", [
    ("lr", "-1"), ("lr", "NaN"), ("lr", "1e308"), ("steps", "1000000000"), ("steps", "1.5"), ("seed", "-3"),
    ("resolution", "500"), ("resolution", "3"), ("extent", "inf"), ("extent", "0"), ("model", "<script>"),
    ("data", ["iris"]), ("optimizer", "rm -rf"), ("directions", None), ("log", "maybe"), ("case", 7),
    ("net", "100x100"), ("lr", "x" * 500),
])
def test_bad_settings_give_a_notice_and_a_working_page(name, raw):
    steps = {"case": [FREE, step_of("pca")], "net": [FREE, step_of("nets")]}.get(name, [FREE])
    for step in steps:
        out = call_show_step(step, **{name: raw})
        assert all(out[k]["figure"]["data"] for k in ("surface", "contour", "side"))
        if raw is not None:
            assert out["notice_class"] == "ls-notices" and out["notices"], (name, raw)


def test_an_svm_on_three_classes_names_the_limit_and_shows_the_default():
    out = call_show_step(FREE, model="svm", data="iris")
    text = " ".join(p.children for p in out["notices"])
    assert "two classes" in text and "3" in text
    assert out["surface"]["figure"]["data"] == call_show_step(FREE)["surface"]["figure"]["data"]


def test_a_diverging_run_says_at_which_step_it_stopped():
    out = call_show_step(FREE, model="mlp-1x20", data="breast-cancer", optimizer="sgd", lr="10")
    text = " ".join(p.children for p in out["notices"])
    assert "diverged at step 133" in text and "smaller learning rate" in text
    assert out["surface"]["figure"]["data"][0]["z"]


def test_a_run_that_stopped_early_is_drawn_with_a_notice(monkeypatch):
    real = page.training_path.uncached

    def stopped(*args):
        run = real(*args)
        return {"path": run["path"][:41], "loss": run["loss"][:41], "message": "diverged at step 40: loss became inf"}

    monkeypatch.setattr(page, "training_path", stopped)
    out = call_show_step(FREE, steps="77")
    text = " ".join(p.children for p in out["notices"])
    assert "diverged at step 40" in text and "the 40 steps before" in text
    assert out["side"]["figure"]["layout"]["xaxis"]["range"] == [0.0, 40.0]


@pytest.mark.parametrize("step", [None, -5, 10**9, "3", [1], {"a": 1}, True, 2.5])
def test_garbage_steps_do_not_break(step):
    out = call_show_step(step)
    assert out["surface"]["figure"]["data"] and out["notices"] == []


def test_the_network_table_has_a_row_per_network_and_ignores_other_steps():
    with app.server.test_request_context():
        table, css, achieved = page.show_nets_table(step_of("nets"), "1x5")
        hidden = page.show_nets_table(step_of("pca"), "1x5")
        garbage = page.show_nets_table(step_of("nets"), {"no": 1})
    rows = table[1].children[1].children
    assert len(rows) == len(page.NETS) and css == "ls-panel" and achieved == []
    assert hidden[1] == "ls-panel ls-hidden" and hidden[0] is dash.no_update
    assert garbage[1] == "ls-panel"


# --------------------------------------------------------------------------
# Export


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("figure", FIGURES)
def test_export_gives_valid_csv_and_json_for_every_step(figure):
    result, *_ = call_export("csv", step_of(figure))
    assert result["filename"] == f"loss-landscape-{figure}.csv" and result["type"] == "text/csv"
    rows = read_csv(result["content"])
    surface = [r for r in rows if r["kind"] == "surface"]
    paths = [r for r in rows if r["kind"].startswith("path")]
    assert len(surface) >= 41 * 41 and len(paths) >= 40
    assert all(np.isfinite(float(r["loss"])) for r in surface + paths)

    result, *_ = call_export("json", step_of(figure))
    document = json.loads(result["content"])
    loss = np.array(document["loss"], dtype=float)
    assert loss.shape == (len(document["betas"]), len(document["alphas"]))
    assert len(document["path"]["alpha"]) == len(document["path"]["loss"]) >= 40
    assert document["meta"]


def test_the_exported_surface_is_the_drawn_one():
    result, *_ = call_export("json", step_of("pca"))
    document = json.loads(result["content"])
    drawn = call_show_step(step_of("pca"))["surface"]["figure"]["data"][0]
    np.testing.assert_allclose(np.array(drawn["z"], dtype=float), np.array(document["loss"]), atol=5e-4)
    assert document["meta"]["explained_variance_ratio"][0] == pytest.approx(0.973, abs=5e-4)


def test_the_optimizer_export_holds_all_three_paths():
    result, *_ = call_export("csv", step_of("optimizers"))
    kinds = {r["kind"] for r in read_csv(result["content"])}
    assert kinds == {"surface", "path-sgd", "path-momentum", "path-adam"}
    result, *_ = call_export("json", step_of("optimizers"))
    assert set(json.loads(result["content"])["meta"]["other_paths"]) == {"momentum", "adam"}


def test_export_of_bad_settings_uses_the_defaults_and_of_garbage_steps_works():
    good, *_ = call_export("csv", FREE)
    bad, *_ = call_export("csv", FREE, lr="-1", resolution="1e9")
    assert bad["content"] == good["content"]
    assert call_export("json", [3])[0]["filename"] == f"loss-landscape-{FIGURES[0]}.json"


# --------------------------------------------------------------------------
# What the narration says is true of the runs shown


def test_step_1_facts():
    with app.server.test_request_context():
        land = page.feature_landscape()
    np.testing.assert_allclose(land["ratio"], [0.74, 0.14], atol=0.005)
    assert land["b"][0] == 0 and land["b"][-1] == pytest.approx(0.14, abs=0.005)
    assert land["path_loss"][-1] == pytest.approx(0.21, abs=0.005)
    np.testing.assert_allclose(land["w"][-1], [2.7, 2.6], atol=0.05)
    assert land["path_loss"][-1] - land["loss"].min() < 0.001        # at the bottom of the bowl


def test_step_2_facts():
    with app.server.test_request_context():
        land = page.landscape_slice(*page.CASE_RUNS["logistic"], "top", page.RESOLUTION, 1.0)
    assert land["n_params"] == 15
    assert land["axis_titles"] == ("w[petal width, virginica]", "w[petal length, setosa]")
    assert land["path_loss"][0] == pytest.approx(1.10, abs=0.005)
    assert land["plane_loss"][0] == pytest.approx(0.41, abs=0.005)
    assert land["path_loss"][-1] == pytest.approx(land["plane_loss"][-1], rel=1e-12)


def test_step_3_and_4_facts():
    with app.server.test_request_context():
        svm = page.landscape_slice(*page.CASE_RUNS["svm"], "pca", page.RESOLUTION, 1.0)
        logistic = page.landscape_slice(*page.CASE_RUNS["logistic"], "pca", page.RESOLUTION, 1.0)
    assert svm["n_params"] == 31 and logistic["n_params"] == 15 and svm["loss"].size == 2601
    np.testing.assert_allclose(svm["ratio"], [0.973, 0.023], atol=5e-4)
    np.testing.assert_allclose(logistic["ratio"], [0.980, 0.019], atol=5e-4)
    assert svm["convexity"] == 0.0 and logistic["convexity"] == 0.0
    assert svm["path_loss"][0] == pytest.approx(0.993, abs=5e-4)
    assert svm["plane_loss"][0] == pytest.approx(0.962, abs=5e-4)
    assert round(abs(svm["path_loss"][10] - svm["plane_loss"][10]), 3) == 0.001


def test_step_5_facts_and_task():
    with app.server.test_request_context():
        runs = {key: page.spiral_net(*page.NETS[key]) for key in page.NETS}
        _, _, done = page.show_nets_table(step_of("nets"), "5x5")
        _, _, not_done = page.show_nets_table(step_of("nets"), "1x20")
    first = [run["ratio"][0] for run in runs.values()]
    assert 0.815 <= min(first) and max(first) < 0.945                  # "82 % to 94 %"
    convexity = {key: run["convexity"] for key, run in runs.items()}
    deep_narrow = [convexity["5x5"], convexity["10x5"]]
    others = [convexity["1x5"], convexity["1x20"], convexity["5x20"]]
    assert min(deep_narrow) > max(others)                                # the seed's observation
    np.testing.assert_allclose(deep_narrow, [0.70, 0.58], atol=0.005)
    assert 0.275 <= min(others) and max(others) < 0.475                 # "28 % to 47 %"
    assert done == [step_of("nets")] and not_done == []


def test_step_6_facts():
    with app.server.test_request_context():
        race = page.optimizer_race()
    sgd, momentum, adam = race["runs"]
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


def test_free_play_task_is_detected():
    assert call_show_step(FREE)["achieved"] == []
    assert call_show_step(FREE, model="mlp-5x20")["achieved"] == [FREE]
    assert call_show_step(FREE, model="mlp-5x20", directions="random")["achieved"] == []
