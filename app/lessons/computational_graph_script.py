"""The computational-graph lesson as a script: the song perceptron's forward pass, its
gradients by the chain rule and one step of gradient descent; or the visitor's own
expression on a tiny autograd (app.lessons.computational_graph, app.ml.autograd)."""

from __future__ import annotations

import builtins
import keyword

from app.lessons import computational_graph as lesson
from app.lessons.script_parts import REPORT, Code, header, imports, literal, render, script
from app.ml import expression
from app.ml.expression import Binary, Call, Negate, Number, Variable

_SONG = '''
x = np.array($x)  # the song's features: modern, sad, piano
w = np.array($w)  # their weights
b = $b  # the bias
y = $y  # the label: 1 = Ben likes the song
lr = $lr  # the step size of gradient descent


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def forward(w, b):
    """z = x1 w1 + x2 w2 + x3 w3 + b, p = sigmoid(z), L = -(y log p + (1 - y) log(1 - p))."""
    z = x[0] * w[0] + x[1] * w[1] + x[2] * w[2] + b
    p = sigmoid(z)
    log_p, log_not_p = float(np.log(p)), float(np.log1p(-p))
    # a label of exactly 0 or 1 leaves out the other term (0 log 0 counts as 0)
    loss = -((y * log_p if y != 0.0 else 0.0) + ((1.0 - y) * log_not_p if y != 1.0 else 0.0))
    return z, p, loss


z, p, loss = forward(w, b)

# Backward: the chain rule from L back to every weight, one local derivative per edge.
dL_dp = (p - y) / (p * (1.0 - p))
dL_dz = p * (1.0 - p) * dL_dp  # sigmoid'(z) = p (1 - p); so dL/dz = p - y
dL_dw = x * dL_dz  # z = ... + x_i w_i + ...: dz/dw_i = x_i
dL_db = dL_dz  # dz/db = 1

# One step of gradient descent, and the loss after it.
w_new = w + -lr * dL_dw
b_new = b + -lr * dL_db
z_new, _, loss_new = forward(w_new, b_new)

report("z", z)
report("p", p)
report("loss", loss)
report("grad_w", dL_dw)
report("grad_b", dL_db)
report("w_new", w_new)
report("b_new", b_new)
if abs(z_new) > 30:
    print("the step goes too far: the site draws no graph beyond |z| = 30")
report("loss_new", loss_new)
'''

_AUTOGRAD = '''
class Value:
    """One number of the graph: its data, d(result)/d(it) in grad once backward() has run,
    the values it was computed from, and d(it)/d(input) for each of them."""

    def __init__(self, data, inputs=(), local=()):
        self.data, self.grad, self.inputs, self.local = float(data), 0.0, inputs, local

    def __add__(self, other):
        other = as_value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __sub__(self, other):
        other = as_value(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0))

    def __mul__(self, other):
        other = as_value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __truediv__(self, other):
        other = as_value(other)
        out = ieee(np.divide, self.data, other.data)
        return Value(out, (self, other), (ieee(np.divide, 1.0, other.data), ieee(np.divide, -out, other.data)))

    def __pow__(self, other):
        if isinstance(other, Value):  # d(a**b)/db = a**b ln a
            out = ieee(np.power, self.data, other.data)
            d_b = 0.0 if out == 0.0 else out * ieee(np.log, self.data)
            return Value(out, (self, other), (power_rule(self.data, other.data), d_b))
        return Value(ieee(np.power, self.data, other), (self,), (power_rule(self.data, other),))

    def __neg__(self):
        return Value(-self.data, (self,), (-1.0,))

    __radd__ = lambda self, other: as_value(other) + self
    __rsub__ = lambda self, other: as_value(other) - self
    __rmul__ = lambda self, other: as_value(other) * self
    __rtruediv__ = lambda self, other: as_value(other) / self

    def backward(self):
        """Every value's grad: from the result back, each input gets local * grad."""
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                for u in v.inputs:
                    visit(u)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            for u, local in zip(v.inputs, v.local):
                u.grad += local * v.grad


def as_value(x):
    return x if isinstance(x, Value) else Value(x)


def ieee(function, *args):
    """function(*args) in float64, with inf and nan instead of errors."""
    with np.errstate(all="ignore"):
        return float(function(*(np.float64(a) for a in args)))


def power_rule(base, exponent):
    """d(base**exponent)/d(base) = exponent base**(exponent - 1); 0 for exponent 0."""
    return 0.0 if exponent == 0.0 else exponent * ieee(np.power, base, exponent - 1.0)


def exp(a):
    out = ieee(np.exp, a.data)
    return Value(out, (a,), (out,))


def log(a):
    return Value(ieee(np.log, a.data), (a,), (ieee(np.divide, 1.0, a.data),))


def tanh(a):
    t = math.tanh(a.data)
    return Value(t, (a,), (1.0 - t * t,))


def sigmoid(a):
    s = 1.0 / (1.0 + math.exp(-a.data)) if a.data >= 0 else math.exp(a.data) / (1.0 + math.exp(a.data))
    return Value(s, (a,), (s * (1.0 - s),))


def relu(a):
    return Value(0.0 if a.data <= 0 else a.data, (a,), (1.0 if a.data > 0 else 0.0,))
'''

_EXPRESSION = '''
# Your expression: $text
$variables
f = $code
f.backward()

report("f", f.data)
for name, v in $names:
    report("grad_" + name, v.grad)
'''

#: Binding strength of each kind of syntax node (as in Python, so the code needs no extra parentheses).
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4}
_TAKEN = {"np", "math", "json", "Value", "as_value", "ieee", "power_rule", "exp", "log", "tanh", "sigmoid", "relu",
          "report", "f", "name", "v"}


def _strength(node) -> int:
    if isinstance(node, Binary):
        return _PRECEDENCE[node.op]
    if isinstance(node, Negate):
        return _PRECEDENCE["neg"]
    return 9   # a name, a call, or a number written as Value(...)


def python_code(node, name_of) -> str:
    """Python for a syntax tree, with the operations in the parser's order. name_of(variable name)
    gives the code of a variable; number literals become constant Values (a literal exponent
    stays a number, as the lesson's engine takes it)."""
    if isinstance(node, Number):
        return f"Value({literal(node.value)})"
    if isinstance(node, Variable):
        return name_of(node.name)
    if isinstance(node, Call):
        return f"{node.function}({python_code(node.argument, name_of)})"
    if isinstance(node, Negate):
        inner = python_code(node.operand, name_of)
        return f"-{inner}" if _strength(node.operand) > _PRECEDENCE["neg"] else f"-({inner})"
    mine = _PRECEDENCE[node.op]
    if node.op == "**":
        left = python_code(node.left, name_of)
        left = left if _strength(node.left) > mine else f"({left})"
        if isinstance(node.right, Number):
            return f"{left} ** {literal(node.right.value)}"
        right = python_code(node.right, name_of)
        return f"{left} ** {right if _strength(node.right) >= mine or isinstance(node.right, Negate) else f'({right})'}"
    left, right = python_code(node.left, name_of), python_code(node.right, name_of)
    left = left if _strength(node.left) >= mine else f"({left})"
    right = right if _strength(node.right) > mine else f"({right})"   # a - (b - c), a + (b + c) stay grouped
    return f"{left} {node.op} {right}"


def expression_script(text: str, variables: str, first: str) -> str:
    """The script of the lesson's expression_run(text, variables); ValueError as the lesson refuses it."""
    run = lesson.expression_run(text, variables)
    tree = expression.parse(text)
    plain = all(n.isidentifier() and not keyword.iskeyword(n) and n not in _TAKEN and not hasattr(builtins, n)
                for n in run["names"])
    name_of = (lambda n: n) if plain else (lambda n: f"var[{n!r}]")
    if plain:
        bound = "\n".join(f"{n} = Value({literal(v)})" for n, v in zip(run["names"], run["values"]))
        names = "(" + "".join(f"({n!r}, {n}), " for n in run["names"]) + ")"
    else:
        bound = "var = {" + ", ".join(f"{n!r}: Value({literal(v)})" for n, v in zip(run["names"], run["values"])) + "}"
        names = "var.items()"
    return script(
        header(first, "Your expression as a graph of numbers: forward it computes f, backward the chain",
               "rule gives df/d(variable) for every variable (a variable used twice sums two parts)."),
        imports("math"), REPORT, _AUTOGRAD,
        render(_EXPRESSION, text=Code(text), variables=Code(bound or "# (no variables)"),
               code=Code(python_code(tree, name_of)), names=Code(names)))


def song_script(x: tuple, w: tuple, b: float, y: float, lr: float, first: str) -> str:
    """The script of the lesson's song_run(x, w, b, y, lr); ValueError as the lesson refuses it."""
    lesson.song_run(x, w, b, y, lr)
    return script(
        header(first, "The song perceptron as a computational graph: forward to the loss, backward by the",
               "chain rule to every weight's gradient, then one step of gradient descent."),
        imports("math"), REPORT,
        render(_SONG, x=[float(v) for v in x], w=[float(v) for v in w], b=float(b), y=float(y), lr=float(lr)))


def script_text(values: dict, figure: str) -> str:
    """The script of the graph the step showing `figure` computes (free play: the settings')."""
    if figure == "update":
        return song_script(tuple(float(v) for v in lesson.SONG_X), lesson.SONG_W, lesson.SONG_B,
                           float(lesson.SONG_Y), lesson.SONG_LR,
                           f"The computational graph: one update of the song perceptron on {lesson.SONG_TITLE!r}.")
    first = ("The computational graph: free play with these settings." if figure == "free" else
             "The computational graph: this step draws a fixed graph; this script reproduces free play.")
    if values["graph"] == "expression":
        return expression_script(values["expr"], values["vars"], first)
    return song_script(tuple(values[f"x{i}"] for i in (1, 2, 3)), tuple(values[f"w{i}"] for i in (1, 2, 3)),
                       values["b"], values["y"], values["lr"], first)
