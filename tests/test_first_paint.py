"""The first answer of a lesson page already holds its step's narration."""

import re

import pytest

from app.main import app
from components.narration_html import markdown_html
from pages import perceptron, rnn


def first_answer(url: str) -> str:
    response = app.server.test_client().get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def words_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.mark.parametrize("module, step", [(perceptron, 1), (perceptron, 3), (rnn, 2)])
def test_the_steps_title_and_narration_are_in_the_first_answer(module, step):
    page = first_answer(f"{module.PAGE['path']}?step={step}")
    chosen = module.STEPS[step - 1]
    assert f"<h2>{chosen.title}</h2>" in page or chosen.title.replace("'", "&#x27;") in page
    sentence = words_of(markdown_html(chosen.body))[:80]
    assert sentence in words_of(page)
    assert f"Step {step} of {len(module.STEPS)}" in page


@pytest.mark.parametrize("query", ["?step=abc", "?step=0", "?step=99999", "?step=%00"])
def test_a_bad_step_in_the_link_gives_the_first_step(query):
    page = first_answer(perceptron.PAGE["path"] + query)
    assert perceptron.STEPS[0].title in page


def test_pages_that_are_not_lessons_keep_dashs_entry_point_and_every_page_says_its_language():
    page = first_answer("/")
    assert 'id="react-entry-point"' in page and "ls-first-paint" not in page
    assert '<html lang="en">' in page
