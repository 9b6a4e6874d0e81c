"""Create the Dash app: explicit page registration, cache, compression, health.

`server` is the Flask app gunicorn serves (see Procfile); `celery_app` is
what Celery workers run when `BACKGROUND=celery` (see app/background.py).
Debug and Dash's dev tools are off unless the environment asks for them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import dash
import flask
from app import background, dash_internals, plotly_bundle, responses, security, static_files
from app import cache as site_cache
from app.cache import bind, cache_config, code_version
from app.compute_slots import busy_notice
from app.config import settings
from app.static_files import CompressedCache, compression_key, enable_compression, precompress_static
from components import first_paint
from components.site import site_layout

#: Page modules in `pages/`, registered in this order. Each defines `PAGE`
#: (the keyword arguments of `dash.register_page`) and `layout(**query)`.
PAGE_MODULES = (
    "pages.home",
    "pages.perceptron",
    "pages.computational_graph",
    "pages.decision_boundaries",
    "pages.rnn",
    "pages.graph_layout",
    "pages.loss_landscape",
    "pages.optimizer_lab",
    "pages.presenter_notes",
    "pages.not_found_404",
)

ASSETS = Path(__file__).parent / "assets"


def create_server() -> flask.Flask:
    """The Flask server, with its compression (Dash's own is left off)."""
    server = flask.Flask(__name__, static_folder=None)
    server.config.update(
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        COMPRESS_CACHE_BACKEND=CompressedCache,
        COMPRESS_CACHE_KEY=compression_key,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_BR_LEVEL=9,
    )
    if settings.secret_key:
        server.secret_key = settings.secret_key
    enable_compression(server)
    return server


class LearnscapeDash(dash.Dash):
    """Dash, with the page's language and the lesson step's narration in its first answer
    (`interpolate_index` is Dash's documented way to shape the index page)."""

    def interpolate_index(self, **kwargs) -> str:
        kwargs["app_entry"] = first_paint.app_entry(kwargs["app_entry"], flask.request.path, flask.request.args)
        return super().interpolate_index(**kwargs).replace("<html>", '<html lang="en">', 1)


def create_app() -> dash.Dash:
    version = code_version()
    internals = dash_internals.current()       # checked once; one warning if anything changed
    manager, celery = background.make_manager(settings, version, internals)
    app = LearnscapeDash(
        __name__,
        server=create_server(),
        background_callback_manager=manager,
        on_error=busy_notice,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        title="Learnscape",
        update_title=None,
        compress=False,                         # enabled in create_server, where its instance is kept
        serve_locally=True,
        suppress_callback_exceptions=False,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.celery_app = celery
    server = app.server
    site_cache.init_app(server, cache_config(settings, version))
    bind(server, settings)
    security.init_security(app, settings)
    plotly_bundle.serve(app)
    if settings.response_cache:
        responses.init(app, settings, internals)
    static_files.init(server, settings)
    if settings.dev_tools:
        app.enable_dev_tools(debug=settings.debug, dev_tools_hot_reload=False)

    for name in PAGE_MODULES:
        module = importlib.import_module(name)
        dash.register_page(name, layout=module.layout, **module.PAGE)

    app.layout = site_layout()

    @server.get("/healthz")
    def healthz():
        return {"status": "ok"}

    if settings.prepare_at_start:
        # Dash sets itself up (callback map, page routes) on its first request,
        # and a request arriving meanwhile on another thread sees it half done.
        # Under gunicorn do it now, once (with --preload: before the fork).
        # Not for `app.run`: it still changes the server after this.
        server.test_client().get("/_dash-dependencies")
        if settings.precompress_static:
            precompress_static(app)
    return app


app = create_app()
server = app.server
celery_app = app.celery_app


def main() -> None:
    url = f"http://{settings.host}:{settings.port}/"
    print(f"Learnscape is running at {url}  (Ctrl+C to stop)", flush=True)
    app.run(host=settings.host, port=settings.port, debug=settings.debug, dev_tools_ui=settings.dev_tools,
            dev_tools_props_check=settings.dev_tools)


if __name__ == "__main__":
    main()
