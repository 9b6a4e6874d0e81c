"""How long a visitor waits: every step of every lesson in headless Chromium.

    python -m bench.bench_steps --base http://127.0.0.1:8050 --label warm [--lessons /perceptron ...]

For each lesson it prints one JSON line:
- `narration_ms`: from the start of navigation to the first step's narration
  text on screen (recorded in the page by an observer installed before any
  of the site's own scripts);
- `first_step_ready_ms`: from the start of navigation to the first step ready
  (as below: every figure drawn);
- `ready_ms` p50 / p95 / max: from the key press (→) to "step ready": the new
  step's narration shown, no callback answer in flight or being read (fetch
  resolves at the headers, the answer is in hand once parsed), every visible
  figure drawn since the key press and nothing loading, held for 150 ms.
  The page itself checks this every 15 ms and keeps the time it first held:
  polled from outside, a check waited for WebDriver's round trip, which took
  about 1 s while a step played 3-D frames;
- `step_kB` max and the slowest steps: compressed bytes of the step's callback
  answers (`transferSize`), and the step numbers over a second.
The previous run with the same label (bench/results/steps-<label>.json) is
printed beside each figure as `last_*`, and this run replaces it.
Run it on a cold site (fresh server, empty cache) and again after
`python -m app.warmup`, with the same --label pair each time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.keys import Keys

RESULTS = Path(__file__).parent / "results"

#: Installed before the site's scripts: records when narration text first shows,
#: and counts callback requests in flight with their compressed sizes.
PROBE = """
window.__bench = {narration: null, inflight: 0, reading: 0, key: 0, drawn: new WeakMap()};
const B = window.__bench;
document.addEventListener('keydown', () => { B.key = performance.now(); }, true);
new MutationObserver(() => {
  if (B.narration !== null) return;
  const el = document.querySelector('.ls-step.is-current .ls-markdown');
  if (el && el.textContent.trim().length > 20) B.narration = performance.now();
}).observe(document, {childList: true, subtree: true, characterData: true});
const fetch0 = window.fetch;
window.fetch = function (url, opts) {
  const tracked = String(url).includes('_dash-update-component');
  if (tracked) B.inflight++;
  return fetch0.apply(this, arguments).finally(() => { if (tracked) B.inflight--; });
};
// An answer is in hand only once its body is read and parsed (fetch resolves at the headers).
const json0 = Response.prototype.json;
Response.prototype.json = function () {
  B.reading++;
  return json0.apply(this, arguments).finally(() => { B.reading--; });
};
// Figures: when each one last finished a drawing.
const wrapPlotly = setInterval(() => {
  const P = window.Plotly;
  if (!P || P.__benchWrapped) return;
  ['react', 'newPlot'].forEach((name) => {
    const f = P[name];
    const wrapped = function (gd) {
      const div = typeof gd === 'string' ? document.getElementById(gd) : gd;
      return Promise.resolve(f.apply(this, arguments)).finally(() => { B.drawn.set(div, performance.now()); });
    };
    Object.keys(f).forEach((k) => { wrapped[k] = f[k]; });   // e.g. the site's own wrapper's flag
    P[name] = wrapped;
  });
  P.__benchWrapped = true;
  clearInterval(wrapPlotly);
}, 2);
"""

READY = """
// Watches for "step ready" in the page: B.ready is the time (ms since navigation) the step
// titled B.expect was first ready and stayed so for 150 ms, or null until then.
const B = window.__bench;
B.expect = arguments[0];
B.ready = null;
B.since = null;
if (B.watching) return;
B.watching = true;
const isReady = (title) => {
  const h2 = document.querySelector('.ls-lesson .ls-step.is-current h2');
  if (!h2 || h2.textContent.trim() !== title) return false;
  if (B.inflight > 0 || B.reading > 0) return false;
  if (document.querySelector('[data-dash-is-loading="true"], .site-job.is-running')) return false;
  const graphs = Array.from(document.querySelectorAll('.ls-figure:not(.ls-hidden) .js-plotly-plot'))
    .filter(g => g.offsetParent !== null);
  // each drawn again since the key press (not only the last step's figure still on screen)
  return graphs.every(g => g._fullData && g._fullData.length && (B.drawn.get(g) || 0) > B.key);
};
setInterval(() => {
  if (B.ready !== null || B.expect === null) return;
  const now = performance.now();
  if (!isReady(B.expect)) { B.since = null; return; }
  B.since = B.since === null ? now : B.since;
  if (now - B.since >= 150) B.ready = B.since;
}, 15);
"""

BYTES = """
return performance.getEntriesByType('resource')
  .filter(e => e.name.includes('_dash-update-component')).reduce((s, e) => s + (e.transferSize || 0), 0);
"""


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--window-size=1400,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    return driver


def wait_ready(driver, title: str, timeout_s: float) -> float:
    """Seconds from the last key press (or from navigation, before any) until the
    page saw READY hold for 150 ms for the step titled `title` (inf at the timeout).
    Call `expect` before the key press."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            at = driver.execute_script("const B = window.__bench; return B.ready === null ? null : B.ready - B.key;")
        except Exception:
            at = None
        if at is not None:
            return at / 1000
        time.sleep(0.03)
    return float("inf")


def expect(driver, title: str) -> None:
    """Start watching in the page for the step titled `title` to be ready."""
    driver.execute_script(READY, title)


def lesson_titles(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.ls-lesson .ls-step h2')).map(h => h.textContent.trim());")


def walk(driver, base: str, path: str, timeout_s: float) -> dict:
    driver.get("about:blank")
    driver.get(base + path)
    titles = []
    deadline = time.monotonic() + timeout_s
    while not titles and time.monotonic() < deadline:
        titles = lesson_titles(driver)
        time.sleep(0.05)
    expect(driver, titles[0])
    first = wait_ready(driver, titles[0], timeout_s)
    narration = driver.execute_script("return window.__bench.narration;")
    ready, sizes, slow = [], [], []
    body = driver.find_element("css selector", "body")
    for k, title in enumerate(titles[1:], start=2):
        before = driver.execute_script(BYTES)
        expect(driver, title)
        body.send_keys(Keys.ARROW_RIGHT)
        seconds = wait_ready(driver, title, timeout_s)
        ready.append(seconds)
        sizes.append((driver.execute_script(BYTES) - before) / 1000)
        if seconds > 1.0:
            slow.append(k)
    ordered = sorted(ready)
    return {
        "lesson": path, "steps": len(titles),
        "narration_ms": round(narration) if narration is not None else None,
        "first_step_ready_ms": round(first * 1000),
        "ready_ms_p50": round(statistics.median(ready) * 1000) if ready else None,
        "ready_ms_p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000) if ready else None,
        "ready_ms_max": round(max(ready) * 1000) if ready else None,
        "step_kB_max": round(max(sizes), 1) if sizes else None,
        "steps_over_1s": slow,
        "ready_ms": [round(s * 1000) for s in ready],   # steps 2, 3, ... in order
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8050")
    parser.add_argument("--label", default="warm")
    parser.add_argument("--lessons", nargs="*", default=["/perceptron", "/computational-graph",
                                                         "/decision-boundaries", "/rnn", "/graph-layout",
                                                         "/loss-landscape", "/optimizer-lab"])
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    store = RESULTS / f"steps-{args.label}.json"
    last = {r["lesson"]: r for r in json.loads(store.read_text())} if store.exists() else {}
    driver = browser()
    rows = []
    try:
        for path in args.lessons:
            row = walk(driver, args.base, path, args.timeout)
            previous = last.get(path, {})
            row.update({f"last_{k}": previous.get(k) for k in ("narration_ms", "ready_ms_p95", "ready_ms_max")})
            row["label"] = args.label
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        driver.quit()
    store.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
