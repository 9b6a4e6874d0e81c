"""Helpers for browser tests: a free port, waiting on the page, reading figures."""

from __future__ import annotations

import dataclasses
import os
import socket
import time

from selenium.webdriver.common.keys import Keys


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(dash_duo, app, path: str = "/"):
    """Start `app` with dev tools (so callback errors show), unless this
    module's server already runs it (tests/browser/conftest.py), and open `path`."""
    if not dash_duo.server.started:
        # Test clients of other modules in this process may have served requests
        # already; Flask then refuses the error handler dev tools add. Flask itself
        # resets this flag whenever its development server stops.
        app.server._got_first_request = False
        share_cache(app.server)
        # Production bundles: the development ones cost the browser seconds per
        # page; callback errors still reach the dev tools and the console.
        dash_duo.start_server(app, navigate=False, port=free_port(), debug=True, use_reloader=False,
                              dev_tools_hot_reload=False, dev_tools_ui=True, dev_tools_props_check=True,
                              dev_tools_serve_dev_bundles=False)
        dash_duo._url = dash_duo.server.url  # `server_url` without its setter's visit to the home page
        dash_duo.started_app = app
    # the module's server keeps serving the app it started with
    assert dash_duo.started_app is app, "one browser-test module serves one app (tests/browser/conftest.py)"
    dash_duo.wait_for_page(dash_duo.server_url + path)
    dash_duo.wait_for_element(".site-main")
    return dash_duo


def share_cache(server) -> None:
    """Keep `server`'s memoized runs and cached answers in the session's shared folder
    (tests/conftest.py), as the site does with CACHE_TYPE=filesystem: each lesson's
    runs are computed once in a test session, not again by every browser-test file.
    Background jobs, forked from this process, then store what they compute there too."""
    from app.cache import cache_config, code_version, init_app
    from app.config import settings

    shared = dataclasses.replace(settings, cache_type="filesystem",
                                 cache_dir=os.environ["LEARNSCAPE_TEST_CACHE_DIR"])
    # No limit on entries: over a limit, each write reads every file to drop the
    # oldest; the folder lasts one session only.
    config = {**cache_config(shared, code_version()), "CACHE_THRESHOLD": 0}
    init_app(server, config)


def setting_field(dash_duo, name: str):
    """The input of the lesson setting `name` (its id holds `"name":"<name>"`)."""
    return dash_duo.find_element(f'input[id*="\\"name\\":\\"{name}\\""]')


def retype(field, text: str):
    """Replace what `field` holds with `text` and press Enter (Dash reads it on Enter)."""
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    field.send_keys(text, Keys.ENTER)


def wait_until(condition, timeout: float = 10.0, message: str = "condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = condition()
            if last:
                return last
        except Exception as error:  # the page is still rendering
            last = error
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message} (last: {last!r})")


def figure_data(dash_duo, graph_css: str):
    """The `data` of the Plotly figure inside the element matching `graph_css`."""
    return dash_duo.driver.execute_script(
        "const el = document.querySelector(arguments[0] + ' .js-plotly-plot');"
        "return el && el.data ? JSON.parse(JSON.stringify(el.data.map(t => ({x: t.x, y: t.y, z: t.z})))) : null;",
        graph_css,
    )


def _react_dom_dev_warning(message: str) -> bool:
    # In debug mode React's development build warns (through console.error)
    # about Dash's own bundled components; those are not errors of this site.
    # Failed prop types of our components still fail: Dash's dev tools show them.
    return "react-dom@" in message and '"Warning: ' in message


def console_errors(dash_duo) -> list[str]:
    """SEVERE console entries (errors, failed requests), each cut to 300 characters."""
    return [entry["message"][:300] for entry in dash_duo.get_logs() or []
            if entry.get("level") == "SEVERE" and not _react_dom_dev_warning(entry["message"])]


def renderer_errors(dash_duo) -> list[str]:
    """The errors Dash's renderer recorded (callback failures, front-end errors)."""
    return dash_duo.driver.execute_script(
        "const e = (window.store && window.store.getState().error) || {};"
        "return [].concat(e.frontEnd || [], e.backEnd || []).map(x => {"
        "  const err = x.error || {}; return String(err.message || '') + ' ' + String(err.html || '').slice(0, 300); });")


def assert_clean(dash_duo):
    """No console errors and no callback errors shown by the dev tools."""
    errors = console_errors(dash_duo)
    assert errors == [], (errors, renderer_errors(dash_duo))
    assert not dash_duo.driver.find_elements("css selector", ".dash-fe-error__title"), "callback error shown"
    bad_formulas = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.katex-error')).map(e => e.title)")
    assert bad_formulas == [], bad_formulas
