"""The lesson shell: narration beside the figures, step navigation, link sharing.

All narrated steps are rendered once into the page, as html components built
on the server (so the text draws with the page, before any late script); moving between steps only
changes which one is shown (clientside), so navigation works without a server
round trip. The page's own callbacks read the current step from the
`lesson_id("step", lesson)` store to choose what its figures show, and may
write the indices of steps whose "try it" task is done to
`lesson_id("achieved", lesson)` (the tour remembers them).
"""

from __future__ import annotations

from typing import Sequence

from dash import ALL, MATCH, ClientsideFunction, Input, Output, State, clientside_callback, dcc, html

from components.ids import lesson_id, setting_id
from components.run_files import run_files
from components.narration_html import inline_components, narration_div
from components.narration import Step
from components.quiz import quiz_section


def lesson_shell(lesson: str, steps: Sequence[Step], stage, *, step: int = 0,
                 notices: Sequence[str] = (), defaults: dict | None = None) -> html.Div:
    """The whole page of a lesson.

    stage: the figures and controls (a component or a list of them).
    step: 0-based index of the step shown first.
    notices: messages for the visitor (e.g. invalid link values replaced).
    defaults: the lesson's default settings, so shared links only carry changes.
    """
    step = min(max(int(step), 0), len(steps) - 1)
    return html.Div(
        [
            dcc.Store(id=lesson_id("step", lesson), data=step),
            dcc.Store(id=lesson_id("steps", lesson), data=[
                {"title": s.title, "duration": s.presenter_seconds, "figure": s.figure, "play": s.play}
                for s in steps
            ]),
            dcc.Store(id=lesson_id("defaults", lesson), data=defaults or {}),
            # Indices of the steps whose "try it" task the page saw done.
            dcc.Store(id=lesson_id("achieved", lesson), data=[]),
            # A step the cache could not answer at once, handed to the background worker.
            dcc.Store(id=lesson_id("compute", lesson)),
            notice_box(lesson, notices),
            html.Div(
                [
                    html.Aside(_narration(lesson, steps, step), className="ls-narration"),
                    html.Section(stage, className="ls-stage"),
                ],
                className="ls-body",
            ),
        ],
        className="ls-lesson",
        **{"data-lesson": lesson},
    )


def notice_box(lesson: str, notices: Sequence[str]) -> html.Div:
    """Messages for the visitor: those about the link it was opened with, and
    a part the page's callbacks write into (id `lesson_id("notices", lesson)`)."""
    return html.Div(
        [
            html.Div([html.P(n) for n in notices], className="ls-notices" if notices else "ls-notices is-empty",
                     role="status"),
            html.Div(id=lesson_id("notices", lesson), className="ls-notices is-empty", role="status"),
        ]
    )


def _narration(lesson: str, steps: Sequence[Step], current: int) -> list:
    sections = [
        html.Article(_step_content(lesson, i, s),
                     id=lesson_id("section", lesson, index=i),
                     className="ls-step is-current" if i == current else "ls-step")
        for i, s in enumerate(steps)
    ]
    dots = [
        html.Button("", id=lesson_id("dot", lesson, index=i), title=f"{i + 1}. {s.title}",
                    className="ls-dot is-current" if i == current else "ls-dot",
                    **{"aria-label": f"Step {i + 1}: {s.title}"})
        for i, s in enumerate(steps)
    ]
    return [
        html.Div(f"Step {current + 1} of {len(steps)}", id=lesson_id("progress", lesson),
                 className="ls-progress"),
        # Focusable, so that keyboard visitors can scroll a long step.
        # The lesson's questions (pages/<lesson>.quiz.md) follow its last step; css shows them with it.
        html.Div(sections + quiz_section(lesson), className="ls-steps", tabIndex="0", role="region",
                 **{"aria-label": "Narration"}),
        html.Nav(
            [
                html.Button("← Previous", id=lesson_id("prev", lesson), className="ls-prev",
                            disabled=current == 0),
                html.Div(dots, className="ls-dots"),
                html.Button("Next →", id=lesson_id("next", lesson), className="ls-next",
                            disabled=current == len(steps) - 1),
                # Shown on the last step (css); learnscape.js knows the lesson order.
                html.Button("Next lesson →", className="ls-next-lesson"),
                html.Button("Figure ↓", className="ls-to-figure", title="Scroll to the figure"),
            ],
            className="ls-nav",
        ),
        html.Div(
            [dcc.Clipboard(id=lesson_id("copy", lesson), title="Copy a link to this exact state",
                           className="ls-copy-icon"),
             html.Span("Copy link to this state", className="ls-copy-label")],
            className="ls-copy",
        ),
        run_files(lesson),
    ]


def _step_content(lesson: str, index: int, step: Step) -> list:
    content = [html.H2(step.title), narration_div(step.body, "ls-markdown")]
    if step.question:
        content.append(html.Details(
            [html.Summary([html.Strong("Predict: "), *inline_components(step.question)]),
             narration_div(step.answer, "ls-answer")],
            className="ls-question",
        ))
    if step.task:
        content.append(html.Div(
            [html.Strong("Try it: "), narration_div(step.task, "ls-task-text"),
             html.Span("✓ done", className="ls-task-check")],
            id=lesson_id("task", lesson, index=index), className="ls-task",
        ))
    return content


def setting_control(lesson: str, name: str, label: str, widget, *, hidden: bool = False,
                    help_text: str = "") -> html.Div:
    """A labelled control whose widget has id `setting_id(lesson, name)`."""
    return html.Div(
        [html.Label(label, htmlFor=str(name), className="ls-control-label"), widget]
        + ([html.Small(help_text, className="ls-control-help")] if help_text else []),
        className="ls-control is-hidden" if hidden else "ls-control",
    )


clientside_callback(
    ClientsideFunction("learnscape", "stepNavigate"),
    Output(lesson_id("step", MATCH), "data"),
    Input(lesson_id("prev", MATCH), "n_clicks"),
    Input(lesson_id("next", MATCH), "n_clicks"),
    Input(lesson_id("dot", MATCH, index=ALL), "n_clicks"),
    State(lesson_id("step", MATCH), "data"),
    State(lesson_id("steps", MATCH), "data"),
    prevent_initial_call=True,
)

clientside_callback(
    ClientsideFunction("learnscape", "stepShow"),
    Output(lesson_id("section", MATCH, index=ALL), "className"),
    Output(lesson_id("dot", MATCH, index=ALL), "className"),
    Output(lesson_id("progress", MATCH), "children"),
    Output(lesson_id("prev", MATCH), "disabled"),
    Output(lesson_id("next", MATCH), "disabled"),
    Input(lesson_id("step", MATCH), "data"),
    Input({"type": "ls-setting", "lesson": MATCH, "name": ALL}, "value"),
    State(lesson_id("steps", MATCH), "data"),
    State(lesson_id("defaults", MATCH), "data"),
)

clientside_callback(
    ClientsideFunction("learnscape", "taskShow"),
    Output(lesson_id("task", MATCH, index=ALL), "className"),
    Input(lesson_id("achieved", MATCH), "data"),
    Input("tour-progress", "data"),
)

clientside_callback(
    "function(n) { return window.location.href; }",
    Output(lesson_id("copy", MATCH), "content"),
    Input(lesson_id("copy", MATCH), "n_clicks"),
    prevent_initial_call=True,
)

__all__ = ["lesson_shell", "notice_box", "setting_control", "setting_id"]
