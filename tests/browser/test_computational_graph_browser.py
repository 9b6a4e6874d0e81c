"""The computational-graph lesson in headless Chromium, as a visitor uses it."""

import pytest

from app.main import app
from pages.computational_graph import SCHEMA, STEPS
from tests.browser.helpers import assert_clean, figure_data, retype, setting_field, start, wait_until
from tests.browser.steps import DesktopAccessibility, emulate_desktop

N = len(STEPS)
DEFAULT_EXPRESSION = SCHEMA.defaults()["expr"]
PATH = "/computational-graph"
GRAPH = ".cg-graph"
pytestmark = pytest.mark.browser


def label(dash_duo) -> str:
    return dash_duo.find_element(".pl-label").text


def title(dash_duo) -> str:
    return dash_duo.driver.execute_script(
        "const el = document.querySelector('.cg-graph .js-plotly-plot');"
        "return el && el.layout && el.layout.title ? el.layout.title.text : '';")


def numbers(dash_duo) -> list:
    """The text under every node of the graph (value and gradient), as drawn."""
    return dash_duo.driver.execute_script(
        "const el = document.querySelector('.cg-graph .js-plotly-plot');"
        "return el && el.data && el.data[4] ? Array.from(el.data[4].text || []) : null;")


def variable_names(dash_duo) -> list:
    return [c.text for c in dash_duo.find_elements(".cg-variables td[data-dash-column=name]")]


def note(name: str) -> str:
    """The css selector of the note beside the field of setting `name`."""
    return f'[id*="ls-field-note"][id*="\\"{name}\\""]'


def test_stepping_forward_and_backward_through_the_lesson_and_accessible(dash_duo):
    emulate_desktop(dash_duo)
    start(dash_duo, app, PATH)
    accessibility = DesktopAccessibility(dash_duo)
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step 1 of {N}")
    wait_until(lambda: "Old ballad" in title(dash_duo), message="the graph of step 1")
    accessibility.check(1)
    for k in range(2, N + 1):
        dash_duo.find_element(".ls-next").click()
        dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {k} of {N}")
        assert dash_duo.find_element(".ls-step.is-current h2").text == STEPS[k - 1].title
        wait_until(lambda: figure_data(dash_duo, GRAPH), message=f"the graph of step {k}")
        accessibility.check(k)
    assert f"step={N}" in dash_duo.driver.current_url
    accessibility.assert_none()
    for k in range(N - 1, 0, -1):
        dash_duo.find_element(".ls-prev").click()
        dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {k} of {N}")
    wait_until(lambda: "Old ballad" in title(dash_duo), message="step 1's graph again")
    assert_clean(dash_duo)


def test_the_player_walks_the_backward_pass_edge_by_edge(dash_duo):
    backward = 1 + [i for i, s in enumerate(STEPS) if s.figure == "backward"][0]
    start(dash_duo, app, f"{PATH}?step={backward}")
    wait_until(lambda: "backward" in label(dash_duo), message="the backward pass")
    dash_duo.find_element(".pl-reset").click()
    wait_until(lambda: label(dash_duo).startswith("backward · 0 of"), message="the start of the pass")
    before = figure_data(dash_duo, GRAPH)
    dash_duo.find_element(".pl-step").click()
    wait_until(lambda: label(dash_duo).startswith("backward · 1 of"), message="one edge")
    wait_until(lambda: figure_data(dash_duo, GRAPH) != before, message="the graph to change")
    assert title(dash_duo).startswith("∂L/∂p")
    dash_duo.find_element(".pl-step").click()
    wait_until(lambda: title(dash_duo).startswith("∂L/∂y"), message="the second edge")
    assert_clean(dash_duo)


def test_a_song_control_changes_the_graph_and_the_link(dash_duo):
    start(dash_duo, app, f"{PATH}?step={N}")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {N} of {N}")
    wait_until(lambda: "0.471 → 0.178" in dash_duo.find_element(".cg-summary").text, message="the update")
    before = numbers(dash_duo)
    retype(setting_field(dash_duo, "w2"), "0.5")
    wait_until(lambda: numbers(dash_duo) != before, message="the numbers on the graph to change")
    assert any("<b>0.5</b>" in text for text in numbers(dash_duo))
    wait_until(lambda: "w2=0.5" in dash_duo.driver.current_url, message="the link to hold w2")
    assert "0.471" not in dash_duo.find_element(".cg-summary").text
    assert_clean(dash_duo)


def test_typing_expressions_good_and_hostile(dash_duo):
    start(dash_duo, app, f"{PATH}?step={N}&graph=expression")
    dash_duo.wait_for_text_to_equal(".ls-progress", f"Step {N} of {N}")
    wait_until(lambda: "∂f/∂" in title(dash_duo), message="the default expression's graph")
    before = figure_data(dash_duo, GRAPH)
    field = setting_field(dash_duo, "expr")
    retype(field, "x*y + x")
    wait_until(lambda: figure_data(dash_duo, GRAPH) != before, message="the new graph")
    wait_until(lambda: variable_names(dash_duo) == ["x", "y"], message="a row per variable")
    wait_until(lambda: "expr=x*y" in dash_duo.driver.current_url.replace("%2A", "*"), message="the link")
    retype(field, "__import__('os')")
    wait_until(lambda: "may not start with '_'" in dash_duo.find_element(".cg-expression-controls").text,
               message="the parser's message")
    wait_until(lambda: field.get_attribute("value") == DEFAULT_EXPRESSION, message="the field shows what is drawn")
    wait_until(lambda: variable_names(dash_duo) == ["w", "x", "b"], message="the table follows the field")
    assert "is not allowed" in dash_duo.find_element(note("expr")).text, "the note stays beside the field"
    assert "may not start with '_'" in dash_duo.find_element(".cg-expression-controls").text
    retype(field, "x.__class__")
    wait_until(lambda: "unexpected character '.'" in dash_duo.find_element(".cg-expression-controls").text,
               message="the parser's message about attribute access")
    assert dash_duo.find_element(".ls-progress").text == f"Step {N} of {N}"
    assert_clean(dash_duo)


def test_a_bad_number_is_told_beside_its_field_and_replaced(dash_duo):
    start(dash_duo, app, f"{PATH}?step={N}")
    wait_until(lambda: "0.471 → 0.178" in dash_duo.find_element(".cg-summary").text, message="the update")
    field = setting_field(dash_duo, "w2")
    retype(field, "99")
    wait_until(lambda: "not allowed" in dash_duo.find_element(note("w2")).text, message="the note beside the field")
    wait_until(lambda: field.get_attribute("value") == str(SCHEMA.defaults()["w2"]),
               message="the field shows the value used")
    assert "0.471 → 0.178" in dash_duo.find_element(".cg-summary").text
    assert "w2=" not in dash_duo.driver.current_url
    assert_clean(dash_duo)
