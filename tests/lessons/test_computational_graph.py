"""The computational-graph lesson's experiments, called directly: no Flask, no Dash, no cache."""

import math

import numpy as np
import pytest

from app.lessons import computational_graph as lesson
from app.ml import expression

NAN, INF = float("nan"), float("inf")


def numeric_gradient(f, x: list, i: int, h: float = 1e-6) -> float:
    """Central difference of f at x along coordinate i."""
    up, down = list(x), list(x)
    up[i] += h
    down[i] -= h
    return (f(up) - f(down)) / (2 * h)


# -- graph records ------------------------------------------------------------------------


def test_a_record_is_consistent_with_itself():
    record = lesson.lesson_song_run()["before"]
    n, m = len(record["labels"]), len(record["child"])
    for key in ("labels", "ops", "kinds", "data", "grad", "x", "y"):
        assert len(record[key]) == n, key
    for key in ("child", "parent", "slot", "local", "flow"):
        assert len(record[key]) == m, key
    assert sorted(record["forward"]) == list(range(n)) and sorted(record["backward"]) == list(range(m))
    assert record["grad"][record["root"]] == 1.0 and record["kinds"][record["root"]] == "root"
    # flow = local derivative × the parent's gradient; a value's gradient is the sum of its flows.
    for k in range(m):
        assert record["flow"][k] == pytest.approx(record["local"][k] * record["grad"][record["parent"][k]])
    for i in range(n):
        if i != record["root"]:
            flows = [record["flow"][k] for k in range(m) if record["child"][k] == i]
            assert record["grad"][i] == pytest.approx(sum(flows), abs=1e-15)
    # Inputs to the left of what they feed.
    assert all(record["x"][c] < record["x"][p] for c, p in zip(record["child"], record["parent"]))


def test_values_are_coloured_by_their_role():
    record = lesson.lesson_song_run()["before"]
    kind = dict(zip(record["labels"], record["kinds"]))
    assert {kind[n] for n in ("x1", "x2", "x3", "y")} == {"data"}
    assert {kind[n] for n in ("w1", "w2", "w3", "b")} == {"weight"}
    assert kind["z"] == "op" and kind["L"] == "root"
    constants = lesson.expression_run("2*x + 0.5", "x=1")["record"]
    assert dict(zip(constants["labels"], constants["kinds"]))["2"] == "constant"


# -- the song perceptron -------------------------------------------------------------------


def test_the_song_run_is_deterministic():
    assert lesson.lesson_song_run() == lesson.lesson_song_run()
    assert lesson.shared_run() == lesson.shared_run()


def test_the_lessons_song_gives_the_narrations_numbers():
    run = lesson.lesson_song_run()
    before, after = run["before"], run["after"]
    value = {label: before["data"][i] for i, label in enumerate(before["labels"])}
    assert value["z"] == pytest.approx(0.5083, abs=1e-4)
    assert value["p"] == pytest.approx(1 / (1 + math.exp(-value["z"])))
    assert value["L"] == pytest.approx(-math.log(value["p"]))
    assert after["data"][after["root"]] == pytest.approx(0.178, abs=5e-4)


def test_the_graphs_gradients_are_the_perceptron_formulas_and_finite_differences():
    x, w, b, y = (0.5, -1.0, 2.0), (0.3, 0.2, -0.4), 0.1, 0.0
    run = lesson.song_run(x, w, b, y, 0.5)
    graph = [run["before"]["grad"][i] for i in run["params"]]
    np.testing.assert_allclose(graph, run["grads_formula"], rtol=1e-12, atol=1e-15)

    def loss(params):
        return lesson.song_run(x, tuple(params[:3]), params[3], y, 0.5)["before"]["data"][run["before"]["root"]]

    for i in range(4):
        assert graph[i] == pytest.approx(numeric_gradient(loss, [*w, b], i), rel=1e-6, abs=1e-9)


def test_one_step_moves_each_weight_against_its_gradient():
    run = lesson.song_run((1.0, 0.0, 1.0), (0.1, 0.2, 0.3), -0.2, 1.0, 0.25)
    before, after = run["before"], run["after"]
    for i in run["params"]:
        assert after["data"][i] == pytest.approx(before["data"][i] - 0.25 * before["grad"][i])
    assert after["data"][after["root"]] < before["data"][before["root"]]


def test_a_step_beyond_the_engines_limits_keeps_the_graph_before_it():
    run = lesson.song_run((10.0, 10.0, 10.0), (0.0, 0.0, 0.0), 0.0, 1.0, 10.0)
    assert run["after"] is None and "MAX_ABS_LOGIT" in run["after_error"]
    assert run["before"]["data"][run["before"]["root"]] == pytest.approx(math.log(2))


@pytest.mark.parametrize("x, w, b, y, lr, says", [
    ((NAN, 1.0, 1.0), (0.1, 0.1, 0.1), 0.0, 1.0, 1.0, "finite"),
    ((0.0, 1.0, 1.0), (INF, 0.1, 0.1), 0.0, 1.0, 1.0, "finite"),
    ((0.0, 1.0, 1.0), (0.1, 0.1, 0.1), NAN, 1.0, 1.0, "finite"),
    ((0.0, 1.0, 1.0), (0.1, 0.1, 0.1), 0.0, 2.0, 1.0, r"\[0, 1\]"),
    ((0.0, 1.0, 1.0), (0.1, 0.1, 0.1), 0.0, 1.0, NAN, "learning rate"),
    ((0.0, 1.0, 1.0), (0.1, 0.1, 0.1), 0.0, 1.0, 0.0, "learning rate"),
    ((0.0, 1.0, 1.0), (0.1, 0.1, 0.1), 0.0, 1.0, -INF, "learning rate"),
    ((), (0.1, 0.1, 0.1), 0.0, 1.0, 1.0, "shape"),
    ((1e308, 1.0, 1.0), (1e308, 0.1, 0.1), 0.0, 1.0, 1.0, "MAX_ABS_LOGIT|finite"),
    ((10.0, 10.0, 10.0), (10.0, 10.0, 10.0), 0.0, 1.0, 1.0, "MAX_ABS_LOGIT"),
])
def test_bad_song_inputs_are_refused_clearly(x, w, b, y, lr, says):
    with pytest.raises(ValueError, match=says):
        lesson.song_run(x, w, b, y, lr)


def test_the_shared_input_gets_the_sum_of_two_parts():
    record = lesson.shared_run()
    for name in ("x1", "x2"):
        i = lesson.node_index(record, name)
        parts = [record["flow"][k] for k, c in enumerate(record["child"]) if c == i]
        assert len(parts) == 2 and sum(parts) == pytest.approx(record["grad"][i], abs=1e-15)
    x2 = lesson.node_index(record, "x2")
    assert record["grad"][x2] == pytest.approx(0.302, abs=5e-4)


# -- expressions and their variables -------------------------------------------------------


def test_an_expression_is_evaluated_and_differentiated():
    run = lesson.expression_run("x*y + x", "x=2,y=3")
    assert run["names"] == ["x", "y"] and run["result"] == 8.0
    assert run["values"] == [2.0, 3.0] and run["grads"] == [4.0, 2.0]
    assert run["record"] is not None and run["too_big"] == ""
    assert run["record"]["labels"][run["record"]["root"]] == "f"
    assert lesson.expression_run("x*y + x", "x=2,y=3") == run


def test_a_variable_with_no_value_takes_the_default():
    run = lesson.expression_run("a*b", "a=3")
    assert run["values"] == [3.0, lesson.DEFAULT_VALUE] and run["grads"] == [lesson.DEFAULT_VALUE, 3.0]


def test_gradients_agree_with_finite_differences():
    text, point = "tanh(w*x + b) + x**2", [0.5, 1.5, -1.0]

    def f(values):
        return lesson.expression_run(text, lesson.encode_variables(dict(zip("wxb", values))))["result"]

    run = lesson.expression_run(text, "w=0.5,x=1.5,b=-1")
    for i, name in enumerate("wxb"):
        assert run["grads"][run["names"].index(name)] == pytest.approx(numeric_gradient(f, point, i), rel=1e-6)


def test_a_graph_too_large_to_draw_still_has_its_gradients():
    run = lesson.expression_run("+".join(["x"] * 20), "x=0.5")
    assert run["record"] is None and "columns" in run["too_big"] and run["grads"] == [20.0]
    many = lesson.expression_run("x" + "+1" * 25, "x=1")  # 51 values: x, 25 constants, 25 sums
    assert many["record"] is None and "values" in many["too_big"]


@pytest.mark.parametrize("text, variables, says", [
    ("", "", "empty"),
    ("x" * 10**5, "", "limit is 500"),
    ("__import__('os')", "", "may not start with '_'"),
    ("1/0", "", "division by zero"),
    ("exp(x)", "x=1000", "too large"),
    ("x", "x=nan", "between"),
    ("x", "x=inf", "between"),
    ("x", "x=1e7", "between"),
    ("x", "x=abc", "not a number"),
    ("x", "1=2", "not name=number"),
])
def test_bad_expressions_and_variables_are_refused_clearly(text, variables, says):
    with pytest.raises(ValueError, match=says):
        lesson.expression_run(text, variables)


def test_variables_round_trip_through_link_text():
    values = {"x": 1.5, "w": -0.25, "long_name2": 1e-7}
    assert lesson.decode_variables(lesson.encode_variables(values)) == values
    assert lesson.encode_variables({"x": 2.0}) == "x=2" and lesson.decode_variables("") == {}
    with pytest.raises(ValueError, match="1,000,000"):
        lesson.decode_variables("x=2e6")


def test_rows_follow_the_expressions_variables():
    assert lesson.variable_rows("a*x + b", "x=2,w=5") == [
        {"name": "a", "value": 1.0}, {"name": "x", "value": 2.0}, {"name": "b", "value": 1.0}]
    assert lesson.variable_rows("x", "garbage") == [{"name": "x", "value": lesson.DEFAULT_VALUE}]
    with pytest.raises(expression.ExpressionError):
        lesson.variable_rows("x +", "")


@pytest.mark.parametrize("rows, says", [
    ("not a list", "not a list"),
    ([{"name": "x", "value": "abc"}], "must be a number"),
    ([{"name": "x", "value": NAN}], "must be a number"),
    ([{"name": "x", "value": INF}], "must be a number"),
    ([{"name": "x", "value": 1e300}], "must be a number"),
    ([{"name": "x", "value": "9" * 50}], "must be a number"),
    ([{"name": "x", "value": True}], "must be a number"),
    ([{"name": "__class__", "value": 1}], "no variable name"),
    ([["x", 1]], "no variable name"),
])
def test_bad_table_rows_are_refused_clearly(rows, says):
    with pytest.raises(ValueError, match=says):
        lesson.variables_from_rows(rows)


def test_table_rows_give_their_values():
    assert lesson.variables_from_rows([{"name": "x", "value": "3"}, {"name": "y", "value": -2.5}]) == {
        "x": 3.0, "y": -2.5}
    assert lesson.variables_from_rows([]) == {}
