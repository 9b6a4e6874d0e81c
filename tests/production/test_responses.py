"""Whole callback answers from the cache (app.responses): only for callbacks
declared pure, the same bytes Dash answers, compressed once per encoding, the
same headers, keyed by the whole body (which input fired included) but not the
page load's token, and never an error, a job handle or a forged poll."""

from __future__ import annotations

import gzip
import json
import re
import time
import urllib.parse

import brotli
import pytest

from app import cache as site_cache
from app import pure_callbacks, warmup
from app.background import CACHED_JOB
from app.main import app
from app.responses import answer_key
from tests.production.jobs import decision_boundaries_job

CLIENT = app.server.test_client()
URL = warmup.UPDATE_URL


def page_load_token() -> str:
    """The `endId` a browser's page load repeats on every callback request."""
    html = CLIENT.get("/").get_data(as_text=True)
    return re.search(r'"end_id":\s*"([^"]+)"', html).group(1)


def lesson_request(tag: str, pure: bool = True) -> tuple[object, dict]:
    """(callback, body) of a request that a lesson's step change makes: of its
    step callback (declared pure by the lesson engine), or of another callback
    (pure=False); `tag` makes the body unlike any other test's, so that its
    first request is a miss."""
    page = warmup.lesson_pages()[0]
    view = warmup.Page.render(app, page)
    step = warmup.step_key(view)
    callback, body = next((cb, bodies[0]) for cb in warmup.server_callbacks(app) if not cb.background
                          and pure_callbacks.is_pure(app.callback_map[cb.output]) == pure
                          and warmup.triggered_by(cb, view, step)
                          and (bodies := warmup.request_bodies(view, cb, {step: 1}, [step])))
    return callback, {**body, "changedPropIds": body["changedPropIds"] + [f"{tag}.value"]}


def counting(monkeypatch, callback) -> list:
    """Count the runs of `callback` (it still answers as before)."""
    calls = []
    original = app.callback_map[callback.output]["callback"]

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setitem(app.callback_map[callback.output], "callback", counted)
    return calls


@pytest.fixture
def frozen(monkeypatch):
    """freeze(callback): from now on running it fails the test."""

    def freeze(callback):
        def must_not_run(*_args, **_kwargs):
            raise AssertionError("the callback ran again")

        monkeypatch.setitem(app.callback_map[callback.output], "callback", must_not_run)

    return freeze


def test_a_repeated_callback_request_is_answered_from_the_cache(frozen):
    callback, body = lesson_request("repeated")
    first = CLIENT.post(URL, json=body)
    assert first.status_code == 200
    frozen(callback)
    second = CLIENT.post(URL, json=body)
    assert second.status_code == 200 and second.get_data() == first.get_data()


def test_a_callback_not_declared_pure_always_reaches_dash(monkeypatch):
    callback, body = lesson_request("impure", pure=False)
    calls = counting(monkeypatch, callback)
    answers = [CLIENT.post(URL, json=body) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200] and answers[0].get_data() == answers[1].get_data()
    assert len(calls) == 2 and answer_key(app, body, {}) is None


def test_which_input_fired_is_part_of_the_key(monkeypatch):
    """The step callback reads `dash.ctx.triggered_id`: the same values with
    another input firing are another request."""
    callback, body = lesson_request("fired")
    calls = counting(monkeypatch, callback)
    other = {**body, "changedPropIds": ["fired-elsewhere.value"]}
    assert answer_key(app, body, {}) != answer_key(app, other, {})
    for request_body in (body, other, body, other):
        assert CLIENT.post(URL, json=request_body).status_code == 200
    assert len(calls) == 2


def test_every_encoding_decodes_to_the_body_dash_answered(frozen):
    callback, body = lesson_request("encodings")
    plain = CLIENT.post(URL, json=body, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    dash_answer = plain.get_data()
    assert len(dash_answer) > 500            # large enough to be compressed
    frozen(callback)
    for accept, encoding, decode in (("gzip", "gzip", gzip.decompress),
                                     ("gzip, deflate, br, zstd", "br", brotli.decompress)):
        for _ in range(2):                   # encoded once from the stored answer, then stored encoded
            answer = CLIENT.post(URL, json=body, headers={"Accept-Encoding": accept})
            assert answer.headers["Content-Encoding"] == encoding
            assert decode(answer.get_data()) == dash_answer
    assert CLIENT.post(URL, json=body).get_data() == dash_answer


def test_a_cached_answer_has_the_headers_of_a_computed_one(frozen):
    callback, body = lesson_request("headers")
    headers = {"Accept-Encoding": "br"}
    computed = CLIENT.post(URL, json=body, headers=headers)
    frozen(callback)
    cached = CLIENT.post(URL, json=body, headers=headers)
    assert cached.get_data() == computed.get_data()
    assert dict(cached.headers) == dict(computed.headers)
    assert cached.headers["Vary"] == "Accept-Encoding" and cached.headers["Content-Encoding"] == "br"
    assert cached.headers["X-Content-Type-Options"] == "nosniff"
    assert cached.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_the_page_load_token_is_not_part_of_the_key(frozen):
    callback, body = lesson_request("token")
    first = CLIENT.post(f"{URL}?endId={page_load_token()}", json=body)
    frozen(callback)
    second = CLIENT.post(f"{URL}?endId={page_load_token()}", json=body)
    assert second.status_code == 200 and second.get_data() == first.get_data()


def test_other_query_arguments_and_errors_reach_dash(monkeypatch):
    callback, body = lesson_request("errors")
    calls = []

    def failing(*_args, **_kwargs):
        calls.append(1)
        raise RuntimeError("a bug")

    monkeypatch.setitem(app.callback_map[callback.output], "callback", failing)
    for _ in range(2):
        assert CLIENT.post(URL, json=body).status_code == 500
    assert len(calls) == 2                   # an error is never kept as the answer
    assert site_cache.get(answer_key(app, body, {}) + ":identity") == (False, None)
    assert answer_key(app, body, {"endId": "x", "other": "1"}) is None


def nulled(body: dict) -> dict:
    """The body of a poll, as the browser sends it: the inputs' values left out."""
    poll = json.loads(json.dumps(body))
    for entry in poll["inputs"] + poll.get("state", []):
        if isinstance(entry, dict):
            entry["value"] = None
    return poll


def run_job(body: dict, token: str, wait_polls: int = 600) -> tuple[str, bytes]:
    """Start a background callback as the browser does, poll until its answer: (job, answer)."""
    handle = CLIENT.post(f"{URL}?endId={token}", json=body).get_json()
    query = urllib.parse.urlencode({"endId": token, "cacheKey": handle["cacheKey"], "job": handle["job"]})
    for _ in range(wait_polls):
        answer = CLIENT.post(f"{URL}?{query}", json=nulled(body))
        assert answer.status_code == 200
        if b'"response"' in answer.get_data():
            return handle["job"], answer.get_data()
        time.sleep(0.1)
    raise AssertionError("no answer from the background callback")


def declared_pure(monkeypatch, spec: dict) -> None:
    """Declare a callback pure for this test (if its lesson has not yet)."""
    outputs = spec["output"] if isinstance(spec["output"], list) else [spec["output"]]
    signature = pure_callbacks.signature(outputs, [*spec["inputs"], *spec["state"]])
    monkeypatch.setattr(pure_callbacks, "PURE", pure_callbacks.PURE | {signature})


def test_a_stored_background_result_is_polled_from_the_cache(monkeypatch):
    page = next(p for p in warmup.lesson_pages() if p["path"] == "/decision-boundaries")
    callbacks = warmup.server_callbacks(app)
    body = decision_boundaries_job(app, page, callbacks)
    declared_pure(monkeypatch, app.callback_map[body["output"]])
    _, first = run_job(body, page_load_token())           # computed (or already stored by a run before)
    job, second = run_job(body, page_load_token())        # stored: polled once through Dash, then kept
    assert job.startswith(CACHED_JOB + "~") and second == first

    def no_store(*_args):
        raise AssertionError("the result was read from the job store again")

    with monkeypatch.context() as patch:
        patch.setattr(app._background_manager, "get_result", no_store)
        job, third = run_job(body, page_load_token())      # another page load: its own handles
    assert job.startswith(CACHED_JOB + "~") and third == first

    # a handle that is not the server's is never answered from the cache
    forged = urllib.parse.urlencode({"endId": page_load_token(), "cacheKey": "0" * 64 + "~forged",
                                     "job": CACHED_JOB + "~forged"})
    assert CLIENT.post(f"{URL}?{forged}", json=nulled(body)).status_code == 204


def test_a_background_lessons_quick_answer_is_kept_whole_but_never_as_a_hand_over(monkeypatch, frozen):
    """The decision-boundaries step callback answers at once from the cache when it can
    (pure: kept like any step answer), else hands the step to its background job: that
    answer depends on what the cache holds now and must never be kept."""
    from app.cache import NotCached
    from pages.decision_boundaries import ENGINE

    page = next(p for p in warmup.lesson_pages() if p["path"] == "/decision-boundaries")
    view = warmup.Page.render(app, page)
    step = warmup.step_key(view)
    callback, body = next((cb, bodies[0]) for cb in warmup.server_callbacks(app) if not cb.background
                          and pure_callbacks.is_pure(app.callback_map[cb.output])
                          and warmup.triggered_by(cb, view, step)
                          and (bodies := warmup.request_bodies(view, callback=cb, overrides={step: 0},
                                                               changed=[step])))
    body = {**body, "changedPropIds": body["changedPropIds"] + ["quick-answer.value"]}
    key = answer_key(app, body, {})

    def not_cached(*_args, **_kwargs):
        raise NotCached("the step's runs")

    with monkeypatch.context() as patch:
        patch.setattr(ENGINE, "answer", not_cached)
        handed = CLIENT.post(URL, json=body)
    handed_over = [value for output_id, props in handed.get_json()["response"].items() if "compute" in output_id
                   for value in props.values()]
    assert handed.status_code == 200 and handed_over and handed_over[0]["step"] == 0
    assert site_cache.get(key + ":identity") == (False, None)
    with app.server.app_context():
        ENGINE.answer(None, handed_over[0])                # the runs, as the background job computes them
    whole = CLIENT.post(URL, json=body)
    assert whole.status_code == 200 and whole.get_data() != handed.get_data()
    frozen(callback)
    again = CLIENT.post(URL, json=body)
    assert again.status_code == 200 and again.get_data() == whole.get_data()
