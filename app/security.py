"""Security headers, and a check of callback requests before Dash reads them.

Headers (on every response): the content type is never sniffed, no referrer
leaves the site, no other site may frame it, and a content security policy
allows scripts only from the site itself plus the exact inline scripts Dash
writes (their hashes, from `app.csp_hashes()`), so an injected script cannot
run. Styles may be inline: Plotly and Dash's components set them at run time.

`check_update_request` refuses, with 400 and a message, a request to
`/_dash-update-component` that no browser running this site could send
(unknown callback, wrong number or shape of inputs), so that such input never
reaches a callback as a stack trace. Values are the callbacks' business:
each lesson checks them against its settings schema.
"""

from __future__ import annotations

import json

from flask import Response, request

UPDATE_PATH = "/_dash-update-component"
WILDCARD_MANY = ('["ALL"]', '["ALLSMALLER"]')
LOCATION_ID = "_pages_location"


def content_security_policy(script_hashes) -> str:
    """The CSP header value; `script_hashes` are quoted 'sha256-...' strings."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "media-src": ["'self'", "data:", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def init_security(app, settings) -> None:
    """Register the headers and the request check on `app.server`."""
    server = app.server
    policy = {"value": None}

    def csp() -> str:
        # Every inline script is known once the page modules are imported (in
        # app.main, before the first request) and Dash has run its first
        # before-request set-up, which precedes this after-request hook: the
        # policy is computed once, at the first page served.
        if policy["value"] is None:
            policy["value"] = content_security_policy(app.csp_hashes())
        return policy["value"]

    @server.after_request
    def add_headers(response: Response) -> Response:
        for name, value in STATIC_HEADERS.items():
            response.headers.setdefault(name, value)
        if settings.csp and response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", csp())
        return response

    @server.before_request
    def refuse_malformed_updates():
        if request.method != "POST" or not request.path.endswith(UPDATE_PATH):
            return None
        body = request.get_json(silent=True)
        problem = check_update_request(body, app.callback_map)
        if problem:
            return Response(json.dumps({"error": f"Bad callback request: {problem}."}), status=400,
                            mimetype="application/json")
        return None


def _entry_problem(entry, name: str, many: bool, with_value: bool) -> str | None:
    if many:
        if not isinstance(entry, list):
            return f"{name} must be a list (a pattern-matching ALL)"
        for item in entry:
            problem = _entry_problem(item, name, False, with_value)
            if problem:
                return problem
        return None
    if not isinstance(entry, dict):
        return f"{name} must be an object with id and property"
    if not isinstance(entry.get("id"), (str, dict)) or not isinstance(entry.get("property"), str):
        return f"{name} needs an id (text or object) and a property (text)"
    return None


def _location_problem(prop: str, value) -> str | None:
    """The page router's input is what a browser's location holds: a path from
    the site's root and a query string."""
    if value is None:
        return None
    if not isinstance(value, str):
        return f"the location's {prop} must be text"
    if prop == "pathname" and not value.startswith("/"):
        return "the location's pathname must start with /"
    return None


def check_update_request(body, callback_map: dict) -> str | None:
    """What is wrong with a callback request body, or None if its shape is right."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "unknown output"
    spec = callback_map[output]
    for part in ("inputs", "state"):
        given = body.get(part, [])
        declared = spec.get(part) or []
        if not isinstance(given, list) or len(given) != len(declared):
            return f"{part} must be a list of {len(declared)}"
        for number, (entry, dep) in enumerate(zip(given, declared), start=1):
            many = any(w in dep["id"] for w in WILDCARD_MANY)
            problem = _entry_problem(entry, f"{part} {number}", many, True)
            if problem:
                return problem
            if dep["id"] == LOCATION_ID:
                problem = _location_problem(dep["property"], entry.get("value"))
                if problem:
                    return f"{part} {number}: {problem}"
    outputs = body.get("outputs")
    if not spec.get("no_output"):
        if output.startswith(".."):
            count = len(output[2:-2].split("..."))
            if not isinstance(outputs, list) or len(outputs) != count:
                return f"outputs must be a list of {count}"
        else:
            outputs = [outputs]
        for number, entry in enumerate(outputs, start=1):
            many = isinstance(entry, list)
            problem = _entry_problem(entry, f"output {number}", many, False)
            if problem:
                return problem
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds must be a list of text"
    return None
