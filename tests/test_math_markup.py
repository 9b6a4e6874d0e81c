"""Formulas in narration become code spans that the browser typesets with KaTeX."""

import re
from pathlib import Path

import pytest

from components.math_markup import formulas, mark_math

LESSON_FILES = sorted(p for p in (Path(__file__).parents[1] / "pages").glob("*.md")
                      if not p.name.endswith(".quiz.md"))


def test_inline_and_display_formulas_become_formula_code_spans():
    assert mark_math(r"a weight $w_i$, then") == r"a weight ` \(w_i\) `, then"
    assert mark_math("$$p = \\sigma(z)$$") == r"` \[p = \sigma(z)\] `"


def test_emphasis_characters_inside_a_formula_stay_tex():
    assert mark_math(r"$a_1 * b_2 * c$") == r"` \(a_1 * b_2 * c\) `"


def test_a_multiline_display_formula_is_joined_on_one_line():
    assert mark_math("$$\\frac{1}\n{2}$$") == r"` \[\frac{1} {2}\] `"


def test_code_spans_and_lone_dollars_are_left_alone():
    text = "run `echo $HOME $PATH` for $ 5 and $ 6"
    assert mark_math(text) == text
    assert formulas(text) == []


def test_an_escaped_dollar_inside_a_formula_does_not_end_it():
    assert formulas(r"$\$5 + x$") == [(r"\$5 + x", False)]


def test_a_formula_with_backticks_gets_a_longer_fence():
    assert mark_math("$`x`$") == "`` \\(`x`\\) ``"


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.name)
def test_no_dollar_is_left_in_the_narration_outside_formulas_and_code(path):
    marked = mark_math(path.read_text())
    outside = re.sub(r"(`+)(?:.|\n)*?\1", "", marked)
    assert "$" not in outside
    assert formulas(path.read_text()), "a lesson without a formula"
