"""TeX formulas of the narration said in words, for speech and presenter notes.

    spoken(r"L = -\\frac{1}{n}\\sum_{k=1}^{n} y_k")
    -> "L equals minus one over n times the sum over k from one to n of y k"

It covers the TeX the lessons write (fractions, sums, sub- and superscripts,
roots, Greek letters, norms, common operators); anything else is said as its
name without the backslash, so no formula is ever dropped.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[A-Za-z]+|\d+(?:\.\d+)?|\S")

_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_WORDS = {
    "=": "equals", "+": "plus", "-": "minus", "<": "is less than", ">": "is greater than",
    ",": ",", "/": "over", "!": "factorial", "'": "prime", "|": "", "(": "", ")": "", "[": "", "]": "",
    "\\cdot": "times", "\\times": "times", "\\odot": "times element-wise", "\\le": "is at most",
    "\\leq": "is at most", "\\ge": "is at least", "\\geq": "is at least", "\\ne": "is not equal to",
    "\\neq": "is not equal to", "\\approx": "is about", "\\sim": "is distributed as", "\\in": "in",
    "\\to": "to", "\\rightarrow": "to", "\\leftarrow": "becomes", "\\gets": "becomes", "\\mapsto": "maps to",
    "\\infty": "infinity", "\\pm": "plus or minus", "\\nabla": "the gradient of", "\\partial": "partial",
    "\\log": "log", "\\ln": "natural log", "\\exp": "exp", "\\max": "max", "\\min": "min",
    "\\sin": "sine", "\\cos": "cosine", "\\tanh": "tanh", "\\arg": "arg", "\\ldots": "and so on",
    "\\dots": "and so on", "\\cdots": "and so on", "\\quad": ",", "\\qquad": ",", "\\,": "", "\\;": "",
    "\\!": "", "\\ ": "", "\\left": "", "\\right": "", "\\big": "", "\\Big": "", "\\bigg": "", "\\Bigg": "",
    "\\{": "", "\\}": "", "\\|": "norm", "\\lVert": "the norm of", "\\rVert": "", "\\mid": "given",
    "\\top": "transpose", "\\circ": "composed with", "\\propto": "is proportional to", "\\%": "percent",
    "&": "", "\\\\": ",",
}
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "iota", "kappa",
          "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "varphi", "chi", "psi", "omega",
          "Gamma", "Delta", "Theta", "Lambda", "Sigma", "Phi", "Psi", "Omega"}
_STYLES = {"\\mathbf", "\\mathrm", "\\mathit", "\\boldsymbol", "\\operatorname", "\\text", "\\textrm", "\\mathcal",
           "\\mathbb", "\\displaystyle", "\\textstyle"}
_ACCENTS = {"\\hat": "hat", "\\bar": "bar", "\\tilde": "tilde", "\\dot": "dot", "\\vec": "vector"}


def spoken(tex: str) -> str:
    """The formula `tex` (without its dollars) in words."""
    tokens = _TOKEN.findall(tex)
    words, _ = _sequence(tokens, 0, stop=None)
    text = " ".join(w for w in words if w)
    text = re.sub(r"\s+,", ",", text)
    return re.sub(r"\s+", " ", text).strip(" ,")


def _number(token: str) -> str:
    return _NUMBERS[int(token)] if token.isdigit() and int(token) <= 10 else token


def _group(tokens: list[str], i: int) -> tuple[list[str], int]:
    """The words of one argument: a {...} group or a single token."""
    if i >= len(tokens):
        return [], i
    if tokens[i] == "{":
        return _sequence(tokens, i + 1, stop="}")
    return _atom(tokens, i)


_OPERATORS = {"=", "+", "-", "<", ">", ",", "/", "}", ")", "]", "&", "\\\\"} | {
    t for t, w in _WORDS.items() if t.startswith("\\") and w.startswith(("is ", "times", "plus", "minus", "to"))}


def _sequence(tokens: list[str], i: int, stop: str | None) -> tuple[list[str], int]:
    words: list[str] = []
    while i < len(tokens):
        if stop is not None and tokens[i] == stop:
            return words, i + 1
        fraction = tokens[i] == "\\frac"
        more, i = _atom(tokens, i)
        words += more
        if fraction and i < len(tokens) and tokens[i] not in _OPERATORS and tokens[i] != stop:
            words.append("times")     # a fraction beside what follows multiplies it
    return words, i


def _script(tokens: list[str], i: int) -> tuple[list[str], int]:
    """Words of the sub- and superscripts that follow position i."""
    words: list[str] = []
    while i < len(tokens) and tokens[i] in ("_", "^"):
        mark = tokens[i]
        arg, i = _group(tokens, i + 1)
        if mark == "_":
            words += arg
        elif arg == ["two"]:
            words.append("squared")
        elif arg == ["three"]:
            words.append("cubed")
        elif arg in (["transpose"], ["T"]):
            words.append("transpose")
        elif arg == ["minus", "one"]:
            words.append("inverse")
        else:
            words += ["to the power", *arg]
    return words, i


def _atom(tokens: list[str], i: int) -> tuple[list[str], int]:
    token = tokens[i]
    i += 1
    if token == "{":
        words, i = _sequence(tokens, i, stop="}")
    elif token == "\\frac":
        top, i = _group(tokens, i)
        bottom, i = _group(tokens, i)
        words = [*top, "over", *bottom]
        if len(top) > 1 or len(bottom) > 1:
            words = ["the fraction", *top, "over", *bottom, ","]
    elif token == "\\sqrt":
        inside, i = _group(tokens, i)
        words = ["the square root of", *inside]
    elif token in ("\\sum", "\\prod"):
        below, above, i = _limits(tokens, i)
        words = ["the sum" if token == "\\sum" else "the product"]
        if below:
            words += ["over", *_range(below)]
        if above:
            words += ["to", *above]
        words.append("of")
        return words, i
    elif token == "\\nabla" and i < len(tokens) and tokens[i] == "_":
        wrt, i = _group(tokens, i + 1)
        words = ["the gradient with respect to", *wrt, "of"]
    elif token in _STYLES:
        words, i = _group(tokens, i)
    elif token in _ACCENTS:
        inside, i = _group(tokens, i)
        words = [*inside, _ACCENTS[token]]
    elif token.startswith("\\") and token[1:] in _GREEK:
        words = [token[1:]]
    elif token in _WORDS:
        words = [_WORDS[token]]
    elif token.startswith("\\"):
        words = [token[1:]]
    elif token in ("_", "^"):
        return _script(tokens, i - 1)
    elif token.isalpha() and len(token) > 1:
        words = list(token)           # TeX letters side by side are separate symbols
    else:
        words = [_number(token)]
    scripts, i = _script(tokens, i)
    return words + scripts, i


def _limits(tokens: list[str], i: int) -> tuple[list[str], list[str], int]:
    below: list[str] = []
    above: list[str] = []
    while i < len(tokens) and tokens[i] in ("_", "^"):
        arg, j = _group(tokens, i + 1)
        if tokens[i] == "_":
            below = arg
        else:
            above = arg
        i = j
    return below, above, i


def _range(words: list[str]) -> list[str]:
    """"k equals one" under a sum reads "k from one"."""
    if len(words) >= 3 and words[1] == "equals":
        return [words[0], "from", *words[2:]]
    return words
