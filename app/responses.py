"""Repeated callback requests answered from the cache, already compressed.

Callbacks are pure functions of their inputs (a house rule: no module-level
state, everything the browser needs is in the request), so the answer to a
callback request is a function of its body. A repeated request (the same step
and settings, by any visitor on any worker or machine) is answered by
`CachedAnswers`, a WSGI middleware in front of Flask: before Dash's dispatch,
the request check (the same body passed it when its answer was stored) and
compression. The cache holds each answer once per content encoding
(`<key>:br`, `<key>:gzip`, `<key>:identity`), compressed as Flask-Compress
would, so a repeated answer costs one cache read and no compression.

Answered from the cache:

- a callback that is not a background one. The browser adds its page load's
  `endId` to every request; only background handles depend on it, so it is
  not part of the key.
- the poll of a background callback whose result was already stored when it
  was asked for (the job handle `app.background.CACHED_JOB`): its answer is
  that result. Keyed by the body and the verified result key, which holds
  the callback's arguments and the code version.

Stored only: answers with status 200, when nothing passing (a busy message)
was said; for a poll, only its final answer without progress or side updates.
A background callback's first answer (a job handle) always reaches Dash.
"""

from __future__ import annotations

import hashlib
import io
import json
from urllib.parse import parse_qs

from dash import _callback_signing as signing
from flask import g, request
# Flask-Compress's own choice of encoding and its compressor (module-private;
# the version is pinned), so a stored answer is encoded as every other response
from flask_compress.flask_compress import _choose_algorithm, _compress_data

from app import cache as site_cache
from app.background import CACHED_JOB
from app.security import STATIC_HEADERS

UPDATE_PATH = "/_dash-update-component"
#: Largest request body whose answer is cached (a browser's are a few kB).
MAX_BODY = 64 * 1024
#: Where the middleware leaves (key, encoding) for `keep_answer` on a miss.
ENVIRON_KEY = "learnscape.answer"
IDENTITY = "identity"


def canonical(body) -> bytes:
    """The same request from any client (the warm-up, a browser) gives the same text."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def poll_handles(app, args: dict) -> tuple[str | None, str | None]:
    """(result key, job) of a background poll, verified as Dash verifies them
    (dash._callback._read_request_handles); None for a handle that fails."""
    secret = app._get_signing_secret()
    end_id = signing.unsign(secret, signing.END_SCOPE, args.get("endId"))
    return (signing.unsign(secret, signing.cache_scope(end_id), args.get("cacheKey")),
            signing.unsign(secret, signing.job_scope(end_id), args.get("job")))


def answer_key(app, body, args: dict) -> str | None:
    """The cache key of the answer to a callback request, or None if Dash must answer it."""
    output = body.get("output") if isinstance(body, dict) else None
    spec = app.callback_map.get(output) if isinstance(output, str) else None
    if spec is None:
        return None
    if not spec.get("background"):
        if set(args) - {"endId"}:
            return None
        return "response:" + hashlib.sha256(canonical(body)).hexdigest()
    if set(args) - {"endId", "cacheKey", "job"}:
        return None
    result_key, job = poll_handles(app, args)
    if result_key is None or job != CACHED_JOB:
        return None
    return "poll:" + hashlib.sha256(canonical(body) + b"\n" + result_key.encode()).hexdigest()


class Encoder:
    """Encodes answers as the server's Flask-Compress does (its algorithms,
    levels and minimum size), into (Content-Encoding or None, bytes)."""

    def __init__(self, server):
        self.server = server
        self.algorithms = site_cache.compressor(server).enabled_algorithms
        self.min_size = server.config["COMPRESS_MIN_SIZE"]

    def choose(self, accept_encoding: str) -> str:
        return _choose_algorithm(self.algorithms, accept_encoding or "") or IDENTITY

    def encode(self, data: bytes, encoding: str) -> tuple[str | None, bytes]:
        if encoding == IDENTITY or len(data) < self.min_size:
            return None, data
        return encoding, _compress_data(self.server, data, encoding)


def stored_answer(encoder: Encoder, key: str, encoding: str):
    """(Content-Encoding or None, bytes) from the cache, or None. An answer
    stored in another encoding only is encoded once, and kept."""
    found, value = site_cache.get(f"{key}:{encoding}")
    if found:
        return value
    if encoding == IDENTITY:
        return None
    found, value = site_cache.get(f"{key}:{IDENTITY}")
    if not found:
        return None
    value = encoder.encode(value[1], encoding)
    site_cache.set(f"{key}:{encoding}", value)
    return value


class CachedAnswers:
    """WSGI middleware: a callback request whose answer is in the cache is
    answered here; any other request goes on to Flask unchanged."""

    def __init__(self, wsgi_app, app, encoder: Encoder, max_body: int):
        self.wsgi_app, self.app, self.encoder, self.max_body = wsgi_app, app, encoder, max_body

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO", "").endswith(UPDATE_PATH):
            value = self.lookup(environ)
            if value is not None:
                encoding, data = value
                headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                           ("Vary", "Accept-Encoding"), *STATIC_HEADERS.items()]
                if encoding:
                    headers.append(("Content-Encoding", encoding))
                start_response("200 OK", headers)
                return [data]
        return self.wsgi_app(environ, start_response)

    def lookup(self, environ):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= self.max_body:
            return None
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)       # for Flask, on a miss
        args = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if len(raw) != length or any(len(values) != 1 for values in args.values()):
            return None
        try:
            body = json.loads(raw)
        except ValueError:
            return None
        key = answer_key(self.app, body, {name: values[0] for name, values in args.items()})
        if key is None:
            return None
        encoding = self.encoder.choose(environ.get("HTTP_ACCEPT_ENCODING", ""))
        environ[ENVIRON_KEY] = (key, encoding)
        return stored_answer(self.encoder, key, encoding)


def _final_poll_answer(data: bytes) -> bool:
    answer = json.loads(data)
    return isinstance(answer, dict) and "response" in answer and not answer.keys() & {"progress", "sideUpdate"}


def init(app, settings) -> None:
    """Answer repeated callback requests from the cache on `app.server`."""
    server = app.server
    encoder = Encoder(server)
    server.wsgi_app = CachedAnswers(server.wsgi_app, app, encoder, min(MAX_BODY, settings.max_request_bytes))

    @server.after_request
    def keep_answer(response):
        # runs before Flask-Compress (registered first, so run last), which
        # leaves an answer alone once it carries a Content-Encoding
        found = request.environ.get(ENVIRON_KEY)
        if not found or g.get("transient_answer") or response.status_code != 200 \
                or response.mimetype != "application/json" or response.direct_passthrough:
            return response
        key, encoding = found
        data = response.get_data()
        if key.startswith("poll:") and not _final_poll_answer(data):
            return response
        site_cache.set(f"{key}:{IDENTITY}", (None, data))
        value = encoder.encode(data, encoding)
        if encoding != IDENTITY:
            site_cache.set(f"{key}:{encoding}", value)
        if value[0]:
            response.set_data(value[1])
            response.headers["Content-Encoding"] = value[0]
        return response
