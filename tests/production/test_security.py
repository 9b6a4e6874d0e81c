"""Security and hygiene: headers on every kind of response, debug and dev tools
off unless the environment asks, limits on request size, no eval anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import config, plotly_bundle
from app.main import app
from app.security import content_security_policy

ROOT = Path(__file__).resolve().parents[2]
CLIENT = app.server.test_client()


def _static_url() -> str:
    html = CLIENT.get("/").get_data(as_text=True)
    return re.search(r'src="(/_dash-component-suites/[^"]+)"', html).group(1)


@pytest.mark.parametrize("path", ["/", "/perceptron", "/healthz", "/_dash-layout", "/no-such-page", "static"])
def test_security_headers_on_every_response(path):
    response = CLIENT.get(_static_url() if path == "static" else path)
    assert response.status_code in (200, 404)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_pages_carry_a_content_security_policy_with_dash_inline_scripts_hashed():
    html_response = CLIENT.get("/perceptron")
    policy = html_response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy and "object-src 'none'" in policy
    assert "'unsafe-eval'" not in policy
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    # every inline script Dash wrote into the page is allowed by its hash
    for digest in app.csp_hashes():
        assert digest in script_src
    inline = re.findall(r"<script>(.*?)</script>", html_response.get_data(as_text=True), re.S)
    assert inline and len(app.csp_hashes()) >= len(inline)


def test_policy_text():
    policy = content_security_policy(["'sha256-abc'"])
    assert policy.startswith("default-src 'self'; script-src 'self' 'sha256-abc'")


def test_debug_and_dev_tools_are_off_by_default(monkeypatch):
    for name in ("LEARNSCAPE_DEBUG", "LEARNSCAPE_DEV_TOOLS"):
        monkeypatch.delenv(name, raising=False)
    settings = config.load()
    assert not settings.debug and not settings.dev_tools
    assert not app.server.debug
    assert not app._dev_tools.ui and not app._dev_tools.props_check and not app._dev_tools.hot_reload
    # and the server says so: Dash's reload endpoint has no hash to give a page to reload on
    reload = CLIENT.get("/_reload-hash")
    assert reload.status_code in (404, 405) or (reload.status_code == 200
                                                 and reload.get_json()["reloadHash"] is None
                                                 and reload.get_json()["hard"] is False)


def test_debug_only_when_asked(monkeypatch):
    monkeypatch.setenv("LEARNSCAPE_DEBUG", "1")
    assert config.load().debug and config.load().dev_tools
    monkeypatch.setenv("LEARNSCAPE_DEV_TOOLS", "0")
    assert not config.load().dev_tools


def test_environment_garbage_falls_back_to_safe_values(monkeypatch):
    monkeypatch.setenv("MAX_REQUEST_BYTES", "lots")
    monkeypatch.setenv("COMPUTE_SLOTS", "-3")
    monkeypatch.setenv("CACHE_RETRY_SECONDS", "nan")
    settings = config.load()
    assert settings.max_request_bytes == 2_000_000
    assert settings.compute_slots == 1
    assert settings.cache_retry_s == 15.0


def test_request_size_is_limited():
    big = b"x" * (app.server.config["MAX_CONTENT_LENGTH"] + 1)
    response = CLIENT.post("/_dash-update-component", data=big, content_type="application/json")
    assert response.status_code == 413


def test_a_server_error_shows_no_traceback(monkeypatch):
    from app import warmup

    page = warmup.Page.render(app, warmup.lesson_pages()[0])
    callback, body = next((cb, bodies[0]) for cb in warmup.server_callbacks(app)
                          if (bodies := warmup.request_bodies(page, cb)))

    def crash(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setitem(app.callback_map[callback.output], "callback", crash)
    # a body never seen before, so that no cached response answers it
    response = CLIENT.post("/_dash-update-component", json={**body, "changedPropIds": ["crash-test.value"]})
    assert response.status_code == 500
    assert b"secret internals" not in response.get_data() and b"Traceback" not in response.get_data()


EVAL_LIKE = re.compile(r"(?<![\w.])(eval|exec|__import__)\s*\(|new\s+Function\s*\(|(?<![\w.])compile\s*\("
                       r"|set(Timeout|Interval)\s*\(\s*['\"`]|pickle\.loads|yaml\.load\(")


#: Built third-party code kept in the tree, not scanned (as the packages Dash
#: serves from site-packages are not): plotly.js carries code generators and a
#: webpack fallback that build functions from text. The policy (no
#: 'unsafe-eval') holds it at run time, and the bundle uses plotly.js's strict
#: WebGL traces, which need no eval (tests/browser/test_plotly_bundle_browser.py).
VENDORED_BUILDS = (plotly_bundle.HERE / plotly_bundle.FILENAME,)


def test_no_eval_of_anything_anywhere():
    sources = [p for folder in ("app", "components", "pages") for p in (ROOT / folder).rglob("*")
               if p.suffix in (".py", ".js") and "__pycache__" not in p.parts and p not in VENDORED_BUILDS]
    assert len(sources) > 10
    hits = []
    for path in sources:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            if EVAL_LIKE.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}")
    assert not hits, "\n".join(hits)


def test_the_scan_finds_eval():
    assert EVAL_LIKE.search("x = eval(text)") and EVAL_LIKE.search("new Function('a', b)")
    assert not EVAL_LIKE.search("re.compile(r'x')") and not EVAL_LIKE.search("model.eval_loss(x)")
