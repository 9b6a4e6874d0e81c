"""Hostile values for fuzzing callbacks and links, and what a page says back."""

from __future__ import annotations

import json
import sys

#: Values a callback input or state may receive from a hand-made request:
#: missing, wrong-typed, non-finite, huge, nested and hostile.
HOSTILE_VALUES = [
    None, "", " ", "nan", "NaN", "inf", "-inf", "1e999", -1, 0, -0.0, 3.5, 1e308, -1e308, 10**9, 10**30,
    2**64, True, False, [], [1, 2], [None], [[[[[]]]]], {}, {"a": 1}, {"__proto__": {"x": 1}},
    "x" * 100_000, "<script>alert(1)</script>", "../../etc/passwd", "'; DROP TABLE runs; --",
    "\x00\x01", "💥" * 50, "__import__('os').system('true')", "1" * 400, "1.0.0.0", "0x10",
]

#: One of each kind of HOSTILE_VALUES, tried on every single input (the whole
#: list is tried on all inputs at once): building a lesson's figures for each
#: of ~40 values times ~20 inputs would take minutes.
HOSTILE_SAMPLE = [None, "nan", 10**30, [1, 2], {"a": 1}, "x" * 100_000]

#: Text values for link parameters (everything in a URL is text).
HOSTILE_TEXT = [
    "", " ", "nan", "inf", "-inf", "1e999", "-1", "0", "3.5", "1e308", "1000000000", "1" * 400,
    "true", "[]", "{}", "<script>alert(1)</script>", "../../etc/passwd", "%00", "\x00", "💥" * 30,
    "x" * 5000, "__import__('os')", "0x10", "1,5", "None",
]

#: A value invalid for every kind of setting (number, choice, on/off, pattern text).
INVALID = "<script>"


def page_schema(page: dict):
    """The lesson's settings schema (`SCHEMA` in its module), or None."""
    module = sys.modules.get(page.get("module", ""))
    return getattr(module, "SCHEMA", None)


def response_text(response) -> str:
    """The decoded body of a Flask test response, as text."""
    return response.get_data(as_text=True)


def notices_of(response, lesson: str) -> str:
    """What a callback response writes into the lesson's notices, as text ('' if nothing)."""
    try:
        data = json.loads(response.get_data(as_text=True))["response"]
    except (ValueError, KeyError, TypeError):
        return ""
    for key, props in data.items():
        if key.startswith("{") and json.loads(key) == {"type": "ls-notices", "lesson": lesson}:
            return json.dumps(props.get("children"), ensure_ascii=False)
    return ""


def fresh_run_bodies(app, count: int, per_lesson: bool = False) -> list[dict]:
    """Request bodies for training runs nobody asked for: each lesson's callback
    that writes its notices, at the last step, with a random value of its
    widest int setting (a seed, usually). per_lesson: one body per lesson."""
    import random

    from app import warmup

    candidates = []
    for page in warmup.lesson_pages():
        view, schema = warmup.Page.render(app, page), page_schema(page)
        key = warmup.step_key(view)
        ints = [s for s in (schema.settings if schema else ()) if s.kind == "int" and s.high - s.low >= 1000]
        if key and ints:
            candidates.append((page, view, key, max(ints, key=lambda s: s.high - s.low)))
    callbacks = warmup.server_callbacks(app)
    bodies = []
    for i in range(len(candidates) if per_lesson else count):
        page, view, key, setting = candidates[i % len(candidates)]
        value = setting.low + 1 + random.randrange(int(setting.high - setting.low) - 1)
        setting_ids = [id_ for id_, _ in view.components.values() if isinstance(id_, dict)
                       and id_.get("type") == "ls-setting" and id_.get("name") == setting.name]
        if not setting_ids:
            continue
        changed = f"{warmup.stringify(setting_ids[0])}.value"
        for callback in callbacks:
            writes_notices = any(isinstance(o.id, dict) and o.id.get("type") == "ls-notices" for o in callback.outputs)
            # A background lesson's quick answer computes nothing: it hands a new run to its worker.
            hands_over = any(isinstance(o.id, dict) and o.id.get("type") == "ls-compute" for o in callback.outputs)
            if writes_notices and not callback.background and not hands_over \
                    and warmup.triggered_by(callback, view, changed):
                bodies += warmup.request_bodies(view, callback, {key: int(page["steps"]) - 1, changed: value},
                                                [changed])[:1]
                break
    return bodies
