"""Controls built from a lesson's settings schema: label, widget, limits and help
come from each `Setting`, so nothing is written twice.

Every control has a note beside it (`field_note_id`) where the step callback
says why a value was replaced; clicking a label focuses its field.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from dash import dcc, html

from components.ids import dom_id, lesson_id, setting_id
from components.settings_schema import Schema, Setting


def field_note_id(lesson: str, name: str) -> dict:
    return lesson_id("field-note", lesson, name=name)


def widget_value(setting: Setting, value):
    """`value` as the setting's widget holds it (text inputs hold strings, checkboxes lists)."""
    if setting.kind == "bool":
        return ["on"] if value else []
    if setting.kind == "choice":
        return value
    return str(value)


def help_text(setting: Setting) -> str:
    if setting.help or setting.kind not in ("int", "float"):
        return setting.help
    return f"{setting.low:,g} to {setting.high:,g}"


def widget(lesson: str, setting: Setting, value):
    """The control of one setting, with id `setting_id(lesson, setting.name)`."""
    component_id = setting_id(lesson, setting.name)
    shown = widget_value(setting, value)
    if setting.widget == "hidden":
        return dcc.Input(id=component_id, type="hidden", value=shown)
    if setting.kind == "choice":
        labels = setting.labels or tuple(str(c) for c in setting.choices)
        options = [{"label": label, "value": choice} for choice, label in zip(setting.choices, labels)]
        if setting.widget == "radio":
            return dcc.RadioItems(id=component_id, options=options, value=shown, className="ls-radio", inline=True)
        return dcc.Dropdown(id=component_id, options=options, value=shown, clearable=False)
    if setting.kind == "bool":
        label = setting.labels[0] if setting.labels else setting.label
        return dcc.Checklist(id=component_id, options=[{"label": f" {label}", "value": "on"}], value=shown,
                             className="ls-checklist")
    mode = {"int": "numeric", "float": "decimal"}.get(setting.kind, "text")
    return dcc.Input(id=component_id, type="text", value=shown, debounce=True, inputMode=mode,
                     autoComplete="off")


def setting_control(lesson: str, setting: Setting, value, *, hidden: bool = False) -> html.Div:
    """A labelled control, its help line and the note where a replaced value is explained."""
    if setting.widget == "hidden":
        return html.Div([widget(lesson, setting, value),
                         html.Small(id=field_note_id(lesson, setting.name), className="ls-field-note",
                                    role="status")], className="ls-control is-hidden")
    help_line = help_text(setting)
    return html.Div(
        [html.Label(setting.label, htmlFor=dom_id(setting_id(lesson, setting.name)), className="ls-control-label"),
         widget(lesson, setting, value)]
        + ([html.Small(help_line, className="ls-control-help")] if help_line else [])
        + [html.Small(id=field_note_id(lesson, setting.name), className="ls-field-note", role="status",
                      **{"aria-live": "polite"})],
        className="ls-control is-hidden" if hidden else "ls-control",
    )


def setting_controls(lesson: str, schema: Schema, values: Mapping, hidden: set,
                     names: Sequence[str] | None = None) -> list[html.Div]:
    """Controls of `names` (every setting by default), in that order."""
    return [setting_control(lesson, schema.get(name), values[name], hidden=name in hidden)
            for name in (names or schema.names)]
