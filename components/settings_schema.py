"""One schema per lesson for its settings: parsed from the URL, checked on the
server, written back to the URL (after TensorFlow Playground's `state.ts`).

Every raw value (a query-string string, a widget's number, None, garbage) goes
through `Schema.clean`, which returns valid values and a notice for every
value it had to replace, so a visitor always gets a working page and a clear
message. A key `<name>_hide=1` in a link hides that setting's control.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlencode


@dataclass(frozen=True)
class Setting:
    """One setting of a lesson.

    kind: "int" | "float" | "choice" | "bool" | "text".
    low / high: inclusive limits for numbers; choices: allowed values for "choice";
    pattern: a regular expression a "text" value must match in full, and
    pattern_help: how to say so to a visitor.
    help: a line under the control (numbers default to their limits);
    widget: "" (the kind's usual control), "radio" (a choice as radio buttons)
        or "hidden" (no control shown: another part of the page writes it);
    labels: a label per choice, in the order of `choices`; for "bool", the
        checkbox's own label.
    max_length: the most characters a "text" value may have;
    check: for "text", instead of `pattern`, a function returning the value to use
        or raising ValueError whose words say what is wrong (shown to the visitor).
    """

    name: str
    label: str
    kind: str
    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    pattern: str = ""
    pattern_help: str = ""
    help: str = ""
    widget: str = ""
    labels: tuple = ()
    max_length: int = 400
    check: Callable[[str], str] | None = None

    def describe_limit(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.kind == "bool":
            return "on or off"
        if self.kind == "text":
            return self.pattern_help
        return f"a number from {_fmt(self.low)} to {_fmt(self.high)}"

    def parse(self, raw) -> object:
        """The valid value for `raw`; raises ValueError with the limit if none."""
        if self.kind == "choice":
            for choice in self.choices:
                if str(raw).strip() == str(choice):
                    return choice
            raise ValueError
        if self.kind == "text":
            text = str(raw).strip()
            if len(text) > self.max_length:
                raise ValueError(f"more than {self.max_length:,} characters" if self.check else "")
            if self.check is not None:
                return self.check(text)
            if not re.fullmatch(self.pattern, text):
                raise ValueError
            return text
        if self.kind == "bool":
            if isinstance(raw, list):  # a checklist's value
                return bool(raw)
            text = str(raw).strip().lower()
            if raw is True or text in {"1", "true", "yes", "on"}:
                return True
            if raw is False or text in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        if isinstance(raw, bool) or raw is None or len(str(raw)) > 40:
            raise ValueError
        number = float(raw)
        if not math.isfinite(number):
            raise ValueError
        if self.kind == "int":
            if number != int(number):
                raise ValueError
            number = int(number)
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise ValueError
        return number


def _fmt(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


@dataclass(frozen=True)
class Schema:
    """The settings of one lesson, in display order."""

    settings: tuple[Setting, ...]

    def __post_init__(self):
        names = [s.name for s in self.settings]
        if len(set(names)) != len(names):
            raise ValueError("duplicate setting names")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.settings)

    def defaults(self) -> dict:
        return {s.name: s.default for s in self.settings}

    def check(self, raw: dict) -> tuple[dict, dict[str, str]]:
        """Valid values for every setting, and a notice per replaced one, by setting name.

        Missing keys take their default silently; present but invalid ones
        take their default with a notice naming the limit.
        """
        values, notices = {}, {}
        for setting in self.settings:
            if setting.name not in raw or raw[setting.name] in ("", None):
                values[setting.name] = setting.default
                continue
            try:
                values[setting.name] = setting.parse(raw[setting.name])
            except (ValueError, TypeError, OverflowError) as error:
                values[setting.name] = setting.default
                shown = str(raw[setting.name])[:40]
                if setting.check is not None and str(error):
                    notices[setting.name] = f"{setting.label}: {error}; using {_fmt(setting.default) or 'none'}."
                    continue
                notices[setting.name] = (
                    f"{setting.label}: “{shown}” is not allowed ({setting.describe_limit()}); "
                    f"using {_fmt(setting.default)}."
                )
        return values, notices

    def clean(self, raw: dict) -> tuple[dict, list[str]]:
        """`check`, with the notices as a list in display order."""
        values, notices = self.check(raw)
        return values, list(notices.values())

    def get(self, name: str) -> Setting:
        return next(s for s in self.settings if s.name == name)

    def next_value(self, name: str, raw) -> str:
        """The int setting `name` one above `raw` (cleaned first), back to its low limit after its high."""
        setting = self.get(name)
        value = self.clean({name: raw})[0][name]
        return str(int(setting.low if value >= setting.high else value + 1))

    def hidden(self, raw: dict) -> set[str]:
        """Names of settings a link asks to hide (`<name>_hide=1`)."""
        return {s.name for s in self.settings if str(raw.get(f"{s.name}_hide", "")).strip() in {"1", "true"}}

    def to_query(self, values: dict, step: int | None = None) -> str:
        """A query string (without '?') holding the non-default values."""
        pairs = [] if step is None else [("step", step)]
        for setting in self.settings:
            value = values.get(setting.name, setting.default)
            if value != setting.default:
                pairs.append((setting.name, int(value) if value is True or value is False else value))
        return urlencode(pairs)


def parse_step(raw, n_steps: int) -> tuple[int, list[str]]:
    """The 0-based step index for a 1-based `?step=` value, and a notice if invalid."""
    if raw in (None, ""):
        return 0, []
    try:
        step = int(str(raw).strip())
        if 1 <= step <= n_steps:
            return step - 1, []
    except ValueError:
        pass
    return 0, [f"Step “{str(raw)[:20]}” does not exist (1 to {n_steps}); starting at step 1."]
