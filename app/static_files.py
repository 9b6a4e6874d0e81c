"""Static files: compressed once per worker, cached by browsers.

The site creates its own Flask-Compress (`enable_compression`, before Dash
builds on the server, with Dash's `compress=False`), so that its instance is
known without searching the server's hooks. Compressed static files are kept
in this process (`CompressedCache`, Flask-Compress's COMPRESS_CACHE_BACKEND),
and `precompress_static` fills that cache before gunicorn forks. Whole
callback answers are cached, already compressed, by app.responses.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict

from flask import g, request
from flask_compress import Compress

from app import dash_internals
from app.config import Settings

STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/")
#: Where the server keeps its Flask-Compress (`server.extensions`).
EXTENSION = "compress"
#: Browser cache lifetime of static files whose URL is not fingerprinted, seconds.
UNVERSIONED_MAX_AGE_S = 86400


class CompressedCache:
    """Compressed responses kept in this process for Flask-Compress
    (COMPRESS_CACHE_BACKEND), so plotly.js is compressed once per worker and
    algorithm, not once per request. Bounded by total bytes, least recently
    used out first; keys starting with "nocache" are never kept."""

    def __init__(self, limit_bytes: int = 96 * 2**20):
        self.limit = limit_bytes
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        if key.split(";", 1)[-1].startswith("nocache") or len(value) > self.limit // 4:
            return
        with self.lock:
            if key in self.items:
                self.size -= len(self.items.pop(key))
            self.items[key] = value
            self.size += len(value)
            while self.size > self.limit:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped)


def compression_key(_request) -> str:
    """COMPRESS_CACHE_KEY: what identifies a response's content ("nocache…" if nothing does)."""
    return g.get("compress_key") or "nocache"


def enable_compression(server) -> Compress:
    """Flask-Compress on `server` (configured already), kept in its extensions."""
    compress = Compress(server)
    server.extensions[EXTENSION] = compress
    return compress


def compressor(server) -> Compress:
    """The server's Flask-Compress (see `enable_compression`)."""
    try:
        return server.extensions[EXTENSION]
    except KeyError:
        raise LookupError("no Flask-Compress on the server (see app.static_files.enable_compression)") from None


def init(server, settings: Settings) -> None:
    """Mark static files for the compression cache and the browser's cache."""

    @server.before_request
    def mark_static():
        g.compress_key = None
        if request.method == "GET" and request.path.startswith(STATIC_PREFIXES):
            g.compress_key = "static:" + request.full_path.rstrip("?")

    @server.after_request
    def static_cache_headers(response):
        # Fingerprinted files (Dash's versioned bundles, assets with ?m=) never
        # change under their URL; Dash's async chunks and bare asset links
        # (icons) may change on deploy, so the browser keeps them a day and
        # then revalidates.
        if request.method == "GET" and response.status_code == 200 and request.path.startswith(STATIC_PREFIXES):
            fingerprinted = "m" in request.args or response.cache_control.max_age == 31536000
            response.cache_control.no_cache = None      # Flask's send_file default
            response.cache_control.public = True
            response.cache_control.max_age = settings.static_max_age_s if fingerprinted else UNVERSIONED_MAX_AGE_S
            if fingerprinted:
                response.cache_control.immutable = True
        return response


def precompress_static(app, log=print) -> dict:
    """Compress the static scripts the pages load (the partial plotly.js,
    Dash's bundles and their lazily loaded chunks) into this process's
    compressed cache now, for every encoding the site offers. The full
    plotly.min.js that Dash still registers is left out: no page loads it.

    Run in gunicorn's master before it forks (--preload), every worker starts
    with them, instead of the first visitors each paying seconds of CPU.
    Returns {"files": n, "seconds": s}.
    """
    start = time.perf_counter()
    client = app.server.test_client()
    html = client.get("/").get_data(as_text=True)
    urls = re.findall(r'src="(/_dash-component-suites/[^"]+\.js)"', html)
    for package, paths in dash_internals.lazy_script_paths(app).items():
        urls += [f"/_dash-component-suites/{package}/{path}" for path in paths]
    algorithms = compressor(app.server).enabled_algorithms
    done = 0
    for url in dict.fromkeys(urls):
        for algorithm in algorithms:
            if client.get(url, headers={"Accept-Encoding": algorithm}).status_code == 200:
                done += 1
    seconds = time.perf_counter() - start
    log(f"precompressed {done} static files in {seconds:.1f} s")
    return {"files": done, "seconds": seconds}
