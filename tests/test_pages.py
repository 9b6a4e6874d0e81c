"""Every registered page builds its layout, from any query, with unique ids."""

import json

import dash
import pytest
from dash.development.base_component import Component

from app.main import app

PAGES = list(dash.page_registry.values())
GARBAGE_QUERY = {"step": "-3", "lr": "nan", "epochs": "1e9", "seed": "-1", "optimizer": "<script>",
                 "songs": "2222", "unknown": "x" * 5000, "present": "[]"}


def walk(component):
    yield component
    children = getattr(component, "children", None)
    if isinstance(children, Component):
        yield from walk(children)
    elif isinstance(children, (list, tuple)):
        for child in children:
            if isinstance(child, Component):
                yield from walk(child)


def ids_of(tree):
    return [json.dumps(c.id, sort_keys=True) if isinstance(c.id, dict) else c.id
            for c in walk(tree) if getattr(c, "id", None) is not None]


def test_every_lesson_is_registered_with_its_metadata():
    lessons = [p for p in PAGES if p.get("lesson")]
    assert lessons, "no lesson pages registered"
    for page in lessons:
        assert page["description"] and page["icon"] and page["steps"] >= 3
        assert page["path"].startswith("/")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p["path"])
@pytest.mark.parametrize("query", [{}, GARBAGE_QUERY], ids=["plain", "garbage"])
def test_every_page_builds_its_layout(page, query):
    with app.server.test_request_context():
        tree = page["layout"](**query)
    assert isinstance(tree, Component)


def test_no_duplicate_component_ids_anywhere():
    with app.server.test_request_context():
        trees = [p["layout"]() for p in PAGES] + [app.layout]
    ids = [i for tree in trees for i in ids_of(tree)]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates


def test_healthz_and_compression():
    client = app.server.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == "gzip"


@pytest.mark.parametrize("path", ["/no-such-lesson", "/perceptron/../../etc/passwd", "/%00"])
def test_unknown_paths_still_serve_the_app(path):
    response = app.server.test_client().get(path)
    assert response.status_code in (200, 404)
