"""Every URL parameter of every page, fuzzed: each page's `layout(**query)`
builds, the page is served, and the router callback that renders it in the
browser answers with the page and a message naming any value it replaced.

Pages and their parameters come from the running app (`dash.page_registry`,
each lesson's settings `SCHEMA`), never from a list kept here.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import dash
import pytest
from dash.development.base_component import Component

from app import warmup
from app.main import app
from tests.production.hostile import HOSTILE_TEXT, INVALID, page_schema

CLIENT = app.server.test_client()
PAGES = list(dash.page_registry.values())
#: Dash's page router (a background callback's cancel also listens to the location).
ROUTER = next(cb for cb in warmup.server_callbacks(app)
              if any(d.id == "_pages_content" for d in cb.outputs))
#: One of each kind of HOSTILE_TEXT, tried on every single parameter.
TEXT_SAMPLE = ["", "nan", "-1", "1e308", "1" * 400, "<script>alert(1)</script>", "\x00", "x" * 5000, "[]"]


def parameters(page: dict) -> list[str]:
    schema = page_schema(page)
    names = list(schema.names) if schema else []
    return ["step", "present", *names, *[f"{n}_hide" for n in names], "unknown", ""]


def render(page: dict, query: dict):
    with app.server.test_request_context(page["path"]):
        return page["layout"](**query)


def route(path: str, search: str):
    view = warmup.Page.render(app, dash.page_registry[next(iter(dash.page_registry))])
    view.components["_pages_location"] = ("_pages_location", {"pathname": path, "search": search})
    body = warmup.request_bodies(view, ROUTER, changed=["_pages_location.pathname"])[0]
    return CLIENT.post(warmup.UPDATE_URL, json=body)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p["path"])
def test_every_parameter_with_hostile_text_builds_the_page(page):
    failures = []
    for name in parameters(page):
        for value in TEXT_SAMPLE:
            try:
                tree = render(page, {name: value})
                assert isinstance(tree, Component)
            except Exception as error:  # report every failing parameter, not just the first
                failures.append(f"{name}={value[:20]!r}: {type(error).__name__}: {error}"[:200])
    for value in HOSTILE_TEXT:
        try:
            render(page, {name: value for name in parameters(page)})
        except Exception as error:
            failures.append(f"all={value[:20]!r}: {type(error).__name__}: {error}"[:200])
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p["path"])
def test_repeated_and_odd_keys_build_the_page(page):
    names = parameters(page)
    for query in ({n: ["1", "2"] for n in names}, {"a b": "1", "%00": "x", "step[]": "1", "__class__": "x"}):
        assert isinstance(render(page, query), Component)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p["path"])
def test_the_page_is_served_for_a_hostile_link(page):
    query = urlencode({name: "<script>alert(1)</script>" for name in parameters(page)})
    response = CLIENT.get(f"{page['path']}?{query}&step=1e999&step=-1")
    assert response.status_code == 200
    assert b"<script>alert(1)</script>" not in response.get_data()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p["path"])
def test_the_router_renders_it_and_names_each_replaced_value(page):
    schema = page_schema(page)
    names = list(schema.names) if schema else []
    search = "?" + urlencode({"step": "99999", **{name: INVALID for name in names}})
    response = route(page["path"], search)
    assert response.status_code == 200
    text = json.dumps(response.get_json(), ensure_ascii=False)
    if page.get("lesson"):
        assert "does not exist" in text, "no message about the step"
        for setting in schema.settings if schema else ():
            assert setting.label in text, f"no message naming {setting.name}"


@pytest.mark.parametrize("path", ["/no-such-page", "//", "/%00", "/perceptron/../../etc/passwd", "/" + "x" * 3000])
def test_odd_paths_are_answered(path):
    assert CLIENT.get(path).status_code in (200, 308, 404)
    assert route(path, "?step=1").status_code == 200
