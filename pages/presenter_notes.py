"""The presenter notes view: open it in a second window beside a lesson in
presenter mode; presenter.js keeps it in step over a BroadcastChannel and its
buttons drive the main window."""

from dash import html

PAGE = dict(path="/presenter-notes", name="Presenter notes", title="Presenter notes — Learnscape", order=998)


def layout(**_query) -> html.Div:
    return html.Div(
        [
            html.Div(
                html.P("Waiting for a lesson in presenter mode in another window "
                       "(open any lesson with ?present=1)."),
                id="notes-root",
            ),
            html.Div(
                [
                    html.Button("← Previous", className="ls-prev notes-command", **{"data-action": "prev"}),
                    html.Button("Auto-advance on/off", className="ls-prev notes-command", **{"data-action": "auto"}),
                    html.Button("Next →", className="ls-next notes-command", **{"data-action": "next"}),
                ],
                className="notes-commands",
            ),
        ],
        className="notes",
    )
