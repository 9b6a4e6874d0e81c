"""The point editor: a visitor's own points on a lesson's 2-D figure.

Click on the figure to add a point of the chosen class, drag a point to move
it, right-click (or press long, on a touch screen) to remove it; or upload a
CSV file of x, y, label lines. Clicks, drags and presses are handled in the
browser (`app/assets/point-editor.js`), which writes the packed points into
the lesson's hidden setting, so the lesson's step callback trains on them
and the link carries them. A file is read on the server by the lesson's
`load(bytes) -> (packed, message)`, which refuses a bad file whole
(ValueError, its words shown beside the upload).

The editor is only active while its box has the class "is-on" (the lesson's
view turns it on), so the same figure can show the lesson's own data sets.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Callable

import dash
from dash import Input, Output, State, dcc, html

from components.ids import dom_id, lesson_id, player_id, setting_id

#: The class of the editor's box when it is active and when it is not.
ON, OFF = "pe-editor is-on", "pe-editor"


def editor_id(kind: str, lesson: str) -> dict:
    return lesson_id(f"pe-{kind}", lesson)


def point_editor(lesson: str, *, setting: str, graph: str, classes: int, link_max: int, file_bytes_max: int,
                 rows_max: int, coord_max: float, colors: tuple[str, ...], on: bool = False) -> html.Div:
    """The editor's controls for the lesson's hidden setting `setting`, editing graph `graph`.

    classes: how many classes the picker offers (0 .. classes - 1); link_max: the
    longest link (characters) that still carries the points; colors: the figure's
    class colors (for the points drawn at once, before the server's figure arrives);
    the limits are shown to the visitor and enforced on the server by the lesson's `load`.
    """
    picker = dcc.RadioItems(id=editor_id("class", lesson), value=0, inline=True, className="ls-radio pe-classes",
                            options=[{"label": f" class {c}", "value": c} for c in range(classes)])
    # The widget drops a file over the limit (the browser says why, see point-editor.js); the server
    # checks again whatever arrives.
    upload = dcc.Upload("⤒ Upload a CSV…", id=editor_id("upload", lesson), max_size=file_bytes_max,
                        accept=".csv,.txt,text/csv,text/plain", className="ls-prev pe-upload")
    return html.Div(
        [
            html.Div([html.Span("Click to add a point of", className="ls-control-label"), picker],
                     className="pe-row"),
            html.P("Drag a point to move it; right-click it (or press long) to remove it.",
                   className="ls-control-help"),
            html.Div([upload, html.Button("Clear points", id=editor_id("clear", lesson), className="ls-prev")],
                     className="pe-row"),
            html.Small(f"A CSV of x, y, label lines (a header line optional): up to {rows_max:,} points, "
                       f"labels 0 to {classes - 1}, coordinates within ±{coord_max:g}, "
                       f"at most {file_bytes_max // 1000:,} kB.", className="ls-control-help"),
            html.Small(id=editor_id("message", lesson), className="ls-field-note pe-message", role="status",
                       **{"aria-live": "polite"}),
            html.Small(id=editor_id("link", lesson), className="ls-control-help pe-link", role="status",
                       **{"aria-live": "polite"}),
        ],
        id=editor_id("box", lesson), className=ON if on else OFF,
        **{"data-setting": dom_id(setting_id(lesson, setting)),
           "data-graph": dom_id(player_id("graph", lesson, name=graph)),
           "data-classes": str(classes), "data-link-max": str(link_max), "data-coord-max": str(coord_max), "data-file-max": str(file_bytes_max),
           "data-message": dom_id(editor_id("message", lesson)),
           "data-colors": json.dumps(list(colors))},
    )


def register_upload(lesson: str, *, setting: str, choose: tuple[str, object],
                    load: Callable[[bytes], tuple[str, str]], file_bytes_max: int) -> None:
    """Read an uploaded file on the server: `load(data) -> (packed, message)` or ValueError.

    On success the packed points replace the setting's value and the setting
    choose[0] takes the value choose[1] (the data set "your points"); a refused
    file changes nothing and its reason stands beside the upload.
    """
    name, value = choose

    @dash.callback(
        Output(setting_id(lesson, setting), "value", allow_duplicate=True),
        Output(setting_id(lesson, name), "value", allow_duplicate=True),
        Output(editor_id("message", lesson), "children"),
        Input(editor_id("upload", lesson), "contents"),
        State(editor_id("upload", lesson), "filename"),
        prevent_initial_call=True,
    )
    def upload(contents, filename):
        shown = str(filename or "the file")[:80]
        try:
            packed, message = load(_file_bytes(contents, file_bytes_max))
        except ValueError as error:
            return dash.no_update, dash.no_update, f"{shown} was not loaded: {error}."
        return packed, value, f"{shown}: {message}."


def _file_bytes(contents, limit: int) -> bytes:
    """The bytes of an upload's data URL ("data:<type>;base64,<data>"); ValueError past `limit` bytes."""
    if not isinstance(contents, str) or "," not in contents:
        raise ValueError("no file was received")
    data = contents.split(",", 1)[1]
    if len(data) > 4 * (limit // 3 + 1):
        raise ValueError(f"the file is over {limit:,} bytes")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the file did not arrive whole") from None
