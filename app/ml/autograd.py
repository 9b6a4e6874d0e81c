"""A tiny scalar autograd engine that records its graph, for the computational-graph lesson.

Each `Value` holds a number (`data`), the derivative of the final result with
respect to it (`grad`), the values it was computed from (its children) and the
name of its operation. Every operation computes its result and, right beside
it, the *local derivative* d(out)/d(input) of each input. `backward()` puts
the graph in topological order (each value after its inputs) and applies the
chain rule from the result back to the inputs, one value at a time:

    input.grad += d(out)/d(input) * out.grad

so a value used twice receives the sum of two contributions. The local
derivatives stay on the graph, so the page can write on each edge the factor
that multiplies into it. Drawing only reads the graph: `trace` copies it into
plain records and `layout_left_to_right` places them; no UI code lives here.

Arithmetic is IEEE 754 double precision and never raises: division by zero
gives +-inf (0/0 gives nan), log(0) = -inf, the log of a negative number is
nan, exp overflows to inf, a negative number to a fractional power is nan.
A derivative that is infinite or undefined where it is evaluated (d/dx x**0.5
at x = 0) is inf or nan. Callers that need finite numbers check them.

Limits: `trace` and `layout_left_to_right` accept graphs of at most
MAX_GRAPH_NODES values; the lesson builders require |logit| <= MAX_ABS_LOGIT.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

MAX_GRAPH_NODES = 250   # values per traced / laid-out graph (an expression has at most 200)
MAX_ABS_LOGIT = 30.0    # |z| before the output sigmoid in the lesson graphs; beyond
                        # about 36.7, sigmoid(z) rounds to exactly 1 and dL/dp is 0/0
LAYOUT_SWEEPS = 8       # barycenter sweeps (alternating direction) of the layout


def _ieee(function, *args) -> float:
    """function(*args) in float64 with IEEE results (inf, nan) instead of Python exceptions."""
    with np.errstate(all="ignore"):
        return float(function(*(np.float64(a) for a in args)))


def _number_text(x: float) -> str:
    """2.0 -> "2", 0.5 -> "0.5": a constant as the page shows it."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _power_rule(base: float, exponent: float) -> float:
    """d(base**exponent)/d(base) = exponent * base**(exponent - 1); 0 for exponent 0 (a constant)."""
    if exponent == 0.0:
        return 0.0
    return exponent * _ieee(np.power, base, exponent - 1.0)


def _sigmoid(a: float) -> float:
    """1 / (1 + e^-a) without overflow for either sign of a."""
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


class Value:
    """One scalar of a computational graph.

    data: float, the number; grad: float, d(root)/d(this value) after root.backward().
    _prev: the inputs it was computed from, in order (x * x lists x twice);
    _local: d(this)/d(input) for each entry of _prev, fixed when the op runs;
    op: the operation that made it ("" for an input); label: a name to show.
    """

    __slots__ = ("data", "grad", "_prev", "_local", "op", "label")

    def __init__(self, data, _children=(), op="", label="", _local=()):
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"a Value holds a real number, not {type(data).__name__}")
        if len(_local) != len(_children):
            raise ValueError("each child needs exactly one local derivative")
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(_children)
        self._local = tuple(float(d) for d in _local)
        self.op = op
        self.label = label

    def __repr__(self):
        name = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}, op={self.op!r}{name})"

    # -- operations: forward value and local derivatives side by side --------

    def __add__(self, other):
        other = _as_value(other)
        return Value(self.data + other.data, (self, other), "+", _local=(1.0, 1.0))

    def __sub__(self, other):
        other = _as_value(other)
        return Value(self.data - other.data, (self, other), "-", _local=(1.0, -1.0))

    def __mul__(self, other):
        other = _as_value(other)
        # d(ab)/da = b, d(ab)/db = a
        return Value(self.data * other.data, (self, other), "*", _local=(other.data, self.data))

    def __truediv__(self, other):
        other = _as_value(other)
        out = _ieee(np.divide, self.data, other.data)
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b**2 = -(a/b)/b
        d_a = _ieee(np.divide, 1.0, other.data)
        d_b = _ieee(np.divide, -out, other.data)
        return Value(out, (self, other), "/", _local=(d_a, d_b))

    def __pow__(self, other):
        if isinstance(other, Value):
            out = _ieee(np.power, self.data, other.data)
            # d(a**b)/db = a**b ln a; where a**b is 0 (a = 0, b > 0) it is flat in b
            d_b = 0.0 if out == 0.0 else out * _ieee(np.log, self.data)
            return Value(out, (self, other), "**", _local=(_power_rule(self.data, other.data), d_b))
        if isinstance(other, bool) or not isinstance(other, numbers.Real):
            raise TypeError(f"an exponent is a number or a Value, not {type(other).__name__}")
        exponent = float(other)
        out = _ieee(np.power, self.data, exponent)
        return Value(out, (self,), f"**{_number_text(exponent)}",
                     _local=(_power_rule(self.data, exponent),))

    def __neg__(self):
        return Value(-self.data, (self,), "neg", _local=(-1.0,))

    def exp(self):
        out = _ieee(np.exp, self.data)
        return Value(out, (self,), "exp", _local=(out,))             # (e^a)' = e^a

    def log(self):
        out = _ieee(np.log, self.data)
        return Value(out, (self,), "log", _local=(_ieee(np.divide, 1.0, self.data),))  # 1/a

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, (self,), "tanh", _local=(1.0 - t * t,))

    def sigmoid(self):
        s = _sigmoid(self.data)
        return Value(s, (self,), "sigmoid", _local=(s * (1.0 - s),))

    def relu(self):
        a = self.data
        return Value(0.0 if a <= 0 else a, (self,), "relu", _local=(1.0 if a > 0 else 0.0,))

    def __radd__(self, other):      # other + self
        return _as_value(other) + self

    def __rsub__(self, other):      # other - self
        return _as_value(other) - self

    def __rmul__(self, other):      # other * self
        return _as_value(other) * self

    def __rtruediv__(self, other):  # other / self
        return _as_value(other) / self

    def __rpow__(self, other):      # other ** self
        return _as_value(other) ** self

    # -- the backward pass ----------------------------------------------------

    def _backward(self):
        """The chain rule at this value: each input gets d(self)/d(input) * self.grad."""
        for child, local in zip(self._prev, self._local, strict=True):
            child.grad += local * self.grad

    def backward(self):
        """Set v.grad = d(self)/d(v) for every value v of self's graph.

        The grads of the graph are reset first, so calling it twice gives the same numbers.
        """
        order = topological_order(self)
        for v in order:
            v.grad = 0.0
        self.grad = 1.0
        for v in reversed(order):
            v._backward()


def _as_value(x) -> Value:
    """x itself if it is a Value, else a constant input labelled with its number."""
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"cannot combine a Value with {type(x).__name__}")
    return Value(x, label=_number_text(x))


def binary_cross_entropy(p: Value, y) -> Value:
    """L = -(y log p + (1 - y) log(1 - p)): the loss of predicting probability p for target y.

    p: Value in (0, 1); y: Value or number in [0, 1] (a number becomes a constant input).
    Local derivatives: dL/dp = (p - y) / (p (1 - p)), dL/dy = log(1 - p) - log(p).
    At p = 0 or 1 these are inf or nan (IEEE), as is the loss when it is infinite.
    """
    y = _as_value(y)
    pd, yd = p.data, y.data
    log_p = _ieee(np.log, pd)
    log_not_p = _ieee(np.log1p, -pd)
    # 0 * log 0 counts as 0: a target of exactly 0 or 1 ignores the other term
    loss = -((yd * log_p if yd != 0.0 else 0.0) + ((1.0 - yd) * log_not_p if yd != 1.0 else 0.0))
    d_p = _ieee(np.divide, pd - yd, pd * (1.0 - pd))
    return Value(loss, (p, y), "bce", _local=(d_p, log_not_p - log_p))


def topological_order(root: Value) -> list[Value]:
    """Every value of root's graph once, each after all of its inputs; root is last.

    Depth-first from root, inputs in order; iterative, so deep graphs do not hit
    Python's recursion limit.
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}")
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        v, inputs_done = stack.pop()
        if inputs_done:
            order.append(v)
            continue
        if v in visited:
            continue
        visited.add(v)
        stack.append((v, True))
        stack.extend((child, False) for child in reversed(v._prev) if child not in visited)
    return order


# -- a read-only record of the graph, for drawing ---------------------------------


@dataclass(frozen=True)
class Node:
    """A value of the graph. id: its position in Graph.nodes; op "" marks an input."""

    id: int
    label: str
    op: str
    data: float
    grad: float


@dataclass(frozen=True)
class Edge:
    """child -> parent: the value `child` is input number `slot` of `parent`.

    local: d(parent)/d(child), the factor the backward pass multiplies in here;
    flow: local * parent.grad, the part of child.grad that arrives along this edge
    (a child's grad is the sum of the flows of its edges).
    """

    child: int
    parent: int
    slot: int
    local: float
    flow: float


@dataclass(frozen=True)
class Graph:
    """nodes: in topological order (ids 0..n-1, each after its inputs, root last);
    edges: grouped by parent in node order, by slot within a parent; root: root's id."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    root: int


def _check_size(n: int) -> None:
    if n > MAX_GRAPH_NODES:
        raise ValueError(f"the graph has {n} values; the limit is MAX_GRAPH_NODES = {MAX_GRAPH_NODES}")


def trace(root: Value) -> Graph:
    """A snapshot of root's graph: data, grads and local derivatives as they are now.

    Reads the graph only. Ids are positions in `topological_order(root)`, so the
    same graph always gets the same ids. Raises ValueError above MAX_GRAPH_NODES values.
    """
    order = topological_order(root)
    _check_size(len(order))
    ids = {v: i for i, v in enumerate(order)}
    nodes = tuple(Node(i, v.label, v.op, v.data, v.grad) for i, v in enumerate(order))
    edges = tuple(
        Edge(ids[child], ids[v], slot, local, local * v.grad)
        for v in order
        for slot, (child, local) in enumerate(zip(v._prev, v._local, strict=True))
    )
    return Graph(nodes, edges, ids[root])


def _as_graph(source: Value | Graph) -> Graph:
    return source if isinstance(source, Graph) else trace(source)


def forward_schedule(source: Value | Graph) -> tuple[int, ...]:
    """Node ids in the order the forward pass computes them (inputs first, root last)."""
    return tuple(node.id for node in _as_graph(source).nodes)


def backward_schedule(source: Value | Graph) -> tuple[Edge, ...]:
    """Edges in the order the backward pass visits them, for animation.

    Values are taken from the root back (reverse topological order); at each value
    its input edges in slot order. An edge comes only after every edge leaving its
    parent, i.e. once the parent's grad is complete.
    """
    graph = _as_graph(source)
    by_parent: dict[int, list[Edge]] = {}
    for edge in graph.edges:
        by_parent.setdefault(edge.parent, []).append(edge)
    return tuple(edge for node in reversed(graph.nodes) for edge in by_parent.get(node.id, ()))


# -- layout: pure geometry for the page to draw -------------------------------------


def count_crossings(graph: Graph, positions: dict[int, tuple[float, float]]) -> int:
    """Pairs of edges whose straight segments cross at a point inside both.

    positions: {node id: (x, y)} for every node of graph; the two ends of an edge
    must differ in x (as in `layout_left_to_right`, where inputs are left of users).
    Two edges cross iff the vertical distance between them changes sign strictly
    over the x-range both span; edges that meet at a node, or only touch, do not count.
    """
    if len(graph.edges) < 2:
        return 0
    xy = np.array([positions[node.id] for node in graph.nodes], dtype=float).reshape(-1, 2)
    ends = np.array([(e.child, e.parent) for e in graph.edges])
    p, q = xy[ends[:, 0]], xy[ends[:, 1]]
    left = np.where((p[:, 0] <= q[:, 0])[:, None], p, q)
    right = np.where((p[:, 0] <= q[:, 0])[:, None], q, p)
    if np.any(left[:, 0] == right[:, 0]):
        raise ValueError("count_crossings needs the two ends of every edge at different x")
    slope = (right[:, 1] - left[:, 1]) / (right[:, 0] - left[:, 0])
    tolerance = 1e-9 * (1.0 + np.abs(xy).max())

    # Each pair of edges whose x-ranges overlap is examined once, from where the
    # later of the two starts: pairs starting together, and an edge starting
    # while the other passes by.
    x0, x1 = left[:, 0], right[:, 0]
    together = (x0[:, None] == x0[None, :]) & np.triu(np.ones((len(x0), len(x0)), dtype=bool), 1)
    passing = (x0[None, :] < x0[:, None]) & (x0[:, None] < x1[None, :])
    i, j = np.nonzero(together | passing)
    start, end = x0[i], np.minimum(x1[i], x1[j])

    def gap(x: np.ndarray) -> np.ndarray:  # height of edge i minus height of edge j at x
        return (left[i, 1] + (x - x0[i]) * slope[i]) - (left[j, 1] + (x - x0[j]) * slope[j])

    gap_start, gap_end = gap(start), gap(end)
    return int(np.count_nonzero(((gap_start > tolerance) & (gap_end < -tolerance))
                                | ((gap_start < -tolerance) & (gap_end > tolerance))))


def layout_left_to_right(graph: Graph, sweeps: int = LAYOUT_SWEEPS) -> dict[int, tuple[float, float]]:
    """Positions {node id: (x, y)} for drawing a graph from `trace`, inputs left, root right.

    x: layer, an integer as float: an op sits one layer right of its furthest input
    (longest path from the inputs); an input sits one layer left of its first use.
    y: rank within the layer, centred on 0, spacing 1. The order within layers starts
    from the topological order and is improved by `sweeps` barycenter sweeps
    (alternately by inputs and by users); the order with the fewest edge crossings
    seen is kept. Deterministic. Raises ValueError above MAX_GRAPH_NODES values
    or for sweeps outside 0..LAYOUT_SWEEPS.
    """
    n = len(graph.nodes)
    _check_size(n)
    if not 0 <= sweeps <= LAYOUT_SWEEPS:
        raise ValueError(f"sweeps must be in 0..LAYOUT_SWEEPS = {LAYOUT_SWEEPS}, got {sweeps}")
    inputs: list[list[int]] = [[] for _ in range(n)]
    users: list[list[int]] = [[] for _ in range(n)]
    for e in graph.edges:
        inputs[e.parent].append(e.child)
        users[e.child].append(e.parent)

    layer = [0] * n
    for v in range(n):  # ids are topological: inputs come first
        if inputs[v]:
            layer[v] = 1 + max(layer[u] for u in inputs[v])
    for v in range(n):
        if not inputs[v] and users[v]:
            layer[v] = min(layer[u] for u in users[v]) - 1

    layers: list[list[int]] = [[] for _ in range(max(layer, default=0) + 1)]
    for v in range(n):
        layers[layer[v]].append(v)
    pos: dict[int, tuple[float, float]] = {}
    for k, members in enumerate(layers):
        pos.update(_centred(k, members))

    best = (count_crossings(graph, pos), dict(pos))
    for sweep in range(sweeps):
        by_inputs = sweep % 2 == 0
        neighbours = inputs if by_inputs else users
        for k in range(1, len(layers)) if by_inputs else range(len(layers) - 2, -1, -1):
            key = {}
            for v in layers[k]:
                ys = [pos[u][1] for u in neighbours[v]]
                # mean height of the neighbours; ties and loners keep their place
                key[v] = (sum(ys) / len(ys) if ys else pos[v][1], pos[v][1])
            layers[k].sort(key=key.__getitem__)
            pos.update(_centred(k, layers[k]))
        crossings = count_crossings(graph, pos)
        if crossings < best[0]:
            best = (crossings, dict(pos))
    return {v: best[1][v] for v in range(n)}


def _centred(k: int, members: list[int]) -> dict[int, tuple[float, float]]:
    """Positions of one layer: x = k, y = rank centred on 0."""
    return {v: (float(k), rank - (len(members) - 1) / 2.0) for rank, v in enumerate(members)}


# -- the lesson's graphs --------------------------------------------------------------


def _finite_array(name: str, a, shape: tuple[int, ...]) -> np.ndarray:
    """a as a float array of the given shape, or a ValueError naming the argument."""
    try:
        arr = np.asarray(a, dtype=float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numbers of shape {shape}") from error
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got {arr.tolist()}")
    return arr


def _target(y) -> float:
    y = float(_finite_array("y", y, ()))
    if not 0.0 <= y <= 1.0:
        raise ValueError(f"the target y must be in [0, 1], got {y}")
    return y


def _check_logit(z: Value) -> None:
    if abs(z.data) > MAX_ABS_LOGIT:
        raise ValueError(
            f"the logit z = {z.data:.4g} is beyond MAX_ABS_LOGIT = {MAX_ABS_LOGIT:g}: "
            "sigmoid(z) would round to 0 or 1; use smaller weights")


def song_perceptron_graph(x, w, b, y) -> tuple[Value, dict[str, Value]]:
    """The song perceptron as a graph: L = bce(sigmoid(x1 w1 + x2 w2 + x3 w3 + b), y).

    x: (3,) float, the song's features (modern, sad, piano), usually 0 or 1;
    w: (3,) float, their weights; b: float, the bias; y: float in [0, 1], 1 = liked.
    Returns (loss, inputs): the loss Value (labels "x1*w1".., "z", "p", "L" inside)
    and {"x1", "x2", "x3", "w1", "w2", "w3", "b", "y"} -> input Value.
    Call loss.backward() for the gradients: dL/dw_i = (p - y) x_i, dL/db = p - y.
    Raises ValueError for other shapes, non-finite numbers, y outside [0, 1] or
    |z| > MAX_ABS_LOGIT.
    """
    x, w = _finite_array("x", x, (3,)), _finite_array("w", w, (3,))
    b, y = float(_finite_array("b", b, ())), _target(y)
    inputs: dict[str, Value] = {}
    for i in range(3):
        inputs[f"x{i + 1}"] = Value(float(x[i]), label=f"x{i + 1}")
        inputs[f"w{i + 1}"] = Value(float(w[i]), label=f"w{i + 1}")
    inputs["b"] = Value(b, label="b")
    inputs["y"] = Value(y, label="y")

    products = []
    for i in range(1, 4):
        product = inputs[f"x{i}"] * inputs[f"w{i}"]
        product.label = f"x{i}*w{i}"
        products.append(product)
    z = products[0] + products[1] + products[2] + inputs["b"]
    z.label = "z"
    _check_logit(z)
    p = z.sigmoid()
    p.label = "p"
    loss = binary_cross_entropy(p, inputs["y"])
    loss.label = "L"
    return loss, inputs


HIDDEN_ACTIVATIONS = ("tanh", "sigmoid", "relu")


def two_two_one_graph(x, W, b, v, c, y, activation: str = "tanh") -> tuple[Value, dict[str, Value]]:
    """A 2-2-1 network as a graph; each input feeds both hidden neurons.

        a_j = w_j1 x1 + w_j2 x2 + b_j,  h_j = act(a_j)    (j = 1, 2)
        z = v1 h1 + v2 h2 + c,  p = sigmoid(z),  L = bce(p, y)

    x: (2,) float; W: (2, 2) float with W[j-1, i-1] = w_ji (input i -> hidden j);
    b: (2,) hidden biases; v: (2,) output weights; c: output bias; y: target in [0, 1];
    activation: one of HIDDEN_ACTIVATIONS. So dL/dx_i = sum_j dL/da_j w_ji: two gradients add up.
    Returns (loss, inputs) with inputs {"x1", "x2", "w11", "w12", "w21", "w22", "b1", "b2",
    "v1", "v2", "c", "y"} -> input Value; labels "a1", "h1", .., "z", "p", "L" inside.
    Raises ValueError for other shapes, non-finite numbers, an unknown activation,
    y outside [0, 1] or |z| > MAX_ABS_LOGIT.
    """
    if activation not in HIDDEN_ACTIVATIONS:
        raise ValueError(f"activation must be one of {HIDDEN_ACTIVATIONS}, got {activation!r}")
    x, W = _finite_array("x", x, (2,)).tolist(), _finite_array("W", W, (2, 2)).tolist()
    b, v = _finite_array("b", b, (2,)).tolist(), _finite_array("v", v, (2,)).tolist()
    c, y = float(_finite_array("c", c, ())), _target(y)

    inputs = {f"x{i}": Value(x[i - 1], label=f"x{i}") for i in (1, 2)}
    for j in (1, 2):
        for i in (1, 2):
            inputs[f"w{j}{i}"] = Value(W[j - 1][i - 1], label=f"w{j}{i}")
    for j in (1, 2):
        inputs[f"b{j}"] = Value(b[j - 1], label=f"b{j}")
    for j in (1, 2):
        inputs[f"v{j}"] = Value(v[j - 1], label=f"v{j}")
    inputs["c"] = Value(c, label="c")
    inputs["y"] = Value(y, label="y")

    hidden = []
    for j in (1, 2):
        a = inputs[f"w{j}1"] * inputs["x1"] + inputs[f"w{j}2"] * inputs["x2"] + inputs[f"b{j}"]
        a.label = f"a{j}"
        h = getattr(a, activation)()
        h.label = f"h{j}"
        hidden.append(h)
    z = inputs["v1"] * hidden[0] + inputs["v2"] * hidden[1] + inputs["c"]
    z.label = "z"
    _check_logit(z)
    p = z.sigmoid()
    p.label = "p"
    loss = binary_cross_entropy(p, inputs["y"])
    loss.label = "L"
    return loss, inputs
