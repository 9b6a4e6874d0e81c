"""Lesson: forward and backward through a computational graph (seed: visualizing neural networks).

The lesson engine runs the steps; this module holds the layout and one view
per figure of the narration. The graphs come from app.lessons.computational_graph
(memoized here) and `components.graph_figures` turns each pass into step-player
frames, one per value forward and one per edge backward.
"""

from __future__ import annotations

from pathlib import Path

import dash
from dash import Input, Output, State, dash_table, html

from app.cache import memoize
from app.lessons import computational_graph as experiments
from app.lessons.computational_graph import SONG_LR, SONG_TITLE, SONG_W, SONG_X, SONG_Y, node_index, short_text
from app.ml import expression
from app.ml.datasets import SONG_FEATURES
from components import graph_figures as figures
from components.engine import Lesson, View
from components.ids import lesson_id, player_id, setting_id
from components.narration import load_steps
from components.player import static
from components.settings_schema import Schema, Setting, parse_step
from components.theme import empty_figure

LESSON = "computational-graph"
STEPS = load_steps(Path(__file__).with_suffix(".md"))

WEIGHT_LIMIT = 10.0          # |x_i|, |w_i|, |b| of the song graph (the engine's own limits apply as well)
MAX_TEXT = 400               # characters of expression text a link or the field may hold
_NUMBER = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_PAIR = experiments.NAME + "=" + _NUMBER
_WEIGHT_HELP = f"−{WEIGHT_LIMIT:g} to {WEIGHT_LIMIT:g}"

SCHEMA = Schema((
    Setting("graph", "Graph", "choice", "song", choices=("song", "expression"),
            labels=("The song perceptron", "Your own expression")),
    *[Setting(f"x{i + 1}", f"x{i + 1} ({SONG_FEATURES[i]})", "float", float(SONG_X[i]),
              low=-WEIGHT_LIMIT, high=WEIGHT_LIMIT, help=_WEIGHT_HELP) for i in range(3)],
    *[Setting(f"w{i + 1}", f"w{i + 1}", "float", SONG_W[i], low=-WEIGHT_LIMIT, high=WEIGHT_LIMIT,
              help=_WEIGHT_HELP) for i in range(3)],
    Setting("b", "Bias b", "float", experiments.SONG_B, low=-WEIGHT_LIMIT, high=WEIGHT_LIMIT, help=_WEIGHT_HELP),
    Setting("y", "Label y", "float", float(SONG_Y), low=0.0, high=1.0, help="0 (disliked) to 1 (liked)"),
    Setting("lr", "Learning rate η", "float", SONG_LR, low=0.001, high=10.0, help="0.001 to 10"),
    Setting("expr", "Expression", "text", "tanh(w*x + b) + x**2",
            pattern=r"[A-Za-z0-9_.+\-*/() ]{1,%d}" % MAX_TEXT,
            pattern_help=f"names, numbers, + - * / ** ( ) and {', '.join(expression.FUNCTIONS)}; "
                         f"at most {MAX_TEXT} characters",
            help=f"variables, numbers, + − * / ** ( ) and {', '.join(expression.FUNCTIONS)}; press Enter to draw"),
    Setting("vars", "Variables", "text", "w=0.5,x=1.5,b=-1", widget="hidden",
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

song_run = memoize()(experiments.song_run)
lesson_song = memoize()(experiments.lesson_song_run)
shared_run = memoize()(experiments.shared_run)
expression_run = memoize()(experiments.expression_run)


# -- views ---------------------------------------------------------------------------------


def _shown(ctx, payload: dict, info: list = (), notices: list = (), message: list = (),
           achieved: bool = False) -> View:
    """The View of a step: the graph `payload`, the `info` panel below it (if any), and
    the free-play panel with the controls of the chosen graph."""
    height = payload["figure"]["layout"].get("height", figures.MIN_HEIGHT_PX)
    panels = ["song" if ctx.values["graph"] == "song" else "expression"]
    panels += ["free"] if ctx.figure == "free" else []
    panels += ["info"] if info else []
    return View(
        figures={"graph": payload}, heights={"graph": height}, panels=panels, notices=notices, achieved=achieved,
        # The graph's geometry is laid out for this height; the variable keeps it in presenter mode.
        outputs={"info": list(info), "graph-box": {"--cg-height": f"{height}px"}, "expr-message": list(message),
                 "expr-message-class": "ls-message is-error" if message else "ls-message ls-hidden"},
    )


def graph_view(ctx) -> View:
    before = lesson_song()["before"]
    title = f"“{SONG_TITLE}” through the perceptron, as a graph"
    return _shown(ctx, figures.graph_animation(before, [figures.static_view(before, values=False, grads=False,
                                                                            title=title)]))


def forward_view(ctx) -> View:
    before = lesson_song()["before"]
    return _shown(ctx, figures.graph_animation(before, figures.forward_views(before)))


def backward_view(ctx) -> View:
    before = lesson_song()["before"]
    return _shown(ctx, figures.graph_animation(before, figures.backward_views(before)))


def gradients_view(ctx) -> View:
    run = lesson_song()
    title = "Every gradient, and the local derivative on every edge"
    payload = figures.graph_animation(run["before"], [figures.static_view(run["before"], title=title)])
    return _shown(ctx, payload, _check_panel(run))


def update_view(ctx) -> View:
    run = lesson_song()
    payload = figures.graph_animation(run["before"], figures.update_views(run["before"], run["after"],
                                                                          run["params"], SONG_LR))
    return _shown(ctx, payload, _update_panel(run, SONG_LR))


def shared_view(ctx) -> View:
    record = shared_run()
    return _shown(ctx, figures.graph_animation(record, figures.backward_views(record)), _shared_panel(record))


def free_view(ctx) -> View:
    """Free play: the song perceptron with the visitor's numbers, or the visitor's expression."""
    return _free_song(ctx) if ctx.values["graph"] == "song" else _free_expression(ctx)


VIEWS = {"graph": graph_view, "forward": forward_view, "backward": backward_view, "gradients": gradients_view,
         "update": update_view, "shared": shared_view, "free": free_view}

ENGINE = Lesson(
    LESSON, SCHEMA, STEPS, VIEWS,
    graphs={"graph": (figures.MIN_HEIGHT_PX, "cg-graph")},
    panels={"free": "ls-panel", "song": "cg-song", "expression": "cg-expression-controls", "info": "ls-panel"},
    outputs={
        "info": (Output(lesson_id("panel", LESSON, name="info"), "children"), []),
        "graph-box": (Output(player_id("box", LESSON, name="graph"), "style"), {}),
        "expr-message": (Output(lesson_id("expr-message", LESSON), "children"), []),
        "expr-message-class": (Output(lesson_id("expr-message", LESSON), "className"), "ls-message ls-hidden"),
    },
)
show_step = ENGINE.register()


def _passes(record: dict) -> dict:
    """Both passes over `record`, opening on the finished backward pass."""
    views = figures.forward_views(record) + figures.backward_views(record)
    return figures.graph_animation(record, views, start="last")


def _free_song(ctx) -> View:
    values = ctx.values
    x = tuple(float(values[f"x{i}"]) for i in (1, 2, 3))
    w = tuple(float(values[f"w{i}"]) for i in (1, 2, 3))
    lr = float(values["lr"])
    try:
        run = song_run(x, w, float(values["b"]), float(values["y"]), lr)
    except ValueError as error:
        raise ValueError(f"cannot build the graph: {error}") from error
    notices = [f"The update with η = {lr:g} goes too far: {run['after_error']}."] if run["after_error"] else []
    return _shown(ctx, _passes(run["before"]), _update_panel(run, lr), notices)


def _free_expression(ctx) -> View:
    """The visitor's expression; text the parser refuses is explained under the field, with a caret."""
    text = ctx.values["expr"]
    message = []
    typed = ctx.raw.get("expr")
    if isinstance(typed, str) and typed.strip() not in ("", text):
        # The schema refused the typed text (the field shows the default again):
        # say what the parser makes of it.
        try:
            expression.parse(typed)
        except ValueError as error:
            message = _expression_error(typed, error, "Not accepted: ")
    try:
        run = expression_run(text, ctx.values["vars"])
    except ValueError as error:
        return _shown(ctx, _message_figure("Fix the expression to see its graph"),
                      message=_expression_error(text, error, "Not drawn: "))
    record = run["record"]
    payload = _message_figure(f"Too large to draw: {run['too_big']}") if record is None else _passes(record)
    # The task: a variable used three times, its gradient summed from three parts.
    return _shown(ctx, payload, _values_panel(run), message=message, achieved=max(run["uses"], default=0) >= 3)


def _message_figure(text: str) -> dict:
    fig = empty_figure(text)
    fig.update_layout(height=figures.MIN_HEIGHT_PX)
    return static(fig)


def _expression_error(text: str, error: ValueError, lead: str) -> list:
    """The parser's message, and where it points in the text (a caret under the column)."""
    column = getattr(error, "column", None)
    parts = [html.Strong(lead), str(error)]
    if column is not None and len(text) <= 120:
        parts.append(html.Pre(f"{text}\n{' ' * (column - 1)}^", className="cg-caret"))
    return parts


# -- panels --------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list]) -> html.Table:
    return html.Table([html.Thead(html.Tr([html.Th(h) for h in header])),
                       html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows])],
                      className="ls-table")


def _values(record: dict, label: str) -> tuple[float, float]:
    i = node_index(record, label)
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
        i = node_index(record, label)
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


# -- layout --------------------------------------------------------------------------------


def layout(**query) -> html.Div:
    first, _ = parse_step(query.get("step"), len(STEPS))  # the engine says why a step is refused
    return ENGINE.page(query, lambda values, hidden: stage(values, hidden, STEPS[first].figure))


def stage(values: dict, hidden: set, figure: str) -> list:
    return [
        _free_panel(values, hidden, figure == "free"),  # first: in free play the controls lead
        ENGINE.step_player(label="frame"),
        ENGINE.graph("graph"),
        html.Div(id=ENGINE.panel_id("info"), className=ENGINE.panel_class("info", False)),
    ]


def _free_panel(values: dict, hidden: set, visible: bool) -> html.Div:
    song = values["graph"] == "song"
    # Numbers as they were typed: 1, not 1.0.
    shown = {name: short_text(v) if isinstance(v, float) else v for name, v in values.items()}
    return html.Div(
        [
            html.Div([html.H3("Your graph"),
                      html.Div([_with(c, searchable=False, style={"minWidth": "230px"})
                                for c in ENGINE.controls(shown, hidden, ["graph"])], className="cg-graph-choice")],
                     className="cg-free-head"),
            html.Div([html.Div([_without_help(c) for c in ENGINE.controls(shown, hidden, SONG_SETTINGS)],
                               className="ls-controls cg-song-controls"),
                      html.Small(_song_limits(), className="ls-control-help")],
                     id=ENGINE.panel_id("song"), className=ENGINE.panel_class("song", song)),
            html.Div(
                [
                    *[_with(c, className="cg-expression", maxLength=MAX_TEXT, spellCheck=False)
                      for c in ENGINE.controls(shown, hidden, ["expr"])],
                    html.Div(id=lesson_id("expr-message", LESSON), className="ls-message ls-hidden"),
                    html.Div(
                        [
                            html.Label("Values of the variables", className="ls-control-label"),
                            dash_table.DataTable(
                                id=lesson_id("variables", LESSON), data=_variable_rows(values),
                                columns=[{"name": "variable", "id": "name", "editable": False},
                                         {"name": "value", "id": "value", "type": "numeric", "editable": True}],
                                editable=True, style_table={"maxWidth": "360px"},
                                style_cell={"fontFamily": "inherit", "fontSize": 17, "padding": "6px 10px",
                                            "textAlign": "left"},
                                style_header={"fontWeight": 600}),
                            html.P(id=lesson_id("variables-message", LESSON), className="ls-message ls-hidden"),
                            *ENGINE.controls(shown, hidden, ["vars"]),
                        ],
                        className="cg-variables" + (" is-hidden" if "vars" in hidden else ""),
                    ),
                ],
                id=ENGINE.panel_id("expression"), className=ENGINE.panel_class("expression", not song),
            ),
        ],
        id=ENGINE.panel_id("free"), className=ENGINE.panel_class("free", visible),
    )


def _with(control: html.Div, **props) -> html.Div:
    """`control` (from the schema) with `props` set on its field, for the lesson's own styles."""
    field = next(c for c in control.children if isinstance(getattr(c, "id", None), dict)
                 and c.id.get("type") == "ls-setting")
    for name, value in props.items():
        setattr(field, name, value)
    return control


def _without_help(control: html.Div) -> html.Div:
    """`control` without its help line: the song's nine fields say their limits once, under the grid."""
    control.children = [c for c in control.children if getattr(c, "className", None) != "ls-control-help"]
    return control


def _song_limits() -> str:
    """One line of limits for the song's fields, from their help in the schema."""
    said = {name: SCHEMA.get(name).help for name in ("x1", "y", "lr")}
    return (f"Features, weights and bias from {said['x1']}; label y from {said['y']}; "
            f"learning rate η from {said['lr']}. Press Enter to redraw.")


def _variable_rows(values: dict) -> list[dict]:
    """A row {name, value} per variable of the expression; none if it does not parse."""
    try:
        return experiments.variable_rows(values["expr"], values["vars"])
    except ValueError:
        return []


# -- the variables table (not step plumbing: it edits the `vars` setting) -------------------


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
    if dash.ctx.triggered_id == setting_id(LESSON, "expr"):
        return variables_for_expression(text, variables)
    return variables_from_table(rows)


def variables_for_expression(text, variables) -> tuple:
    """(rows, vars, message, class) after the expression changed: a row per variable.
    Text that does not parse changes nothing (the step's callback says why).

    `vars` is left as it is: a variable it does not name takes DEFAULT_VALUE in the
    table and in the run alike, so the link still reproduces the graph. Rewriting it
    here would run the step again after the step resets a refused expression, and
    that run would clear the note beside the field.
    """
    values, _ = SCHEMA.check({"expr": text, "vars": variables})
    try:
        rows = experiments.variable_rows(values["expr"], values["vars"])
    except ValueError:
        return dash.no_update, dash.no_update, "", "ls-message ls-hidden"
    return rows, dash.no_update, "", "ls-message ls-hidden"


def variables_from_table(rows) -> tuple:
    """(rows, vars, message, class) after the visitor edited the table."""
    try:
        table = experiments.variables_from_rows(rows)
    except ValueError as error:
        return dash.no_update, dash.no_update, f"Not used: {error}.", "ls-message is-error"
    return dash.no_update, experiments.encode_variables(table) or dash.no_update, "", "ls-message ls-hidden"
