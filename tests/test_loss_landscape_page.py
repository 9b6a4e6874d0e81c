"""The loss-landscape page: every step through the lesson engine (outputs read
by name), the network table, the downloads, and bad input of every kind. The
narration's numbers are checked on the experiments in tests/lessons."""

import csv
import io
import json

import dash
import numpy as np
import pytest

from app.lessons import loss_landscape as experiments
from app.main import app
from pages import loss_landscape as page

DEFAULTS = page.SCHEMA.defaults()
FIGURES = [s.figure for s in page.STEPS]
FREE = FIGURES.index("free")
GRAPHS = ("surface", "contour", "top_left", "top_right", "side")
#: Steps that compare slices from above: the first places of page.PLACES each hold a contour plot.
COMPARING = {"directions": 3, "centring": 2, "skip": 2, "digits": 2}


def step_of(figure: str) -> int:
    return FIGURES.index(figure)


def call_show_step(step, **overrides) -> dict:
    """Every output of the step, by name (in a request, so that runs are memoized)."""
    with app.server.test_request_context():
        return page.ENGINE.outputs(step, {**DEFAULTS, **overrides})


def call_export(kind: str, step, **overrides):
    raw = [overrides.get(n, DEFAULTS[n]) for n in page.SCHEMA.names]
    with app.server.test_request_context():
        return page.export_file(kind, step, *raw)


def notice_text(out: dict) -> str:
    return " ".join(p.children for p in out["notices"])


def figure(out: dict, graph: str) -> dict:
    return out[f"figure:{graph}"]["figure"]


def ball_positions(payload) -> list:
    """The patched x/y of the last patched trace (the ball) in every frame."""
    return [(f["data"][-1].get("x"), f["data"][-1].get("y")) for f in payload["frames"] if f.get("data")]


def shown(out) -> list[str]:
    return [name for name in GRAPHS if "ls-hidden" not in out[f"box:{name}"]]


# --------------------------------------------------------------------------
# Every step


@pytest.mark.parametrize("step", range(len(page.STEPS)))
def test_every_step_gives_its_figures_and_facts(step):
    out = call_show_step(step)
    # A step comparing slices from above shows them in graphs of their own; the 3-D
    # surface's graph, hidden, is sent nothing and keeps its scene for the next 3-D step.
    places = ["top_left", "top_right", "side"] if FIGURES[step] in COMPARING else ["surface", "contour", "side"]
    assert shown(out) == places
    assert all(out[f"figure:{name}"] is None for name in GRAPHS if name not in places)
    for name in shown(out):
        payload = out[f"figure:{name}"]
        assert payload["figure"]["data"], name
        assert 1 <= len(payload["frames"]) <= page.MAX_FRAMES
        assert len(payload["labels"]) == len(payload["frames"])
        assert out[f"box:{name}"] == "ls-figure"
    assert out["notices"] == [] and out["notices-class"] == "ls-notices is-empty"
    assert out["facts"]
    size = len(json.dumps([out[f"figure:{name}"] for name in shown(out)]))
    assert size < 1_500_000, f"payload of {size} bytes"


@pytest.mark.parametrize("figure_name", ["features", "top", "pca", "ball", "optimizers", "switch", "free"])
def test_the_ball_moves_along_the_path(figure_name):
    out = call_show_step(step_of(figure_name))
    positions = ball_positions(out["figure:surface"])
    assert len(positions) >= 40 and len(set(map(str, positions))) >= 20
    surface = figure(out, "surface")["data"][0]
    assert surface["type"] == "surface" and len(surface["z"]) >= 41


@pytest.mark.parametrize("figure_name", list(COMPARING))
def test_steps_that_compare_slices_show_each_from_above_with_its_ball(figure_name):
    out = call_show_step(step_of(figure_name))
    for name in page.PLACES[:COMPARING[figure_name]]:
        contour = figure(out, name)["data"][0]
        assert contour["type"] == "contour" and len(contour["z"]) == 41 and len(contour["z"][0]) == 41
        positions = ball_positions(out[f"figure:{name}"])
        assert len(positions) >= 40 and len(set(map(str, positions))) >= 20


def test_the_three_planes_say_how_much_of_the_path_they_hold():
    out = call_show_step(step_of("directions"))
    titles = [figure(out, name)["layout"]["title"]["text"] for name in page.PLACES]
    assert [t.split(":")[0] for t in titles] == [page.PLANE_TITLES[k][0] for k in experiments.PLANES]
    assert all(t.endswith("% of the path") for t in titles)


def test_the_centring_step_marks_each_planes_centre():
    out = call_show_step(step_of("centring"))
    marks = [[t["name"] for t in figure(out, name)["data"] if t.get("mode") == "markers" and "θ" in t.get("name", "")]
             for name in ("top_left", "top_right")]
    assert marks == [["θ<sub>T</sub>, the trained net"], ["θ̄, the mean of the path"]]


def test_the_digit_step_puts_both_slices_on_one_scale_with_the_seeds_line():
    for optimizer in ("sgd", "adam"):
        out = call_show_step(step_of("digits"), digit_optimizer=optimizer)
        two, pca = figure(out, "top_left"), figure(out, "top_right")
        assert (two["data"][0]["zmin"], two["data"][0]["zmax"]) == (pca["data"][0]["zmin"], pca["data"][0]["zmax"])
        line = [t for t in two["data"] if t.get("name", "").startswith("the seed's line")]
        assert len(line) == 1 and line[0]["line"]["dash"] == "dash"
        dx, dy = np.diff(line[0]["x"]), np.diff(line[0]["y"])
        assert dx[0] > 0 and dx[0] == pytest.approx(dy[0], rel=1e-3)       # both change together
        assert two["layout"]["title"]["text"].startswith("Moved most: ")
        assert pca["layout"]["title"]["text"].startswith("PCA: ")
        side = figure(out, "side")
        assert [t["name"] for t in side["data"]] == ["loss of the network on the path",
                                                      "slice of the two parameters under it", "PCA plane under it"]
    text = str(out["facts"])
    assert "longest travel (the seed's ranking)" in text and "moved most (end − start)" in text
    assert "pixel 3,1 → hidden unit 9" in text and "ink in 4 of 1,797 images" in text       # Adam's pixel map
    sgd = call_show_step(step_of("digits"))
    assert "ink in" not in str(sgd["facts"])                 # SGD's two weights start from hidden units
    assert figure(sgd, "top_left")["layout"]["xaxis"]["title"]["text"] == "hidden unit 4 → digit 2"


def test_the_digit_step_exports_the_two_parameter_slice():
    result, *_ = call_export("json", step_of("digits"), digit_optimizer="adam")
    document = json.loads(result["content"])
    assert document["meta"]["alpha"] == "pixel 3,1 → hidden unit 9" and document["meta"]["optimizer"] == "adam"
    drawn = figure(call_show_step(step_of("digits"), digit_optimizer="adam"), "top_left")["data"][0]
    np.testing.assert_allclose(np.array(drawn["z"], dtype=float), np.array(document["loss"]), rtol=1e-3)


def test_the_switching_ball_shows_one_slice_at_a_time():
    out = call_show_step(step_of("switch"))
    payload = out["figure:surface"]
    surfaces = [t for t in payload["figure"]["data"] if t["type"] == "surface"]
    assert len(surfaces) == experiments.BALL_SLICES and [t["visible"] for t in surfaces].count(True) == 1
    titles = {f.get("layout", {}).get("title", {}).get("text") for f in payload["frames"]} - {None}
    assert len(titles) == experiments.BALL_SLICES - 1       # every slice after the first retitles the figure
    for f in payload["frames"]:
        shown_now = [d["visible"] for d in f["data"][:-1]]
        assert shown_now.count(True) in (0, 2)               # its surface and its path, or no change
    side = figure(out, "side")
    assert len(side["layout"]["shapes"]) == experiments.BALL_SLICES   # 5 switches and the frame's line


def test_panels_show_on_their_steps_only():
    for name in FIGURES:
        out = call_show_step(step_of(name))
        assert ("ls-hidden" not in out["panel:case"]) == (name in ("pca", "ball"))
        assert ("ls-hidden" not in out["panel:net"]) == (name == "nets")
        assert ("ls-hidden" not in out["panel:net_seed"]) == (name == "nets")
        assert ("ls-hidden" not in out["panel:table"]) == (name == "nets")
        assert ("ls-hidden" not in out["panel:digit_optimizer"]) == (name == "digits")
        assert ("ls-hidden" not in out["panel:settings"]) == (name == "free")


def test_steps_that_play_start_at_the_first_frame():
    for step in page.STEPS:
        out = call_show_step(step_of(step.figure))
        for name in shown(out):
            payload = out[f"figure:{name}"]
            assert payload["autoplay"] is step.play
            assert payload["start"] == ("first" if step.play else "last")


def test_the_pca_step_draws_the_grid_of_sampled_points():
    contour = figure(call_show_step(step_of("pca")), "contour")
    grid = [t for t in contour["data"] if t.get("name", "").startswith("grid points")]
    assert len(grid) == 1 and len(grid[0]["x"]) == page.RESOLUTION ** 2


def test_step_2_names_its_axes_after_the_two_parameters():
    layout = figure(call_show_step(step_of("top")), "contour")["layout"]
    assert (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]) == \
        ("w[petal width, virginica]", "w[petal length, setosa]")


# --------------------------------------------------------------------------
# Settings change what is shown


def test_the_case_choice_changes_steps_3_and_4():
    for name in ("pca", "ball"):
        svm = figure(call_show_step(step_of(name)), "surface")["data"][0]["z"]
        logistic = figure(call_show_step(step_of(name), case="logistic"), "surface")["data"][0]["z"]
        assert svm != logistic


def test_the_network_choice_changes_step_5():
    a = call_show_step(step_of("nets"))
    b = call_show_step(step_of("nets"), net="5x5")
    assert figure(a, "surface")["data"][0]["z"] != figure(b, "surface")["data"][0]["z"]
    assert a["figure:side"]["frames"][-1] != b["figure:side"]["frames"][-1]     # its decision areas


def test_the_seed_choice_changes_step_5_and_its_table():
    a = call_show_step(step_of("nets"), net="10x5")
    b = call_show_step(step_of("nets"), net="10x5", net_seed="1")
    assert b["notices"] == [] and figure(a, "surface")["data"][0]["z"] != figure(b, "surface")["data"][0]["z"]
    assert "seed 1" in figure(b, "surface")["layout"]["title"]["text"]
    with app.server.test_request_context():
        table, _ = page.show_nets_table(step_of("nets"), "10x5", "1")
    assert "seed 1" in table[0].children


@pytest.mark.parametrize("name, value", [("lr", "0.05"), ("optimizer", "sgd"), ("seed", "3"), ("steps", "50"),
                                         ("directions", "random"), ("directions", "top"), ("extent", "2"),
                                         ("log", ["on"]), ("model", "logistic"), ("data", "circles")])
def test_a_free_play_setting_changes_the_figure(name, value):
    before = figure(call_show_step(FREE), "contour")
    after = call_show_step(FREE, **{name: value})
    assert after["notices"] == []
    assert figure(after, "contour") != before


def test_free_play_resolution_sets_the_grid():
    surface = figure(call_show_step(FREE, resolution="11"), "surface")["data"][0]
    assert len(surface["x"]) == 11 and len(surface["z"]) == 11 and len(surface["z"][0]) == 11


def test_log_scale_draws_log_losses():
    plain = figure(call_show_step(FREE), "surface")["data"][0]["z"]
    logged = figure(call_show_step(FREE, log=["on"]), "surface")["data"][0]["z"]
    np.testing.assert_allclose(np.log10(np.array(plain)[5, 5]), np.array(logged)[5, 5], atol=2e-3)


def test_top_moving_directions_in_free_play_show_the_parameters_own_values():
    out = call_show_step(FREE, directions="top", model="logistic", data="iris", optimizer="sgd", lr="0.1",
                         steps="300")
    layout = figure(out, "contour")["layout"]
    assert (layout["xaxis"]["title"]["text"], layout["yaxis"]["title"]["text"]) == \
        ("w[petal width, virginica]", "w[petal length, setosa]")
    assert figure(out, "side")["layout"]["yaxis"]["title"]["text"] == "parameter value"


# --------------------------------------------------------------------------
# Garbage in, a notice and a working page out


@pytest.mark.parametrize("name, raw", [
    ("lr", "-1"), ("lr", "NaN"), ("lr", "1e308"), ("steps", "1000000000"), ("steps", "1.5"), ("seed", "-3"),
    ("resolution", "500"), ("resolution", "3"), ("extent", "inf"), ("extent", "0"), ("model", "<script>"),
    ("data", ["iris"]), ("optimizer", "rm -rf"), ("directions", None), ("log", "maybe"), ("case", 7),
    ("net", "100x100"), ("lr", "x" * 500), ("net_seed", "3"), ("net_seed", "-1"), ("net_seed", "NaN"),
    ("digit_optimizer", "rmsprop"), ("digit_optimizer", "<script>"),
])
def test_bad_settings_give_a_notice_beside_the_field_and_a_working_page(name, raw):
    steps = {"case": [FREE, step_of("pca")], "net": [FREE, step_of("nets")],
             "net_seed": [FREE, step_of("nets")], "digit_optimizer": [FREE, step_of("digits")]}.get(name, [FREE])
    for step in steps:
        out = call_show_step(step, **{name: raw})
        assert all(figure(out, g)["data"] for g in shown(out))
        if raw is not None:
            assert out["notices-class"] == "ls-notices" and out["notices"], (name, raw)
            assert "not allowed" in out[f"note:{name}"] and out[f"note:{name}"] in notice_text(out)
            assert out[f"value:{name}"] is not dash.no_update           # the field shows the value used
        else:
            assert out[f"note:{name}"] == ""


def test_a_replaced_value_is_written_back_as_the_field_holds_it():
    out = call_show_step(FREE, resolution="500", log="maybe", model="<script>")
    assert (out["value:resolution"], out["value:log"], out["value:model"]) == ("41", [], "mlp-1x20")
    assert out["value:lr"] is dash.no_update and out["note:lr"] == ""


def test_an_svm_on_three_classes_names_the_limit_and_shows_the_default():
    out = call_show_step(FREE, model="svm", data="iris")
    text = notice_text(out)
    assert "Cannot compute this step" in text and "two classes" in text and "3" in text
    assert figure(out, "surface")["data"] == figure(call_show_step(FREE), "surface")["data"]


def test_a_diverging_run_says_at_which_step_it_stopped():
    out = call_show_step(FREE, model="mlp-1x20", data="breast-cancer", optimizer="sgd", lr="10")
    text = notice_text(out)
    assert "diverged at step 134: the loss became inf" in text and "smaller learning rate" in text
    assert figure(out, "surface")["data"][0]["z"]


def test_a_run_that_stopped_early_is_drawn_with_a_notice(monkeypatch):
    def stopped(*args):
        run = experiments.training_path(*args)
        return {"path": run["path"][:41], "loss": run["loss"][:41],
                "message": "diverged at step 41: the loss became inf"}

    monkeypatch.setattr(page, "training_path", stopped)
    out = call_show_step(FREE, steps="77")
    text = notice_text(out)
    assert "diverged at step 41" in text and "the 40 steps before" in text
    assert figure(out, "side")["layout"]["xaxis"]["range"] == [0.0, 40.0]


def test_when_even_the_defaults_fail_every_figure_says_why(monkeypatch):
    def refused(*args):
        raise ValueError("the server is busy")

    monkeypatch.setattr(page, "landscape_slice", refused)
    out = call_show_step(FREE, lr="0.02")
    assert "Cannot compute this step: the server is busy." in notice_text(out)
    for name in GRAPHS:   # placeholders in every place, shown or not
        assert "the server is busy" in out[f"figure:{name}"]["figure"]["layout"]["annotations"][0]["text"]


@pytest.mark.parametrize("step", [None, -5, 10**9, "3", [1], {"a": 1}, True, 2.5])
def test_garbage_steps_show_step_1_with_a_notice(step):
    out = call_show_step(step)
    assert figure(out, "surface")["data"] and figure(out, "surface") == figure(call_show_step(0), "surface")
    assert "does not exist" in notice_text(out) and f"1 to {len(FIGURES)}" in notice_text(out)


def test_the_network_table_has_a_row_per_network_and_ignores_other_steps():
    with app.server.test_request_context():
        table, achieved = page.show_nets_table(step_of("nets"), "1x5")
        hidden = page.show_nets_table(step_of("pca"), "1x5")
        garbage = page.show_nets_table(step_of("nets"), {"no": 1})
        garbage_step = page.show_nets_table("nets", "1x5")
    rows = table[1].children.children[1].children
    assert len(rows) == len(page.NETS) and achieved == []
    assert [row.className for row in rows].count("is-current") == 1 and rows[0].className == "is-current"
    assert hidden == (dash.no_update, dash.no_update)
    assert len(garbage[0][1].children.children[1].children) == len(page.NETS)    # the default network's table
    assert garbage_step == (dash.no_update, dash.no_update)             # step 1 is not the networks' step


def test_step_5_task_is_the_least_convex_network():
    with app.server.test_request_context():
        _, done = page.show_nets_table(step_of("nets"), "5x5")
        _, not_done = page.show_nets_table(step_of("nets"), "1x20")
    assert done == [step_of("nets")] and not_done == []
    assert call_show_step(step_of("nets"), net="5x5")["achieved"] == []    # the table's callback judges it


def test_free_play_task_is_detected():
    assert call_show_step(FREE)["achieved"] == []
    assert call_show_step(FREE, model="mlp-5x20")["achieved"] == [FREE]
    assert call_show_step(FREE, model="mlp-5x20", directions="random")["achieved"] == []


# --------------------------------------------------------------------------
# The layout


def components(node):
    """Every component of a layout, depth first."""
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children] if children is not None else []:
        yield from components(child)


def test_a_bad_link_is_explained_beside_its_field_and_shows_the_value_used():
    with app.server.test_request_context():
        parts = list(components(page.layout(step="7", resolution="5000")))
    notes = {c.id["name"]: c.children for c in parts if isinstance(getattr(c, "id", None), dict)
             and c.id.get("type") == "ls-field-note" and c.children}
    assert notes == {"resolution": "Grid points per axis: “5000” is not allowed (a number from 11 to 81); "
                                   "using 41."}
    field = [c for c in parts if isinstance(c, dash.dcc.Input) and c.id.get("name") == "resolution"]
    assert field[0].value == "41"


def test_the_narrated_choices_are_radio_buttons_in_a_row():
    with app.server.test_request_context():
        parts = list(components(page.layout()))
    found = [(c.id["name"], c.inline, [o["label"] for o in c.options]) for c in parts
             if isinstance(c, dash.dcc.RadioItems) and c.className == "ll-choices"]
    assert sorted(found) == [
        ("case", True, ["Linear SVM · breast cancer (31 parameters)", "Logistic regression · Iris (15 parameters)"]),
        ("digit_optimizer", True, ["SGD, η = 0.5 (the seed's)", "Adam, η = 0.01"]),
        ("net", True, ["1 × 5", "1 × 20", "5 × 5", "5 × 20", "10 × 5"]),
        ("net_seed", True, ["seed 0", "seed 1", "seed 2"]),
    ]


# --------------------------------------------------------------------------
# Export


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("figure_name", FIGURES)
def test_export_gives_valid_csv_and_json_for_every_step(figure_name):
    result, *_ = call_export("csv", step_of(figure_name))
    assert result["filename"] == f"loss-landscape-{figure_name}.csv" and result["type"] == "text/csv"
    rows = read_csv(result["content"])
    surface = [r for r in rows if r["kind"] == "surface"]
    paths = [r for r in rows if r["kind"].startswith("path")]
    assert len(surface) >= 41 * 41 and len(paths) >= 40
    assert all(np.isfinite(float(r["loss"])) for r in surface + paths)

    result, *_ = call_export("json", step_of(figure_name))
    document = json.loads(result["content"])
    loss = np.array(document["loss"], dtype=float)
    assert loss.shape == (len(document["betas"]), len(document["alphas"]))
    assert len(document["path"]["alpha"]) == len(document["path"]["loss"]) >= 40
    assert document["meta"]


def test_the_exported_surface_is_the_drawn_one():
    result, *_ = call_export("json", step_of("pca"))
    document = json.loads(result["content"])
    drawn = figure(call_show_step(step_of("pca")), "surface")["data"][0]
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


def test_an_export_that_cannot_be_made_says_so(monkeypatch):
    def refused(*args):
        raise ValueError("the server is busy")

    monkeypatch.setattr(page, "landscape_slice", refused)
    result, notices, css = call_export("csv", FREE)
    assert result is dash.no_update and css == "ls-notices"
    assert notices[0].children == "Cannot export this landscape: the server is busy."
