"""Every lesson's run as a short, self-contained Python script (numpy only).

`script_for(lesson, values, figure)` returns the text a visitor downloads with
"This run as Python": it rebuilds the data, the model and the optimizer with
the settings on screen and prints the run's final numbers. Tests run each
script and compare its numbers with the lesson's own code.
"""

from __future__ import annotations

from typing import Callable

#: lesson id -> script(values, figure) -> text
SCRIPTS: dict[str, Callable[[dict, str], str]] = {}


def script_for(lesson: str, values: dict, figure: str) -> str:
    """The script of `lesson` for its cleaned settings and the step's figure name (KeyError if none)."""
    return SCRIPTS[lesson](values, figure)
