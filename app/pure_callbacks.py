"""Callbacks whose answers the response cache may keep (app.responses).

A callback is pure when its answer depends on its request body alone: the
values of its inputs and states, and which of them changed
(`changedPropIds`, what `dash.ctx.triggered_id` reads; it is part of the
cache key). Not on the time, chance, the visitor's session, files, or the
page load's token. Declare one with `pure_callback`, used exactly like
`dash.callback`; every other callback always reaches Dash.

A callback is recognised by its outputs and its inputs and states (Dash
allows one callback per such set). The declarations are made at import, as
Dash's own list of callbacks is, and only read afterwards.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import dash
from dash.dependencies import DashDependency

#: (outputs, inputs and states), each a frozenset of (component id as Dash
#: writes it, property) pairs.
Signature = tuple

#: Signatures of the callbacks declared pure (filled at import, read after).
PURE: set[Signature] = set()


def _dependencies(value) -> Iterator[DashDependency]:
    """Every Output, Input and State in `value` (nested lists, tuples, dicts)."""
    if isinstance(value, DashDependency):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _dependencies(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _dependencies(item)


def signature(outputs: Iterable[DashDependency], dependencies: Iterable[dict]) -> Signature:
    """A callback's identity: its outputs, and its inputs and states as
    {"id", "property"} dicts (as `Input.to_dict()` and `app.callback_map` give them)."""
    return (frozenset((o.component_id_str(), o.component_property) for o in outputs),
            frozenset((d["id"], d["property"]) for d in dependencies))


def pure_callback(*args, **kwargs):
    """`dash.callback(*args, **kwargs)`, declaring the callback pure.

    Only the dependencies that identify it are read (positional ones and
    output=, inputs=, state=); background options such as progress= are not.
    """
    declared = list(_dependencies([args, kwargs.get("output"), kwargs.get("inputs"), kwargs.get("state")]))
    outputs = [d for d in declared if isinstance(d, dash.Output)]
    inputs = [d.to_dict() for d in declared if not isinstance(d, dash.Output)]
    PURE.add(signature(outputs, inputs))
    return dash.callback(*args, **kwargs)


def is_pure(spec) -> bool:
    """Is the callback of this `app.callback_map` entry declared pure? False
    for anything unexpected (then Dash answers it, as for any callback)."""
    try:
        outputs = spec["output"]
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return signature(outputs, [*spec["inputs"], *spec["state"]]) in PURE
    except (KeyError, TypeError, AttributeError):
        return False
