"""Every lesson × every step × {valid, out of range, garbage, bad settings, model error}
through the one lesson engine: the same behaviour everywhere."""

import dash
import pytest

from app.main import app
from pages import (computational_graph, decision_boundaries, graph_layout, loss_landscape, optimizer_lab,
                   perceptron, rnn)

PAGES = [perceptron, computational_graph, decision_boundaries, rnn, graph_layout, loss_landscape, optimizer_lab]
CASES = [(page, index) for page in PAGES for index in range(len(page.STEPS))]
IDS = [f"{page.LESSON}-{index + 1}" for page, index in CASES]


def outputs(page, step, **raw):
    with app.server.test_request_context():
        return page.ENGINE.outputs(step, {**page.SCHEMA.defaults(), **raw})


def figures(out) -> dict:
    return {k: v for k, v in out.items() if k.startswith("figure:") and v is not None}


def notice_texts(out) -> list[str]:
    return [str(n.children) for n in out["notices"]]


def bad_value(page) -> tuple[str, str]:
    """A setting and a garbage value for it, whatever its kind."""
    setting = page.SCHEMA.settings[0]
    return setting.name, "NaN" if setting.kind in ("int", "float") else "\u0000<script>"


@pytest.mark.parametrize("page, index", CASES, ids=IDS)
def test_a_valid_step_draws_its_figures_without_a_notice(page, index):
    out = outputs(page, index)
    assert list(out) == list(page.ENGINE.output_map())
    assert figures(out) and all(p["figure"].get("data") is not None for p in figures(out).values())
    assert not any(t.startswith(("Step ", "Cannot compute")) for t in notice_texts(out))
    assert out["achieved"] in ([], [index])


@pytest.mark.parametrize("page", PAGES, ids=[p.LESSON for p in PAGES])
@pytest.mark.parametrize("step", [-1, 10**6, "2", None, True, 1.5, [0], {"step": 1}])
def test_an_out_of_range_or_garbage_step_shows_step_one_with_the_same_words(page, step):
    out = outputs(page, step)
    first = outputs(page, 0)
    assert notice_texts(out)[0].endswith(f"does not exist (1 to {len(page.STEPS)}); showing step 1.")
    assert figures(out).keys() == figures(first).keys()


@pytest.mark.parametrize("page, index", CASES, ids=IDS)
def test_a_bad_setting_is_replaced_told_beside_its_field_and_rewritten(page, index):
    name, raw = bad_value(page)
    out = outputs(page, index, **{name: raw})
    assert "is not allowed" in out[f"note:{name}"]
    assert out[f"value:{name}"] is not dash.no_update
    assert any("is not allowed" in t for t in notice_texts(out))
    assert figures(out)


@pytest.mark.parametrize("page, index", CASES, ids=IDS)
def test_a_model_error_gives_placeholders_and_the_same_words(page, index, monkeypatch):
    figure = page.STEPS[index].figure

    def broken(ctx):
        raise ValueError("the model refused")

    monkeypatch.setitem(page.ENGINE.views, figure, broken)
    out = outputs(page, index)
    texts = notice_texts(out)
    assert texts[-1] == "Cannot compute this step: the model refused."
    shown = figures(out)
    assert shown.keys() == {f"figure:{g}" for g in page.ENGINE.graphs}
    assert all(p["figure"]["layout"]["annotations"][0]["text"].startswith("Cannot compute this step")
               for p in shown.values())
    assert out["achieved"] == []
