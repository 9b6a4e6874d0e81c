"""Private Dash and Flask-Compress names (app.dash_internals): each one changed
in turn, as a new version might change it, the site still answers pages, a
lesson's step and a background lesson with 200 and the right content, falls
back to plain Dash for what needed the name, and logs exactly one warning."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
import types
from pathlib import Path

import brotli
import pytest

from app import dash_internals, pure_callbacks, warmup
from app.main import app
from app.responses import CachedAnswers
from tests.production.broken_internals import CASES

pytestmark = pytest.mark.production
ROOT = Path(__file__).resolve().parents[2]
ALL_WELL = {"page": [200, "text/html", True, True], "layout": [200, True], "step": [[200, 200, 200], True, True],
            "background": [[200, 200], True]}
#: case -> (response cache on, background polls from the cache, background manager)
FALLBACKS = {
    "nothing": (True, True, "Inline"),
    "choose-algorithm-missing": (False, True, "Inline"),
    "compress-data-signature": (False, True, "Inline"),
    "signing-import-fails": (True, False, "Inline"),
    "signing-secret-signature": (True, False, "Inline"),
    "progress-key-signature": (True, True, "Diskcache"),        # results reused, jobs in processes
    "job-method-signature": (True, True, "DiskcacheManager"),   # Dash's own
}


def run_case(case: str, tmp_path: Path) -> dict:
    env = {name: value for name, value in os.environ.items()
           if name not in ("CACHE_REDIS_URL", "CELERY_BROKER_URL", "CACHE_TYPE", "RESPONSE_CACHE")}
    env.update(BACKGROUND="inline", BACKGROUND_DIR=str(tmp_path / "jobs"), PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "tests.production.broken_internals", case], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("case", list(CASES))
def test_a_changed_private_name_costs_speed_not_answers(case, tmp_path):
    report = run_case(case, tmp_path)
    assert report["answers"] == ALL_WELL
    name = CASES[case][1]
    if name is None:
        assert report["warnings"] == []
    else:
        assert len(report["warnings"]) == 1, report["warnings"]
        assert name in report["warnings"][0] and "falling back to plain Dash" in report["warnings"][0]
    assert (report["response_cache"], report["poll_cache"], report["manager"]) == FALLBACKS[case]


def test_every_case_has_its_fallback():
    assert FALLBACKS.keys() == CASES.keys()


# --- In this process -------------------------------------------------------


def test_the_installed_versions_pass_every_check(caplog):
    with caplog.at_level(logging.WARNING, logger=dash_internals.log.name):
        internals = dash_internals.check()
    assert internals.problems == () and internals.encoding and internals.signing is not None
    assert internals.job_methods and internals.progress_key is not None
    assert caplog.records == []


def test_several_changes_are_one_warning(monkeypatch, caplog):
    stripped = types.ModuleType("flask_compress.flask_compress")
    monkeypatch.setitem(sys.modules, "flask_compress.flask_compress", stripped)
    monkeypatch.setitem(sys.modules, "dash._callback_signing", None)
    with caplog.at_level(logging.WARNING, logger=dash_internals.log.name):
        internals = dash_internals.check()
    assert not internals.encoding and internals.signing is None and len(internals.problems) == 2
    assert len(caplog.records) == 1
    assert "_choose_algorithm" in caplog.text and "_callback_signing" in caplog.text


def test_a_compressor_that_fails_later_leaves_the_answer_to_flask_compress(monkeypatch, caplog):
    """Past the start-up check, a private function that raises costs the cache, not the answer."""
    middleware = app.server.wsgi_app
    assert isinstance(middleware, CachedAnswers)

    def broken(*_args):
        raise RuntimeError("changed")

    monkeypatch.setattr(middleware.encoder, "internals",
                        dataclasses.replace(middleware.encoder.internals, compress_data=broken))
    page = next(p for p in warmup.lesson_pages() if p["path"] == "/perceptron")
    callbacks = warmup.server_callbacks(app)
    body = next(b for label, b in warmup.step_requests(app, page, callbacks)
                if label.endswith("step 3") and pure_callbacks.is_pure(app.callback_map[b["output"]]))
    body = {**body, "changedPropIds": body["changedPropIds"] + ["compressor-fails.value"]}
    client = app.server.test_client()
    with caplog.at_level(logging.WARNING, logger=dash_internals.log.name):
        answers = [client.post(warmup.UPDATE_URL, json=body, headers={"Accept-Encoding": "br"}) for _ in range(3)]
    plain = client.post(warmup.UPDATE_URL, json=body, headers={"Accept-Encoding": "identity"})
    assert [a.status_code for a in answers] == [200, 200, 200] and plain.status_code == 200
    for answer in answers:
        assert answer.headers["Content-Encoding"] == "br"           # by Flask-Compress, as usual
        assert brotli.decompress(answer.get_data()) == plain.get_data()
    assert len([r for r in caplog.records if "compressing an answer" in r.getMessage()]) <= 1


def test_no_lazy_scripts_listed_when_dash_does_not_say(caplog):
    with caplog.at_level(logging.WARNING, logger=dash_internals.log.name):
        assert dash_internals.lazy_script_paths(types.SimpleNamespace()) == {}
    assert "lazily loaded scripts" in caplog.text
    app.server.test_client().get("/")          # Dash lists its scripts when it sets itself up
    listed = dash_internals.lazy_script_paths(app)
    assert any("/async-" in path for paths in listed.values() for path in paths)
