"""Every step of every lesson at desktop size (1400 × 900): no serious or critical
accessibility violation (axe-core, WCAG 2.2 A and AA), and every figure has a text
alternative built from its data."""

import pytest

from app.main import app
from tests.browser.helpers import assert_clean, start
from tests.browser.steps import LESSONS, axe_violations, emulate, walk

pytestmark = pytest.mark.browser


ALTS = """
return Array.from(document.querySelectorAll('.ls-figure:not(.ls-hidden)'))
  .filter(f => f.offsetParent !== null && f.querySelector('.js-plotly-plot'))
  .map(f => { const id = f.getAttribute('aria-describedby'); const el = id && document.getElementById(id);
              return el ? el.textContent : ''; });
"""


@pytest.mark.parametrize("path", LESSONS)
def test_every_step_passes_axe_and_describes_its_figures(dash_duo, path):
    emulate(dash_duo, 1400, 900, mobile=False)
    start(dash_duo, app, path)
    found = {}

    def check(k):
        problems = axe_violations(dash_duo)
        alts = dash_duo.driver.execute_script(ALTS)
        problems += [f"figure {i + 1} has no text alternative" for i, a in enumerate(alts) if len(a) < 20]
        if problems:
            found[k] = problems

    assert walk(dash_duo, check) > 1
    assert found == {}, "\n".join(f"step {k}: {p}" for k, ps in found.items() for p in ps)
    assert_clean(dash_duo)
