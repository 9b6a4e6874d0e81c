"""The site built with one private Dash or Flask-Compress name changed, as a
new version of either might change it; prints what the site answered (JSON).

    python -m tests.production.broken_internals <case>

Each change is made before the site is built, and as app.dash_internals
would meet it: a module it imports is replaced by a copy without the name
(or with the name under another signature), or fails to import; a method
gets another signature that still works for Dash itself. The libraries' own
code is left working, as it would be in their next version.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import types

import brotli


def module_copy(name: str, drop: str | None = None, **replace) -> None:
    """Replace module `name`, as importers find it from now on, by a copy
    without `drop` and with `replace`d names; its own code keeps the original."""
    original = importlib.import_module(name)
    copy = types.ModuleType(name)
    copy.__dict__.update({k: v for k, v in vars(original).items() if k != drop}, **replace)
    sys.modules[name] = copy


def import_fails(name: str) -> None:
    """`import name` raises ImportError from now on (code that has it keeps it)."""
    importlib.import_module(name)
    sys.modules[name] = None


def extra_parameter(owner, name: str) -> None:
    """`owner.name` gets one more (optional) parameter, and still works."""
    raw = next(vars(cls)[name] for cls in owner.__mro__ if name in vars(cls))
    if isinstance(raw, staticmethod):
        function = raw.__func__

        def changed(*args, extra=None):
            return function(*args)

        setattr(owner, name, staticmethod(changed))
    else:
        def changed(self, *args, extra=None):
            return raw(self, *args)

        setattr(owner, name, changed)


def _dash():
    import dash

    return dash


def _managers():
    from dash.background_callback.managers import BaseBackgroundCallbackManager
    from dash import DiskcacheManager

    return BaseBackgroundCallbackManager, DiskcacheManager


#: case -> (change, the name the warning must give)
CASES = {
    "nothing": (lambda: None, None),
    "choose-algorithm-missing": (lambda: module_copy("flask_compress.flask_compress", drop="_choose_algorithm"),
                                 "_choose_algorithm"),
    "compress-data-signature": (lambda: module_copy("flask_compress.flask_compress",
                                                    _compress_data=lambda data, algorithm: data),
                                "_compress_data"),
    "signing-import-fails": (lambda: import_fails("dash._callback_signing"), "_callback_signing"),
    "signing-secret-signature": (lambda: extra_parameter(_dash().Dash, "_get_signing_secret"),
                                 "_get_signing_secret"),
    "progress-key-signature": (lambda: extra_parameter(_managers()[0], "_make_progress_key"), "_make_progress_key"),
    "job-method-signature": (lambda: extra_parameter(_managers()[1], "call_job_fn"), "call_job_fn"),
}


class Recorder(logging.Handler):
    """Every log record at WARNING or above, from any logger."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(f"{record.name}: {record.getMessage()}")


def answers(app) -> dict:
    """What the site answers: a page, its layout, a lesson's step (three
    times, the last compressed) and a background lesson's first step."""
    from app import pure_callbacks, warmup
    from tests.production.jobs import decision_boundaries_job

    client = app.server.test_client()
    callbacks = warmup.server_callbacks(app)
    lessons = {page["path"]: page for page in warmup.lesson_pages()}
    out = {}

    page = client.get("/perceptron", headers={"Accept-Encoding": "br"})
    html = brotli.decompress(page.get_data()) if page.headers.get("Content-Encoding") == "br" else page.get_data()
    out["page"] = [page.status_code, page.mimetype, "Learnscape" in html.decode(),
                   "script-src 'self' 'sha256-" in page.headers.get("Content-Security-Policy", "")]

    layout = next(body for label, body in warmup.page_load(app, lessons["/perceptron"], callbacks)
                  if label.endswith("layout") and "_pages_content" in json.dumps(body["outputs"]))
    answer = client.post(warmup.UPDATE_URL, json=layout)
    out["layout"] = [answer.status_code, '"lesson":"perceptron"' in answer.get_data(as_text=True)]

    step = next(body for label, body in warmup.step_requests(app, lessons["/perceptron"], callbacks)
                if label.endswith("step 2") and pure_callbacks.is_pure(app.callback_map[body["output"]]))
    plain = [client.post(warmup.UPDATE_URL, json=step, headers={"Accept-Encoding": "identity"}) for _ in range(2)]
    packed = client.post(warmup.UPDATE_URL, json=step, headers={"Accept-Encoding": "br"})
    unpacked = brotli.decompress(packed.get_data()) if packed.headers.get("Content-Encoding") == "br" \
        else packed.get_data()
    out["step"] = [[a.status_code for a in (*plain, packed)], plain[0].get_data() == plain[1].get_data() == unpacked,
                   "pl-frames" in plain[0].get_data(as_text=True)]

    background = decision_boundaries_job(app, lessons["/decision-boundaries"], callbacks)
    finals = [warmup.post(client, background, wait_s=120) for _ in range(2)]
    out["background"] = [[a.status_code for a in finals], all('"response"' in a.get_data(as_text=True)
                                                             and "pl-frames" in a.get_data(as_text=True)
                                                             for a in finals)]
    return out


def main(case: str) -> None:
    recorder = Recorder()
    logging.getLogger().addHandler(recorder)
    change, _ = CASES[case]
    change()
    from app import dash_internals, responses
    from app.main import app

    internals = dash_internals.current()
    report = {
        "answers": answers(app),
        "warnings": recorder.messages,
        "response_cache": isinstance(app.server.wsgi_app, responses.CachedAnswers),
        "poll_cache": internals.signing is not None,
        "manager": type(app._background_manager).__name__,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
