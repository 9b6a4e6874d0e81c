"""Typed expressions on the autograd engine: a small tokenizer and recursive-descent parser.

A reader types e.g. ``sigmoid(w*x + b) - y**2`` and sees its graph, values and
gradients. The text is never handed to Python (no eval, exec or ast): it is split
into tokens, parsed by the grammar below into small dataclasses, and `evaluate`
builds the expression from `app.ml.autograd.Value` operations.

    expression := term (("+" | "-") term)*              left-associative
    term       := unary (("*" | "/") unary)*            left-associative
    unary      := ("-" | "+") unary | power             -x**2 is -(x**2)
    power      := primary ("**" unary)?                 right-associative: x**y**z = x**(y**z)
    primary    := number | name | function "(" expression ")" | "(" expression ")"

Numbers: 3, 2.5, .5, 1e-3, 4E+2. Names: ASCII letters, digits and "_", not
starting with "_" or a digit, not a function name. Functions: FUNCTIONS.
A minus sign directly on a number literal makes a negative literal (2 ** -1).

Limits (ExpressionError beyond them): at most MAX_LENGTH characters,
MAX_NODES syntax nodes, MAX_DEPTH levels of nesting (each parenthesis, call,
sign and power exponent is one level) and MAX_VARIABLES distinct names.
Every error is an ExpressionError (a ValueError) whose message names the
1-based column it points at; nothing else escapes for any input text.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass

from app.ml.autograd import Value

MAX_LENGTH = 500      # characters of expression text
MAX_NODES = 200       # numbers, names, operators and calls
MAX_DEPTH = 50        # nesting levels
MAX_VARIABLES = 12    # distinct variable names

FUNCTIONS = ("exp", "log", "relu", "sigmoid", "tanh")
BINARY_OPERATORS = ("+", "-", "*", "/", "**")


class ExpressionError(ValueError):
    """Anything the parser or evaluator does not accept. column: 1-based, or None."""

    def __init__(self, message: str, column: int | None = None):
        self.column = column
        super().__init__(message if column is None else f"{message} (column {column})")


# -- syntax tree --------------------------------------------------------------------
# column: the 1-based column of the node's token (the operator of an operation).


@dataclass(frozen=True)
class Number:
    value: float
    text: str
    column: int


@dataclass(frozen=True)
class Variable:
    name: str
    column: int


@dataclass(frozen=True)
class Negate:
    operand: Expr
    column: int


@dataclass(frozen=True)
class Binary:
    op: str           # one of BINARY_OPERATORS
    left: Expr
    right: Expr
    column: int


@dataclass(frozen=True)
class Call:
    function: str     # one of FUNCTIONS
    argument: Expr
    column: int


Expr = Number | Variable | Negate | Binary | Call


# -- tokens --------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """kind: "number", "name", "op" or "end"; column: 1-based."""

    kind: str
    text: str
    column: int


_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD_TAIL = re.compile(r"[A-Za-z0-9_.]*")
_OPERATORS = ("**", "+", "-", "*", "/", "(", ")", ",")
_SPACE = " \t\r\n"


def tokenize(text: str) -> list[Token]:
    """The tokens of text, ending with an "end" token. Raises ExpressionError."""
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH} characters")
    tokens = []
    i = 0
    while i < len(text):
        ch, column = text[i], i + 1
        if ch in _SPACE:
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number:
            end = number.end()
            tail = _WORD_TAIL.match(text, end).end()
            if tail > end:  # 2x, 1e, 1.2.3
                word = text[i:tail]
                hint = " (write 2*x for a product)" if text[end].isalpha() else ""
                raise ExpressionError(f"malformed number {word!r}{hint}", column)
            if not math.isfinite(float(number.group())):
                raise ExpressionError(f"the number {number.group()} is too large", column)
            tokens.append(Token("number", number.group(), column))
            i = end
            continue
        name = _NAME.match(text, i)
        if name:
            if name.group().startswith("_"):
                raise ExpressionError(f"names may not start with '_': {name.group()!r}", column)
            tokens.append(Token("name", name.group(), column))
            i = name.end()
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator:
            tokens.append(Token("op", operator, column))
            i += len(operator)
            continue
        hint = "; write ** for a power" if ch == "^" else ""
        raise ExpressionError(f"unexpected character {ch!r}{hint}", column)
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _describe(token: Token) -> str:
    return "the end of the expression" if token.kind == "end" else repr(token.text)


# -- parser ---------------------------------------------------------------------------


class _Parser:
    """Recursive descent over a token list, one method per grammar rule.

    Counts syntax nodes, distinct names and nesting as it goes and stops at the
    first limit, so Python's recursion stays shallow whatever the input.
    """

    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.nodes = 0
        self.names: set[str] = set()

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def at(self, text: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text == text

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    @contextlib.contextmanager
    def nested(self, token: Token):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"nesting is deeper than the limit of {MAX_DEPTH} levels", token.column)
        yield
        self.depth -= 1

    def node(self, node: Expr) -> Expr:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"the expression has more than the limit of {MAX_NODES} parts", node.column)
        return node

    def expression(self) -> Expr:
        left = self.term()
        while self.at("+") or self.at("-"):
            op = self.advance()
            left = self.node(Binary(op.text, left, self.term(), op.column))
        return left

    def term(self) -> Expr:
        left = self.unary()
        while self.at("*") or self.at("/"):
            op = self.advance()
            left = self.node(Binary(op.text, left, self.unary(), op.column))
        return left

    def unary(self) -> Expr:
        if not (self.at("-") or self.at("+")):
            return self.power()
        sign = self.advance()
        with self.nested(sign):
            operand = self.unary()
        if sign.text == "+":
            return operand
        if isinstance(operand, Number) and not operand.text.startswith("-"):
            return Number(-operand.value, "-" + operand.text, sign.column)
        return self.node(Negate(operand, sign.column))

    def power(self) -> Expr:
        base = self.primary()
        if not self.at("**"):
            return base
        op = self.advance()
        with self.nested(op):
            exponent = self.unary()
        return self.node(Binary("**", base, exponent, op.column))

    def primary(self) -> Expr:
        token = self.advance()
        if token.kind == "number":
            return self.node(Number(float(token.text), token.text, token.column))
        if token.kind == "name" and token.text in FUNCTIONS:
            return self.call(token)
        if token.kind == "name":
            if self.at("("):
                raise ExpressionError(
                    f"unknown function {token.text!r}; the functions are {', '.join(FUNCTIONS)}",
                    token.column)
            if token.text not in self.names and len(self.names) == MAX_VARIABLES:
                raise ExpressionError(
                    f"{token.text!r} is one variable more than the limit of {MAX_VARIABLES}",
                    token.column)
            self.names.add(token.text)
            return self.node(Variable(token.text, token.column))
        if token.kind == "op" and token.text == "(":
            with self.nested(token):
                inner = self.expression()
            self.close(token)
            return inner
        raise ExpressionError(f"expected a number, a name or '(' but found {_describe(token)}",
                              token.column)

    def call(self, name: Token) -> Expr:
        if not self.at("("):
            raise ExpressionError(f"{name.text} is a function: write {name.text}(...)", name.column)
        opening = self.advance()
        with self.nested(opening):
            argument = self.expression()
        if self.at(","):
            raise ExpressionError(f"{name.text} takes exactly one argument", self.peek().column)
        self.close(opening)
        return self.node(Call(name.text, argument, name.column))

    def close(self, opening: Token) -> None:
        token = self.advance()
        if not (token.kind == "op" and token.text == ")"):
            raise ExpressionError(
                f"expected ')' to close the '(' of column {opening.column} but found {_describe(token)}",
                token.column)


def parse(text: str) -> Expr:
    """The syntax tree of text. Raises ExpressionError (with a column) for anything else."""
    tokens = tokenize(text)
    if tokens[0].kind == "end":
        raise ExpressionError("the expression is empty")
    parser = _Parser(tokens)
    expr = parser.expression()
    token = parser.peek()
    if token.kind != "end":
        if token.kind == "op" and token.text == ")":
            raise ExpressionError("this ')' has no matching '('", token.column)
        raise ExpressionError(f"expected an operator or the end but found {_describe(token)}", token.column)
    return expr


# -- walking the tree without recursion -------------------------------------------------


def _children(expr: Expr) -> tuple[Expr, ...]:
    if isinstance(expr, Negate):
        return (expr.operand,)
    if isinstance(expr, Binary):
        return (expr.left, expr.right)
    if isinstance(expr, Call):
        return (expr.argument,)
    return ()


def _postorder(expr: Expr) -> list[Expr]:
    """Every node after its children, left to right."""
    out, stack = [], [(expr, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            out.append(node)
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(_children(node)))
    return out


def variable_names(expr: Expr) -> tuple[str, ...]:
    """The distinct variable names of expr, in order of first appearance."""
    return tuple(dict.fromkeys(n.name for n in _postorder(expr) if isinstance(n, Variable)))


def to_text(expr: Expr) -> str:
    """expr written back with every operation in parentheses: parse("x+y*z") -> "(x + (y * z))"."""
    text: dict[int, str] = {}
    for node in _postorder(expr):
        if isinstance(node, Number):
            text[id(node)] = node.text
        elif isinstance(node, Variable):
            text[id(node)] = node.name
        elif isinstance(node, Negate):
            text[id(node)] = f"(-{text[id(node.operand)]})"
        elif isinstance(node, Binary):
            text[id(node)] = f"({text[id(node.left)]} {node.op} {text[id(node.right)]})"
        else:
            text[id(node)] = f"{node.function}({text[id(node.argument)]})"
    return text[id(expr)]


# -- evaluation on the engine -----------------------------------------------------------


def _why_not_finite(node: Expr, inputs: tuple[float, ...], result: float) -> str:
    """Why an operation on finite inputs gave result inf or nan, in the reader's words."""
    op = node.op if isinstance(node, Binary) else node.function if isinstance(node, Call) else "-"
    if op == "/" and inputs[1] == 0.0:
        return "division by zero"
    if op == "log":
        return "log(0) is -infinity" if inputs[0] == 0.0 else f"log of a negative number ({inputs[0]:g})"
    if op == "exp":
        return f"exp({inputs[0]:g}) is too large (exp overflows above about 709)"
    if op == "**":
        base, exponent = inputs
        if base == 0.0 and exponent < 0:
            return "0 to a negative power is a division by zero"
        if base < 0 and exponent != int(exponent):
            return f"a negative number ({base:g}) to a fractional power ({exponent:g}) is not a real number"
    return f"the result of {op!r} is {result} (too large for a float)"


def _number_or_error(name: str, value, column: int) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ExpressionError(f"the value of {name} must be a number, not {type(value).__name__}", column)
    if not math.isfinite(value):
        raise ExpressionError(f"the value of {name} is {value}; values must be finite", column)
    return float(value)


_FUNCTIONS = {"exp": Value.exp, "log": Value.log, "relu": Value.relu,
              "sigmoid": Value.sigmoid, "tanh": Value.tanh}
_OPERATIONS = {"+": Value.__add__, "-": Value.__sub__, "*": Value.__mul__,
               "/": Value.__truediv__, "**": Value.__pow__}


def evaluate(expr: Expr, variables) -> tuple[Value, dict[str, Value]]:
    """Build expr from engine operations.

    expr: from `parse`; variables: {name: float}, a finite number for every name of expr
    (other names are ignored).
    Returns (root, leaves): root, the Value of the whole expression, and {name: input Value}
    in order of first appearance; a variable is one input however often it appears, so
    its grad sums every use. Number literals are constant inputs labelled with their text;
    a literal exponent (x ** 2, x ** -1) is part of the power operation.
    Call root.backward() for the gradients (they may be inf or nan where a derivative is
    undefined, e.g. of x ** 0.5 at 0).
    Raises ExpressionError for a missing or non-finite variable and at the first
    operation whose value is not finite (division by zero, log of zero or of a negative
    number, overflow), naming its column.
    """
    if not isinstance(variables, Mapping):
        raise ExpressionError(f"variables must map names to numbers, not {type(variables).__name__}")
    leaves: dict[str, Value] = {}
    values: dict[int, Value] = {}  # id(syntax node) -> its Value
    for node in _postorder(expr):
        if isinstance(node, Number):
            values[id(node)] = Value(node.value, label=node.text)
            continue
        if isinstance(node, Variable):
            if node.name not in leaves:
                if node.name not in variables:
                    raise ExpressionError(f"no value given for the variable {node.name!r}", node.column)
                leaves[node.name] = Value(_number_or_error(node.name, variables[node.name], node.column),
                                          label=node.name)
            values[id(node)] = leaves[node.name]
            continue
        if isinstance(node, Negate):
            args = (values[id(node.operand)],)
            result = -args[0]
        elif isinstance(node, Call):
            args = (values[id(node.argument)],)
            result = _FUNCTIONS[node.function](args[0])
        elif node.op == "**" and isinstance(node.right, Number):
            args = (values[id(node.left)], values[id(node.right)])
            result = args[0] ** node.right.value  # a literal exponent: no node of its own
        else:
            args = (values[id(node.left)], values[id(node.right)])
            result = _OPERATIONS[node.op](*args)
        if not math.isfinite(result.data):
            inputs = tuple(a.data for a in args)
            raise ExpressionError(_why_not_finite(node, inputs, result.data), node.column)
        values[id(node)] = result
    return values[id(expr)], leaves
