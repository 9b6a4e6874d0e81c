"""The home page: what the site is, and the map of lessons."""

from __future__ import annotations

from dash import dcc, html

from components.quiz import question_totals, score_badge
from components.site import lessons
from components.tour import progress_badge, tour_actions

PAGE = dict(path="/", name="Home", title="Learnscape — how neural networks learn", order=0,
            description="An explorable, narrated guide to how neural networks learn.")


def layout(**_query) -> html.Div:
    cards = [_card(i, page) for i, page in enumerate(lessons(), start=1)]
    first = cards and lessons()[0]["relative_path"]
    return html.Div(
        [
            html.Section(
                [
                    html.H1("How neural networks learn, one step at a time"),
                    html.P(
                        "Each lesson is a small model that really trains while you watch: "
                        "a perceptron that learns what songs you like, networks that bend "
                        "their decision boundaries, optimizers that untangle graphs. "
                        "Read the narration, play the run, then take the controls.",
                        className="home-lede",
                    ),
                    tour_actions(first or "/"),
                ],
                className="home-hero",
            ),
            html.H2("Lessons", className="home-map-title"),
            html.Div(cards, className="lesson-map"),
            question_totals([lesson_of(page) for page in lessons()]),
        ],
        className="home",
    )


def _card(number: int, page: dict) -> dcc.Link:
    icon = page.get("icon")
    return dcc.Link(
        [
            html.Img(src=f"/assets/icons/{icon}", alt="", className="lesson-card-icon") if icon else None,
            html.Div(
                [
                    html.Span(f"Lesson {number}", className="lesson-card-number"),
                    html.H3(page["name"]),
                    html.P(page.get("description", "")),
                    html.Span(f"{page.get('steps', '')} steps" if page.get("steps") else "",
                              className="lesson-card-meta"),
                    progress_badge(page["relative_path"]),
                    score_badge(lesson_of(page)),
                ],
                className="lesson-card-text",
            ),
        ],
        href=page["relative_path"],
        className="lesson-card",
        id={"type": "lesson-card", "path": page["path"]},
    )


def lesson_of(page: dict) -> str:
    """A lesson page's lesson id: its path without the slash ("/rnn" -> "rnn")."""
    return page["path"].strip("/")
