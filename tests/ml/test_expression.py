"""The expression parser: what it accepts, how it reads it, what it refuses and why."""

import math

import pytest

from app.ml import expression
from app.ml.autograd import trace
from app.ml.expression import (
    Binary,
    ExpressionError,
    Number,
    evaluate,
    parse,
    to_text,
    tokenize,
    variable_names,
)


@pytest.mark.parametrize("text, structure", [
    ("x + y * z", "(x + (y * z))"),
    ("x * y + z", "((x * y) + z)"),
    ("x - y - z", "((x - y) - z)"),
    ("x / y / z", "((x / y) / z)"),
    ("x - y / z * w", "(x - ((y / z) * w))"),
    ("(x + y) * z", "((x + y) * z)"),
    ("x ** y ** z", "(x ** (y ** z))"),
    ("-x ** 2", "(-(x ** 2))"),
    ("-2 ** 2", "(-(2 ** 2))"),
    ("2 ** -1", "(2 ** -1)"),
    ("x ** -y", "(x ** (-y))"),
    ("--x", "(-(-x))"),
    ("+x", "x"),
    ("x * -y", "(x * (-y))"),
    ("-exp(x)", "(-exp(x))"),
    ("1e-3 * x", "(1e-3 * x)"),
    ("exp(log(tanh(x)))", "exp(log(tanh(x)))"),
    ("sigmoid(relu(w*x + b) - y)", "sigmoid((relu(((w * x) + b)) - y))"),
    ("  x\t*\ny ", "(x * y)"),
])
def test_precedence_and_associativity(text, structure):
    assert to_text(parse(text)) == structure


@pytest.mark.parametrize("text, value", [
    ("1e-3", 0.001), ("2.5", 2.5), (".5", 0.5), ("3.", 3.0), ("4E+2", 400.0), ("-7", -7.0), ("0", 0.0),
])
def test_number_literals(text, value):
    node = parse(text)
    assert isinstance(node, Number) and node.value == value and node.text == text


@pytest.mark.parametrize("text, values, expected", [
    ("x + y * z", {"x": 1.0, "y": 2.0, "z": 3.0}, 7.0),
    ("2 ** 3 ** 2", {}, 512.0),
    ("-x ** 2", {"x": 3.0}, -9.0),
    ("2 ** -1", {}, 0.5),
    ("x / y / z", {"x": 12.0, "y": 3.0, "z": 2.0}, 2.0),
    ("sigmoid(w*x + b)", {"w": 2.0, "x": 0.5, "b": -0.25}, 1 / (1 + math.exp(-0.75))),
    ("relu(x) + relu(-x)", {"x": -1.5}, 1.5),
    ("log(exp(x)) * tanh(y)", {"x": 0.3, "y": 0.7}, 0.3 * math.tanh(0.7)),
    ("x ** y", {"x": 2.0, "y": 0.5}, math.sqrt(2.0)),
])
def test_evaluation_gives_the_arithmetic_value(text, values, expected):
    root, _ = evaluate(parse(text), values)
    assert root.data == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("text, point", [
    ("x * y + y ** 2 - x / y", {"x": 0.7, "y": -1.3}),
    ("sigmoid(w*x + b) - tanh(x) * exp(-w)", {"w": 0.4, "x": 1.1, "b": -0.3}),
    ("log(relu(x) + 1) ** y", {"x": 0.9, "y": 2.5}),
    ("x ** y ** 0.5 / (1 + x * x)", {"x": 1.4, "y": 0.8}),
    ("-x * -x * -x", {"x": 0.6}),
])
def test_gradients_match_finite_differences(text, point):
    expr = parse(text)
    root, leaves = evaluate(expr, point)
    root.backward()
    h = 1e-6
    for name in point:
        up = evaluate(expr, dict(point, **{name: point[name] + h}))[0].data
        down = evaluate(expr, dict(point, **{name: point[name] - h}))[0].data
        assert leaves[name].grad == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9), name


def test_a_variable_is_one_input_however_often_it_appears():
    root, leaves = evaluate(parse("x * x + 3 * x"), {"x": 2.0})
    root.backward()
    assert list(leaves) == ["x"] and leaves["x"].grad == 7.0
    graph = trace(root)
    assert [node.label for node in graph.nodes if not node.op] == ["x", "3"]


def test_literal_exponents_belong_to_the_power():
    graph = trace(evaluate(parse("x ** 2 + x ** -1 + x ** y"), {"x": 2.0, "y": 3.0})[0])
    ops = [node.op for node in graph.nodes]
    assert "**2" in ops and "**-1" in ops and "**" in ops
    assert [node.label for node in graph.nodes if not node.op] == ["x", "y"]


def test_variables_are_listed_in_order_of_appearance():
    assert variable_names(parse("b * a + exp(c) - a")) == ("b", "a", "c")
    assert variable_names(parse("2 + 3")) == ()


def test_parsing_and_evaluating_are_deterministic():
    text = "tanh(a*b + c) * sigmoid(b*c - a) + relu(a - c) * exp(b)"
    assert parse(text) == parse(text)
    values = {"a": 0.3, "b": -1.2, "c": 0.8}
    first, second = evaluate(parse(text), values)[0], evaluate(parse(text), values)[0]
    first.backward()
    second.backward()
    assert trace(first) == trace(second)


@pytest.mark.parametrize("text, words, column", [
    ("__import__('os')", "'_'", 1),
    ("x.__class__", "'.'", 2),
    ("x + _y", "'_'", 5),
    ("sin(x)", "unknown function 'sin'", 1),
    ("open(x)", "unknown function", 1),
    ("x ^ 2", "**", 3),
    ("2x", "malformed number", 1),
    ("1.2.3", "malformed number", 1),
    ("1e999", "too large", 1),
    ("exp", "is a function", 1),
    ("exp + 1", "is a function", 1),
    ("exp(x, y)", "one argument", 6),
    ("exp()", "expected", 5),
    ("(x + 1", "')'", 7),
    ("x)", "no matching '('", 2),
    ("x y", "expected an operator", 3),
    ("x +", "end of the expression", 4),
    ("* x", "expected a number", 1),
    ("x = 1", "'='", 3),
    ("x; y", "';'", 2),
    ("x[0]", "'['", 2),
    ("'s'", "\"'\"", 1),
    ("lambda: 0", "':'", 7),
    ("é + 1", "'é'", 1),
    ("x\x00", "'\\x00'", 2),
])
def test_rejects_with_a_message_and_a_column(text, words, column):
    with pytest.raises(ExpressionError) as error:
        parse(text)
    assert words in str(error.value)
    assert error.value.column == column and f"column {column}" in str(error.value)


@pytest.mark.parametrize("text", ["", "   \t"])
def test_rejects_empty_text(text):
    with pytest.raises(ExpressionError, match="empty"):
        parse(text)


@pytest.mark.parametrize("text", [None, 42, b"x + 1"])
def test_rejects_what_is_not_text(text):
    with pytest.raises(ExpressionError, match="text"):
        parse(text)


def test_limits_are_enforced_and_named():
    with pytest.raises(ExpressionError, match="500"):
        parse("x+" * 50_000 + "x")            # 10**5 characters
    with pytest.raises(ExpressionError, match="500"):
        parse("(" * 500 + "x" + ")" * 500)
    with pytest.raises(ExpressionError, match="limit of 50 levels"):
        parse("(" * 51 + "x" + ")" * 51)
    with pytest.raises(ExpressionError, match="limit of 50 levels"):
        parse("-" * 51 + "x")
    with pytest.raises(ExpressionError, match="limit of 50 levels"):
        parse("x**" * 51 + "x")
    with pytest.raises(ExpressionError, match="limit of 200 parts"):
        parse("x+" * 120 + "x")
    with pytest.raises(ExpressionError, match="limit of 12") as error:
        parse("+".join("abcdefghijklm"))
    assert error.value.column == 25


def test_largest_accepted_expressions_evaluate():
    deep = "(" * 50 + "x" + ")" * 50
    assert to_text(parse(deep)) == "x"
    nested = "exp(" * 24 + "x" + ")" * 24
    assert to_text(parse(nested)).count("exp(") == 24
    long_sum = "x+" * 99 + "x"                # 199 parts, 199 characters
    root, leaves = evaluate(parse(long_sum), {"x": 1.0})
    root.backward()
    assert root.data == 100.0 and leaves["x"].grad == 100.0
    many = "+".join("abcdefghijkl")
    assert len(variable_names(parse(many))) == 12
    repr(parse(long_sum))                     # the deepest tree still prints


def test_no_recursion_error_even_without_the_length_limit(monkeypatch):
    monkeypatch.setattr(expression, "MAX_LENGTH", 10**6)
    # each well past Python's default recursion limit of 1000 frames
    for text in ("(" * 5000 + "x" + ")" * 5000, "-" * 5000 + "x", "x**" * 5000 + "x",
                 "exp(" * 5000 + "x" + ")" * 5000):
        with pytest.raises(ExpressionError, match="50 levels"):
            parse(text)
    with pytest.raises(ExpressionError, match="200 parts"):
        parse("x+" * 5000 + "x")


def test_tokens_carry_their_columns():
    tokens = tokenize("exp(x1) ** -2.5e3")
    assert [(t.kind, t.text, t.column) for t in tokens] == [
        ("name", "exp", 1), ("op", "(", 4), ("name", "x1", 5), ("op", ")", 7),
        ("op", "**", 9), ("op", "-", 12), ("number", "2.5e3", 13), ("end", "", 18),
    ]


@pytest.mark.parametrize("text, values, words, column", [
    ("x / y", {"x": 1.0, "y": 0.0}, "division by zero", 3),
    ("log(x)", {"x": -2.0}, "negative", 1),
    ("1 + log(x)", {"x": 0.0}, "log(0)", 5),
    ("exp(x)", {"x": 1000.0}, "too large", 1),
    ("exp(-exp(x))", {"x": 800.0}, "too large", 6),  # inf inside, a finite result outside
    ("x ** -1", {"x": 0.0}, "division by zero", 3),
    ("x ** 0.5", {"x": -4.0}, "fractional power", 3),
    ("x ** y", {"x": -8.0, "y": 1 / 3}, "fractional power", 3),
    ("x * y", {"x": 1e200, "y": 1e200}, "too large", 3),
])
def test_undefined_arithmetic_is_reported_at_its_column(text, values, words, column):
    with pytest.raises(ExpressionError) as error:
        evaluate(parse(text), values)
    assert words in str(error.value) and error.value.column == column


@pytest.mark.parametrize("values, words", [
    ({"x": 1.0}, "no value given for the variable 'y'"),
    ({"x": 1.0, "y": math.nan}, "finite"),
    ({"x": 1.0, "y": math.inf}, "finite"),
    ({"x": 1.0, "y": "2"}, "number"),
    ({"x": 1.0, "y": None}, "number"),
    ({"x": True, "y": 1.0}, "number"),
])
def test_variable_values_are_checked(values, words):
    with pytest.raises(ExpressionError, match=words):
        evaluate(parse("x + y"), values)


def test_values_may_be_ints_and_extra_names_are_ignored():
    root, leaves = evaluate(parse("x + y"), {"x": 1, "y": 2, "unused": float("nan")})
    assert root.data == 3.0 and list(leaves) == ["x", "y"]
    with pytest.raises(ExpressionError, match="map names"):
        evaluate(parse("x"), [("x", 1.0)])


def test_documented_non_finite_gradient():
    root, leaves = evaluate(parse("x ** 0.5"), {"x": 0.0})
    root.backward()
    assert root.data == 0.0 and leaves["x"].grad == math.inf


def test_hand_built_trees_evaluate_too():
    tree = Binary("*", Number(2.0, "2", 1), Binary("+", Number(1.0, "1", 3), Number(0.5, ".5", 5), 4), 2)
    assert evaluate(tree, {})[0].data == 3.0
