"""Create the Dash app: explicit page registration, cache, compression, health.

`server` is the Flask app gunicorn serves (see Procfile).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import dash
from app.cache import cache, cache_config
from app.config import settings
from components.site import site_layout

#: Page modules in `pages/`, registered in this order. Each defines `PAGE`
#: (the keyword arguments of `dash.register_page`) and `layout(**query)`.
PAGE_MODULES = (
    "pages.home",
    "pages.perceptron",
    "pages.computational_graph",
    "pages.optimizer_lab",
    "pages.presenter_notes",
    "pages.not_found_404",
)

ASSETS = Path(__file__).parent / "assets"


def create_app() -> dash.Dash:
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        title="Learnscape",
        update_title=None,
        compress=True,
        serve_locally=True,
        suppress_callback_exceptions=False,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    cache.init_app(server, config=cache_config(settings))

    for name in PAGE_MODULES:
        module = importlib.import_module(name)
        dash.register_page(name, layout=module.layout, **module.PAGE)

    app.layout = site_layout()

    @server.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


app = create_app()
server = app.server


def main() -> None:
    url = f"http://{settings.host}:{settings.port}/"
    print(f"Learnscape is running at {url}  (Ctrl+C to stop)", flush=True)
    app.run(host=settings.host, port=settings.port, debug=settings.debug)


if __name__ == "__main__":
    main()
