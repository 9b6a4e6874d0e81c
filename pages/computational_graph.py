"""Lesson: forward and backward through a computational graph (seed: visualizing neural networks).

The graphs are built and differentiated by the scalar engine `app.ml.autograd`
(typed expressions by `app.ml.expression`, never by Python's eval); the page
traces them into plain records (memoized) and `components.graph_figures` turns
each pass into step-player frames, one per value forward and one per edge
backward.
"""

from __future__ import annotations

import re
from pathlib import Path

import dash
import numpy as np
from dash import Input, Output, State, ctx, dash_table, dcc, html

from app.cache import memoize
from app.ml import autograd, expression, optim
from app.ml.datasets import SONG_FEATURES, SONGS_UNLEARNABLE
from app.ml.perceptron import Perceptron
from components import graph_figures as figures
from components.ids import lesson_id, player_id, setting_id
from components.lesson import lesson_shell, setting_control
from components.narration import load_steps
from components.player import animated_graph, animation, step_player
from components.settings_schema import Schema, Setting, parse_step
from components.theme import empty_figure

LESSON = "computational-graph"
STEPS = load_steps(Path(__file__).with_suffix(".md"))

# The lesson's song: the first of the perceptron lesson's songs, with that
# lesson's starting weights (seed 0) rounded to four decimals.
SONG_TITLE, *SONG_X, SONG_Y = SONGS_UNLEARNABLE[0]
SONG_W = tuple(round(float(w), 4) for w in Perceptron(n_features=3).init(0)["w"])
SONG_B, SONG_LR = 0.0, 1.0

# The 2-2-1 network of the "used twice" step: the song's modern and sad features
# feed both hidden neurons. Weights chosen by hand for readable numbers.
NET = dict(x=(SONG_X[0], SONG_X[1]), W=((0.5, -1.0), (-0.8, 1.5)), b=(0.0, 0.0), v=(1.0, 0.8), c=0.0,
           y=SONG_Y)
DATA_NAMES = frozenset({"x1", "x2", "x3", "y"})

# Limits of free play (the engine's and the parser's own limits apply as well).
WEIGHT_LIMIT = 10.0          # |x_i|, |w_i|, |b| of the song graph
VALUE_LIMIT = 1e6            # |value| of an expression's variable
DEFAULT_VALUE = 1.0          # a variable with no value given
MAX_DRAWN_VALUES = 40        # larger graphs: values and gradients in a table only
MAX_DRAWN_LAYERS = 14
MAX_DRAWN_ROWS = 9
MAX_TEXT = 400               # characters of expression text a link or the field may hold

DEFAULT_EXPRESSION = "tanh(w*x + b) + x**2"
DEFAULT_VARIABLES = "w=0.5,x=1.5,b=-1"
_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_PAIR = r"[A-Za-z][A-Za-z0-9_]{0,31}=" + _NUMBER

SCHEMA = Schema((
    Setting("graph", "Graph", "choice", "song", choices=("song", "expression")),
    *[Setting(f"x{i + 1}", f"x{i + 1} ({SONG_FEATURES[i]})", "float", float(SONG_X[i]),
              low=-WEIGHT_LIMIT, high=WEIGHT_LIMIT) for i in range(3)],
    *[Setting(f"w{i + 1}", f"w{i + 1}", "float", SONG_W[i], low=-WEIGHT_LIMIT, high=WEIGHT_LIMIT)
      for i in range(3)],
    Setting("b", "Bias b", "float", SONG_B, low=-WEIGHT_LIMIT, high=WEIGHT_LIMIT),
    Setting("y", "Label y", "float", float(SONG_Y), low=0.0, high=1.0),
    Setting("lr", "Learning rate η", "float", SONG_LR, low=0.001, high=10.0),
    Setting("expr", "Expression", "text", DEFAULT_EXPRESSION, pattern=r"[A-Za-z0-9_.+\-*/() ]{1,%d}" % MAX_TEXT,
            pattern_help=f"names, numbers, + - * / ** ( ) and {', '.join(expression.FUNCTIONS)}; "
                         f"at most {MAX_TEXT} characters"),
    Setting("vars", "Variables", "text", DEFAULT_VARIABLES,
            pattern=r"%s(?:,%s){0,%d}" % (_PAIR, _PAIR, expression.MAX_VARIABLES - 1),
            pattern_help=f"up to {expression.MAX_VARIABLES} pairs name=number, separated by commas"),
))
SONG_SETTINGS = ("x1", "x2", "x3", "w1", "w2", "w3", "b", "y", "lr")

PAGE = dict(
    path="/computational-graph", name="The computational graph", order=2, lesson=True,
    icon="computational-graph.svg", title="The computational graph — Learnscape", steps=len(STEPS),
    description="Forward and backward through the perceptron's graph: values flow right, gradients "
                "flow left, and the chain rule multiplies along every edge.",
)
STEP_PLAY = {s.figure: s.play for s in STEPS}


# -- the graphs, traced into plain records ---------------------------------------------


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


def _node(record: dict, label: str) -> int:
    return record["labels"].index(label)


@memoize()
def song_run(x: tuple, w: tuple, b: float, y: float, lr: float) -> dict:
    """The song perceptron's graph for one song, before and after one SGD step on it.

    x, w: 3 floats; b: float; y: float in [0, 1]; lr: the step size η.
    Returns before / after: graph records (after is None, with `after_error`, if the
    step leaves the engine's limits); params: node ids of w1, w2, w3, b; grads_formula:
    the perceptron model's gradient for the same song (w1, w2, w3, b), as a check.
    Raises ValueError (from the engine) for numbers outside its limits.
    """
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
           "params": [_node(before, name) for name in ("w1", "w2", "w3", "b")],
           "grads_formula": [*np.asarray(formula["w"]).tolist(), float(formula["b"])]}
    try:
        new_loss, _ = autograd.song_perceptron_graph(x, new["w"], new["b"], y)
    except ValueError as error:
        run["after_error"] = str(error)
        return run
    new_loss.backward()
    run["after"] = graph_record(new_loss)
    return run


@memoize()
def shared_run() -> dict:
    """The 2-2-1 network of the lesson (NET) as a graph record, gradients done."""
    loss, _ = autograd.two_two_one_graph(NET["x"], NET["W"], NET["b"], NET["v"], NET["c"], NET["y"])
    loss.backward()
    return graph_record(loss)


def decode_variables(text: str) -> dict[str, float]:
    """{name: value} from "x=1.5,w=-0.8". Raises ValueError naming a bad pair or the limit."""
    values: dict[str, float] = {}
    for pair in filter(None, str(text).split(",")):
        name, sep, number = pair.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", name):
            raise ValueError(f"“{pair[:40]}” is not name=number")
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"the value of {name}, “{number[:20]}”, is not a number") from None
        if not abs(value) <= VALUE_LIMIT:
            raise ValueError(f"the value of {name} must be between −{VALUE_LIMIT:,.0f} and {VALUE_LIMIT:,.0f}")
        values[name] = value
    return values


def encode_variables(values: dict[str, float]) -> str:
    return ",".join(f"{name}={_short(value)}" for name, value in values.items())


def _short(value: float) -> str:
    return repr(float(value)).removesuffix(".0")


@memoize()
def expression_run(text: str, variables: str) -> dict:
    """Parse `text`, evaluate it at `variables` (see decode_variables) and differentiate it.

    Returns names: the variables in order; values, grads: theirs; result: the value;
    record: the graph record, or None with `too_big` saying why it is not drawn.
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
    run = {"names": list(names), "values": [leaves[n].data for n in names],
           "grads": [leaves[n].grad for n in names], "result": root.data, "record": None, "too_big": ""}
    size = len(autograd.topological_order(root))
    if size > MAX_DRAWN_VALUES:
        run["too_big"] = (f"its graph has {size} values; the drawing shows at most {MAX_DRAWN_VALUES}")
        return run
    record = graph_record(root)
    layers, rows = int(max(record["x"])) + 1, max(np.unique(record["x"], return_counts=True)[1])
    if layers > MAX_DRAWN_LAYERS or rows > MAX_DRAWN_ROWS:
        run["too_big"] = (f"its graph is {layers} columns by {rows} rows; the drawing shows at most "
                          f"{MAX_DRAWN_LAYERS} by {MAX_DRAWN_ROWS}")
        return run
    run["record"] = record
    return run


# -- layout ------------------------------------------------------------------------------


def layout(**query) -> html.Div:
    values, notices = SCHEMA.clean(query)
    step, step_notices = parse_step(query.get("step"), len(STEPS))
    hidden = SCHEMA.hidden(query)
    free = STEPS[step].figure == "free"
    stage = [
        _free_panel(values, hidden, free),  # first: in free play the controls lead
        step_player(LESSON, label="frame"),
        animated_graph(LESSON, "graph", height=figures.MIN_HEIGHT_PX, className="cg-graph"),
        html.Div(id=lesson_id("panel", LESSON), className="ls-panel ls-hidden"),
    ]
    return lesson_shell(LESSON, STEPS, stage, step=step, notices=notices + step_notices,
                        defaults=SCHEMA.defaults())


def _text_input(name: str, value, **extra) -> dcc.Input:
    shown = _short(value) if isinstance(value, float) else str(value)
    return dcc.Input(id=setting_id(LESSON, name), type="text", value=shown, debounce=True, **extra)


def _free_panel(values: dict, hidden: set, visible: bool) -> html.Div:
    song = values["graph"] == "song"
    labels = {s.name: s.label for s in SCHEMA.settings}
    song_controls = [setting_control(LESSON, name, labels[name], _text_input(name, values[name]),
                                     hidden=name in hidden) for name in SONG_SETTINGS]
    limits = (f"Features, weights and bias from −{WEIGHT_LIMIT:g} to {WEIGHT_LIMIT:g}; label y from 0 "
              "(disliked) to 1 (liked); learning rate η from 0.001 to 10. Press Enter to redraw.")
    return html.Div(
        [
            html.Div([
                html.H3("Your graph"),
                html.Div(setting_control(LESSON, "graph", "Graph", dcc.Dropdown(
                    id=setting_id(LESSON, "graph"), clearable=False, searchable=False, value=values["graph"],
                    options=[{"label": "The song perceptron", "value": "song"},
                             {"label": "Your own expression", "value": "expression"}]),
                    hidden="graph" in hidden), className="cg-graph-choice"),
            ], className="cg-free-head"),
            html.Div([html.Div(song_controls, className="ls-controls cg-song-controls"),
                      html.Small(limits, className="ls-control-help")],
                     id=lesson_id("song-controls", LESSON), className="" if song else "ls-hidden"),
            html.Div(
                [
                    setting_control(LESSON, "expr", "Expression", _text_input(
                        "expr", values["expr"], maxLength=MAX_TEXT, spellCheck=False, className="cg-expression"),
                        hidden="expr" in hidden,
                        help_text=f"variables, numbers, + − * / ** ( ) and {', '.join(expression.FUNCTIONS)}; "
                                  "press Enter to draw"),
                    html.Div(id=lesson_id("expr-message", LESSON), className="ls-message ls-hidden"),
                    html.Div(
                        [
                            html.Label("Values of the variables", className="ls-control-label"),
                            dash_table.DataTable(
                                id=lesson_id("variables", LESSON), data=_variable_rows(values) or [],
                                columns=[{"name": "variable", "id": "name", "editable": False},
                                         {"name": "value", "id": "value", "type": "numeric", "editable": True}],
                                editable=True, style_table={"maxWidth": "360px"},
                                style_cell={"fontFamily": "inherit", "fontSize": 17, "padding": "6px 10px",
                                            "textAlign": "left"},
                                style_header={"fontWeight": 600}),
                            html.P(id=lesson_id("variables-message", LESSON), className="ls-message ls-hidden"),
                            dcc.Input(id=setting_id(LESSON, "vars"), type="hidden", value=values["vars"]),
                        ],
                        className="cg-variables" + (" is-hidden" if "vars" in hidden else ""),
                    ),
                ],
                id=lesson_id("expression-controls", LESSON),
                className="cg-expression-controls" + ("" if not song else " ls-hidden"),
            ),
        ],
        id=lesson_id("free-panel", LESSON), className="ls-panel" if visible else "ls-panel ls-hidden",
    )


def _variable_rows(values: dict) -> list[dict] | None:
    """A row {name, value} for each variable of the expression (its value from
    values["vars"], else DEFAULT_VALUE); None if the expression does not parse."""
    try:
        names = expression.variable_names(expression.parse(values["expr"]))
    except ValueError:
        return None
    try:
        given = decode_variables(values["vars"])
    except ValueError:
        given = {}
    return [{"name": n, "value": given.get(n, DEFAULT_VALUE)} for n in names]


# -- callbacks ---------------------------------------------------------------------------


@dash.callback(
    Output(player_id("frames", LESSON, name="graph"), "data"),
    Output(player_id("graph", LESSON, name="graph"), "style"),
    Output(lesson_id("panel", LESSON), "children"),
    Output(lesson_id("panel", LESSON), "className"),
    Output(lesson_id("free-panel", LESSON), "className"),
    Output(lesson_id("song-controls", LESSON), "className"),
    Output(lesson_id("expression-controls", LESSON), "className"),
    Output(lesson_id("expr-message", LESSON), "children"),
    Output(lesson_id("expr-message", LESSON), "className"),
    Output(lesson_id("notices", LESSON), "children"),
    Output(lesson_id("notices", LESSON), "className"),
    Input(lesson_id("step", LESSON), "data"),
    *[Input(setting_id(LESSON, name), "value") for name in SCHEMA.names],
)
def show_step(step, *raw):
    """The figure and panel of a step, from the step index and every setting."""
    raw_values = dict(zip(SCHEMA.names, raw))
    values, notices = SCHEMA.clean(raw_values)
    index = step if isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(STEPS) else 0
    if index != step:
        notices.append(f"Step “{str(step)[:20]}” does not exist; showing step 1 of {len(STEPS)}.")
    figure = STEPS[index].figure
    message, message_class = [], "ls-message ls-hidden"
    song = values["graph"] == "song"
    if figure == "free" and song:
        payload, panel = _free_song(values, notices)
    elif figure == "free":
        payload, panel, message = _free_expression(values, raw_values.get("expr"), notices)
        message_class = "ls-message is-error" if message else message_class
    else:
        payload, panel = _narrated(figure)
    height = payload["figure"]["layout"].get("height", figures.MIN_HEIGHT_PX)
    shown, hidden = "ls-panel", "ls-panel ls-hidden"
    # The graph's geometry is laid out for this height; the variable keeps it in presenter mode.
    style = {"height": f"{height}px", "--cg-height": f"{height}px"}
    return (payload, style, panel, shown if panel else hidden,
            shown if figure == "free" else hidden,
            "" if song else "ls-hidden",
            "cg-expression-controls" + (" ls-hidden" if song else ""),
            message, message_class,
            [html.P(n) for n in notices], "ls-notices" if notices else "ls-notices is-empty")


def _lesson_song() -> dict:
    return song_run(tuple(float(v) for v in SONG_X), SONG_W, SONG_B, float(SONG_Y), SONG_LR)


def _narrated(figure: str) -> tuple[dict, list]:
    """Payload and panel of a narrated step: fixed numbers, the ones the narration states."""
    play = STEP_PLAY.get(figure, False)
    if figure == "shared":
        record = shared_run()
        return (figures.graph_animation(record, figures.backward_views(record), autoplay=play),
                _shared_panel(record))
    run = _lesson_song()
    before = run["before"]
    if figure == "forward":
        views = figures.forward_views(before)
    elif figure == "backward":
        views = figures.backward_views(before)
    elif figure == "gradients":
        views = [figures.static_view(before, title="Every gradient, and the local derivative on every edge")]
    elif figure == "update":
        views = figures.update_views(before, run["after"], run["params"], SONG_LR)
    else:  # "graph"
        views = [figures.static_view(before, values=False, grads=False,
                                     title=f"“{SONG_TITLE}” through the perceptron, as a graph")]
    panel = []
    if figure == "gradients":
        panel = _check_panel(run)
    elif figure == "update":
        panel = _update_panel(run, SONG_LR)
    return figures.graph_animation(before, views, autoplay=play), panel


def _message_figure(text: str) -> dict:
    fig = empty_figure(text)
    fig.update_layout(height=figures.MIN_HEIGHT_PX)
    return animation(fig, [{}])


def _free_song(values: dict, notices: list) -> tuple[dict, list]:
    x = tuple(float(values[f"x{i}"]) for i in (1, 2, 3))
    w = tuple(float(values[f"w{i}"]) for i in (1, 2, 3))
    try:
        run = song_run(x, w, float(values["b"]), float(values["y"]), float(values["lr"]))
    except ValueError as error:
        notices.append(f"Cannot build the graph: {error}.")
        return _message_figure("Change the numbers to see the graph"), []
    if run["after_error"]:
        notices.append(f"The update with η = {values['lr']:g} goes too far: {run['after_error']}.")
    record = run["before"]
    views = figures.forward_views(record) + figures.backward_views(record)
    payload = figures.graph_animation(record, views, start="last")
    return payload, _update_panel(run, float(values["lr"]))


def _free_expression(values: dict, raw_text, notices: list) -> tuple[dict, list, list]:
    """Payload, panel and the message about the expression (empty if none)."""
    message = []
    if isinstance(raw_text, str) and raw_text.strip() not in ("", values["expr"]):
        # The settings refused the text and use the default (a notice says so);
        # say here what the parser makes of it.
        try:
            expression.parse(raw_text)
        except ValueError as error:
            message = _expression_error(raw_text, error, "Not accepted: ")
    try:
        run = expression_run(values["expr"], values["vars"])
    except ValueError as error:
        return (_message_figure("Fix the expression to see its graph"), [],
                _expression_error(values["expr"], error, "Not drawn: "))
    payload, panel = _expression_payload(run)
    return payload, panel, message


def _expression_payload(run: dict) -> tuple[dict, list]:
    record = run["record"]
    if record is None:
        payload = _message_figure(f"Too large to draw: {run['too_big']}")
    else:
        views = figures.forward_views(record) + figures.backward_views(record)
        payload = figures.graph_animation(record, views, start="last")
    return payload, _values_panel(run)


def _expression_error(text: str, error: ValueError, lead: str) -> list:
    """The parser's message, and where it points in the text (a caret under the column)."""
    column = getattr(error, "column", None)
    parts = [html.Strong(lead), str(error)]
    if column is not None and len(text) <= 120:
        parts.append(html.Pre(f"{text}\n{' ' * (column - 1)}^", className="cg-caret"))
    return parts


# -- panels ------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list]) -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in header])),
                       html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])],
                      className="ls-table")


def _values(record: dict, label: str) -> tuple[float, float]:
    i = _node(record, label)
    return record["data"][i], record["grad"][i]


def _check_panel(run: dict) -> list:
    before = run["before"]
    t = figures.number_text
    p, _ = _values(before, "p")
    y, _ = _values(before, "y")
    rows = []
    for k, name in enumerate(("w1", "w2", "w3", "b")):
        graph_grad = _values(before, name)[1]
        x = _values(before, f"x{k + 1}")[0] if name != "b" else 1.0
        rows.append([name, t(x), t(run["grads_formula"][k]), t(graph_grad)])
    return [
        html.H3("Check: the graph and the perceptron lesson's formula agree"),
        html.P(["For one song the perceptron lesson's gradient is (p − y) · xᵢ, with p − y = ",
                f"{t(p)} − {t(y)} = {t(p - y)}."]),
        _table(["", "xᵢ (1 for b)", "(p − y) · xᵢ, perceptron model", "gradient from the graph"], rows),
    ]


def _update_panel(run: dict, lr: float) -> list:
    before, after = run["before"], run["after"]
    t = figures.number_text
    rows = []
    for i, name in zip(run["params"], ("w1", "w2", "w3", "b")):
        w0, g = before["data"][i], before["grad"][i]
        w1 = after["data"][i] if after else float("nan")
        rows.append([name, t(w0), t(g), t(w1 - w0) if after else "—", t(w1) if after else "—"])
    loss0 = before["data"][before["root"]]
    summary = (f"Loss on this song: {t(loss0)} → {t(after['data'][after['root']])}" if after
               else f"Loss on this song: {t(loss0)}; the step leaves the engine's limits.")
    return [
        html.H3(f"One step of gradient descent, η = {lr:g}"),
        _table(["", "before", "gradient ∂L/∂·", "change −η × gradient", "after"], rows),
        html.P(summary, className="cg-summary"),
    ]


def _shared_panel(record: dict) -> list:
    """For each input of the 2-2-1 network: its two uses, the part of its gradient
    that comes back along each, and their sum."""
    t = figures.number_text
    names = figures.node_names(record)
    rows = []
    for label, feature in zip(("x1", "x2"), SONG_FEATURES):
        i = _node(record, label)
        uses = [k for k, c in enumerate(record["child"]) if c == i]
        products = [" × ".join(names[c] for c, p in zip(record["child"], record["parent"])
                               if p == record["parent"][k]) for k in uses]
        parts = " + ".join(f"({t(record['flow'][k])})" if record["flow"][k] < 0 else t(record["flow"][k])
                           for k in uses)
        rows.append([f"{label} ({feature})", ", ".join(products), f"{parts} = {t(record['grad'][i])}"])
    return [
        html.H3("A value used twice gets the sum of two gradients"),
        _table(["input", "used in", "∂L/∂input: one part per use"], rows),
    ]


def _values_panel(run: dict) -> list:
    t = figures.number_text
    rows = [[name, t(v), t(g)] for name, v, g in zip(run["names"], run["values"], run["grads"])]
    return [
        html.H3(f"f = {t(run['result'])}"),
        _table(["variable", "value", "gradient ∂f/∂variable"], rows) if rows
        else html.P("The expression has no variables: nothing to differentiate."),
    ] + ([html.P(f"The graph is not drawn: {run['too_big']}.", className="ls-message is-error")]
         if run["too_big"] else [])


@dash.callback(
    Output(lesson_id("variables", LESSON), "data"),
    Output(setting_id(LESSON, "vars"), "value"),
    Output(lesson_id("variables-message", LESSON), "children"),
    Output(lesson_id("variables-message", LESSON), "className"),
    Input(setting_id(LESSON, "expr"), "value"),
    Input(lesson_id("variables", LESSON), "data"),
    State(setting_id(LESSON, "vars"), "value"),
    prevent_initial_call=True,
)
def sync_variables(text, rows, variables):
    """Keep the table's rows to the expression's variables, and the link's `vars` to the table."""
    if ctx.triggered_id == setting_id(LESSON, "expr"):
        return variables_for_expression(text, variables)
    return variables_from_table(rows)


def variables_for_expression(text, variables) -> tuple:
    """(rows, vars, message, class) after the expression changed: a row per variable.
    Text that does not parse changes nothing (the step's callback says why)."""
    values, _ = SCHEMA.clean({"expr": text, "vars": variables})
    rows = _variable_rows(values)
    if rows is None:
        return dash.no_update, dash.no_update, "", "ls-message ls-hidden"
    text = encode_variables({r["name"]: r["value"] for r in rows})
    return rows, text or dash.no_update, "", "ls-message ls-hidden"


def variables_from_table(rows) -> tuple:
    """(rows, vars, message, class) after the visitor edited the table."""
    try:
        table = _rows_to_values(rows)
    except ValueError as error:
        return dash.no_update, dash.no_update, f"Not used: {error}.", "ls-message is-error"
    return dash.no_update, encode_variables(table) or dash.no_update, "", "ls-message ls-hidden"


def _rows_to_values(rows) -> dict[str, float]:
    """{name: value} from the table's rows. Raises ValueError naming the bad cell."""
    if not isinstance(rows, list):
        raise ValueError("the table is not a list of rows")
    values = {}
    for row in rows[: expression.MAX_VARIABLES]:
        name = row.get("name") if isinstance(row, dict) else None
        raw = row.get("value") if isinstance(row, dict) else None
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", name):
            raise ValueError("a row has no variable name")
        try:
            value = float(str(raw).strip()) if not isinstance(raw, bool) and len(str(raw)) <= 40 else None
        except ValueError:
            value = None
        if value is None or not abs(value) <= VALUE_LIMIT:
            raise ValueError(f"{name}: “{str(raw)[:20]}” must be a number from −{VALUE_LIMIT:,.0f} "
                             f"to {VALUE_LIMIT:,.0f}")
        values[name] = value
    return values
