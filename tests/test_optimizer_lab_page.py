"""The optimizer lab's steps, run through the lesson engine as the server would (outputs by
name), with bad input."""

import json
import re
from pathlib import Path

import dash
import numpy as np
import pytest
from dash._utils import to_json

from app.lessons import optimizer_lab as experiments
from app.main import app
from pages import optimizer_lab as page

FIGURES = [s.figure for s in page.STEPS]
FREE = len(page.STEPS) - 1
NARRATION = Path(page.__file__).with_suffix(".md").read_text(encoding="utf-8")
GRAPHS = tuple(page.ENGINE.graphs)


def call(step, **overrides):
    """Every output of the step callback by name, for the default settings changed by `overrides`."""
    with app.server.test_request_context():
        return page.ENGINE.outputs(step, {**page.SCHEMA.defaults(), **overrides})


def figure(out, name):
    return out[f"figure:{name}"]


def notices(out) -> list[str]:
    return [p.children for p in out["notices"]]


def step_of(name):
    return FIGURES.index(name)


@pytest.mark.parametrize("step", range(len(page.STEPS)))
def test_every_step_shows_its_figures_and_hides_the_rest(step):
    out = call(step)
    shown = [name for name in GRAPHS if figure(out, name) is not None]
    assert shown, "a step without figures"
    for name in GRAPHS:
        payload = figure(out, name)
        if payload is None:
            assert "ls-hidden" in out[f"box:{name}"]
            continue
        assert "ls-hidden" not in out[f"box:{name}"]
        assert payload["figure"]["data"] and 1 <= len(payload["frames"]) <= page.MAX_FRAMES + 1
        assert len(to_json(payload)) < 400_000  # well under the ~2 MB a payload may take
    assert notices(out) == [] and out["notices-class"].endswith("is-empty")
    assert ("ls-hidden" in out["panel:settings"]) == (page.STEPS[step].figure != "free")


def test_the_training_steps_animate_and_the_inside_steps_step_by_step():
    fit = figure(call(step_of("fit")), "left")
    assert fit["autoplay"] is True and len(fit["frames"]) == 101
    lines = [f["data"][0]["y"] for f in fit["frames"]]
    assert lines[0] != lines[-1]
    adam = figure(call(step_of("inside-adam")), "left")
    assert adam["autoplay"] is False
    table = adam["frames"]
    assert len(table) == page.INSIDE["adam"][2] + 1
    # step 1's update line: Adam moves each parameter by alpha = 0.3 first
    update_row = table[1]["data"][0]["cells"]["values"]
    row = update_row[0].index("Δθ ← −α·m̂ / (√v̂ + ε)")
    assert update_row[1][row] == "+0.3000" and update_row[2][row] == "+0.3000"


def test_free_play_starts_at_the_last_frame_and_the_narrated_steps_at_the_first():
    assert figure(call(FREE), "left")["start"] == "last"
    assert figure(call(step_of("fit")), "left")["start"] == "first"


def test_the_algorithm_table_holds_the_optimizer_s_own_numbers():
    inside = experiments.inside_run("momentum")
    texts, values, titles = page.inside_tables("momentum", inside)
    assert len(texts) == len(values) == len(titles) == len(inside["t"]) + 1
    np.testing.assert_allclose(values[3][1], inside["buffer"][2])   # frame 3 = after step 3
    np.testing.assert_allclose(values[0][-1], inside["params"][0])  # frame 0 = the start


def test_a_setting_change_changes_the_free_play_figures():
    a = call(FREE)
    b = call(FREE, lr="0.02")
    assert figure(a, "left")["frames"][-1] != figure(b, "left")["frames"][-1]
    c = call(FREE, optimizer="adam", beta1="0.5", lr="0.1")
    assert figure(c, "right")["frames"][-1] != figure(a, "right")["frames"][-1]


def test_the_comparison_follows_the_rule_and_its_thresholds():
    boost = call(FREE, rule="boost", grow="2")
    careful = call(FREE, rule="careful")
    none = call(FREE, rule="none")
    assert figure(boost, "cmp") != figure(careful, "cmp")
    assert figure(none, "cmp") is None and "ls-hidden" in none["panel:summary"] and none["summary"] == []
    assert "ls-hidden" not in boost["panel:summary"] and boost["summary"]
    grow_default = figure(call(FREE, rule="boost"), "targets")
    assert figure(boost, "targets") != grow_default


def test_the_comparison_step_switches_base_optimizer():
    compare = step_of("compare")
    gentle, large = call(compare), call(compare, case="large")
    assert "ls-hidden" not in gentle["panel:case"] and "ls-hidden" not in gentle["panel:summary"]
    assert "ls-hidden" in call(FREE)["panel:case"]
    assert figure(gentle, "cmp") != figure(large, "cmp")
    assert "too large" in json.dumps(to_json(large["summary"]))


@pytest.mark.parametrize("name, raw", [("lr", "-1"), ("lr", "NaN"), ("lr", "1e308"), ("epochs", "1000000000"),
                                       ("optimizer", "rm -rf"), ("seed", "1.5"), ("batch", "0"), ("noise", "inf"),
                                       ("rule", "[]"), ("grow", "-3"), ("max_doublings", "2.5"),
                                       ("momentum", "x"), ("beta1", "2"), ("case", {"a": 1})])
def test_bad_settings_give_a_notice_beside_the_field_and_a_working_page(name, raw):
    out = call(FREE, **{name: raw})
    assert out["notices-class"] == "ls-notices" and notices(out)
    assert figure(out, "left")["figure"]["data"]
    assert "not allowed" in out[f"note:{name}"] and out[f"note:{name}"] in notices(out)
    assert out[f"value:{name}"] == str(page.SCHEMA.get(name).default)   # the field shows the value used
    untouched = [n for n in page.SCHEMA.names if n != name]
    assert all(out[f"note:{n}"] == "" and out[f"value:{n}"] is dash.no_update for n in untouched)
    if name == "beta1":
        assert "optimizer's default" in notices(out)[0]


def test_a_hyperparameter_valid_for_one_optimizer_but_not_another_is_named():
    # nesterov needs momentum > 0; the schema's range allows 0 (SGD does)
    out = call(FREE, optimizer="nesterov", momentum="0", lr="0.01")
    assert any("momentum" in n for n in notices(out)) and figure(out, "right")["figure"]["data"]


def test_runs_beyond_the_step_limit_say_so_and_the_page_still_works():
    out = call(FREE, epochs="500", batch="1")
    assert any("5000" in n and "Cannot compute this step" in n for n in notices(out))
    assert figure(out, "left")["figure"]["data"]
    out = call(FREE, epochs="300", batch="10")   # the run fits, its 10-seed comparison does not
    assert any("COMPARE_STEPS_MAX" in n for n in notices(out))
    assert figure(out, "cmp") is None and figure(out, "wide")["figure"]["data"]


def test_a_diverging_run_stops_with_a_message():
    out = call(FREE, lr="10", epochs="300", rule="none")
    assert any("diverged in epoch" in n for n in notices(out))
    assert figure(out, "right")["figure"]["data"]


@pytest.mark.parametrize("step", [None, -5, 10**9, "3", [1], {"a": 1}, True, 2.5])
def test_garbage_steps_show_step_one_with_a_notice(step):
    out = call(step)
    assert figure(out, "left")["figure"]["data"]
    assert any("does not exist" in n for n in notices(out))


def test_the_free_play_task_is_detected():
    assert call(FREE)["achieved"] == []
    done = call(FREE, optimizer="momentum", lr="0.05", rule="eve")
    assert done["achieved"] == [FREE]


def test_only_the_chosen_optimizer_s_hyperparameters_are_shown():
    out = page.show_own_controls("adam", "careful")
    names = list(page.HYPER)
    classes = dict(zip(names, out[:len(names)]))
    placeholders = dict(zip(names, out[len(names):2 * len(names)]))
    assert classes["beta1"] == "" and classes["momentum"] == "ls-hidden"
    assert placeholders["beta1"] == "0.9 (default)"
    rule_classes = dict(zip(page.RULE_PARAMS, out[2 * len(names):]))
    assert rule_classes["cut"] == "" and rule_classes["grow"] == "ls-hidden"
    garbage = page.show_own_controls(["x"], None)
    assert all(c == "ls-hidden" for c in garbage[:len(names)])


def layout_text(**query) -> str:
    """The page for a link's query, as JSON text (letters such as η kept as they are)."""
    with app.server.test_request_context():
        return json.dumps(json.loads(to_json(page.layout(**query))), ensure_ascii=False)


def test_layout_survives_garbage_queries_and_explains_them_beside_the_fields():
    layout_text()
    text = layout_text(step="x", lr="nan", optimizer="<b>", momentum="-1", rule="eve", max_doublings="99",
                       batch="-4", case="zzz", noise="1e999", unknown="y" * 3000)
    for label in ("Learning rate η", "Optimizer", "Batch size", "most doublings", "Data noise σ"):
        assert text.count(f"{label}: “") >= 2, label   # in the notices and beside the field


def test_every_control_is_built_from_the_schema():
    text = layout_text(step=str(FREE))
    for setting in page.SCHEMA.settings:
        assert f'"children": "{setting.label}"' in text, setting.name
    assert "1 to 50 (= full batch)" in text and "blank = default" in text


# --------------------------------------------------------------------------
# The narration's claims are measured in tests/lessons/test_optimizer_lab_claims.py.


def test_the_race_step_shows_the_race_over_many_seeds_in_a_table():
    out = call(step_of("race"))
    assert "ls-hidden" not in out["panel:summary"] and "ls-hidden" in out["panel:case"]
    text = json.dumps(json.loads(to_json(out["summary"])), ensure_ascii=False)
    assert f"The race on {experiments.RACE_SEEDS} seeds" in text and "RMSprop (η = 0.3)" in text
    assert "ls-hidden" in call(step_of("inside-adam"))["panel:summary"]


def test_every_number_in_the_free_play_task_is_the_page_s_own():
    assert re.search(rf"at most {page.TASK_EPOCHS} epochs", NARRATION)
    assert f"{page.TARGET:g} of the best" in NARRATION
