"""Drawing a traced computational graph, and animating its passes over it.

The input is a *graph record*, a plain dict the page builds from a traced
graph (no model code here; every number arrives computed):

    labels: (n,) str, the name of each value ("" if it has none)
    ops:    (n,) str, its operation ("" for an input, "*", "sigmoid", "**2", ...)
    kinds:  (n,) str, its role: "data", "weight", "constant", "op" or "root"
    data, grad: (n,) float, value and d(root)/d(value)
    x, y:   (n,) float, position: x = layer (inputs left), y = row (0 at the centre)
    child, parent, slot: (m,) int, edge k feeds value child[k] into parent[k]
    local, flow: (m,) float, d(parent)/d(child) and local * parent's grad
    forward: (n,) int, node ids in forward order
    backward: (m,) int, edge indices in backward order

A figure is drawn from a `View`: which values and gradients are known, which
edges carry a local derivative, what is active. The frame builders
(`forward_views`, `backward_views`, `update_views`) turn a pass into a list of
views and `graph_animation` into a step-player payload: one base figure plus a
small patch per frame. Values are written in black under each node, gradients
in red-orange (the palette's vermilion) under them, local derivatives in
red-orange beside the edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from components import figure_fit as fit
from components.player import animation
from components.theme import BLUE, GREEN, INK, MUTED, ORANGE, VERMILION, figure_layout

#: Assumed width of the plot area in px (the stage of a lesson on a laptop);
#: node sizes are chosen so that a graph fits it. Wider screens only add air.
PLOT_WIDTH_PX = 860
MARGIN = dict(l=16, r=16, t=84, b=36)   # room for a title of two lines at an exhibit's 28 px
TEXT_PX = 15           # values and gradients under the nodes
NAME_PX = 17           # names and operations inside the nodes
EDGE_PX = 14           # local derivatives on the edges
TITLE_CHARS = 72       # characters of a title line (19 px) that fit PLOT_WIDTH_PX

OP_SYMBOLS = {"+": "+", "-": "−", "*": "×", "/": "÷", "**": "^", "neg": "−", "sigmoid": "σ",
              "tanh": "tanh", "relu": "relu", "exp": "exp", "log": "log", "bce": "bce"}
FILL = {"data": "#dcebf7", "weight": "#fdebc8", "constant": "#eceef1", "op": "#ffffff", "root": "#fbe0d0"}
BORDER = {"data": BLUE, "weight": ORANGE, "constant": MUTED, "op": INK, "root": VERMILION}
PENDING_FILL, PENDING_BORDER, PENDING_TEXT = "#f6f7f9", "#c4cad3", "#9ca3af"
EDGE_IDLE, EDGE_FORWARD = "#d5d9e0", "#8a94a3"
TONE = {"forward": BLUE, "backward": VERMILION, "update": GREEN}
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
HALO = "1px 1px 2px white, -1px -1px 2px white, 1px -1px 2px white, -1px 1px 2px white"
LEGEND = ("value in black · <span style='color:%s'>gradient in red-orange</span> · "
          "<span style='color:%s'>×local derivative</span> on each edge") % (VERMILION, VERMILION)


def number_text(v: float) -> str:
    """A value as the page shows it: 3 significant digits, a true minus sign, 0 for ±0."""
    v = float(v)
    if math.isnan(v):
        return "undefined"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    a = abs(v)
    if a == 0:
        return "0"
    if 1e-3 <= a < 1e3:
        text = f"{v:.3g}"
    elif 1e3 <= a < 1e5:
        text = f"{v:.0f}"
    else:
        text = f"{v:.2e}"
    return text.replace("-", "−")


def _operand(v: float) -> str:
    """A number inside a formula: negative ones in parentheses, 2 × (−0.5)."""
    text = number_text(v)
    return f"({text})" if text.startswith("−") else text


def _unnamed_symbols(record: dict) -> list[str]:
    """The symbol of each operation, numbered (+₁, +₂ in forward order) where several
    operations without a name share it, so that formulas can tell them apart."""
    symbols = [_symbol(op) for op in record["ops"]]
    unnamed = [i for i, (label, op) in enumerate(zip(record["labels"], record["ops"])) if op and not label]
    counts: dict[str, int] = {}
    for i in unnamed:
        counts[symbols[i]] = counts.get(symbols[i], 0) + 1
    seen: dict[str, int] = {}
    order = {v: k for k, v in enumerate(record["forward"])}
    for i in sorted(unnamed, key=order.__getitem__):
        if counts[symbols[i]] > 1:
            seen[symbols[i]] = seen.get(symbols[i], 0) + 1
            symbols[i] += str(seen[symbols[i]]).translate(SUBSCRIPTS)
    return symbols


def node_names(record: dict) -> list[str]:
    """How formulas refer to each value: its label (in parentheses if it is a product
    like x1·w1), or its numbered operation in parentheses, (+₂), for one without a name."""
    names = []
    for label, symbol in zip(record["labels"], _unnamed_symbols(record)):
        if not label:
            names.append(f"({symbol})")
        elif "*" in label:
            names.append(f"({label.replace('*', '·')})")
        else:
            names.append(label)
    return names


def _symbol(op: str) -> str:
    if op.startswith("**") and len(op) > 2:
        return "^" + op[2:]
    return OP_SYMBOLS.get(op, op)


def _inner_text(record: dict) -> list[str]:
    """Text inside each node: an input's name (a constant's number), an operation's symbol."""
    return [label if not op else symbol
            for label, op, symbol in zip(record["labels"], record["ops"], _unnamed_symbols(record))]


def _tags(record: dict) -> list[str]:
    """Names written above operation nodes that have a simple one (z, p, L, h1); a product's
    label (x1*w1) only repeats its inputs, so it is left out of the picture."""
    return [label if op and label and "*" not in label else "" for label, op in zip(record["labels"], record["ops"])]


@dataclass
class View:
    """What one frame shows.

    values / grads: (n,) float, nan where not (yet) known; local_on: (m,) bool, edges
    whose local derivative is written; lit: (m,) bool, edges drawn as travelled;
    active_nodes / active_edges: highlighted; arrows: (tail node, head node) pairs;
    tone: "forward" | "backward" | "update" (the highlight colour); title: the figure's
    title (a formula); label: the player's caption.
    """

    values: np.ndarray
    grads: np.ndarray
    local_on: np.ndarray
    lit: np.ndarray
    active_nodes: tuple = ()
    active_edges: tuple = ()
    arrows: tuple = ()
    tone: str = "forward"
    title: str = ""
    label: str = ""
    changed: tuple = ()  # nodes drawn in the update colour: their values are new


def _blank(record: dict) -> View:
    n, m = len(record["labels"]), len(record["child"])
    return View(np.full(n, np.nan), np.full(n, np.nan), np.zeros(m, bool), np.zeros(m, bool))


def _inputs_of(record: dict, node: int) -> list[int]:
    """Edge indices into `node`, in slot order."""
    edges = [k for k, p in enumerate(record["parent"]) if p == node]
    return sorted(edges, key=lambda k: record["slot"][k])


def _formula(record: dict, node: int, values: np.ndarray, names: list[str]) -> str:
    """node = its operation written out with its inputs' numbers = its value."""
    op = record["ops"][node]
    value = number_text(values[node])
    if not op:
        return f"{names[node]} = {value}, an input: given, not computed"
    inputs = [values[record["child"][k]] for k in _inputs_of(record, node)]
    plain = [number_text(v) for v in inputs]
    if op in ("+", "-", "*", "/", "**") and len(inputs) == 2:
        first = _operand(inputs[0]) if op == "**" else plain[0]
        inner = f"{first} {_symbol(op)} {_operand(inputs[1])}"
    elif op.startswith("**"):
        inner = f"{_operand(inputs[0])} {_symbol(op)}"
    elif op == "neg":
        inner = f"−{_operand(inputs[0])}"
    elif op == "bce" and len(inputs) == 2:
        inner = f"bce(p = {plain[0]}, y = {plain[1]})"
    else:
        inner = f"{_symbol(op)}({', '.join(plain)})"
    return f"{names[node]} = {inner} = {value}"


# -- frame sequences ---------------------------------------------------------------------


def static_view(record: dict, *, values: bool = True, grads: bool = True, title: str = "") -> View:
    """The graph with all values (and gradients, and local derivatives) known; with
    values=False only the inputs' values, which are given before any computation."""
    view = _blank(record)
    data = np.asarray(record["data"], dtype=float)
    if values:
        view.values = data.copy()
        view.lit[:] = True
    else:
        view.values = np.where([not op for op in record["ops"]], data, np.nan)
    if grads:
        view.grads = np.asarray(record["grad"], dtype=float).copy()
        view.local_on[:] = True
        view.tone = "backward"
    view.title = title
    return view


def forward_views(record: dict, *, start: View | None = None, skip_inputs: bool = False,
                  prefix: str = "forward") -> list[View]:
    """The forward pass: a frame with nothing computed, then one frame per value.

    start: the view before the pass (default: nothing known); skip_inputs: inputs
    are already shown, only operations light up.
    """
    names = node_names(record)
    data = np.asarray(record["data"], dtype=float)
    order = [v for v in record["forward"] if not (skip_inputs and not record["ops"][v])]
    first = start or _blank(record)
    if not first.title:
        first.title = "Forward pass: every value is computed from its inputs, left to right"
    first.label = first.label or f"{prefix} · 0 of {len(order)}"
    views = [first]
    known = first.values.copy()
    lit = first.lit.copy()
    for i, node in enumerate(order, start=1):
        known = known.copy()
        known[node] = data[node]
        ins = _inputs_of(record, node)
        lit = lit.copy()
        lit[ins] = True
        views.append(View(known, first.grads.copy(), first.local_on.copy(), lit,
                          active_nodes=(node,), active_edges=tuple(ins),
                          arrows=tuple((record["child"][k], node) for k in ins), tone="forward",
                          title=_formula(record, node, known, names),
                          label=f"{prefix} · {i} of {len(order)}", changed=first.changed))
    return views


def backward_views(record: dict) -> list[View]:
    """The backward pass: the root's gradient 1, then one frame per edge, root first.

    Each edge adds local × (its parent's gradient) to its child's gradient, so a
    value with several uses shows a partial sum until its last edge is done.
    """
    names = node_names(record)
    data = np.asarray(record["data"], dtype=float)
    child, parent = record["child"], record["parent"]
    local, flow = record["local"], record["flow"]
    root = record["root"]
    grads = np.full(len(data), np.nan)
    grads[root] = 1.0
    uses = np.bincount(np.asarray(child, dtype=int), minlength=len(data)) if len(child) else np.zeros(len(data))
    m = len(child)
    start = View(data.copy(), grads.copy(), np.zeros(m, bool), np.ones(m, bool), active_nodes=(root,),
                 tone="backward",
                 title=f"Backward pass: ∂{names[root]}/∂{names[root]} = 1, then the chain rule, right to left",
                 label=f"backward · 0 of {m}")
    views = [start]
    local_on = np.zeros(m, bool)
    lit = np.zeros(m, bool)
    seen = np.zeros(len(data), int)
    for i, k in enumerate(record["backward"], start=1):
        c, p = child[k], parent[k]
        grads = grads.copy()
        grads[c] = (0.0 if np.isnan(grads[c]) else grads[c]) + flow[k]
        local_on = local_on.copy()
        local_on[k] = True
        lit = lit.copy()
        lit[k] = True
        root_name = names[root]
        # At the root, ∂L/∂p would read as the whole gradient: name the local one by its operation.
        local_of = names[p] if p != root else f"({_symbol(record['ops'][p])})"
        title = (f"∂{root_name}/∂{names[c]} += ∂{local_of}/∂{names[c]} × ∂{root_name}/∂{names[p]}"
                 f" = {_operand(local[k])} × {_operand(grads[p])} = {number_text(flow[k])}")
        if uses[c] > 1:
            seen[c] += 1
            total = "sum so far" if seen[c] < uses[c] else "total"
            title += f"<br>(part {seen[c]} of {uses[c]}, {total} {number_text(grads[c])})"
        views.append(View(data.copy(), grads, local_on, lit, active_nodes=(c,), active_edges=(k,),
                          arrows=((p, c),), tone="backward", title=title, label=f"backward · {i} of {m}"))
    return views


def update_views(before: dict, after: dict, params: list[int], lr: float) -> list[View]:
    """One gradient step: each parameter moves by −lr × its gradient, then a forward pass.

    before / after: records of the same graph at the old and the new parameters;
    params: node ids of the parameters, in the order they are updated.
    """
    names = node_names(before)
    loss = names[before["root"]]
    old = static_view(before, title=f"Gradients known: now every weight takes a step of −η × gradient, η = {lr:g}")
    old.label = f"update · 0 of {len(params)}"
    views = [old]
    is_input = np.array([not op for op in before["ops"]])
    values = np.where(is_input, before["data"], np.nan)
    grads = np.full(len(values), np.nan)  # only the steps still to take keep their gradient
    grads[params] = np.asarray(before["grad"], dtype=float)[params]
    empty = np.zeros(len(before["child"]), bool)
    for i, node in enumerate(params, start=1):
        values = values.copy()
        values[node] = after["data"][node]
        grads = grads.copy()
        grads[node] = np.nan
        g, w0, w1 = before["grad"][node], before["data"][node], after["data"][node]
        title = (f"{names[node]} ← {names[node]} − η × ∂{loss}/∂{names[node]} = {number_text(w0)} − {lr:g} × "
                 f"{_operand(g)} = {number_text(w1)}")
        views.append(View(values, grads, empty.copy(), empty.copy(), active_nodes=(node,), tone="update",
                          title=title, label=f"update · {i} of {len(params)}",
                          changed=tuple(params[:i])))
    start = View(values.copy(), np.full_like(values, np.nan), empty.copy(), empty.copy(),
                 tone="forward", changed=tuple(params),
                 title="New weights: the forward pass runs again", label="")
    again = forward_views(after, start=start, skip_inputs=True, prefix="forward again")[1:]
    loss0, loss1 = before["data"][before["root"]], after["data"][after["root"]]
    verdict = "down" if loss1 < loss0 else "up" if loss1 > loss0 else "unchanged"
    if again:
        again[-1].title += f"<br>({verdict} from {number_text(loss0)})"
    return views + again


# -- drawing -------------------------------------------------------------------------------

BELOW_PX = 2 * TEXT_PX + 10     # value and gradient under a node
ABOVE_PX = TEXT_PX + 8          # a name over a node
NODE_PX = (30, 46)              # smallest and largest node diameter
MIN_HEIGHT_PX = 560
DENSE_COLUMN_PX = 105


def _shape(record: dict) -> tuple[int, int]:
    """(layers, rows): columns of the drawing and the most values in one column."""
    x = np.asarray(record["x"], dtype=float)
    if not len(x):
        return 1, 1
    return int(x.max()) + 1, int(np.unique(x, return_counts=True)[1].max())


def _node_px(record: dict) -> float:
    layers, _ = _shape(record)
    return float(np.clip(0.5 * PLOT_WIDTH_PX / layers, *NODE_PX))


def figure_height(record: dict) -> int:
    """Height in px that gives every row of the graph room for its node and text."""
    _, rows = _shape(record)
    size = _node_px(record)
    need = MARGIN["t"] + MARGIN["b"] + rows * size + (rows - 1) * (BELOW_PX + 6) + BELOW_PX + ABOVE_PX
    return int(max(MIN_HEIGHT_PX, math.ceil(need)))


def _geometry(record: dict, height: int) -> dict:
    """Node size (px) and axis ranges for a plot `height` px high and about PLOT_WIDTH_PX wide."""
    layers, rows = _shape(record)
    x = np.asarray(record["x"], dtype=float)
    y = -np.asarray(record["y"], dtype=float)  # the first of a layer on top
    size = _node_px(record)
    plot_h = height - MARGIN["t"] - MARGIN["b"]
    unit = max((plot_h - size - BELOW_PX - ABOVE_PX) / max(rows - 1, 1), 1.0)  # px per row
    y_top = y.max() if len(y) else 0.0
    y_bottom = y.min() if len(y) else 0.0
    spare = (plot_h - (y_top - y_bottom) * unit - size - BELOW_PX - ABOVE_PX) / unit / 2
    top = y_top + (size / 2 + ABOVE_PX) / unit + max(spare, 0)
    bottom = y_bottom - (size / 2 + BELOW_PX) / unit - max(spare, 0)
    # Columns narrower than this leave no room to write on every edge: only the active one is.
    dense = PLOT_WIDTH_PX / layers < DENSE_COLUMN_PX
    xrange, yrange = [-0.5, layers - 0.5], [bottom, top]
    px_per_x, px_per_y = PLOT_WIDTH_PX / layers, plot_h / (top - bottom)
    px = np.stack([(x - xrange[0]) * px_per_x, (y - bottom) * px_per_y], axis=1) if len(x) else np.zeros((0, 2))
    return {"x": x, "y": y, "size": size, "xrange": xrange, "yrange": yrange, "dense": dense,
            "px": px, "px_per_x": px_per_x, "px_per_y": px_per_y}


def _edge_xy(g: dict, child, parent, edges) -> tuple[list, list]:
    xs, ys = [], []
    for k in edges:
        c, p = child[k], parent[k]
        xs += [g["x"][c], g["x"][p], None]
        ys += [g["y"][c], g["y"][p], None]
    return xs, ys


def _text_px(text: str, size: float) -> float:
    """About how wide `text` is drawn at font `size` px (digits and signs are ~0.6 em)."""
    return 0.6 * size * len(text) + 4


def _obstacles(record: dict, g: dict) -> list[np.ndarray]:
    """Boxes [left, bottom, right, top] in px of everything an edge's number must not
    cover: each node, the value and gradient under it and the name over it."""
    size = g["size"]
    boxes = []
    below = [max(len(number_text(v)), len(number_text(d))) for v, d in zip(record["data"], record["grad"])]
    for (x, y), op, chars, tag in zip(g["px"], record["ops"], below, _tags(record)):
        half = (size if op else 0.86 * size) / 2 + 3
        boxes.append(np.array([x - half, y - half, x + half, y + half]))
        width = _text_px("0" * chars, TEXT_PX)
        boxes.append(np.array([x - width / 2, y - half - BELOW_PX, x + width / 2, y - half]))
        if tag:
            corner = 0.3 * size
            boxes.append(np.array([x - corner - _text_px(tag, TEXT_PX), y + corner, x - corner,
                                   y + corner + TEXT_PX + 4]))
    return boxes


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


#: Where along an edge (0 = its input, 1 = the operation it feeds) and how far beside it
#: (px) its local derivative may be written, in order of preference: beside the line,
#: so that the arrow drawn over the active edge leaves its number readable.
ALONG = (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.2, 0.8)
ACROSS = (12.0, -12.0, 0.0, 18.0, -18.0)


def _label_points(record: dict, g: dict) -> tuple[list, list]:
    """Where each edge's local derivative is written: beside its edge, at the first place
    (ALONG × ACROSS) that covers no node, no number of a node and no other edge's number,
    else where it covers least. Edges are placed in backward order, the order they are
    written in during the backward pass."""
    child, parent = record["child"], record["parent"]
    taken = _obstacles(record, g)
    places: dict[int, tuple[float, float]] = {}
    order = list(record["backward"]) + [k for k in range(len(child)) if k not in set(record["backward"])]
    for k in order:
        a, b = g["px"][child[k]], g["px"][parent[k]]
        direction = (b - a) / max(float(np.linalg.norm(b - a)), 1e-9)
        normal = np.array([-direction[1], direction[0]])
        half_w, half_h = _text_px(f"×{number_text(record['local'][k])}", EDGE_PX) / 2, EDGE_PX / 2 + 2
        best = None
        for across in ACROSS:
            for along in ALONG:
                x, y = a + along * (b - a) + across * normal
                box = np.array([x - half_w, y - half_h, x + half_w, y + half_h])
                cost = sum(_overlap(box, other) for other in taken)
                if best is None or cost < best[0]:
                    best = (cost, box, (x, y))
            if best[0] == 0:
                break
        if not g["dense"]:   # a dense graph writes one edge's number at a time: they need not avoid each other
            taken.append(best[1])
        places[k] = best[2]
    xs = [float(places[k][0] / g["px_per_x"] + g["xrange"][0]) for k in range(len(child))]
    ys = [float(places[k][1] / g["px_per_y"] + g["yrange"][0]) for k in range(len(child))]
    return xs, ys


def _node_marker(record: dict, g: dict, view: View) -> dict:
    kinds = record["kinds"]
    known = ~np.isnan(view.values)
    fill = [FILL[k] if ok else PENDING_FILL for k, ok in zip(kinds, known)]
    border = [BORDER[k] if ok else PENDING_BORDER for k, ok in zip(kinds, known)]
    width = [2.5 if ok else 2.0 for ok in known]
    for v in view.changed:
        border[v], width[v] = GREEN, 3.5
    for v in view.active_nodes:
        border[v], width[v] = TONE[view.tone], 6.0
    size = g["size"]
    return {
        "size": [size if op else size * 0.86 for op in record["ops"]],
        "symbol": ["circle" if op else "square" for op in record["ops"]],
        "color": fill, "line": {"color": border, "width": width},
    }


def _below_text(view: View) -> list[str]:
    out = []
    for v, g in zip(view.values, view.grads):
        lines = [f"<b>{number_text(v)}</b>" if not np.isnan(v) else ""]
        if not np.isnan(g):
            lines.append(f"<span style='color:{VERMILION}'>{number_text(g)}</span>")
        out.append("<br>".join(lines))
    return out


def _annotations(g: dict, view: View) -> list[dict]:
    legend = LEGEND.replace("on each edge", "on the active edge") if g["dense"] else LEGEND
    notes = [dict(text=legend, xref="paper", yref="paper", x=0.0, y=0.0, yshift=-30, xanchor="left",
                  yanchor="bottom", showarrow=False, font=dict(size=14, color=MUTED))]
    radius = g["size"] / 2
    for tail, head in view.arrows:
        notes.append(dict(x=g["x"][head], y=g["y"][head], ax=g["x"][tail], ay=g["y"][tail],
                          xref="x", yref="y", axref="x", ayref="y", text="", showarrow=True,
                          arrowhead=2, arrowsize=1.1, arrowwidth=4, arrowcolor=TONE[view.tone],
                          standoff=radius + 3, startstandoff=radius + 3))
    return notes


def _patch(record: dict, g: dict, view: View) -> dict:
    """What a frame changes: travelled and active edges (traces 1, 2), the nodes (3),
    the numbers under them (4), the local derivatives (6), the title and the arrows."""
    m = len(record["child"])
    lit_x, lit_y = _edge_xy(g, record["child"], record["parent"], [k for k in range(m) if view.lit[k]])
    act_x, act_y = _edge_xy(g, record["child"], record["parent"], view.active_edges)
    known = ~np.isnan(view.values)
    lit_color = VERMILION if view.tone == "backward" else EDGE_FORWARD
    return {
        "traces": [1, 2, 3, 4, 6],
        "data": [
            {"x": lit_x, "y": lit_y, "line": {"color": lit_color, "width": 3}},
            {"x": act_x, "y": act_y, "line": {"color": TONE[view.tone], "width": 7}},
            {"marker": _node_marker(record, g, view),
             "textfont": {"size": NAME_PX, "color": [INK if ok else PENDING_TEXT for ok in known]}},
            {"text": _below_text(view)},
            {"text": [f"×{number_text(record['local'][k])}" if view.local_on[k] and (k in view.active_edges
                                                                                   or not g["dense"]) else ""
                      for k in range(m)]},
        ],
        "layout": {"title": {"text": fit.wrap(view.title, TITLE_CHARS)}, "annotations": _annotations(g, view)},
    }


def graph_figure(record: dict, view: View, *, height: int | None = None) -> go.Figure:
    """The graph as `view` shows it, for a plot `height` px high (default `figure_height`)."""
    height = height or figure_height(record)
    g = _geometry(record, height)
    patch = _patch(record, g, view)
    lit, active, nodes, below, edge_text = patch["data"]
    layout = figure_layout(
        "", height=height, margin=MARGIN, showlegend=False, dragmode=False, hovermode=False,
        xaxis=dict(visible=False, range=g["xrange"], fixedrange=True),
        yaxis=dict(visible=False, range=g["yrange"], fixedrange=True),
        annotations=patch["layout"]["annotations"],
    )
    layout["title"] = _title(patch["layout"]["title"]["text"])
    fig = go.Figure(layout=layout)
    all_x, all_y = _edge_xy(g, record["child"], record["parent"], range(len(record["child"])))
    fig.add_trace(go.Scatter(x=all_x, y=all_y, mode="lines", line=dict(color=EDGE_IDLE, width=2),
                             hoverinfo="skip", name="edges"))                              # 0
    fig.add_trace(go.Scatter(mode="lines", hoverinfo="skip", name="travelled", **lit))      # 1
    fig.add_trace(go.Scatter(mode="lines", hoverinfo="skip", name="active", **active))     # 2
    fig.add_trace(go.Scatter(x=g["x"], y=g["y"], mode="markers+text", text=_inner_text(record),
                             textposition="middle center", hoverinfo="skip", name="nodes",
                             cliponaxis=False, **nodes))                                    # 3
    # Invisible markers of the nodes' sizes put text just outside each node at any scale.
    ghost = dict(size=nodes["marker"]["size"], opacity=0)
    fig.add_trace(go.Scatter(x=g["x"], y=g["y"], mode="markers+text", marker=ghost,
                             textposition="bottom center", textfont=dict(size=TEXT_PX, color=INK),
                             cliponaxis=False, hoverinfo="skip", name="values", **below))  # 4
    near = dict(size=[0.6 * v for v in nodes["marker"]["size"]], opacity=0)  # a tag hugs its node's corner
    fig.add_trace(go.Scatter(x=g["x"], y=g["y"], mode="markers+text", marker=near, text=_tags(record),
                             textposition="top left", textfont=dict(size=TEXT_PX, color=MUTED, shadow=HALO),
                             cliponaxis=False, hoverinfo="skip", name="names"))             # 5
    lx, ly = _label_points(record, g)
    fig.add_trace(go.Scatter(x=lx, y=ly, mode="text", cliponaxis=False, hoverinfo="skip", name="local",
                             textfont=dict(size=EDGE_PX, color=VERMILION, shadow=HALO), **edge_text))  # 6
    return fig


def _title(text: str) -> dict:
    return dict(text=text, font=dict(size=19), x=0.01, xanchor="left", y=1, yanchor="top",
                pad=dict(t=fit.title_pad(len(fit.lines_of(text)))))


def graph_animation(record: dict, views: list[View], *, height: int | None = None, autoplay: bool = False,
                    start: str = "first") -> dict:
    """A step-player payload: the graph at views[0] and one patch per view. Every frame's
    title takes as many lines as the longest, so that the title never jumps."""
    if not views:
        raise ValueError("an animation needs at least one view")
    height = height or figure_height(record)
    fig = graph_figure(record, views[0], height=height)
    g = _geometry(record, height)
    frames = [_patch(record, g, view) for view in views]
    titles = fit.wrap_all([f["layout"]["title"]["text"] for f in frames], TITLE_CHARS)
    for frame, title in zip(frames, titles):
        frame["layout"]["title"]["text"] = title
    fig.update_layout(title=_title(titles[0]))
    return animation(fig, frames, labels=[v.label for v in views], autoplay=autoplay, start=start)
