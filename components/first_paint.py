"""The narration of a lesson's step in the first answer the browser gets.

Dash draws a page only after its scripts, its layout and the page's callback
have arrived. Until then the visitor would see a blank page; instead the index
page holds the step's title and narration, rendered here on the server (the
same HTML as `components.narration_html`), which React replaces when it draws.
"""

from __future__ import annotations

import html as html_text
import sys
from typing import Mapping

import dash

from components.narration_html import markdown_html

ENTRY = '<div id="react-entry-point">'


def lesson_steps(path: str):
    """The narrated steps of the lesson page at `path`, or None."""
    for page in dash.page_registry.values():
        if page.get("lesson") and page.get("relative_path") == path:
            return getattr(sys.modules.get(page["module"]), "STEPS", None)
    return None


def step_html(steps, raw_step) -> str:
    """The narration panel of the step `?step=` names (1-based; step 1 if it is not a step)."""
    try:
        index = int(str(raw_step)) - 1 if raw_step not in (None, "") else 0
    except ValueError:
        index = 0
    index = index if 0 <= index < len(steps) else 0
    step = steps[index]
    return (f'<div class="ls-first-paint"><aside class="ls-narration">'
            f'<div class="ls-progress">Step {index + 1} of {len(steps)}</div>'
            f'<div class="ls-steps"><article class="ls-step is-current"><h2>{html_text.escape(step.title)}</h2>'
            f'<div class="ls-markdown">{markdown_html(step.body)}</div></article></div></aside></div>')


def app_entry(entry: str, path: str, args: Mapping) -> str:
    """Dash's `app_entry` markup with the step's narration in place of "Loading..."."""
    steps = lesson_steps(path)
    if not steps or ENTRY not in entry:
        return entry
    return f'{ENTRY}{step_html(steps, args.get("step"))}</div>'
