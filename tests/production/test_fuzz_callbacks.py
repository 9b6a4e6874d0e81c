"""Every server callback of the running app, sent malformed, missing, wrong-typed,
huge and hostile values: no response may be a server error.

Callbacks are read from the app (`/_dash-dependencies`, as the browser reads
them) and request bodies are built from the components each page really
renders (app.warmup), so a lesson added tomorrow is fuzzed without a change here.
"""

from __future__ import annotations

import copy
import dataclasses
import json

import dash
import pytest

from app import background, warmup
from app.config import settings
from app.main import app
from tests.production.hostile import HOSTILE_SAMPLE, HOSTILE_VALUES, INVALID, notices_of, page_schema

OK_STATUSES = {200, 204, 400, 413}
CLIENT = app.server.test_client()
CALLBACKS = warmup.server_callbacks(app)


@pytest.fixture(autouse=True, scope="module")
def background_jobs_inline(tmp_path_factory):
    """Background callbacks run inside the request here (BACKGROUND=inline), so
    that each fuzzed job really runs, in this process, and its answer is checked."""
    manager, _ = background.make_manager(
        dataclasses.replace(settings, background="inline", background_dir=str(tmp_path_factory.mktemp("jobs"))),
        "fuzz")
    previous, app._background_manager = app._background_manager, manager
    yield
    app._background_manager = previous


def _cases() -> list[tuple[dict, warmup.Callback, dict]]:
    """(page, callback, realistic body) for each callback, on the first page where it fires."""
    seen, cases = set(), []
    for page in dash.page_registry.values():
        view = warmup.Page.render(app, page)
        for callback in CALLBACKS:
            if callback.output in seen:
                continue
            bodies = warmup.request_bodies(view, callback)
            if bodies:
                seen.add(callback.output)
                cases.append((page, callback, bodies[0]))
    return cases


CASES = _cases()


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _set_value(entry, value, *, drop: bool = False):
    items = entry if isinstance(entry, list) else [entry]
    for item in items:
        if drop:
            item.pop("value", None)
        else:
            item["value"] = value


def mutations(body: dict):
    """(label, body) with one input or state replaced by each kind of hostile
    value, then every hostile value in all inputs and states at once."""
    for part in ("inputs", "state"):
        for index, entry in enumerate(body[part]):
            where = f"{part}[{index}] {_id_of(entry)[:60]}"
            for value in HOSTILE_SAMPLE:
                mutated = copy.deepcopy(body)
                _set_value(mutated[part][index], value)
                mutated["changedPropIds"] = _changed(mutated[part][index])
                yield f"{where} = {_short(value)}", mutated
            mutated = copy.deepcopy(body)
            _set_value(mutated[part][index], None, drop=True)
            yield f"{where} missing", mutated
            if isinstance(entry, list):
                mutated = copy.deepcopy(body)
                mutated[part][index] = []
                yield f"{where} no matches", mutated
    for value in HOSTILE_VALUES:
        mutated = copy.deepcopy(body)
        for part in ("inputs", "state"):
            for entry in mutated[part]:
                _set_value(entry, value)
        yield f"everything = {_short(value)}", mutated


def _id_of(entry) -> str:
    first = entry[0] if isinstance(entry, list) and entry else entry
    return warmup.stringify(first.get("id")) if isinstance(first, dict) else ""


def _changed(entry) -> list[str]:
    items = entry if isinstance(entry, list) else [entry]
    return [f"{warmup.stringify(i['id'])}.{i['property']}" for i in items if isinstance(i, dict)]


def post(body) -> int:
    """The final status, as the browser would see it (background callbacks polled)."""
    return warmup.post(CLIENT, body).status_code


def test_every_page_has_its_callbacks_found():
    assert CALLBACKS, "no server callbacks found"
    lessons = {p["path"] for p in warmup.lesson_pages()}
    fired = {page["path"] for page, _cb, _body in CASES}
    assert lessons, "no lessons registered"
    # the router fires on the first page; every lesson with a step store fires something
    for page in warmup.lesson_pages():
        view = warmup.Page.render(app, page)
        assert any(warmup.request_bodies(view, cb) for cb in CALLBACKS), page["path"]
    assert fired


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[1].output[:70])
def test_hostile_values_never_give_a_server_error(case):
    _page, callback, body = case
    assert post(body) in (200, 204), "the realistic request itself fails"
    failures = []
    for label, mutated in mutations(body):
        status = post(mutated)
        if status not in OK_STATUSES:
            failures.append(f"{label}: HTTP {status}")
    assert not failures, f"{callback.output[:80]}:\n" + "\n".join(failures[:30])


def _structural(body: dict):
    yield "not an object", [1, 2, 3]
    yield "unknown output", {**body, "output": "nope.children"}
    yield "output not text", {**body, "output": ["x"]}
    yield "no inputs", {k: v for k, v in body.items() if k != "inputs"}
    yield "inputs not a list", {**body, "inputs": {"a": 1}}
    yield "one input short", {**body, "inputs": body["inputs"][:-1]}
    yield "one input too many", {**body, "inputs": body["inputs"] + [body["inputs"][0]]}
    yield "input not an object", {**body, "inputs": ["x"] * len(body["inputs"])}
    yield "input without id", {**body, "inputs": [{"property": "value"}] * len(body["inputs"])}
    yield "state not a list", {**body, "state": "x"}
    yield "no outputs", {k: v for k, v in body.items() if k != "outputs"}
    yield "outputs wrong", {**body, "outputs": 7}
    yield "outputs list of junk", {**body, "outputs": [1, 2]}
    yield "changed not a list", {**body, "changedPropIds": "x"}
    yield "changed unknown", {**body, "changedPropIds": ["nope.value", 5]}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[1].output[:70])
def test_malformed_requests_are_refused_not_crashed(case):
    _page, callback, body = case
    failures = [f"{label}: HTTP {post(bad)}" for label, bad in _structural(body) if post(bad) not in OK_STATUSES]
    assert not failures, f"{callback.output[:80]}:\n" + "\n".join(failures)


def test_bodies_that_are_not_json_or_too_big():
    assert CLIENT.post(warmup.UPDATE_URL, data="{not json", content_type="application/json").status_code == 400
    assert CLIENT.post(warmup.UPDATE_URL, data="x", content_type="text/plain").status_code in (400, 415)
    huge = json.dumps({"output": "x", "inputs": ["x" * (3 * 10**6)]})
    response = CLIENT.post(warmup.UPDATE_URL, data=huge, content_type="application/json")
    assert response.status_code == 413


def test_refusals_say_what_is_wrong():
    _page, _callback, body = CASES[0]
    response = CLIENT.post(warmup.UPDATE_URL, json={**body, "inputs": []})
    assert response.status_code == 400
    assert "inputs must be a list of" in response.get_json()["error"]


def _setting_cases():
    """(page, body) for callbacks that read a lesson's settings and write its notices."""
    for page, callback, body in CASES:
        writes_notices = any(isinstance(o.id, dict) and o.id.get("type") == "ls-notices" for o in callback.outputs)
        reads_settings = any(isinstance(e, dict) and isinstance(e["id"], dict) and e["id"].get("type") == "ls-setting"
                             for e in body["inputs"])
        if writes_notices and reads_settings:
            yield pytest.param(page, body, id=page.get("module", ""))


@pytest.mark.parametrize("page, body", list(_setting_cases()))
def test_every_invalid_setting_gives_a_message_naming_it(page, body):
    """All settings invalid at once, at the last step (free play, where every
    setting is in use): the page names each one in its notices."""
    mutated = copy.deepcopy(body)
    names = []
    for entry in mutated["inputs"]:
        if isinstance(entry, dict) and isinstance(entry["id"], dict):
            if entry["id"].get("type") == "ls-setting":
                entry["value"] = INVALID
                names.append(entry["id"]["name"])
            elif entry["id"].get("type") == "ls-step":
                entry["value"] = int(page.get("steps") or 1) - 1
    mutated["changedPropIds"] = [f"{warmup.stringify(e['id'])}.value" for e in mutated["inputs"]
                                 if isinstance(e, dict) and isinstance(e["id"], dict)
                                 and e["id"].get("type") == "ls-setting"]
    response = warmup.post(CLIENT, mutated)
    assert response.status_code == 200
    for handed in warmup.handed_over(warmup.Page.render(app, page), CALLBACKS, response):   # computed elsewhere
        response = warmup.post(CLIENT, handed)
        assert response.status_code == 200
    lesson = next(e["id"]["lesson"] for e in mutated["inputs"] if isinstance(e, dict) and isinstance(e["id"], dict)
                  and e["id"].get("type") == "ls-setting")
    notices = notices_of(response, lesson)
    schema = page_schema(page)
    labels = {s.name: s.label for s in schema.settings} if schema else {}
    unnamed = [n for n in names if labels.get(n, n) not in notices and n not in notices]
    assert not unnamed, f"no message naming {unnamed}: {notices[:300]}"
