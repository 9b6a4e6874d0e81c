"""Checks of understanding: two to four questions at the end of a lesson.

Questions are data: `pages/<lesson module>.quiz.md` beside the narration
(`pages/decision_boundaries.quiz.md` for the lesson "decision-boundaries").
The lesson shell shows them under the narration of the last step; answers and
scores stay in the browser, in the tour's store (`components.site.TOUR_STORE`)
under the key "quiz", which the tour itself does not use:
`{"quiz": {lesson: {question id: {"choice": option index, "right": bool}}}}`.

Format of a quiz file::

    # Check your understanding                 (optional: the heading shown)

    ## hedge                                    (a question: `## ` and its id)
    kind: predict
    see: [Watch the run](/perceptron?step=5)

    Ben's four songs are trained for 300 epochs. Where do the bars end?

    - [ ] Each at its label.
    - [x] All four at 50 %.

    All four end at 50 % ... (the answer: what the visitor reads after the guess)

    ## plane
    kind: choice

    Why can this data not be learned?

    - [ ] The learning rate is too small.
      No: ... (an explanation: the option's following lines, indented)
    - [x] No flat plane separates the two diagonals.
      Right: ...

Rules (`parse_quiz` raises a ValueError naming the question and the line):

- a question's id is lowercase letters, digits and hyphens, unique in the file;
- the `key: value` lines right under the heading: `kind` (required) is
  `predict` (the visitor commits to a guess, then sees the answer) or
  `choice` (multiple choice); `see` is a Markdown link to a page of this site,
  usually the lesson at the step and settings that show the answer
  (required for `predict`, optional for `choice`);
- then the question (Markdown), then 2 to 6 options `- [ ] ` / `- [x] `, exactly
  one of them `[x]`, the right one;
- `choice`: every option has an explanation, and nothing follows the options;
  `predict`: no option has one, and the answer (Markdown) follows the options;
- no formulas between `$`: questions are read as plain text (write σ, −, ×).
"""

from __future__ import annotations

import html as html_text
import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dash import ALL, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from components.narration_html import inline_components, markdown_html, narration_div
from components.site import TOUR_STORE

log = logging.getLogger(__name__)

PAGES = Path(__file__).resolve().parent.parent / "pages"
KINDS = ("predict", "choice")
MIN_OPTIONS, MAX_OPTIONS = 2, 6
DEFAULT_TITLE = "Check your understanding"

_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ATTRIBUTE = re.compile(r"([a-z]+):\s*(.*)")
_OPTION = re.compile(r"- \[([ xX])\] +(\S.*)")
_LINK = re.compile(r"\[([^\]]+)\]\((/[^)\s]*)\)")


@dataclass(frozen=True)
class Option:
    text: str                 # Markdown, one line
    right: bool
    explanation: str = ""     # Markdown


@dataclass(frozen=True)
class Question:
    id: str
    kind: str                 # "predict" or "choice"
    prompt: str               # Markdown
    options: tuple[Option, ...]
    answer: str = ""          # Markdown; predict questions only
    see_label: str = ""
    see_href: str = ""        # a path of this site with its query, e.g. "/perceptron?step=5"

    @property
    def right_index(self) -> int:
        return next(k for k, option in enumerate(self.options) if option.right)


@dataclass(frozen=True)
class Quiz:
    title: str
    questions: tuple[Question, ...]


# -- the file format ------------------------------------------------------------------------


def parse_quiz(text: str) -> Quiz:
    """The quiz in `text` (the format above). Raises ValueError on a bad file."""
    if not isinstance(text, str):
        raise ValueError("a quiz is text")
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    if not starts:
        raise ValueError("a quiz has no questions: each starts with '## <id>'")
    title = DEFAULT_TITLE
    for line in lines[:starts[0]]:
        if line.startswith("# "):
            title = line[2:].strip() or DEFAULT_TITLE
        elif line.strip() and not line.startswith("<!--"):
            raise ValueError(f"line {lines.index(line) + 1}: text before the first question "
                             "(only a '# Title' line may come first)")
    questions = [_question(lines, start, end) for start, end in zip(starts, starts[1:] + [len(lines)])]
    seen = set()
    for q in questions:
        if q.id in seen:
            raise ValueError(f"question {q.id!r} appears twice")
        seen.add(q.id)
    return Quiz(title, tuple(questions))


def _question(lines: list[str], start: int, end: int) -> Question:
    qid = lines[start][3:].strip()

    def fail(message: str, at: int | None = None) -> ValueError:
        where = f"line {(start if at is None else at) + 1}, question {qid!r}"
        return ValueError(f"{where}: {message}")

    if not _ID.fullmatch(qid):
        raise fail("an id is lowercase letters, digits and hyphens, e.g. '## loss-at-the-end'")
    i, attributes = start + 1, {}
    while i < end and lines[i].strip():
        match = _ATTRIBUTE.fullmatch(lines[i].strip())
        if not match:
            raise fail("put the 'key: value' lines right under the heading, then a blank line", i)
        if match.group(1) not in ("kind", "see"):
            raise fail(f"unknown key {match.group(1)!r} (known: kind, see)", i)
        attributes[match.group(1)] = match.group(2).strip()
        i += 1
    kind = attributes.get("kind", "")
    if kind not in KINDS:
        raise fail(f"kind must be {' or '.join(KINDS)}, got {kind!r}")
    see_label = see_href = ""
    if "see" in attributes:
        link = _LINK.fullmatch(attributes["see"])
        if not link:
            raise fail("see: must be one Markdown link to a page of this site, e.g. [Watch it](/perceptron?step=5)")
        see_label, see_href = link.groups()
    elif kind == "predict":
        raise fail("a predict question needs 'see: [label](/lesson?step=...)', where its answer can be seen")

    prompt, options, tail, i = _body(lines, i, end, fail)
    if not prompt:
        raise fail("the question text is missing (it comes before the options)")
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise fail(f"a question has {MIN_OPTIONS} to {MAX_OPTIONS} options '- [ ] ...', found {len(options)}")
    if sum(o.right for o in options) != 1:
        raise fail(f"exactly one option is marked right with '- [x]', found {sum(o.right for o in options)}")
    if kind == "choice":
        if missing := [k + 1 for k, o in enumerate(options) if not o.explanation]:
            raise fail(f"every option of a choice question is explained (indented lines under it); "
                       f"option {missing[0]} is not")
        if tail:
            raise fail("a choice question ends with its options (explain each option instead)")
    else:
        if any(o.explanation for o in options):
            raise fail("a predict question explains itself in its answer, after the options, not under them")
        if not tail:
            raise fail("a predict question needs its answer (Markdown after the options)")
    texts = [prompt, tail, see_label, *(o.text for o in options), *(o.explanation for o in options)]
    if any("$" in text for text in texts):
        raise fail("no formulas between $ in a quiz: write them as plain text (σ, −, ×)")
    return Question(qid, kind, prompt, tuple(options), tail, see_label, see_href)


def _body(lines: list[str], i: int, end: int, fail):
    """The question text, the options (with their indented explanations) and the text after them."""
    prompt: list[str] = []
    while i < end and not lines[i].startswith("- ["):
        prompt.append(lines[i])
        i += 1
    options: list[Option] = []
    while i < end:
        line = lines[i]
        if line.startswith("- ["):
            match = _OPTION.fullmatch(line.rstrip())
            if not match:
                raise fail("an option is '- [ ] text' or '- [x] text' (the right one)", i)
            options.append(Option(match.group(2).strip(), match.group(1) != " "))
        elif line.startswith("  ") and line.strip() and options:
            last = options[-1]
            explanation = (last.explanation + "\n" + line.strip()).strip()
            options[-1] = Option(last.text, last.right, explanation)
        elif line.strip():
            break
        i += 1
    tail = "\n".join(lines[i:end]).strip()
    if any(_OPTION.fullmatch(line.rstrip()) for line in lines[i:end]):
        raise fail("the options are one list, with no text between them", i)
    return "\n".join(prompt).strip(), options, tail, i


def quiz_file(lesson: str) -> Path:
    """Where the quiz of `lesson` (its id) lives: pages/<id with - as _>.quiz.md."""
    return PAGES / f"{lesson.replace('-', '_')}.quiz.md"


@lru_cache(maxsize=None)
def load_quiz(lesson: str) -> Quiz | None:
    """The quiz of `lesson`, or None if it has none (read once per process).
    Raises ValueError on a bad file (the tests read every quiz)."""
    path = quiz_file(lesson)
    if not path.is_file():
        return None
    try:
        return parse_quiz(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"{path.name}: {error}") from None


def _quiz_or_none(lesson: str) -> Quiz | None:
    """load_quiz, but a bad file leaves the page without a quiz (and logs why)."""
    try:
        return load_quiz(lesson)
    except ValueError:
        log.exception("quiz of lesson %s not shown", lesson)
        return None


def plain_text(markdown: str) -> str:
    """Markdown as plain text (tags dropped), for what is announced."""
    return html_text.unescape(re.sub(r"<[^>]+>", "", markdown_html(markdown))).strip()


# -- components ----------------------------------------------------------------------------


def quiz_id(kind: str, lesson: str, **extra) -> dict:
    """Id of a quiz part, e.g. quiz_id("pick", "perceptron", q="hedge", k=1)."""
    return {"type": f"quiz-{kind}", "lesson": lesson, **extra}


def quiz_section(lesson: str) -> list:
    """The quiz of `lesson` as page components (none if it has no quiz). The lesson
    shell puts it right after the last step, and css shows it with that step."""
    quiz = _quiz_or_none(lesson)
    if quiz is None:
        return []
    heading = f"quiz-{lesson}-title"
    answers = {q.id: {"right": q.right_index, "options": [plain_text(o.text) for o in q.options]}
               for q in quiz.questions}
    return [html.Section(
        [
            dcc.Store(id=quiz_id("key", lesson), data=answers),
            html.H3(quiz.title, id=heading, className="quiz-title"),
            html.P(_unanswered(len(quiz.questions)), id=quiz_id("score", lesson), className="quiz-score",
                   role="status"),
            *[_question_block(lesson, q, n) for n, q in enumerate(quiz.questions, start=1)],
        ],
        className="quiz", **{"aria-labelledby": heading, "data-lesson": lesson},
    )]


def _unanswered(total: int) -> str:
    return f"{total} questions: pick the answer you think is right."


def _question_block(lesson: str, q: Question, number: int) -> html.Div:
    """One question: its text, one button per answer, what it says once answered."""
    prompt = f"quiz-{lesson}-{q.id}-prompt"
    ids = dict(lesson=lesson, q=q.id)
    kind = "Predict, then see" if q.kind == "predict" else "Question"
    options = [
        html.Li(
            [html.Button(inline_components(o.text), id=quiz_id("pick", **ids, k=k), className="quiz-pick"),
             html.Div([html.Span("Right answer. ", className="quiz-tag quiz-tag-right"),
                       html.Span("Your answer. ", className="quiz-tag quiz-tag-chosen"),
                       narration_div(o.explanation, "quiz-why-text") if o.explanation else None],
                      className="quiz-why")],
            id=quiz_id("option", **ids, k=k), className="quiz-option",
        )
        for k, o in enumerate(q.options)
    ]
    return html.Div(
        [
            html.Div([html.Span(f"{number}. {kind}", className="quiz-kind"), narration_div(q.prompt, "quiz-prompt")],
                     id=prompt),
            html.Div(html.Ul(options, className="quiz-options"), role="group", **{"aria-labelledby": prompt}),
            html.P("", id=quiz_id("result", **ids), className="quiz-result", role="status"),
            html.Div(_reveal(q), className="quiz-reveal"),
            html.Button("Answer again", id=quiz_id("again", **ids), className="quiz-again"),
        ],
        id=quiz_id("question", **ids), className="quiz-q",
    )


def _reveal(q: Question) -> list:
    """Shown once the question is answered: the answer (predict) and the link that shows it."""
    parts = [narration_div(q.answer, "quiz-answer")] if q.answer else []
    if q.see_href:
        parts.append(html.P(dcc.Link(f"{q.see_label} →", href=q.see_href, className="quiz-see")))
    return parts


def question_count(lesson: str) -> int:
    quiz = _quiz_or_none(lesson)
    return len(quiz.questions) if quiz else 0


def score_badge(lesson: str) -> html.Span:
    """Where a lesson card on the home page shows "Quiz: 2 of 3 right" (filled in the browser)."""
    return html.Span("", id={"type": "quiz-badge", "lesson": lesson}, className="quiz-badge")


def question_totals(lessons) -> dcc.Store:
    """The ids of each lesson's questions, for the home page's badges (answers to
    questions a lesson no longer has do not count)."""
    data = {}
    for lesson in lessons:
        quiz = _quiz_or_none(lesson)
        data[lesson] = [q.id for q in quiz.questions] if quiz else []
    return dcc.Store(id="quiz-totals", data=data)


# -- the browser side (app/assets/quiz.js) ---------------------------------------------------

_Q = {"lesson": ALL, "q": ALL}
_K = {**_Q, "k": ALL}

clientside_callback(
    ClientsideFunction("quiz", "record"),
    Output(TOUR_STORE, "data", allow_duplicate=True),
    Input({"type": "quiz-pick", **_K}, "n_clicks"),
    Input({"type": "quiz-again", **_Q}, "n_clicks"),
    State({"type": "quiz-key", "lesson": ALL}, "data"),
    State(TOUR_STORE, "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction("quiz", "show"),
    Output({"type": "quiz-question", **_Q}, "className"),
    Output({"type": "quiz-result", **_Q}, "children"),
    Output({"type": "quiz-option", **_K}, "className"),
    Output({"type": "quiz-pick", **_K}, "aria-disabled"),
    Output({"type": "quiz-score", "lesson": ALL}, "children"),
    Input(TOUR_STORE, "data"),
    Input({"type": "quiz-key", "lesson": ALL}, "data"),
)

clientside_callback(
    ClientsideFunction("quiz", "badges"),
    Output({"type": "quiz-badge", "lesson": ALL}, "children"),
    Input(TOUR_STORE, "data"),
    Input("quiz-totals", "data"),
)

__all__ = ["Option", "Question", "Quiz", "load_quiz", "parse_quiz", "question_count", "question_totals",
           "quiz_file", "quiz_section", "score_badge"]
