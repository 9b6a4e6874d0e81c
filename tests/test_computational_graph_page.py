"""The computational-graph page's steps, run through the lesson engine by name, with bad and hostile input."""

import json
import re
from pathlib import Path

import dash
import numpy as np
import pytest

from app.lessons import computational_graph as experiments
from app.main import app
from app.ml import expression
from components import graph_figures as figures
from components.controls import field_note_id
from components.ids import setting_id
from pages import computational_graph as page

DEFAULTS = page.SCHEMA.defaults()
FREE = len(page.STEPS) - 1
STEP = {s.figure: i for i, s in enumerate(page.STEPS)}
NARRATION = Path(page.__file__).with_suffix(".md").read_text(encoding="utf-8")


def call(step, **overrides):
    """Every output of `step` by name, with the default settings but `overrides` (raw browser values)."""
    raw = {**DEFAULTS, **overrides}
    with app.server.test_request_context():  # the memo cache needs the app
        return page.ENGINE.outputs(step, raw)


def lesson_song():
    with app.server.test_request_context():
        return page.lesson_song()


def text_of(component) -> str:
    """All the text inside a Dash component tree (or a list of them)."""
    if isinstance(component, (list, tuple)):
        return " ".join(text_of(c) for c in component)
    if isinstance(component, (str, int, float)):
        return str(component)
    children = getattr(component, "children", None)
    return "" if children is None else text_of(children)


def node_texts(payload, frame):
    """The text under each node (value, gradient) at `frame`."""
    patch = payload["frames"][frame]
    return patch["data"][patch["traces"].index(4)]["text"]


def assert_working(payload):
    figure = payload["figure"]
    assert figure["data"] or figure["layout"]["annotations"][0]["text"], "a graph, or a message in its place"
    assert payload["frames"], "at least one frame"
    assert len(json.dumps(payload)) < 2_000_000


def shown(out, panel: str) -> bool:
    return "ls-hidden" not in out[f"panel:{panel}"]


# -- every step -------------------------------------------------------------------------


@pytest.mark.parametrize("step", range(len(page.STEPS)))
def test_every_step_draws_the_graph_without_notices(step):
    out = call(step)
    assert_working(out["figure:graph"])
    assert out["notices-class"] == "ls-notices is-empty"
    height = out["height:graph"]["height"]
    assert height.endswith("px") and out["graph-box"]["--cg-height"] == height
    assert height == f"{out['figure:graph']['figure']['layout']['height']}px"
    assert shown(out, "free") == (step == FREE)
    assert all(out[f"note:{name}"] == "" for name in page.SCHEMA.names)
    assert all(out[f"value:{name}"] is dash.no_update for name in page.SCHEMA.names)


def test_steps_marked_play_start_playing():
    for step, s in enumerate(page.STEPS):
        assert call(step)["figure:graph"]["autoplay"] is s.play


def test_forward_lights_one_value_per_frame_and_backward_one_edge_per_frame():
    record = lesson_song()["before"]
    n, m = len(record["labels"]), len(record["child"])
    forward = call(STEP["forward"])["figure:graph"]
    assert len(forward["frames"]) == n + 1 and forward["autoplay"] is True
    shown_values = [sum(bool(t) for t in node_texts(forward, k)) for k in range(n + 1)]
    assert shown_values == list(range(n + 1))
    backward = call(STEP["backward"])["figure:graph"]
    assert len(backward["frames"]) == m + 1
    edge_labels = [sum(bool(t) for t in backward["frames"][k]["data"][4]["text"]) for k in range(m + 1)]
    assert edge_labels == list(range(m + 1))
    # At the end every node shows its value and its gradient, as the engine computed them.
    last = node_texts(backward, m)
    for i in range(n):
        assert figures.number_text(record["data"][i]) in last[i]
        assert figures.number_text(record["grad"][i]) in last[i]


def test_the_backward_pass_adds_the_two_parts_of_a_value_used_twice():
    with app.server.test_request_context():
        record = page.shared_run()
    x2 = record["labels"].index("x2")
    parts = [k for k, c in enumerate(record["child"]) if c == x2]
    assert len(parts) == 2
    assert sum(record["flow"][k] for k in parts) == pytest.approx(record["grad"][x2], abs=1e-15)
    out = call(STEP["shared"])
    payload = out["figure:graph"]
    seen = [node_texts(payload, k)[x2] for k in range(len(payload["frames"]))]
    first_done = min(parts, key=record["backward"].index)
    first, total = figures.number_text(record["flow"][first_done]), figures.number_text(record["grad"][x2])
    assert any(first in s and total not in s for s in seen), "a frame with only the first part"
    assert total in seen[-1]
    titles = [f["layout"]["title"]["text"] for f in payload["frames"]]
    assert any("part 1 of 2" in t for t in titles) and any("part 2 of 2" in t for t in titles)
    assert shown(out, "info") and "sum of two gradients" in text_of(out["info"])


def test_the_update_lowers_the_loss_and_moves_each_weight_against_its_gradient():
    run = lesson_song()
    before, after = run["before"], run["after"]
    for i in run["params"]:
        assert after["data"][i] == pytest.approx(before["data"][i] - experiments.SONG_LR * before["grad"][i])
    assert after["data"][after["root"]] < before["data"][before["root"]]
    out = call(STEP["update"])
    assert shown(out, "info") and "0.471 → 0.178" in text_of(out["info"])
    assert "down from 0.471" in out["figure:graph"]["frames"][-1]["layout"]["title"]["text"]


def test_the_graph_agrees_with_the_perceptron_models_gradient():
    run = lesson_song()
    before = run["before"]
    graph = [before["grad"][i] for i in run["params"]]
    np.testing.assert_allclose(graph, run["grads_formula"], rtol=1e-12, atol=1e-15)
    out = call(STEP["gradients"])
    assert shown(out, "info") and "agree" in text_of(out["info"])


def test_steps_without_a_table_hide_the_panel():
    for figure in ("graph", "forward", "backward"):
        out = call(STEP[figure])
        assert not shown(out, "info") and out["info"] == []


def test_the_song_and_weights_are_the_perceptron_lessons():
    from app.ml.perceptron import Perceptron
    np.testing.assert_allclose(experiments.SONG_W, Perceptron(3).init(0)["w"], atol=5e-5)
    assert experiments.SONG_X == [0, 1, 1] and experiments.SONG_Y == 1
    assert [DEFAULTS[f"w{i}"] for i in (1, 2, 3)] == list(experiments.SONG_W)
    assert "(/perceptron)" in NARRATION


# The narration's numbers are checked against the runs in tests/lessons/test_computational_graph_claims.py.


# -- settings ---------------------------------------------------------------------------


def test_a_setting_change_changes_the_free_play_graph():
    a = call(FREE)["figure:graph"]["frames"][-1]
    b = call(FREE, w2="0.5")["figure:graph"]["frames"][-1]
    assert a != b
    update_a = text_of(call(FREE)["info"])
    update_b = text_of(call(FREE, lr="0.1")["info"])
    assert "η = 0.1" in update_b and update_a != update_b


def test_narrated_steps_keep_the_narrations_numbers_whatever_the_settings():
    assert call(STEP["update"], w2="0.5", lr="0.1")["figure:graph"] == call(STEP["update"])["figure:graph"]


@pytest.mark.parametrize("text, done", [("x*y + x*z + x", True), ("x*x*x", True), ("x*y + x", False),
                                        ("tanh(w*x + b) + x**2", False)])
def test_the_free_play_task_is_a_variable_used_three_times(text, done):
    assert call(FREE, graph="expression", expr=text)["achieved"] == ([FREE] if done else [])
    assert call(FREE)["achieved"] == []   # the song graph does not count


def test_free_play_switches_between_the_song_and_an_expression():
    song = call(FREE)
    assert shown(song, "song") and not shown(song, "expression")
    expr = call(FREE, graph="expression", expr="x*y + x", vars="x=2,y=3")
    assert not shown(expr, "song") and shown(expr, "expression")
    panel = text_of(expr["info"])
    assert "f = 8" in panel and "4" in panel  # df/dx = y + 1 = 4, df/dy = x = 2
    ops = expr["figure:graph"]["figure"]["data"][3]["text"]
    assert ops.count("×") == 1 and ops.count("+") == 1
    assert expr["expr-message-class"] == "ls-message ls-hidden"


@pytest.mark.parametrize("name, raw", [
    ("w1", "-1e308"), ("w1", "nan"), ("x2", "inf"), ("b", "11"), ("y", "2"), ("lr", "0"),
    ("lr", "1e9"), ("graph", "<script>"), ("x1", [1, 2]), ("w3", {"a": 1}), ("b", True),
    ("vars", "x=1;import os"), ("expr", None),
])
def test_bad_settings_give_a_notice_beside_the_field_and_a_working_page(name, raw):
    out = call(FREE, **{name: raw})
    assert_working(out["figure:graph"])
    if raw is None:  # a missing value takes its default silently
        assert out[f"note:{name}"] == "" and out["notices-class"] == "ls-notices is-empty"
        return
    assert out["notices-class"] == "ls-notices" and out["notices"]
    note = out[f"note:{name}"]
    assert "is not allowed" in note and note in text_of(out["notices"])
    setting = page.SCHEMA.get(name)
    assert out[f"value:{name}"] == (str(setting.default) if setting.kind != "choice" else setting.default)
    others = [n for n in page.SCHEMA.names if n != name]
    assert all(out[f"note:{n}"] == "" and out[f"value:{n}"] is dash.no_update for n in others)


@pytest.mark.parametrize("step", [None, -5, 10**9, "3", [1], {"a": 1}, True, 2.5])
def test_garbage_steps_give_a_notice_and_the_first_step(step):
    out = call(step)
    assert_working(out["figure:graph"])
    assert "does not exist" in text_of(out["notices"])
    assert out["figure:graph"] == call(0)["figure:graph"]


def test_weights_beyond_the_engines_logit_limit_give_a_message_and_the_default_song():
    out = call(FREE, x1="10", w1="10", x2="10", w2="10")
    notices = text_of(out["notices"])
    assert "Cannot compute this step" in notices and "MAX_ABS_LOGIT" in notices
    assert "Showing the default settings" in notices
    assert out["figure:graph"] == call(FREE)["figure:graph"]


def test_an_update_that_leaves_the_limits_still_shows_the_graph():
    out = call(FREE, x1="10", x2="10", x3="10", w1="0", w2="0", w3="0", lr="10")
    assert "goes too far" in text_of(out["notices"])
    assert "—" in text_of(out["info"])
    assert len(out["figure:graph"]["frames"]) > 1


# -- expressions: hostile, broken, too big ----------------------------------------------


@pytest.mark.parametrize("text, says", [
    ("__import__('os')", "may not start with '_'"),
    ("x.__class__", "unexpected character '.'"),
    ("().__class__.__bases__[0]", ""),
    ("open('/etc/passwd').read()", "unexpected character"),
    ("x" * 10**5, "the limit is 500 characters"),
    ("(" * 60 + "x" + ")" * 60, "nesting is deeper than the limit of 50"),
    ("-" * 300 + "x", "nesting is deeper"),
    ("x+" * 150 + "x", "more than the limit of 200 parts"),
    ("foo(x)", "unknown function 'foo'"),
    ("x +", "expected a number, a name or '('"),
    ("1/0", "division by zero"),
    ("log(0*x)", "log(0)"),
    ("exp(1000)", "too large"),
    ("a+b+c+d+e+f+g+h+i+j+k+l+m", "'m' is one variable more than the limit of 12"),
    ("lambda: 0", ""),
    ("x; import os", ""),
])
def test_hostile_and_broken_expressions_give_a_message_never_an_exception(text, says):
    out = call(FREE, graph="expression", expr=text)
    assert_working(out["figure:graph"])
    shown_text = text_of(out["expr-message"]) + " " + text_of(out["notices"])
    assert says in shown_text
    assert out["expr-message-class"] == "ls-message is-error" or out["notices-class"] == "ls-notices"


def test_text_the_schema_refuses_is_told_beside_the_field_and_explained_by_the_parser():
    out = call(FREE, graph="expression", expr="__import__('os')")
    assert "is not allowed" in out["note:expr"]
    assert out["value:expr"] == DEFAULTS["expr"], "the field shows the expression drawn"
    assert "Not accepted" in text_of(out["expr-message"]) and out["expr-message-class"] == "ls-message is-error"
    assert out["figure:graph"] == call(FREE, graph="expression")["figure:graph"]


def test_text_the_parser_refuses_keeps_the_field_and_draws_no_graph():
    out = call(FREE, graph="expression", expr="x +")
    assert out["note:expr"] == "" and out["value:expr"] is dash.no_update
    assert "Not drawn" in text_of(out["expr-message"])
    assert out["figure:graph"]["figure"]["layout"]["annotations"][0]["text"] == "Fix the expression to see its graph"


def test_an_error_points_at_its_column():
    out = call(FREE, graph="expression", expr="x + * 2")
    caret = [c for c in out["expr-message"] if getattr(c, "className", "") == "cg-caret"][0]
    line, pointer = caret.children.split("\n")
    assert line == "x + * 2" and pointer == "    ^"


def test_a_graph_too_large_to_draw_still_gets_its_values_and_gradients():
    out = call(FREE, graph="expression", expr="+".join(["x"] * 20), vars="x=0.5")
    assert "columns" in text_of(out["info"]) and "20" in text_of(out["info"])  # df/dx = 20
    assert_working(out["figure:graph"])


def test_a_large_drawable_expression_fits_the_payload_budget():
    text = "sigmoid(" + "+".join(f"{u}*{v}" for u, v in zip("abcdefghi", "bcdefghia")) + ")*2-1"
    run = experiments.expression_run(text, "")
    assert run["record"] is not None and len(run["record"]["labels"]) >= 30
    out = call(FREE, graph="expression", expr=text, vars="")
    assert len(out["figure:graph"]["frames"]) == 1 + len(run["record"]["labels"]) + 1 + len(run["record"]["child"])
    assert len(json.dumps(out["figure:graph"])) < 1_000_000


def test_the_page_never_runs_text_as_code():
    for module in (page, experiments, expression):
        code = Path(module.__file__).read_text(encoding="utf-8")
        assert not re.search(r"(?<![.\w])(eval|exec|compile|__import__)\s*\(", code)


# -- the variables table ----------------------------------------------------------------


def test_the_table_follows_the_expressions_variables_and_the_run_uses_its_values():
    rows, text, _, _ = page.variables_for_expression("a*x + b", "x=2,w=5")
    assert rows == [{"name": "a", "value": 1.0}, {"name": "x", "value": 2.0}, {"name": "b", "value": 1.0}]
    assert text is dash.no_update, "the link keeps the values the visitor set"
    out = call(FREE, graph="expression", expr="a*x + b", vars="x=2,w=5")
    assert [[c.children for c in r.children] for r in out["info"][1].children[1].children] == [
        ["a", "1", "2"], ["x", "2", "1"], ["b", "1", "1"]]
    unchanged = page.variables_for_expression("x +", "x=2")
    assert unchanged[0] is dash.no_update and unchanged[1] is dash.no_update
    assert page.variables_for_expression("1 + 2", "x=2")[0] == []


@pytest.mark.parametrize("rows, ok", [
    ([{"name": "x", "value": 2.5}], True),
    ([{"name": "x", "value": "3"}], True),
    ([{"name": "x", "value": "abc"}], False),
    ([{"name": "x", "value": None}], False),
    ([{"name": "x", "value": 1e300}], False),
    ([{"name": "x", "value": float("nan")}], False),
    ([{"name": "__class__", "value": 1}], False),
    ("not a list", False),
])
def test_table_edits_are_checked(rows, ok):
    _, text, message, css = page.variables_from_table(rows)
    assert (text is not dash.no_update) == ok
    assert ("is-error" in css) == (not ok)
    if not ok:
        assert "Not used" in message


def test_variables_in_the_link_pass_the_schema():
    values = {"x": 1.5, "w": -0.25, "long_name2": 1e-7}
    assert page.SCHEMA.check({"vars": experiments.encode_variables(values)})[1] == {}


# -- the layout -------------------------------------------------------------------------


def components_in(component):
    """Every component of a layout tree."""
    stack = [component]
    while stack:
        node = stack.pop()
        yield node
        children = getattr(node, "children", None)
        stack.extend(children if isinstance(children, (list, tuple)) else [children] if children is not None else [])


def by_id(query: dict) -> dict:
    """{id as json: component} of the page built for a link's `query`."""
    with app.server.test_request_context():
        built = page.layout(**query)
    return {json.dumps(n.id, sort_keys=True): n for n in components_in(built) if getattr(n, "id", None) is not None}


def key(component_id: dict) -> str:
    return json.dumps(component_id, sort_keys=True)


def test_the_layout_builds_from_hostile_links():
    for query in ({}, {"step": "7", "graph": "expression", "expr": "__import__('os')"},
                  {"expr": "x" * 10**5, "vars": "x=" + "9" * 400, "step": "-1"},
                  {"step": "7", "graph": "expression", "expr": "x +"}):
        assert by_id(query)


def test_the_layout_has_every_output_of_the_step_once():
    with app.server.test_request_context():
        ids = [n.id for n in components_in(page.layout(step=str(FREE + 1))) if getattr(n, "id", None) is not None]
    assert len({key(i) for i in ids}) == len(ids), "no duplicate ids"
    built = by_id({"step": str(FREE + 1)})
    for output in page.ENGINE.output_map().values():
        assert key(output.component_id) in built, output.component_id


def test_a_links_bad_value_is_told_beside_its_field():
    note = by_id({"step": str(FREE + 1), "lr": "1e9"})[key(field_note_id(page.LESSON, "lr"))]
    assert "is not allowed" in note.children


def test_the_free_panel_opens_with_the_page_on_the_free_step():
    panel = key(page.ENGINE.panel_id("free"))
    assert by_id({"step": str(FREE + 1)})[panel].className == "ls-panel"
    assert "ls-hidden" in by_id({})[panel].className


def test_song_fields_show_numbers_as_typed():
    built = by_id({"step": str(FREE + 1)})
    fields = {name: built[key(setting_id(page.LESSON, name))].value for name in ("x1", "lr", "w1")}
    assert fields == {"x1": "0", "lr": "1", "w1": "0.1257"}
