"""The computational-graph page's callbacks, called as the server would, with bad and hostile input."""

import json
import re
from pathlib import Path

import dash
import numpy as np
import pytest

from app.main import app
from components import graph_figures as figures
from pages import computational_graph as page

DEFAULTS = page.SCHEMA.defaults()
FREE = len(page.STEPS) - 1
STEP = {s.figure: i for i, s in enumerate(page.STEPS)}
NARRATION = Path(page.__file__).with_suffix(".md").read_text(encoding="utf-8")


def call(step, **overrides):
    raw = [overrides.get(n, DEFAULTS[n]) for n in page.SCHEMA.names]
    with app.server.test_request_context():
        out = page.show_step(step, *raw)
    keys = ("payload", "style", "panel", "panel_class", "free_class", "song_class", "expr_class",
            "message", "message_class", "notices", "notices_class")
    return dict(zip(keys, out))


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


# -- every step -------------------------------------------------------------------------


@pytest.mark.parametrize("step", range(len(page.STEPS)))
def test_every_step_draws_the_graph_without_notices(step):
    out = call(step)
    assert_working(out["payload"])
    assert out["notices_class"] == "ls-notices is-empty"
    assert out["style"]["height"].endswith("px")
    assert (out["free_class"] == "ls-panel") == (step == FREE)


def test_forward_lights_one_value_per_frame_and_backward_one_edge_per_frame():
    run = page._lesson_song()
    record = run["before"]
    n, m = len(record["labels"]), len(record["child"])
    forward = call(STEP["forward"])["payload"]
    assert len(forward["frames"]) == n + 1 and forward["autoplay"] is True
    shown = [sum(bool(t) for t in node_texts(forward, k)) for k in range(n + 1)]
    assert shown == list(range(n + 1))
    backward = call(STEP["backward"])["payload"]
    assert len(backward["frames"]) == m + 1
    edge_labels = [sum(bool(t) for t in backward["frames"][k]["data"][4]["text"]) for k in range(m + 1)]
    assert edge_labels == list(range(m + 1))
    # At the end every node shows its value and its gradient, as the engine computed them.
    last = node_texts(backward, m)
    for i in range(n):
        assert figures.number_text(record["data"][i]) in last[i]
        assert figures.number_text(record["grad"][i]) in last[i]


def test_the_backward_pass_adds_the_two_parts_of_a_value_used_twice():
    record = page.shared_run()
    x2 = record["labels"].index("x2")
    parts = [k for k, c in enumerate(record["child"]) if c == x2]
    assert len(parts) == 2
    assert sum(record["flow"][k] for k in parts) == pytest.approx(record["grad"][x2], abs=1e-15)
    payload = call(STEP["shared"])["payload"]
    seen = [node_texts(payload, k)[x2] for k in range(len(payload["frames"]))]
    first_done = min(parts, key=record["backward"].index)
    first, total = figures.number_text(record["flow"][first_done]), figures.number_text(record["grad"][x2])
    assert any(first in s and total not in s for s in seen), "a frame with only the first part"
    assert total in seen[-1]
    titles = [f["layout"]["title"]["text"] for f in payload["frames"]]
    assert any("part 1 of 2" in t for t in titles) and any("part 2 of 2" in t for t in titles)


def test_the_update_lowers_the_loss_and_moves_each_weight_against_its_gradient():
    run = page._lesson_song()
    before, after = run["before"], run["after"]
    for i in run["params"]:
        assert after["data"][i] == pytest.approx(before["data"][i] - page.SONG_LR * before["grad"][i])
    assert after["data"][after["root"]] < before["data"][before["root"]]
    out = call(STEP["update"])
    assert "0.471 → 0.178" in text_of(out["panel"])
    assert "down from 0.471" in out["payload"]["frames"][-1]["layout"]["title"]["text"]


def test_the_graph_agrees_with_the_perceptron_models_gradient():
    run = page._lesson_song()
    before = run["before"]
    graph = [before["grad"][i] for i in run["params"]]
    np.testing.assert_allclose(graph, run["grads_formula"], rtol=1e-12, atol=1e-15)
    assert "agree" in text_of(call(STEP["gradients"])["panel"])


def test_the_song_and_weights_are_the_perceptron_lessons():
    from app.ml.perceptron import Perceptron
    np.testing.assert_allclose(page.SONG_W, Perceptron(3).init(0)["w"], atol=5e-5)
    assert page.SONG_X == [0, 1, 1] and page.SONG_Y == 1
    assert "(/perceptron)" in NARRATION


@pytest.mark.parametrize("stated, where", [
    ("z = 0.508", ("z", "data")), ("0.624", ("p", "data")), ("L = -\\log p = 0.471", ("L", "data")),
    ("= -0.376", ("z", "grad")), ("0.235 \\times (-1.6)", ("p", "local")),
])
def test_the_numbers_the_narration_states_are_the_runs(stated, where):
    assert stated in NARRATION
    record = page._lesson_song()["before"]
    label, field = where
    i = record["labels"].index(label)
    if field == "local":
        k = record["child"].index(record["labels"].index("z"))
        value = record["local"][k]
    else:
        value = record[field][i]
    number = re.findall(r"-?\d+\.\d+", stated)[0]
    assert figures.number_text(value).replace("−", "-").startswith(number.rstrip("0"))


def test_the_update_and_shared_numbers_of_the_narration():
    run = page._lesson_song()
    after = run["after"]
    t = figures.number_text
    w2, w3, b = (after["data"][after["labels"].index(n)] for n in ("w2", "w3", "b"))
    p1, loss1 = after["data"][after["labels"].index("p")], after["data"][after["root"]]
    for value, text in ((w2, "0.243"), (w3, "1.02"), (b, "0.376"), (p1, "0.837"), (loss1, "0.178")):
        assert t(value) == text and text in NARRATION
    record = page.shared_run()
    x2 = record["labels"].index("x2")
    parts = [t(record["flow"][k]) for k, c in enumerate(record["child"]) if c == x2]
    assert parts == ["0.214", "−0.11"] and t(record["grad"][x2]) == "0.103"
    assert "0.214 + (−0.11) = 0.103" in NARRATION


# -- settings ---------------------------------------------------------------------------


def test_a_setting_change_changes_the_free_play_graph():
    a = call(FREE)["payload"]["frames"][-1]
    b = call(FREE, w2="0.5")["payload"]["frames"][-1]
    assert a != b
    update_a = text_of(call(FREE)["panel"])
    update_b = text_of(call(FREE, lr="0.1")["panel"])
    assert "η = 0.1" in update_b and update_a != update_b


def test_free_play_switches_between_the_song_and_an_expression():
    song = call(FREE)
    assert song["song_class"] == "" and "ls-hidden" in song["expr_class"]
    expr = call(FREE, graph="expression", expr="x*y + x", vars="x=2,y=3")
    assert "ls-hidden" in expr["song_class"] and "ls-hidden" not in expr["expr_class"]
    panel = text_of(expr["panel"])
    assert "f = 8" in panel and "4" in panel  # df/dx = y + 1 = 4, df/dy = x = 2
    ops = expr["payload"]["figure"]["data"][3]["text"]
    assert ops.count("×") == 1 and ops.count("+") == 1


@pytest.mark.parametrize("name, raw", [
    ("w1", "-1e308"), ("w1", "nan"), ("x2", "inf"), ("b", "11"), ("y", "2"), ("lr", "0"),
    ("lr", "1e9"), ("graph", "<script>"), ("x1", [1, 2]), ("w3", {"a": 1}), ("b", True),
    ("vars", "x=1;import os"), ("expr", None),
])
def test_bad_settings_give_a_notice_and_a_working_page(name, raw):
    out = call(FREE, **{name: raw})
    assert_working(out["payload"])
    if raw is not None:
        assert out["notices_class"] == "ls-notices" and out["notices"]


@pytest.mark.parametrize("step", [None, -5, 10**9, "3", [1], {"a": 1}, True, 2.5])
def test_garbage_steps_give_a_notice_and_the_first_step(step):
    out = call(step)
    assert_working(out["payload"])
    assert "does not exist" in text_of(out["notices"])


def test_weights_beyond_the_engines_logit_limit_give_a_message():
    out = call(FREE, x1="10", w1="10", x2="10", w2="10")
    assert "MAX_ABS_LOGIT" in text_of(out["notices"])
    assert_working(out["payload"])


def test_an_update_that_leaves_the_limits_still_shows_the_graph():
    out = call(FREE, x1="10", x2="10", x3="10", w1="0", w2="0", w3="0", lr="10")
    assert "goes too far" in text_of(out["notices"])
    assert "—" in text_of(out["panel"])
    assert len(out["payload"]["frames"]) > 1


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
    assert_working(out["payload"])
    shown = text_of(out["message"]) + " " + text_of(out["notices"])
    assert says in shown
    assert out["message_class"] == "ls-message is-error" or out["notices_class"] == "ls-notices"


def test_an_error_points_at_its_column():
    out = call(FREE, graph="expression", expr="x + * 2")
    caret = [c for c in out["message"] if getattr(c, "className", "") == "cg-caret"][0]
    line, pointer = caret.children.split("\n")
    assert line == "x + * 2" and pointer == "    ^"


def test_a_graph_too_large_to_draw_still_gets_its_values_and_gradients():
    out = call(FREE, graph="expression", expr="+".join(["x"] * 20), vars="x=0.5")
    assert "columns" in text_of(out["panel"]) and "20" in text_of(out["panel"])  # df/dx = 20
    assert_working(out["payload"])


def test_a_large_drawable_expression_fits_the_payload_budget():
    text = "sigmoid(" + "+".join(f"{u}*{v}" for u, v in zip("abcdefghi", "bcdefghia")) + ")*2-1"
    run = page.expression_run(text, "")
    assert run["record"] is not None and len(run["record"]["labels"]) >= 30
    out = call(FREE, graph="expression", expr=text, vars="")
    assert len(out["payload"]["frames"]) == 1 + len(run["record"]["labels"]) + 1 + len(run["record"]["child"])
    assert len(json.dumps(out["payload"])) < 1_000_000


def test_the_page_never_runs_text_as_code():
    source = Path(page.__file__).read_text(encoding="utf-8")
    parser = Path(page.expression.__file__).read_text(encoding="utf-8")
    for code in (source, parser):
        assert not re.search(r"(?<![.\w])(eval|exec|compile|__import__)\s*\(", code)


# -- the variables table ----------------------------------------------------------------


def test_the_table_follows_the_expressions_variables():
    rows, text, _, _ = page.variables_for_expression("a*x + b", "x=2,w=5")
    assert rows == [{"name": "a", "value": 1.0}, {"name": "x", "value": 2.0}, {"name": "b", "value": 1.0}]
    assert text == "a=1,x=2,b=1"
    unchanged = page.variables_for_expression("x +", "x=2")
    assert unchanged[0] is dash.no_update and unchanged[1] is dash.no_update


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


def test_variables_round_trip_through_the_link():
    values = {"x": 1.5, "w": -0.25, "long_name2": 1e-7}
    assert page.decode_variables(page.encode_variables(values)) == values
    assert page.SCHEMA.clean({"vars": page.encode_variables(values)})[1] == []
    with pytest.raises(ValueError, match="1,000,000"):
        page.decode_variables("x=2e6")


def test_the_layout_builds_from_hostile_links():
    with app.server.test_request_context():
        for query in ({}, {"step": "7", "graph": "expression", "expr": "__import__('os')"},
                      {"expr": "x" * 10**5, "vars": "x=" + "9" * 400, "step": "-1"},
                      {"step": "7", "graph": "expression", "expr": "x +"}):
            assert page.layout(**query) is not None
