"""Taking results home: every figure as PNG, SVG and CSV, every run as a JSON file
that the site loads back to the same state (app/assets/run-files.js does the work
in the browser; nothing here asks the server).

A run file holds the lesson, the step, every setting (seed included) and the data
of every figure on screen (for training runs: the whole history the curves show).
Loading it opens the lesson at that step with those settings; the server checks
them like any link, and the lesson's fixed seed reproduces the same run.
"""

from __future__ import annotations

from dash import MATCH, Input, Output, State, clientside_callback, dcc, html

from components.ids import lesson_id

#: Largest run file the page reads (bytes): the biggest run on the site is far smaller.
MAX_RUN_FILE_BYTES = 5_000_000


def figure_tools(name: str) -> html.Div:
    """Buttons that download the figure beside them (PNG and SVG at presentation size, CSV of its data)."""
    return html.Div(
        [html.Button(label, type="button", className="ls-tool", title=title,
                     **{"data-format": fmt, "data-name": name, "aria-label": f"{title} ({name})"})
         for fmt, label, title in (("png", "PNG", "Download the figure as a PNG image"),
                                   ("svg", "SVG", "Download the figure as an SVG drawing"),
                                   ("csv", "CSV", "Download the figure's data as CSV"))],
        className="ls-figure-tools",
    )


def run_files(lesson: str) -> html.Div:
    """Save this run as JSON or Python, and open a saved one (folded away until asked for)."""
    return html.Details(
        [
            html.Summary("Take this run home, or open a saved one", className="ls-run-files-summary"),
            html.Button("⤓ Save this run (JSON)", type="button", className="ls-save-run",
                        **{"data-lesson": lesson}),
            html.Button("⤓ This run as Python", type="button", id=lesson_id("save-code", lesson),
                        className="ls-save-run", title="A short numpy script that rebuilds the data, the model "
                        "and the optimizer and prints the run's final numbers"),
            dcc.Download(id=lesson_id("code-download", lesson)),
            dcc.Upload("⤒ Open a saved run", id=lesson_id("open-run", lesson), accept=".json,application/json",
                       max_size=MAX_RUN_FILE_BYTES, className="ls-open-run-label"),
            html.P(id=lesson_id("run-message", lesson), className="ls-run-message", role="status",
                   **{"aria-live": "polite"}),
        ],
        className="ls-run-files",
    )


clientside_callback(
    "function (contents, name) { return window.learnscapeRunFiles.open(contents, name); }",
    Output(lesson_id("run-message", MATCH), "children"),
    Input(lesson_id("open-run", MATCH), "contents"),
    State(lesson_id("open-run", MATCH), "filename"),
    prevent_initial_call=True,
)
