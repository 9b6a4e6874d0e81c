"""Checks of understanding: the quiz file format, every lesson's quiz, and the
components that show it (in the lesson shell and on the home page)."""

import json
from pathlib import Path

import dash
import pytest
from dash import html
from dash.development.base_component import Component

from app.main import app
from components import quiz
from components.lesson import lesson_shell
from components.narration import Step

LESSONS = [p["path"].strip("/") for p in dash.page_registry.values() if p.get("lesson")]
ASSETS = Path(__file__).resolve().parents[1] / "app" / "assets"

GOOD = """# Test yourself

## first-one
kind: predict
see: [Watch it (step 2)](/perceptron?step=2&lr=0.5)

Where does the loss end?

- [ ] At 0.
- [x] At 0.69.

At 0.69: it hedges.
More of the answer.

## second
kind: choice

Why?

- [x] Because **one** plane.
  Right: the explanation,
  on two lines.
- [ ] Because of the seed.
  No.
"""


def walk(component):
    yield component
    children = getattr(component, "children", None)
    if isinstance(children, Component):
        yield from walk(children)
    elif isinstance(children, (list, tuple)):
        for child in children:
            if isinstance(child, Component):
                yield from walk(child)


def by_type(tree, kind: str) -> list:
    return [c for c in walk(tree) if isinstance(getattr(c, "id", None), dict) and c.id.get("type") == kind]


# -- the format -------------------------------------------------------------------------------


def test_a_good_file_gives_its_questions():
    parsed = quiz.parse_quiz(GOOD)
    assert parsed.title == "Test yourself" and [q.id for q in parsed.questions] == ["first-one", "second"]
    first, second = parsed.questions
    assert (first.kind, first.see_label, first.see_href) == ("predict", "Watch it (step 2)", "/perceptron?step=2&lr=0.5")
    assert first.prompt == "Where does the loss end?" and first.right_index == 1
    assert [o.text for o in first.options] == ["At 0.", "At 0.69."] and not any(o.explanation for o in first.options)
    assert first.answer == "At 0.69: it hedges.\nMore of the answer."
    assert second.kind == "choice" and second.see_href == "" and second.answer == "" and second.right_index == 0
    assert second.options[0] == quiz.Option("Because **one** plane.", True, "Right: the explanation,\non two lines.")
    assert second.options[1].explanation == "No."


def test_the_title_is_optional_and_comments_may_come_first():
    parsed = quiz.parse_quiz("<!-- how to write a quiz -->\n" + GOOD.split("\n", 2)[2])
    assert parsed.title == quiz.DEFAULT_TITLE and len(parsed.questions) == 2


def question(head: str = "kind: choice", body: str = "Why?", options: str = "- [x] A\n  yes\n- [ ] B\n  no",
             tail: str = "", qid: str = "q") -> str:
    return f"## {qid}\n{head}\n\n{body}\n\n{options}\n\n{tail}\n"


PREDICT = "kind: predict\nsee: [Look](/rnn?step=3)"


@pytest.mark.parametrize("text, words", [
    ("", "no questions"),
    ("# Title only\n", "no questions"),
    ("Some words\n" + question(), "text before the first question"),
    (question(qid="Bad Id"), "an id is lowercase"),
    (question(qid="a_b"), "an id is lowercase"),
    (question(head="kind: essay"), "kind must be predict or choice"),
    (question(head="see: [a](/x)"), "kind must be predict or choice"),
    (question(head="kind: choice\nlevel: hard"), "unknown key 'level'"),
    (question(head="kind: choice\nnot an attribute"), "'key: value' lines"),
    (question(head="kind: predict", tail="The answer."), "needs 'see:"),
    (question(head="kind: predict\nsee: https://example.com", tail="x"), "one Markdown link"),
    (question(head="kind: predict\nsee: [x](https://example.com)", tail="x"), "one Markdown link"),
    (question(body=""), "question text is missing"),
    (question(options="- [x] A\n  yes"), "2 to 6 options"),
    (question(options="\n".join(f"- [{'x' if k == 0 else ' '}] {k}\n  why" for k in range(7))), "found 7"),
    (question(options="- [x] A\n  yes\n- [x] B\n  no"), "exactly one option is marked right"),
    (question(options="- [ ] A\n  yes\n- [ ] B\n  no"), "found 0"),
    (question(options="- [x] A\n  yes\n- [ ] B"), "option 2 is not"),
    (question(tail="More text."), "ends with its options"),
    (question(head=PREDICT, options="- [x] A\n  yes\n- [ ] B"), "not under them"),
    (question(head=PREDICT, options="- [x] A\n- [ ] B"), "needs its answer"),
    (question(options="- [x] A\n  yes\n\nIn between.\n\n- [ ] B\n  no"), "one list"),
    (question(options="- [y] A\n  yes\n- [ ] B\n  no"), "'- [ ] text'"),
    (question(body="Is $x^2$ convex?"), "no formulas"),
    (question() + question(), "appears twice"),
])
def test_a_bad_file_is_a_clear_value_error(text, words):
    with pytest.raises(ValueError) as error:
        quiz.parse_quiz(text)
    assert words in str(error.value)


def test_an_error_names_the_question_and_its_line():
    with pytest.raises(ValueError, match=r"line 1, question 'q': kind must be"):
        quiz.parse_quiz(question(head="kind: other"))
    with pytest.raises(ValueError, match=r"line 17, question 'second': unknown key"):
        quiz.parse_quiz(GOOD.replace("kind: choice", "kind: choice\nlevel: 2"))


@pytest.mark.parametrize("text", [None, 7, b"## q"])
def test_a_quiz_is_text(text):
    with pytest.raises(ValueError, match="a quiz is text"):
        quiz.parse_quiz(text)


# -- the lessons' quizzes -------------------------------------------------------------------


def test_the_seven_lessons_are_registered():
    assert len(LESSONS) == 7


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_two_to_four_questions_of_both_kinds_of_file(lesson):
    path = quiz.quiz_file(lesson)
    assert path.name == lesson.replace("-", "_") + ".quiz.md" and path.is_file()
    parsed = quiz.load_quiz(lesson)
    assert 2 <= len(parsed.questions) <= 4
    for q in parsed.questions:
        assert q.see_href.startswith(f"/{lesson}?"), "a question links into its own lesson"
        assert all(quiz.plain_text(o.text) for o in q.options)


def test_a_lesson_without_a_file_has_no_quiz():
    assert quiz.load_quiz("no-such-lesson") is None and quiz.quiz_section("no-such-lesson") == []
    assert quiz.question_count("no-such-lesson") == 0


def test_a_bad_file_leaves_the_page_without_a_quiz(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(quiz, "PAGES", tmp_path)
    (tmp_path / "broken.quiz.md").write_text("## Broken\n", encoding="utf-8")
    quiz.load_quiz.cache_clear()
    try:
        with pytest.raises(ValueError, match="broken.quiz.md: line 1"):
            quiz.load_quiz("broken")
        assert quiz.quiz_section("broken") == [] and "quiz of lesson broken not shown" in caplog.text
    finally:
        quiz.load_quiz.cache_clear()


# -- components -------------------------------------------------------------------------------


def test_a_quiz_has_a_button_per_answer_and_announces_its_results():
    [section] = quiz.quiz_section("perceptron")
    parsed = quiz.load_quiz("perceptron")
    assert "quiz" in section.className.split() and section.to_plotly_json()["props"]["aria-labelledby"]
    picks = by_type(section, "quiz-pick")
    assert len(picks) == sum(len(q.options) for q in parsed.questions)
    assert all(isinstance(p, html.Button) for p in picks + by_type(section, "quiz-again"))
    results = by_type(section, "quiz-result") + by_type(section, "quiz-score")
    assert len(results) == len(parsed.questions) + 1 and all(r.role == "status" for r in results)
    [key] = by_type(section, "quiz-key")
    assert key.data == {q.id: {"right": q.right_index, "options": [quiz.plain_text(o.text) for o in q.options]}
                        for q in parsed.questions}
    groups = [c for c in walk(section) if getattr(c, "role", None) == "group"]
    assert len(groups) == len(parsed.questions)
    labelled = {g.to_plotly_json()["props"]["aria-labelledby"] for g in groups}
    assert labelled <= {c.id for c in walk(section) if isinstance(getattr(c, "id", None), str)}


def test_the_shell_puts_the_quiz_right_after_the_last_step():
    steps = [Step("One", "First."), Step("Two", "Second.")]
    shell = lesson_shell("perceptron", steps, html.Div())
    [box] = [c for c in walk(shell) if getattr(c, "className", None) == "ls-steps"]
    kinds = [c.className.split()[0] for c in box.children]
    assert kinds == ["ls-step", "ls-step", "quiz"]
    shell = lesson_shell("no-such-lesson", steps, html.Div())
    [box] = [c for c in walk(shell) if getattr(c, "className", None) == "ls-steps"]
    assert len(box.children) == 2


def test_the_quiz_shows_with_the_last_step_and_never_in_presenter_mode():
    css = (ASSETS / "quiz.css").read_text(encoding="utf-8")
    assert ".quiz { display: none;" in css and ".ls-step.is-current + .quiz { display: block; }" in css
    assert "body.presenting .quiz { display: none !important; }" in css


def test_the_home_page_shows_a_score_per_lesson():
    from pages import home
    with app.server.test_request_context():
        tree = home.layout()
    badges = by_type(tree, "quiz-badge")
    assert sorted(b.id["lesson"] for b in badges) == sorted(LESSONS)
    [totals] = [c for c in walk(tree) if getattr(c, "id", None) == "quiz-totals"]
    assert totals.data == {lesson: [q.id for q in quiz.load_quiz(lesson).questions] for lesson in LESSONS}


def test_each_lesson_id_is_its_path():
    """The home page finds a lesson's quiz by its path ("/rnn" -> "rnn")."""
    for page in dash.page_registry.values():
        if page.get("lesson"):
            module = __import__(page["module"], fromlist=["LESSON"])
            assert module.LESSON == page["path"].strip("/")


def test_answers_are_kept_under_a_key_of_their_own_in_the_tours_store():
    script = (ASSETS / "quiz.js").read_text(encoding="utf-8")
    assert 'const KEY = "quiz";' in script
    tour = (ASSETS / "learnscape.js").read_text(encoding="utf-8")
    assert '"quiz"' not in tour and "quiz:" not in tour       # the tour's own keys are lessons and last
    assert "Object.assign({}, store, { lessons: lessons" in tour   # and it keeps the keys it does not own
    callbacks = json.dumps(app.server.test_client().get("/_dash-dependencies").get_json())
    assert "quiz-pick" in callbacks and "quiz-badge" in callbacks and "tour-progress.data@" in callbacks
