"""Taking results home: figures as PNG, SVG and CSV; a run saved as JSON and opened
again to the same screen; a bad file refused with its reason."""

import json
from pathlib import Path

import pytest

from app.main import app
from tests.browser.helpers import assert_clean, start, wait_until

pytestmark = pytest.mark.browser

FREE = "/perceptron?step=9&lr=0.5&epochs=200"


def downloads(dash_duo) -> Path:
    return Path(dash_duo.download_path)


def newest(dash_duo, suffix: str, before: set) -> Path:
    def found():
        files = [p for p in downloads(dash_duo).glob(f"*{suffix}") if p.name not in before and p.stat().st_size]
        return files[0] if files else None
    return wait_until(found, 20, f"a downloaded {suffix} file")


def curve_data(dash_duo):
    return dash_duo.driver.execute_script(
        "const g = document.querySelector('[id*=\"pl-box\"][id*=\"curves\"] .js-plotly-plot');"
        "return g && g.data ? g.data.map(t => t.y) : null;")


def test_every_figure_downloads_as_png_svg_and_csv(dash_duo):
    start(dash_duo, app, FREE)
    wait_until(lambda: curve_data(dash_duo), 30, "the curves")
    box = dash_duo.find_element('[id*="pl-box"][id*="curves"]')
    for fmt, suffix, head in (("csv", ".csv", b"trace,x,y,z"), ("svg", ".svg", b"<svg"), ("png", ".png", b"\x89PNG")):
        before = {p.name for p in downloads(dash_duo).iterdir()}
        box.find_element("css selector", f'.ls-tool[data-format="{fmt}"]').click()
        path = newest(dash_duo, suffix, before)
        assert path.read_bytes()[:len(head)] == head, path
    assert_clean(dash_duo)


def test_a_saved_run_opens_again_at_the_same_step_settings_and_numbers(dash_duo):
    start(dash_duo, app, FREE)
    saved_curves = wait_until(lambda: curve_data(dash_duo), 30, "the curves")
    before = {p.name for p in downloads(dash_duo).iterdir()}
    dash_duo.find_element(".ls-run-files-summary").click()
    dash_duo.find_element(".ls-save-run").click()
    run_file = newest(dash_duo, ".json", before)
    run = json.loads(run_file.read_text())
    assert run["format"] == "learnscape-run" and run["step"] == 9
    assert run["settings"] == {"lr": "0.5", "epochs": "200"} and run["figures"]["curves"]

    start(dash_duo, app, "/perceptron")
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 1 of 9")
    dash_duo.find_element(".ls-run-files-summary").click()
    dash_duo.find_element('.ls-open-run-label input[type="file"]').send_keys(str(run_file))
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 9 of 9")
    wait_until(lambda: "lr=0.5" in dash_duo.driver.current_url and "epochs=200" in dash_duo.driver.current_url,
               message="the run's settings in the link")
    wait_until(lambda: curve_data(dash_duo) == saved_curves, 30, "the same curves as the saved run")
    assert [t["y"] for t in run["figures"]["curves"]] == saved_curves
    assert_clean(dash_duo)


@pytest.mark.parametrize("content, reason", [
    ("not json at all", "is not JSON"),
    ('{"format": "something else"}', "not a Learnscape run file"),
    ('{"format": "learnscape-run", "lesson": "/nowhere", "step": 1, "settings": {}}', "there is no lesson"),
    ('{"format": "learnscape-run", "lesson": "/perceptron", "step": -3, "settings": {}}', "step"),
    ('{"format": "learnscape-run", "lesson": "/perceptron", "step": 2, "settings": {"lr": [1]}}', "setting"),
])
def test_a_bad_run_file_is_refused_with_its_reason(dash_duo, tmp_path, content, reason):
    start(dash_duo, app, "/perceptron?step=2")
    dash_duo.wait_for_text_to_equal(".ls-progress", "Step 2 of 9")
    bad = tmp_path / "run.json"
    bad.write_text(content)
    dash_duo.find_element(".ls-run-files-summary").click()
    dash_duo.find_element('.ls-open-run-label input[type="file"]').send_keys(str(bad))
    wait_until(lambda: reason in dash_duo.find_element(".ls-run-message").text, message=f"the reason: {reason}")
    assert dash_duo.find_element(".ls-run-message").text.startswith("Not opened")
    assert "step=2" in dash_duo.driver.current_url   # nothing half-loaded
    assert_clean(dash_duo)


def test_this_run_as_python_downloads_the_runs_script(dash_duo):
    start(dash_duo, app, "/perceptron?step=9&lr=0.5")
    wait_until(lambda: curve_data(dash_duo), 30, "the curves")
    before = {p.name for p in downloads(dash_duo).iterdir()}
    dash_duo.find_element(".ls-run-files-summary").click()
    dash_duo.find_element('button[id*="ls-save-code"]').click()
    script = newest(dash_duo, ".py", before)
    text = script.read_text()
    assert script.name == "learnscape-perceptron.py"
    assert text.startswith("# The perceptron lesson: free play") and "import numpy as np" in text
    assert "init, update = sgd(lr=0.5," in text          # the settings on screen
    compile(text, script.name, "exec")
    assert_clean(dash_duo)
