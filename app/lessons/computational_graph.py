"""The computational-graph lesson's experiments: graphs built and differentiated by
`app.ml.autograd` (typed expressions by `app.ml.expression`, never by Python's
eval), traced into plain records for drawing.

A *graph record* is a dict of lists (n values, m edges), as
`components.graph_figures` documents it: labels, ops, kinds, data, grad (n,);
x, y (n,) positions (x = layer, inputs left); child, parent, slot, local,
flow (m,); root; forward (n,) node ids in forward order; backward (m,) edge
indices in backward order.
"""

from __future__ import annotations

import math
import re

import numpy as np

from app.ml import autograd, expression, optim
from app.ml.datasets import SONGS_UNLEARNABLE
from app.ml.perceptron import Perceptron

# The lesson's song: the first of the perceptron lesson's songs, with that
# lesson's starting weights (seed 0) rounded to four decimals.
SONG_TITLE, *SONG_X, SONG_Y = SONGS_UNLEARNABLE[0]
SONG_W = tuple(round(float(w), 4) for w in Perceptron(n_features=3).init(0)["w"])
SONG_B, SONG_LR = 0.0, 1.0

# The 2-2-1 network of the "used twice" step: the song's modern and sad features
# feed both hidden neurons. Weights chosen by hand for readable numbers: the two
# parts of each input's gradient, rounded as the figure shows them, add up to
# its rounded gradient (0.407 + (−0.105) = 0.302 for x2).
NET = dict(x=(SONG_X[0], SONG_X[1]), W=((0.5, -1.0), (-0.8, 1.5)), b=(0.0, 0.0), v=(1.5, 0.6), c=0.0,
           y=SONG_Y)
DATA_NAMES = frozenset({"x1", "x2", "x3", "y"})

VALUE_LIMIT = 1e6            # |value| of an expression's variable
DEFAULT_VALUE = 1.0          # a variable with no value given
MAX_DRAWN_VALUES = 40        # larger graphs: values and gradients in a table only
MAX_DRAWN_LAYERS = 14
MAX_DRAWN_ROWS = 9
NAME = r"[A-Za-z][A-Za-z0-9_]{0,31}"   # a variable's name in a link or the table


# -- graph records ------------------------------------------------------------------------


def _kind(node: autograd.Node, root: int) -> str:
    """A value's role, for its colour: data, weight (or variable), constant, op, root."""
    if node.op:
        return "root" if node.id == root else "op"
    if node.label in DATA_NAMES:
        return "data"
    return "constant" if node.label[:1] in "0123456789.-" else "weight"


def graph_record(root: autograd.Value) -> dict:
    """The traced graph of `root` (after root.backward()) as a plain record for drawing."""
    graph = autograd.trace(root)
    positions = autograd.layout_left_to_right(graph)
    index = {edge: k for k, edge in enumerate(graph.edges)}
    return {
        "labels": [n.label for n in graph.nodes], "ops": [n.op for n in graph.nodes],
        "kinds": [_kind(n, graph.root) for n in graph.nodes],
        "data": [n.data for n in graph.nodes], "grad": [n.grad for n in graph.nodes],
        "x": [positions[n.id][0] for n in graph.nodes], "y": [positions[n.id][1] for n in graph.nodes],
        "child": [e.child for e in graph.edges], "parent": [e.parent for e in graph.edges],
        "slot": [e.slot for e in graph.edges], "local": [e.local for e in graph.edges],
        "flow": [e.flow for e in graph.edges], "root": graph.root,
        "forward": list(autograd.forward_schedule(graph)),
        "backward": [index[e] for e in autograd.backward_schedule(graph)],
    }


def node_index(record: dict, label: str) -> int:
    """The id of the value labelled `label` in a graph record."""
    return record["labels"].index(label)


# -- the song perceptron and the 2-2-1 network ---------------------------------------------


def _check_rate(lr: float) -> float:
    lr = float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate η must be a positive number, got {lr:g}")
    return lr


def song_run(x: tuple, w: tuple, b: float, y: float, lr: float) -> dict:
    """The song perceptron's graph for one song, before and after one SGD step on it.

    x, w: 3 floats; b: float; y: float in [0, 1]; lr: the step size η > 0.
    Returns before / after: graph records (after is None, with `after_error`, if the
    step leaves the engine's limits); params: node ids of w1, w2, w3, b; grads_formula:
    the perceptron model's gradient for the same song (w1, w2, w3, b), as a check.
    Raises ValueError for other shapes, numbers that are not finite, y outside [0, 1],
    lr <= 0, or a logit beyond autograd.MAX_ABS_LOGIT.
    """
    lr = _check_rate(lr)
    loss, inputs = autograd.song_perceptron_graph(x, w, b, y)
    loss.backward()
    before = graph_record(loss)
    params = {"w": np.array(w, dtype=float), "b": np.array(b, dtype=float)}
    grads = {"w": np.array([inputs[f"w{i}"].grad for i in (1, 2, 3)]), "b": np.array(inputs["b"].grad)}
    sgd = optim.sgd(lr=lr)
    updates, _ = sgd.update(grads, sgd.init(params), params)
    new = optim.apply_updates(params, updates)
    _, formula = Perceptron(n_features=3).loss_and_grad(params, np.array([x], dtype=float), np.array([y]))
    run = {"before": before, "after": None, "after_error": "",
           "params": [node_index(before, name) for name in ("w1", "w2", "w3", "b")],
           "grads_formula": [*np.asarray(formula["w"]).tolist(), float(formula["b"])]}
    try:
        new_loss, _ = autograd.song_perceptron_graph(x, new["w"], new["b"], y)
    except ValueError as error:
        run["after_error"] = str(error)
        return run
    new_loss.backward()
    run["after"] = graph_record(new_loss)
    return run


def lesson_song_run() -> dict:
    """`song_run` for the lesson's song, weights and step size (the narration's numbers)."""
    return song_run(tuple(float(v) for v in SONG_X), SONG_W, SONG_B, float(SONG_Y), SONG_LR)


def shared_run() -> dict:
    """The 2-2-1 network of the lesson (NET) as a graph record, gradients done."""
    loss, _ = autograd.two_two_one_graph(NET["x"], NET["W"], NET["b"], NET["v"], NET["c"], NET["y"])
    loss.backward()
    return graph_record(loss)


# -- typed expressions and their variables -------------------------------------------------


def short_text(value: float) -> str:
    """A number as a link or a field shows it: 2.0 -> "2", 0.5 -> "0.5"."""
    return repr(float(value)).removesuffix(".0")


def _variable_value(name: str, value: float) -> float:
    if not abs(value) <= VALUE_LIMIT:
        raise ValueError(f"the value of {name} must be between −{VALUE_LIMIT:,.0f} and {VALUE_LIMIT:,.0f}")
    return value


def decode_variables(text: str) -> dict[str, float]:
    """{name: value} from "x=1.5,w=-0.8". Raises ValueError naming a bad pair or the limit."""
    values: dict[str, float] = {}
    for pair in filter(None, str(text).split(",")):
        name, sep, number = pair.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(NAME, name):
            raise ValueError(f"“{pair[:40]}” is not name=number")
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"the value of {name}, “{number[:20]}”, is not a number") from None
        values[name] = _variable_value(name, value)
    return values


def encode_variables(values: dict[str, float]) -> str:
    """The link text of {name: value}: "x=1.5,w=-0.8" (see decode_variables)."""
    return ",".join(f"{name}={short_text(value)}" for name, value in values.items())


def variables_from_rows(rows) -> dict[str, float]:
    """{name: value} from table rows [{"name": str, "value": number or text}, ...]
    (at most expression.MAX_VARIABLES). Raises ValueError naming the bad cell."""
    if not isinstance(rows, list):
        raise ValueError("the table is not a list of rows")
    values = {}
    for row in rows[: expression.MAX_VARIABLES]:
        name = row.get("name") if isinstance(row, dict) else None
        raw = row.get("value") if isinstance(row, dict) else None
        if not isinstance(name, str) or not re.fullmatch(NAME, name):
            raise ValueError("a row has no variable name")
        try:
            value = float(str(raw).strip()) if not isinstance(raw, bool) and len(str(raw)) <= 40 else math.nan
        except ValueError:
            value = math.nan
        if not abs(value) <= VALUE_LIMIT:
            raise ValueError(f"{name}: “{str(raw)[:20]}” must be a number from −{VALUE_LIMIT:,.0f} "
                             f"to {VALUE_LIMIT:,.0f}")
        values[name] = value
    return values


def variable_rows(text: str, variables: str) -> list[dict]:
    """A row {name, value} for each variable of the expression `text`, in order of first
    use: its value from `variables` (ignored if they do not decode), else DEFAULT_VALUE.
    Raises ValueError (ExpressionError) if the text does not parse."""
    names = expression.variable_names(expression.parse(text))
    try:
        given = decode_variables(variables)
    except ValueError:
        given = {}
    return [{"name": n, "value": given.get(n, DEFAULT_VALUE)} for n in names]


def expression_run(text: str, variables: str) -> dict:
    """Parse `text`, evaluate it at `variables` (see decode_variables) and differentiate it.

    Returns names: the variables in order; values, grads: theirs; uses: how many
    operations take each variable as an input (the parts its gradient is summed from);
    result: the value; record: the graph record, or None with `too_big` saying why it
    is not drawn.
    Raises ValueError (ExpressionError with a column) for text the parser refuses,
    a value out of range or a result that is not finite.
    """
    tree = expression.parse(text)
    names = expression.variable_names(tree)
    given = decode_variables(variables)
    root, leaves = expression.evaluate(tree, {n: given.get(n, DEFAULT_VALUE) for n in names})
    root.backward()
    if root.op:  # an operation at the root has no name of its own
        root.label = "f"
    graph = autograd.trace(root)
    leaf = {node.label: node.id for node in graph.nodes if not node.op}
    uses = [sum(edge.child == leaf[n] for edge in graph.edges) for n in names]
    run = {"names": list(names), "values": [leaves[n].data for n in names],
           "grads": [leaves[n].grad for n in names], "uses": uses, "result": root.data, "record": None,
           "too_big": ""}
    size = len(autograd.topological_order(root))
    if size > MAX_DRAWN_VALUES:
        run["too_big"] = f"its graph has {size} values; the drawing shows at most {MAX_DRAWN_VALUES}"
        return run
    record = graph_record(root)
    layers, rows = int(max(record["x"])) + 1, max(np.unique(record["x"], return_counts=True)[1])
    if layers > MAX_DRAWN_LAYERS or rows > MAX_DRAWN_ROWS:
        run["too_big"] = (f"its graph is {layers} columns by {rows} rows; the drawing shows at most "
                          f"{MAX_DRAWN_LAYERS} by {MAX_DRAWN_ROWS}")
        return run
    run["record"] = record
    return run
