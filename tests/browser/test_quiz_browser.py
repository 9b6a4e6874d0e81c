"""Checks of understanding in headless Chromium: answering, explanations, the score kept
in local storage across a reload and shown on the home page, keys, phones, presenter mode."""

import json

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from app.main import app
from components.quiz import load_quiz
from tests.browser.helpers import assert_clean, start, wait_until
from tests.browser.steps import AXE

pytestmark = pytest.mark.browser

PERCEPTRON, GRAPH = load_quiz("perceptron").questions, load_quiz("computational-graph").questions


def last_step(path: str) -> str:
    from dash import page_registry
    steps = next(p["steps"] for p in page_registry.values() if p["path"] == path)
    return f"{path}?step={steps}"


def q_css(lesson: str, qid: str, kind: str = "question", k: int | None = None) -> str:
    """A css selector for a quiz part (its id holds the lesson, the question and the kind)."""
    css = f'[id*="\\"lesson\\":\\"{lesson}\\""][id*="\\"q\\":\\"{qid}\\""][id*="\\"type\\":\\"quiz-{kind}\\""]'
    return css + (f'[id*="\\"k\\":{k}"]' if k is not None else "")


def pick(dash_duo, lesson: str, qid: str, k: int):
    button = dash_duo.find_element(q_css(lesson, qid, "pick", k))
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()


def text_of(dash_duo, css: str) -> str:
    return dash_duo.driver.execute_script("const el = document.querySelector(arguments[0]);"
                                          "return el ? el.textContent.trim() : null;", css)


def shown(dash_duo, css: str) -> bool:
    return dash_duo.driver.execute_script(
        "const el = document.querySelector(arguments[0]); return Boolean(el && el.offsetParent !== null);", css)


def stored(dash_duo) -> dict:
    return json.loads(dash_duo.driver.execute_script("return localStorage.getItem('tour-progress') || '{}';"))


def quiz_axe(dash_duo) -> list[str]:
    """Serious or critical WCAG 2.2 A/AA violations axe-core finds in the open quiz."""
    driver = dash_duo.driver
    if not driver.execute_script("return Boolean(window.axe);"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        axe.run({include: [['.quiz']]},
                {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
                 resultTypes: ['violations']})
          .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                          .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' +
                                    v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))))
          .catch(e => done(['axe-error: ' + String(e)]));
    """)


def wait_quiz(dash_duo, lesson: str):
    wait_until(lambda: shown(dash_duo, f'.quiz[data-lesson="{lesson}"]'), 30, f"the quiz of {lesson}")
    score = f'.quiz[data-lesson="{lesson}"] .quiz-score'
    wait_until(lambda: text_of(dash_duo, score), 10, "the quiz's callbacks")


def test_answers_explanations_and_score_survive_a_reload_and_show_on_the_home_page(dash_duo):
    start(dash_duo, app, "/perceptron")
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 1 of 9")
    assert not shown(dash_duo, ".quiz"), "the quiz waits for the last step"
    dash_duo.driver.get(dash_duo.server_url + last_step("/perceptron"))
    wait_quiz(dash_duo, "perceptron")
    hedge, helps, piano = PERCEPTRON
    assert text_of(dash_duo, ".quiz-score").startswith("3 questions")

    # A right answer: the question says so and shows the answer and its link.
    pick(dash_duo, "perceptron", hedge.id, hedge.right_index)
    wait_until(lambda: text_of(dash_duo, q_css("perceptron", hedge.id, "result")) == "✓ Right.", message="right")
    assert "is-right" in dash_duo.find_element(q_css("perceptron", hedge.id)).get_attribute("class")
    assert shown(dash_duo, f'{q_css("perceptron", hedge.id)} .quiz-answer')
    assert shown(dash_duo, f'{q_css("perceptron", hedge.id)} a.quiz-see')

    # A wrong answer: the right one is named, and every option is explained.
    wrong = (helps.right_index + 1) % len(helps.options)
    pick(dash_duo, "perceptron", helps.id, wrong)
    result = q_css("perceptron", helps.id, "result")
    wait_until(lambda: (text_of(dash_duo, result) or "").startswith("✗ Not quite."), message="wrong")
    assert "None of these" in text_of(dash_duo, result)
    whys = dash_duo.find_elements(f'{q_css("perceptron", helps.id)} .quiz-why')
    assert len(whys) == len(helps.options) and all(w.is_displayed() for w in whys)
    assert "Your answer." in whys[wrong].text and "Right answer." in whys[helps.right_index].text
    # The first answer counts: another pick does not change it.
    pick(dash_duo, "perceptron", helps.id, helps.right_index)
    score = '.quiz[data-lesson="perceptron"] .quiz-score'
    wait_until(lambda: text_of(dash_duo, score) == "1 of 3 right · 1 still to answer.", message="score")
    assert stored(dash_duo)["quiz"]["perceptron"] == {hedge.id: {"choice": hedge.right_index, "right": True},
                                                      helps.id: {"choice": wrong, "right": False}}

    # A reload, and a step back and forth (the tour records both): the answers stay.
    dash_duo.driver.refresh()
    wait_quiz(dash_duo, "perceptron")
    wait_until(lambda: text_of(dash_duo, score) == "1 of 3 right · 1 still to answer.", message="score after reload")
    assert (text_of(dash_duo, result) or "").startswith("✗ Not quite.")
    dash_duo.find_element(".ls-prev").click()
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 8 of 9")
    dash_duo.find_element(".ls-next").click()
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 9 of 9")
    store = stored(dash_duo)
    assert 9 - 1 in store["lessons"]["/perceptron"]["seen"] and len(store["quiz"]["perceptron"]) == 2

    # The link of an answer opens the lesson at its step.
    dash_duo.driver.execute_script("arguments[0].click();",
                                   dash_duo.find_element(f'{q_css("perceptron", hedge.id)} a.quiz-see'))
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 5 of 9")

    # A second lesson: one right, one wrong.
    dash_duo.driver.get(dash_duo.server_url + last_step("/computational-graph"))
    wait_quiz(dash_duo, "computational-graph")
    first, second = GRAPH[0], GRAPH[1]
    pick(dash_duo, "computational-graph", first.id, first.right_index)
    pick(dash_duo, "computational-graph", second.id, (second.right_index + 1) % len(second.options))
    wait_until(lambda: text_of(dash_duo, '.quiz[data-lesson="computational-graph"] .quiz-score')
               == "1 of 3 right · 1 still to answer.", message="the second lesson's score")

    # The home page: each lesson's score on its card.
    dash_duo.driver.get(dash_duo.server_url + "/")
    badge = '[id*="\\"type\\":\\"quiz-badge\\""][id*="\\"lesson\\":\\"{}\\""]'
    wait_until(lambda: text_of(dash_duo, badge.format("perceptron")) == "Quiz: 1 of 3 right", message="badge")
    assert text_of(dash_duo, badge.format("computational-graph")) == "Quiz: 1 of 3 right"
    assert text_of(dash_duo, badge.format("rnn")) == ""
    assert "steps seen" in dash_duo.find_element(".lesson-card-progress").text   # the tour's badge as before

    # "Answer again" forgets an answer.
    dash_duo.driver.get(dash_duo.server_url + last_step("/perceptron"))
    wait_quiz(dash_duo, "perceptron")
    again = dash_duo.find_element(q_css("perceptron", helps.id, "again"))
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", again)
    again.click()
    wait_until(lambda: text_of(dash_duo, score) == "1 of 3 right · 2 still to answer.", message="forgotten")
    assert text_of(dash_duo, result) == "" and helps.id not in stored(dash_duo)["quiz"]["perceptron"]
    assert_clean(dash_duo)


def test_keys_answer_a_question_without_moving_the_lesson_and_axe_finds_nothing(dash_duo):
    start(dash_duo, app, last_step("/computational-graph"))
    wait_quiz(dash_duo, "computational-graph")
    q = GRAPH[2]
    button = dash_duo.find_element(q_css("computational-graph", q.id, "pick", q.right_index))
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); arguments[0].focus();", button)
    outline = dash_duo.driver.execute_script(
        "return document.activeElement === arguments[0] && getComputedStyle(arguments[0]).outlineStyle;", button)
    assert outline and outline != "none", "focus is visible"
    ActionChains(dash_duo.driver).send_keys(Keys.SPACE).perform()
    result = q_css("computational-graph", q.id, "result")
    wait_until(lambda: text_of(dash_duo, result) == "✓ Right.", message="answered by Space")
    ActionChains(dash_duo.driver).send_keys(Keys.ARROW_LEFT).perform()
    assert dash_duo.find_element(".ls-progress").text == "Step 7 of 7", "keys on a question stay there"
    roles = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.quiz .quiz-result, .quiz .quiz-score'))"
        ".map(e => e.getAttribute('role'));")
    assert roles and set(roles) == {"status"}
    pick(dash_duo, "computational-graph", GRAPH[0].id, (GRAPH[0].right_index + 1) % len(GRAPH[0].options))
    wait_until(lambda: "is-wrong" in dash_duo.find_element(q_css("computational-graph", GRAPH[0].id))
               .get_attribute("class"), message="a wrong answer")
    assert quiz_axe(dash_duo) == []
    assert_clean(dash_duo)


def test_a_phone_taps_44_px_answers_without_sideways_scrolling(dash_duo):
    dash_duo.driver.set_window_size(360, 740)
    start(dash_duo, app, last_step("/perceptron"))
    wait_quiz(dash_duo, "perceptron")
    hedge = PERCEPTRON[0]
    pick(dash_duo, "perceptron", hedge.id, 0)
    wait_until(lambda: "is-answered" in dash_duo.find_element(q_css("perceptron", hedge.id)).get_attribute("class"),
               message="answered")
    sizes = dash_duo.driver.execute_script(
        "const w = document.documentElement.clientWidth;"
        "return Array.from(document.querySelectorAll('.quiz button, .quiz a')).filter(e => e.offsetParent !== null)"
        ".map(e => { const r = e.getBoundingClientRect();"
        "  return [e.textContent.trim().slice(0, 30), r.height, r.left >= -1 && r.right <= w + 1]; });")
    assert sizes and all(height >= 43.5 and inside for _, height, inside in sizes), sizes
    assert dash_duo.driver.execute_script(
        "return document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1;"), \
        "the page scrolls sideways"
    assert quiz_axe(dash_duo) == []
    assert_clean(dash_duo)


def test_presenter_mode_hides_the_questions(dash_duo):
    start(dash_duo, app, last_step("/perceptron") + "&present=1&auto=0")
    wait_until(lambda: "presenting" in dash_duo.find_element("body").get_attribute("class"), message="presenting")
    dash_duo.wait_for_element(".quiz")
    assert not shown(dash_duo, ".quiz")
    assert_clean(dash_duo)
