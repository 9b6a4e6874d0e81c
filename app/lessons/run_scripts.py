"""Every lesson's run as a short, self-contained Python script (numpy only).

`script_for(lesson, values, figure)` returns the text a visitor downloads with
"This run as Python": it rebuilds the data, the model and the optimizer with
the settings on screen and prints the run's final numbers. Tests run each
script and compare its numbers with the lesson's own code.
"""

from __future__ import annotations

from typing import Callable

from app.lessons import (computational_graph_script, decision_boundaries_script, graph_layout_script,
                         loss_landscape_script, optimizer_lab_script, perceptron_script, rnn_script)

#: lesson id -> script(values, figure) -> text
SCRIPTS: dict[str, Callable[[dict, str], str]] = {
    "perceptron": perceptron_script.script_text,
    "computational-graph": computational_graph_script.script_text,
    "decision-boundaries": decision_boundaries_script.script_text,
    "rnn": rnn_script.script_text,
    "graph-layout": graph_layout_script.script_text,
    "loss-landscape": loss_landscape_script.script_text,
    "optimizer-lab": optimizer_lab_script.script_text,
}


def script_for(lesson: str, values: dict, figure: str) -> str:
    """The script of `lesson` for its cleaned settings and the step's figure name (KeyError if none)."""
    return SCRIPTS[lesson](values, figure)
