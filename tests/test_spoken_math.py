"""Formulas said in words, for speech and presenter notes."""

import pytest

from components.math_markup import formulas
from components.narration import load_steps
from components.spoken_math import spoken
from pathlib import Path

LESSONS = sorted(p for p in Path(__file__).resolve().parent.parent.joinpath("pages").glob("*.md")
                 if not p.name.endswith(".quiz.md"))


@pytest.mark.parametrize("tex, words", [
    (r"L = -\frac{1}{n}\sum_{k=1}^{n} y_k", "L equals minus one over n times the sum over k from one to n of y k"),
    (r"w \leftarrow w - \eta \nabla_w L", "w becomes w minus eta the gradient with respect to w of L"),
    (r"x^2 + y^{T}", "x squared plus y transpose"),
    (r"\sqrt{\hat{v}_t} + \epsilon", "the square root of v hat t plus epsilon"),
    (r"\frac{\partial L}{\partial w}", "the fraction partial L over partial w"),
    (r"\unknowncommand{a}", "unknowncommand a"),
    ("", ""),
])
def test_formulas_in_words(tex, words):
    assert spoken(tex) == words


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_every_formula_of_every_lesson_is_said_in_words_without_tex(path):
    for step in load_steps(path):
        for tex, _ in formulas(step.body):
            words = spoken(tex)
            assert words and "\\" not in words and "{" not in words and "_" not in words, (step.title, tex)
