"""Warm the cache, and replay what a visitor's browser asks of the server.

    python -m app.warmup            # every lesson, every step, default settings

The site learns nothing from a hand-kept list: pages come from
`dash.page_registry`, callbacks from the app's `/_dash-dependencies` (what the
browser itself reads), and each request body is built from the components a
page's `layout()` really renders. The same replay drives the cache warm-up
(run it on deploy, see README), the load benchmark and the fuzz tests.

A request here is the JSON body the browser POSTs to
`/_dash-update-component`: {"output", "outputs", "inputs", "state",
"changedPropIds"}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Iterator

import dash
from dash.development.base_component import Component

UPDATE_URL = "/_dash-update-component"
WILDCARDS = ("ALL", "MATCH", "ALLSMALLER")
#: How long the warm-up waits for one background callback to finish, seconds.
BACKGROUND_WAIT_S = 120.0


@dataclass(frozen=True)
class Dependency:
    """One (id, property) of a callback: id is a str or a dict whose wildcard
    values are ["ALL"], ["MATCH"] or ["ALLSMALLER"]."""

    id: object
    property: str

    @property
    def wildcard(self) -> str | None:
        if isinstance(self.id, dict):
            for value in self.id.values():
                if isinstance(value, list) and value and value[0] in WILDCARDS:
                    return value[0]
        return None


@dataclass(frozen=True)
class Callback:
    """A server-side callback as the browser sees it."""

    output: str                      # its key in app.callback_map
    outputs: tuple[Dependency, ...]
    inputs: tuple[Dependency, ...]
    state: tuple[Dependency, ...]
    multi: bool                      # several outputs (the response maps each)
    prevent_initial_call: bool
    background: bool


def _dependency(raw: dict) -> Dependency:
    text = raw["id"]
    return Dependency(json.loads(text) if text.startswith("{") else text, raw["property"])


def _split_output(output: str) -> list[Dependency]:
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    deps = []
    for part in parts:
        id_text, prop = part.rsplit(".", 1)
        deps.append(_dependency({"id": id_text, "property": prop.split("@")[0]}))
    return deps


def server_callbacks(app: dash.Dash) -> list[Callback]:
    """Every server-side (not clientside) callback of the running app."""
    dependencies = app.server.test_client().get("/_dash-dependencies").get_json()
    callbacks = []
    for spec in dependencies:
        if spec.get("clientside_function"):
            continue
        callbacks.append(Callback(
            output=spec["output"],
            outputs=tuple(_split_output(spec["output"])),
            inputs=tuple(_dependency(d) for d in spec["inputs"]),
            state=tuple(_dependency(d) for d in spec["state"]),
            multi=spec["output"].startswith(".."),
            prevent_initial_call=bool(spec.get("prevent_initial_call")),
            background=bool(spec.get("background")),
        ))
    return callbacks


def stringify(id_) -> str:
    """An id as Dash writes it in `changedPropIds` (dict keys sorted, compact)."""
    if isinstance(id_, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(id_[k])}" for k in sorted(id_)) + "}"
    return str(id_)


def _walk(node) -> Iterator[Component]:
    if isinstance(node, Component):
        yield node
        for name in getattr(node, "_prop_names", ()):
            yield from _walk(getattr(node, name, None))
    elif isinstance(node, (list, tuple)):
        for child in node:
            yield from _walk(child)


@dataclass
class Page:
    """The components a visitor's browser holds for one page: id -> props."""

    path: str
    components: dict = field(default_factory=dict)   # stringified id -> (id, props)

    @classmethod
    def render(cls, app: dash.Dash, page: dict, query: dict | None = None) -> "Page":
        """Render `page` (a `dash.page_registry` entry) inside the site frame."""
        site = app.layout() if callable(app.layout) else app.layout
        with app.server.test_request_context(page["path"]):
            tree = page["layout"](**(query or {})) if callable(page["layout"]) else page["layout"]
        view = cls(page["path"])
        for component in [*_walk(site), *_walk(tree)]:
            id_ = getattr(component, "id", None)
            if id_ is not None:
                props = component.to_plotly_json()["props"]
                view.components[stringify(id_)] = (id_, props)
        view.components["_pages_location"] = ("_pages_location", {"pathname": page["path"], "search": ""})
        return view

    def matches(self, dep: Dependency, match: dict | None = None) -> list:
        """Ids in the page a dependency addresses (several for ALL)."""
        if not isinstance(dep.id, dict):
            return [dep.id] if dep.id in self.components else []
        found = []
        for id_, _props in self.components.values():
            if not isinstance(id_, dict) or set(id_) != set(dep.id):
                continue
            ok = True
            for key, want in dep.id.items():
                if isinstance(want, list) and want and want[0] in WILDCARDS:
                    if want[0] == "MATCH" and match is not None and id_[key] != match.get(key):
                        ok = False
                elif id_[key] != want:
                    ok = False
            if ok:
                found.append(id_)
        return found

    def value(self, id_, prop: str, overrides: dict):
        """(present, value) of a property: an override, else what the layout set."""
        key = f"{stringify(id_)}.{prop}"
        if key in overrides:
            return True, overrides[key]
        props = self.components.get(stringify(id_), (None, {}))[1]
        return prop in props, props.get(prop)


def _entry(page: Page, id_, prop: str, overrides: dict) -> dict:
    present, value = page.value(id_, prop, overrides)
    return {"id": id_, "property": prop, **({"value": value} if present else {})}


def _match_groups(page: Page, callback: Callback) -> list[dict | None]:
    """The MATCH values a callback can fire with in this page ([None] if it has no MATCH)."""
    for dep in (*callback.inputs, *callback.outputs):
        if dep.wildcard == "MATCH":
            keys = [k for k, v in dep.id.items() if isinstance(v, list) and v and v[0] == "MATCH"]
            groups = []
            for id_ in page.matches(dep):
                group = {k: id_[k] for k in keys}
                if group not in groups:
                    groups.append(group)
            return groups
    return [None]


def request_bodies(page: Page, callback: Callback, overrides: dict | None = None,
                   changed: list[str] | None = None) -> list[dict]:
    """The bodies the browser would POST for `callback` in `page`.

    overrides: {"<stringified id>.<prop>": value} replacing layout values.
    changed: the props that triggered it ("<stringified id>.<prop>"); [] is
    the initial call. Empty if the callback's inputs are not in the page.
    """
    overrides = overrides or {}
    bodies = []
    for match in _match_groups(page, callback):
        def resolve(dep: Dependency, with_value: bool):
            ids = page.matches(dep, match)
            make = (lambda i: _entry(page, i, dep.property, overrides)) if with_value else \
                (lambda i: {"id": i, "property": dep.property})
            if dep.wildcard in ("ALL", "ALLSMALLER"):
                return [make(i) for i in ids]
            return make(ids[0]) if ids else None

        inputs = [resolve(d, True) for d in callback.inputs]
        if any(i is None for i in inputs):
            continue
        state = [resolve(d, True) for d in callback.state]
        outputs = [resolve(d, False) for d in callback.outputs]
        state = [s if s is not None else {"id": d.id, "property": d.property}
                 for s, d in zip(state, callback.state)]
        outputs = [o if o is not None else {"id": d.id, "property": d.property}
                   for o, d in zip(outputs, callback.outputs)]
        bodies.append({
            "output": callback.output,
            "outputs": outputs if callback.multi else outputs[0],
            "inputs": inputs,
            "state": state,
            "changedPropIds": list(changed or []),
        })
    return bodies


def triggered_by(callback: Callback, page: Page, key: str) -> bool:
    """Does a change of `key` ("<stringified id>.<prop>") fire `callback` in `page`?"""
    for dep in callback.inputs:
        for id_ in page.matches(dep):
            if f"{stringify(id_)}.{dep.property}" == key:
                return True
    return False


def compute_key(page: Page) -> str | None:
    """"<id>.data" of the store through which a background lesson's quick answer
    hands a step it cannot answer from the cache to its background callback."""
    return _store_key(page, "ls-compute")


def handed_over(page: Page, callbacks: list[Callback], response) -> list[dict]:
    """The background request a quick answer (`response`) hands over, as the
    browser would then POST it; [] when the answer came from the cache."""
    key = compute_key(page)
    data = response.get_json(silent=True) if key and response.status_code == 200 else None
    answer = data.get("response") if isinstance(data, dict) else None
    value = (answer.get(key.rsplit(".", 1)[0]) or {}).get("data") if isinstance(answer, dict) else None
    return [] if value is None else handover_bodies(page, callbacks, value)


def handover_bodies(page: Page, callbacks: list[Callback], value) -> list[dict]:
    """The background request for a step handed over with `value` (what the
    quick answer wrote into the page's compute store)."""
    key = compute_key(page)
    return [body for callback in callbacks if key and triggered_by(callback, page, key)
            for body in request_bodies(page, callback, {key: value}, [key])]


def lesson_pages() -> list[dict]:
    """Registered lesson pages, in their order."""
    pages = [p for p in dash.page_registry.values() if p.get("lesson")]
    return sorted(pages, key=lambda p: p.get("order", 0))


def step_key(page: Page) -> str | None:
    """"<id>.data" of the lesson's step store, if the page has one."""
    return _store_key(page, "ls-step")


def _store_key(page: Page, kind: str) -> str | None:
    """"<id>.data" of the page's first store whose id has type `kind`, or None."""
    for id_, _props in page.components.values():
        if isinstance(id_, dict) and id_.get("type") == kind:
            return f"{stringify(id_)}.data"
    return None


def page_load(app: dash.Dash, page: dict, callbacks: list[Callback]) -> list[tuple[str, dict]]:
    """(label, body) of every request a first visit of `page` makes: the page
    itself and every callback that fires when it appears."""
    view = Page.render(app, page)
    requests = []
    for callback in callbacks:
        if any(getattr(d, "id", None) == "_pages_location" for d in callback.inputs):
            for body in request_bodies(view, callback, changed=["_pages_location.pathname"]):
                requests.append((f"{page['path']} layout", body))
        elif not callback.prevent_initial_call:
            for body in request_bodies(view, callback):
                requests.append((f"{page['path']} load", body))
    return requests


def step_requests(app: dash.Dash, page: dict, callbacks: list[Callback],
                  overrides: dict | None = None) -> list[tuple[str, dict]]:
    """(label, body) of the requests moving through every step of a lesson
    makes (settings at their defaults unless overridden)."""
    view = Page.render(app, page)
    key = step_key(view)
    if key is None:
        return []
    requests = []
    for step in range(int(page.get("steps") or 1)):
        for callback in callbacks:
            if triggered_by(callback, view, key):
                for body in request_bodies(view, callback, {**(overrides or {}), key: step}, [key]):
                    requests.append((f"{page['path']} step {step + 1}", body))
    return requests


def work_ahead(page: dict) -> None:
    """The work its lesson engine says a step needs beyond its answer (`Lesson.ahead`:
    runs other callbacks of the page read, asked for by the browser one after another)."""
    from components.engine import Lesson

    module = sys.modules.get(page["module"])
    for engine in [v for v in vars(module).values() if isinstance(v, Lesson)] if module else []:
        for index in range(len(engine.steps)):
            engine.work_ahead(index)


def post(client, body: dict, wait_s: float = BACKGROUND_WAIT_S):
    """POST one callback request with a Flask test client; for a background
    callback, poll as the browser does until its result is there."""
    response = client.post(UPDATE_URL, json=body)
    handle = response.get_json(silent=True) if response.status_code == 200 else None
    if not (isinstance(handle, dict) and "cacheKey" in handle and "job" in handle):
        return response
    query = {"cacheKey": handle["cacheKey"], "job": handle["job"]}
    end = time.monotonic() + wait_s
    while True:
        # At once first: a job run inside the request (or quickly) is done already.
        response = client.post(UPDATE_URL, json=body, query_string=query)
        data = response.get_json(silent=True) if response.status_code == 200 else None
        if not isinstance(data, dict) or "response" in data:
            return response      # the result, no update (204) or an error
        if time.monotonic() >= end:
            return response
        time.sleep(0.1)


def warm(app: dash.Dash, only: list[str] | None = None, log=print) -> dict:
    """Compute every lesson's default runs (every step) into the cache.

    only: lesson paths to warm (default: all). Returns {"requests": n,
    "errors": [label, ...], "seconds": s}.
    """
    from app import prefetch

    prefetch.disable()   # every step is asked for here anyway
    start = time.perf_counter()
    callbacks = server_callbacks(app)
    client = app.server.test_client()
    done, errors = 0, []
    for page in lesson_pages():
        if only and page["path"] not in only:
            continue
        page_start = time.perf_counter()
        view = Page.render(app, page)
        requests = page_load(app, page, callbacks) + step_requests(app, page, callbacks)
        for label, body in requests:
            response = post(client, body)
            handed = handed_over(view, callbacks, response)
            for job in handed:
                response = post(client, job)
                done += 1
            if handed:   # asked again, now answered whole: kept by the response cache
                response = post(client, body)
                done += 1
            done += 1
            if response.status_code >= 500:
                errors.append(f"{label}: HTTP {response.status_code}")
        with app.server.app_context():
            work_ahead(page)
        log(f"warm-up: {page['path']}: {len(requests)} requests in {time.perf_counter() - page_start:.1f} s")
    return {"requests": done, "errors": errors, "seconds": time.perf_counter() - start}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.warmup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true",
                        help="warm even an in-process cache (useful only to time the warm-up)")
    parser.add_argument("--only", nargs="+", metavar="PATH", help="warm only these lessons (e.g. /perceptron)")
    args = parser.parse_args(argv)

    from app.config import settings
    if settings.cache_type == "simple" and not args.force:
        print("warm-up: the cache is in-process (CACHE_TYPE=simple), so a warm-up here would be lost; "
              "set CACHE_TYPE=filesystem or CACHE_REDIS_URL (see README), or pass --force.")
        return 0
    from app.main import app
    unknown = set(args.only or ()) - {p["path"] for p in lesson_pages()}
    if unknown:
        parser.error(f"no such lesson: {', '.join(sorted(unknown))}")
    summary = warm(app, args.only)
    print(f"warm-up: {summary['requests']} requests in {summary['seconds']:.1f} s, "
          f"{len(summary['errors'])} errors")
    for error in summary["errors"]:
        print(f"warm-up error: {error}", file=sys.stderr)
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
