"""Repeated callback requests answered from the cache, already compressed.

Only pure callbacks are answered from the cache: those declared with
`app.pure_callbacks.pure_callback` (the lesson engine's step callback is one),
whose answer is a function of the request body: inputs, states and
`changedPropIds` (which input fired, what `dash.ctx.triggered_id` reads), all
part of the key. A repeated request (the same step and settings, by any
visitor on any worker or machine) is answered by `CachedAnswers`, a WSGI
middleware in front of Flask: before Dash's dispatch, the request check (the
same body passed it when its answer was stored) and compression. The cache
holds each answer once per content encoding (`<key>:br`, `<key>:gzip`,
`<key>:identity`), compressed as Flask-Compress would, so a repeated answer
costs one cache read and no compression.

Answered from the cache, for a pure callback:

- a request that is not a background poll. The browser adds its page load's
  `endId` to every request; only background handles depend on it, so it is
  not part of the key.
- the poll of a background callback whose result was already stored when it
  was asked for (the job handle `app.background.CACHED_JOB`): its answer is
  that result. Keyed by the body and the verified result key, which holds
  the callback's arguments and the code version.

Stored only: answers with status 200, when nothing passing (a busy message)
was said; for a poll, only its final answer without progress or side updates.
A background callback's first answer (a job handle) always reaches Dash.

Encoding and verifying handles use private Flask-Compress and Dash names,
through app.dash_internals: without them the cache is off (or polls reach
Dash), and the site answers as plain Dash does.
"""

from __future__ import annotations

import hashlib
import io
import json
from urllib.parse import parse_qs

from flask import request

from app import cache as site_cache
from app import dash_internals, pure_callbacks
from app.background import CACHED_JOB
from app.compute_slots import answer_is_transient
from app.dash_internals import Internals, Mismatch
from app.security import STATIC_HEADERS
from app.static_files import compressor

UPDATE_PATH = "/_dash-update-component"
#: Largest request body whose answer is cached (a browser's are a few kB).
MAX_BODY = 64 * 1024
#: Where the middleware leaves (key, encoding) for `keep_answer` on a miss.
ENVIRON_KEY = "learnscape.answer"
IDENTITY = "identity"


def canonical(body) -> bytes:
    """The same request from any client (the warm-up, a browser) gives the same text."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def answer_key(app, body, args: dict, internals: Internals | None = None) -> str | None:
    """The cache key of the answer to a callback request, or None if Dash must answer it."""
    output = body.get("output") if isinstance(body, dict) else None
    spec = app.callback_map.get(output) if isinstance(output, str) else None
    if spec is None or not pure_callbacks.is_pure(spec):
        return None
    if not spec.get("background"):
        if set(args) - {"endId"}:
            return None
        return "response:" + hashlib.sha256(canonical(body)).hexdigest()
    if set(args) - {"endId", "cacheKey", "job"}:
        return None
    result_key, job = dash_internals.poll_handles(internals or dash_internals.current(), app, args)
    if result_key is None or job != CACHED_JOB:
        return None
    return "poll:" + hashlib.sha256(canonical(body) + b"\n" + result_key.encode()).hexdigest()


class Encoder:
    """Encodes answers as the server's Flask-Compress does (its algorithms,
    levels and minimum size), into (Content-Encoding or None, bytes). Raises
    `Mismatch` when Flask-Compress's private functions fail."""

    def __init__(self, server, internals: Internals):
        self.server, self.internals = server, internals
        self.algorithms = compressor(server).enabled_algorithms
        self.min_size = server.config["COMPRESS_MIN_SIZE"]

    def choose(self, accept_encoding: str) -> str:
        return dash_internals.choose_encoding(self.internals, self.algorithms, accept_encoding) or IDENTITY

    def encode(self, data: bytes, encoding: str) -> tuple[str | None, bytes]:
        if encoding == IDENTITY or len(data) < self.min_size:
            return None, data
        return encoding, dash_internals.compress(self.internals, self.server, data, encoding)


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
        except (ValueError, RecursionError):     # not JSON, or nested past the parser's depth
            return None
        key = answer_key(self.app, body, {name: values[0] for name, values in args.items()}, self.encoder.internals)
        if key is None:
            return None
        try:
            encoding = self.encoder.choose(environ.get("HTTP_ACCEPT_ENCODING", ""))
            environ[ENVIRON_KEY] = (key, encoding)
            return stored_answer(self.encoder, key, encoding)
        except Mismatch:          # Flask-Compress changed under us: Dash answers, as without the cache
            environ.pop(ENVIRON_KEY, None)
            return None


def _final_poll_answer(data: bytes) -> bool:
    answer = json.loads(data)
    return isinstance(answer, dict) and "response" in answer and not answer.keys() & {"progress", "sideUpdate"}


def init(app, settings, internals: Internals | None = None) -> None:
    """Answer repeated requests of pure callbacks from the cache on `app.server`
    (nothing, if Flask-Compress's encoder is not there: see app.dash_internals)."""
    internals = internals or dash_internals.current()
    if not internals.encoding:
        return
    server = app.server
    encoder = Encoder(server, internals)
    server.wsgi_app = CachedAnswers(server.wsgi_app, app, encoder, min(MAX_BODY, settings.max_request_bytes))

    @server.after_request
    def keep_answer(response):
        # runs before Flask-Compress (registered first, so run last), which
        # leaves an answer alone once it carries a Content-Encoding
        found = request.environ.get(ENVIRON_KEY)
        if not found or answer_is_transient() or response.status_code != 200 \
                or response.mimetype != "application/json" or response.direct_passthrough:
            return response
        key, encoding = found
        data = response.get_data()
        if key.startswith("poll:") and not _final_poll_answer(data):
            return response
        site_cache.set(f"{key}:{IDENTITY}", (None, data))
        try:
            value = encoder.encode(data, encoding)
        except Mismatch:          # Flask-Compress encodes it on the way out, as usual
            return response
        if encoding != IDENTITY:
            site_cache.set(f"{key}:{encoding}", value)
        if value[0]:
            response.set_data(value[1])
            response.headers["Content-Encoding"] = value[0]
        return response
