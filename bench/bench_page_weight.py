"""Page weight of a first visit, measured in a real browser (headless Chromium).

Starts gunicorn as the Procfile does (loopback only), opens each page with an
empty browser cache, and sums what came over the wire (compressed bytes and
headers, from the browser's Resource Timing) once the page is still. Then:
- the second visit: what the browser fetched again (static files should come
  from its cache),
- compressing plotly.js: the first request (compressed then) against a
  repeated one (served from the compressed cache), in ms.

The peer is the same page's bytes as uncompressed Dash would send them (the
decoded sizes of the same resources). Prints JSON lines:

    python bench/bench_page_weight.py [--paths /perceptron /]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.production.chrome import (ENTRIES_JS, FIGURE_DRAWN_JS, browser, console_errors,  # noqa: E402
                                     first_visit, settled_entries)
from tests.production.servers import start_gunicorn  # noqa: E402

GOAL_BYTES = 1.8e6


def _pages() -> list[dict]:
    import dash

    import app.main  # noqa: F401  (registers the pages)
    return list(dash.page_registry.values())


def measure_page(driver, url: str) -> dict:
    lesson = any(p.get("lesson") and url.endswith(p["path"]) for p in _pages())
    first = first_visit(driver, url, ready_js=FIGURE_DRAWN_JS if lesson else "")
    driver.get(url)
    second = settled_entries(driver)
    console = console_errors(driver)
    static = [e for e in second if "/_dash-component-suites/" in e["name"] or "/assets/" in e["name"]]
    refetched = [e["name"] for e in static if e["transfer"] > 0]
    biggest = sorted(first, key=lambda e: -e["transfer"])[:5]
    return {
        "wire_bytes": sum(e["transfer"] for e in first),
        "uncompressed_bytes": sum(e["decoded"] for e in first),
        "requests": len(first),
        "second_visit_wire_bytes": sum(e["transfer"] for e in second),
        "second_visit_static_refetched": len(refetched),
        "biggest": [{"name": e["name"].split("/")[-1][:60], "wire": e["transfer"]} for e in biggest],
        "console_errors": console,
    }


def compress_timing(base_url: str, plotly_url: str) -> dict:
    timings = []
    for _ in range(3):
        request = urllib.request.Request(plotly_url, headers={"Accept-Encoding": "br, gzip"})
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            size = len(response.read())
            encoding = response.headers.get("Content-Encoding")
        timings.append((time.perf_counter() - start) * 1000)
    return {"first_ms": round(timings[0], 1), "repeat_ms": round(min(timings[1:]), 1),
            "bytes": size, "encoding": encoding}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", nargs="*", default=None, help="pages to load (default: home and every lesson)")
    args = parser.parse_args()

    server = start_gunicorn(workers=1, PRECOMPRESS_STATIC=1)
    driver = None
    try:
        paths = args.paths
        if not paths:
            from app.warmup import lesson_pages  # importing the app registers the pages
            import app.main  # noqa: F401
            paths = ["/"] + [p["path"] for p in lesson_pages()]
        driver = browser()
        plotly_url = None
        worst = 0
        for path in paths:
            result = measure_page(driver, server.url + path)
            worst = max(worst, result["wire_bytes"])
            print(json.dumps({"bench": "page_weight", "path": path, **result,
                              "goal_bytes": GOAL_BYTES, "meets_goal": result["wire_bytes"] <= GOAL_BYTES}))
            print(json.dumps({"bench": "page_weight", "path": path, "peer": "uncompressed Dash",
                              "wire_bytes": result["uncompressed_bytes"]}))
            if plotly_url is None:
                names = [e["name"] for e in driver.execute_script(ENTRIES_JS) if "plotly" in e["name"]]
                plotly_url = names[0] if names else None
        if plotly_url:
            path = "/" + plotly_url.split("//", 1)[1].split("/", 1)[1]
            for precompressed in (1, 0):   # a server as the Procfile starts it, and one that does not precompress
                server.stop()
                server = start_gunicorn(workers=1, PRECOMPRESS_STATIC=precompressed)
                timing = compress_timing(server.url, server.url + path)
                print(json.dumps({"bench": "compress_plotly_js", "precompressed_at_start": bool(precompressed),
                                  **timing}))
        print(json.dumps({"bench": "page_weight", "worst_wire_bytes": worst, "goal_bytes": GOAL_BYTES}))
    finally:
        if driver is not None:
            driver.quit()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
