"""An on-screen keyboard and a note text field, for a melody of the visitor's own.

Each key is a real, labelled button that appends its note, at the length chosen
in the duration picker, to the text field (`assets/melody-keyboard.js`, in the
browser: no server round trip per key). A key the lesson has no token for at
that length is disabled and says why. The page checks the text on the server
when the visitor asks to use it.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from dash import dcc, html

from components.ids import dom_id, lesson_id


def key_id(lesson: str, pitch: int) -> dict:
    return lesson_id("melody-key", lesson, pitch=pitch)


def key_label(name: str, lengths: Sequence[float]) -> str:
    """What a key may play, e.g. 'B3: only 1 beat' or 'A3: only 1 or 2 beats'."""
    words = [f"{b:g}" for b in lengths]
    text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"{name}: only {text} beat" + ("" if list(lengths) == [1] else "s")


def melody_keyboard(lesson: str, text: str, keys: Mapping[int, str], lengths: Mapping[int, Sequence[float]],
                    durations: Sequence[float], *, duration: float = 1.0, limit: int = 64,
                    example: str = "") -> html.Div:
    """The keyboard, the duration picker, the note text and the buttons that use or clear it.

    keys: MIDI pitch -> name (e.g. 60 -> "C4"), low to high; lengths: pitch -> the
    beats its note may last; durations: every length of the picker; text: the
    melody the link holds.
    """
    text_id, message_id = lesson_id("melody-text", lesson), lesson_id("melody-message", lesson)
    length_label = lesson_id("melody-length-label", lesson)
    return html.Div(
        [
            html.Div(
                [html.Span("Length of the next note", id=length_label,
                           className="ls-control-label"),
                 dcc.RadioItems(id=lesson_id("melody-length", lesson), value=duration, inline=True,
                                className="ls-radio mk-lengths",
                                options=[{"label": f"{b:g} beat{'' if b == 1 else 's'}", "value": b}
                                         for b in durations])],
                role="group", **{"aria-labelledby": dom_id(length_label)}, className="mk-length-choice"),
            html.Div(
                [html.Button(name, id=key_id(lesson, pitch), className="mk-key", n_clicks=0, type="button",
                             title=f"Add {name} at the chosen length",
                             **{"aria-label": f"Add the note {name}", "data-note": name,
                                "data-lengths": " ".join(f"{b:g}" for b in lengths[pitch])})
                 for pitch, name in keys.items()],
                className="mk-keys", role="group", **{"aria-label": "Keyboard: each key adds a note"}),
            html.Div(
                [html.Button("⌫ Last note", id=lesson_id("melody-undo", lesson), className="mk-edit", n_clicks=0,
                             type="button", title="Remove the last note of the text"),
                 html.Button("Clear", id=lesson_id("melody-clear", lesson), className="mk-edit", n_clicks=0,
                             type="button", title="Empty the text")],
                className="mk-edits"),
            html.Label("Notes (pitch:beats, separated by spaces)", htmlFor=dom_id(text_id),
                       className="ls-control-label"),
            dcc.Textarea(id=text_id, value=text, className="mk-text", rows=3,
                         spellCheck=False, placeholder=example),
            html.Div(
                [html.Button("Train with my melody", id=lesson_id("melody-use", lesson), className="mk-use",
                             n_clicks=0, type="button"),
                 html.Button("Without my melody", id=lesson_id("melody-drop", lesson), className="mk-edit",
                             n_clicks=0, type="button")],
                className="mk-actions"),
            html.P(f"Up to {limit} notes. The network trains on your melody with the tunes, then goes on "
                   "where it ends.", className="ls-control-help"),
            html.P(id=message_id, className="ls-message", role="status",
                   **{"aria-live": "polite"}),
        ],
        className="mk-keyboard",
    )
