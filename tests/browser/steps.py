"""Walking every step of a lesson in the browser, and what to check on each."""

from __future__ import annotations

from pathlib import Path

from tests.browser.helpers import wait_until

AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"
LESSONS = ["/perceptron", "/computational-graph", "/decision-boundaries", "/rnn", "/graph-layout",
           "/loss-landscape", "/optimizer-lab"]

READY = """
const title = arguments[0];
const h2 = document.querySelector('.ls-lesson .ls-step.is-current h2');
if (!h2 || h2.textContent.trim() !== title) return false;
if (document.querySelector('[data-dash-is-loading="true"], .site-job.is-running')) return false;
return Array.from(document.querySelectorAll('.ls-figure:not(.ls-hidden) .js-plotly-plot'))
  .filter(g => g.offsetParent !== null).every(g => g._fullData && g._fullData.length);
"""


def emulate(dash_duo, width: int, height: int, mobile: bool = True) -> None:
    """The browser as a screen of `width` × `height` CSS px (a window cannot be narrower than
    about 500 px in headless Chromium, so phones are emulated)."""
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def step_titles(dash_duo) -> list[str]:
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.ls-lesson .ls-step h2')).map(h => h.textContent.trim());")


def drawn(dash_duo, title: str, timeout: float = 60.0) -> None:
    """Wait until the current step is `title`, nothing is loading and every shown figure is drawn."""
    wait_until(lambda: dash_duo.driver.execute_script(READY, title), timeout, f"step {title!r} drawn")


def walk(dash_duo, check, timeout: float = 60.0) -> int:
    """Call check(step_number) on every step of the open lesson, each once it is drawn."""
    titles = wait_until(lambda: step_titles(dash_duo), timeout, "the lesson's steps")
    for k, title in enumerate(titles, start=1):
        if k > 1:
            dash_duo.driver.execute_script("document.querySelector('.ls-lesson .ls-next').click();")
        drawn(dash_duo, title, timeout)
        check(k)
    return len(titles)


ALTS = """
return Array.from(document.querySelectorAll('.ls-figure:not(.ls-hidden)'))
  .filter(f => f.offsetParent !== null && f.querySelector('.js-plotly-plot'))
  .map(f => { const id = f.getAttribute('aria-describedby'); const el = id && document.getElementById(id);
              return el ? el.textContent : ''; });
"""

#: The desktop screen the accessibility checks are made at (the browser's window size).
DESKTOP = (1400, 900)


def emulate_desktop(dash_duo) -> None:
    emulate(dash_duo, *DESKTOP, mobile=False)


class DesktopAccessibility:
    """Each step of a lesson walked at desktop size, once drawn: no serious or critical
    accessibility violation (axe-core, WCAG 2.2 A and AA), and every figure has a text
    alternative built from its data. A lesson's own walk calls `check` on every step,
    then `assert_none`; the problems of all steps are told together."""

    def __init__(self, dash_duo):
        self.dash_duo = dash_duo
        self.titles = wait_until(lambda: step_titles(dash_duo), 60, "the lesson's steps")
        self.found: dict[int, list[str]] = {}
        self.steps = 0

    def check(self, k: int) -> None:
        """Step `k` (1-based), the current one, once drawn."""
        drawn(self.dash_duo, self.titles[k - 1])
        problems = axe_violations(self.dash_duo)
        alts = self.dash_duo.driver.execute_script(ALTS)
        problems += [f"figure {i + 1} has no text alternative" for i, a in enumerate(alts) if len(a) < 20]
        if problems:
            self.found[k] = problems
        self.steps += 1

    def assert_none(self) -> None:
        assert self.steps == len(self.titles) > 1, (self.steps, self.titles)
        assert self.found == {}, "\n".join(f"step {k}: {p}" for k, ps in self.found.items() for p in ps)


def axe_violations(dash_duo, impacts=("serious", "critical")) -> list[str]:
    """WCAG 2.2 A/AA violations axe-core finds on the page now, of the given impacts."""
    driver = dash_duo.driver
    if not driver.execute_script("return Boolean(window.axe);"):
        driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        // A Plotly graph is a picture described by its text alternative (checked apart):
        // leaving its thousands of SVG nodes out makes each run several times faster.
        axe.run({exclude: [['.js-plotly-plot']]}, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
                           resultTypes: ['violations']})
          .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))
          .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));
    """)
    return [f"{v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in result if v["impact"] in impacts]


OVERFLOW_AND_CONTROLS = """
const width = document.documentElement.clientWidth;
const problems = [];
if (document.documentElement.scrollWidth > width + 1) problems.push('page scrolls sideways: ' +
    document.documentElement.scrollWidth + ' > ' + width);
const controls = Array.from(document.querySelectorAll(
    '.pl-player button, .pl-player .pl-speed, .ls-nav button, .site-menu-button'))
  .filter(el => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden');
const rects = controls.map(el => [el, el.getBoundingClientRect()]);
rects.forEach(([el, r]) => {
  const name = (el.textContent || el.className).trim().slice(0, 20);
  if (r.left < -1 || r.right > width + 1) problems.push(name + ' is off-screen');
  // 44 px for the player and Previous / Next; the step dots meet WCAG 2.2's 24 px.
  const least = el.classList.contains('ls-dot') ? 23.5 : 43.5;
  if (r.height < least || r.width < least) problems.push(name + ' is ' + r.width.toFixed(0) + ' × ' +
                                                       r.height.toFixed(0) + ' px');
});
for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) {
  const [a, ra] = rects[i], [b, rb] = rects[j];
  if (a.contains(b) || b.contains(a)) continue;
  const overlap = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left) > 1 &&
                  Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top) > 1;
  if (overlap) problems.push((a.textContent || a.className).trim().slice(0, 20) + ' overlaps ' +
                             (b.textContent || b.className).trim().slice(0, 20));
}
return problems;
"""


def layout_problems(dash_duo) -> list[str]:
    """Sideways scrolling, and player or step controls off-screen, too small to tap or overlapping."""
    return dash_duo.driver.execute_script(OVERFLOW_AND_CONTROLS)
