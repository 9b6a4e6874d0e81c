"""Component ids of the lesson framework.

Ids are dicts so that one set of pattern-matching callbacks serves every
lesson and every player, and no two pages share an id.
"""

import json


def lesson_id(kind: str, lesson: str, **extra) -> dict:
    """Id of a lesson-shell part, e.g. lesson_id("step", "perceptron")."""
    return {"type": f"ls-{kind}", "lesson": lesson, **extra}


def setting_id(lesson: str, name: str) -> dict:
    """Id of the control of setting `name` (read by the URL writer via ALL)."""
    return {"type": "ls-setting", "lesson": lesson, "name": name}


def player_id(kind: str, player: str, **extra) -> dict:
    """Id of a step-player part, e.g. player_id("slider", "perceptron-train")."""
    return {"type": f"pl-{kind}", "player": player, **extra}


def dom_id(component_id: dict) -> str:
    """The id a dict-id component has in the page (as Dash renders it), for `htmlFor`
    and `aria-describedby`."""
    return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
