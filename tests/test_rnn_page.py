"""The RNN page's callbacks, called as the server would: every step, the numbers
the narration states, settings that change the figures, bad input, the WAV."""

import base64
import io
import json
import math
import wave

import dash
import numpy as np
import plotly
import pytest

from app.main import app
from app.ml import melodies, rnn
from components.theme import ORANGE
from pages import rnn as page

DEFAULTS = page.SCHEMA.defaults()
N = len(page.STEPS)
STEP = {s.figure: i for i, s in enumerate(page.STEPS)}
FREE, GENERATE = STEP["free"], STEP["generate"]
WITH_MELODY = {"sequence", "generate", "free"}


def call(step, **overrides) -> dict:
    """Every output of the step with the default settings except `overrides`, by name;
    "text" joins the notices."""
    with app.server.test_request_context():
        out = page.ENGINE.outputs(step, {**DEFAULTS, **overrides})
    return {**out, "text": " ".join(p.children for p in out["notices"])}


def shown(result) -> dict:
    """The payloads of the graphs the step shows, by graph name."""
    return {name: result[f"figure:{name}"] for name in page.SLOTS if result[f"figure:{name}"] is not None}


def with_app(fn, *args):
    with app.server.test_request_context():
        return fn(*args)


# -- every step ---------------------------------------------------------------------------


@pytest.mark.parametrize("step", range(N), ids=[s.figure for s in page.STEPS])
def test_every_step_shows_its_figures_with_one_caption_per_frame(step):
    result = call(step)
    figure = page.STEPS[step].figure
    payloads = shown(result)
    assert list(payloads) == [n for n in page.SLOTS if n in page.SHOWN[figure]]
    frames = {len(p["frames"]) for p in payloads.values()}
    assert len(frames) == 1 and 1 <= frames.pop() <= 150
    captions = [p["labels"] for p in payloads.values()]
    assert all(c == captions[0] for c in captions)
    for name in page.SLOTS:
        payload = result[f"figure:{name}"]
        assert ("ls-hidden" in result[f"slot:{name}"]) == ("ls-hidden" in result[f"box:{name}"]) == (payload is None)
        if payload is not None:   # the slots of a step stand in the order the step names them
            assert f"rnn-order-{page.SHOWN[figure].index(name)}" in result[f"slot:{name}"]
        if payload is not None:
            assert payload["figure"]["data"], name
            size = len(json.dumps(payload, cls=plotly.utils.PlotlyJSONEncoder))
            assert size < 1_000_000, f"{name}: {size} bytes"
    assert result["text"] == "" and result["notices-class"] == "ls-notices is-empty"
    assert (result["melody"] is not None) == (figure in WITH_MELODY)
    assert ("ls-hidden" in result["panel:audio"]) == (figure not in WITH_MELODY)
    assert ("ls-hidden" in result["panel:summary"]) == (result["summary"] == [])
    assert ("ls-hidden" in result["panel:generation"]) == (figure not in ("generate", "free"))
    assert ("ls-hidden" in result["panel:settings"]) == (figure != "free")
    assert all(note == "" for name, note in result.items() if name.startswith("note:"))
    assert result["figure:bars"] is None or result["figure:bars"]["autoplay"] == page.STEPS[step].play


@pytest.mark.parametrize("figure", ["cell", "unrolled", "probabilities"])
def test_reading_steps_have_a_frame_per_note_read(figure):
    result = call(STEP[figure])
    tokens = page.tune_tokens(page.SHOWN_TUNE)
    for payload in shown(result).values():
        assert len(payload["frames"]) == len(tokens) - 1
    if "bars" in shown(result):
        # frame t marks the true next token (tokens[t + 1]) in orange, and only it
        t = 5
        colors = result["figure:bars"]["frames"][t]["data"][0]["marker"]["color"]
        assert [i for i, c in enumerate(colors) if c == ORANGE] == [int(tokens[t + 1])]


def test_the_cell_spells_out_a_sum_that_adds_up():
    r = with_app(page.reading, page.SHOWN_TUNE)
    np.testing.assert_allclose(r["x_part"] + r["m_part"] + r["b_h"], r["pre"], atol=1e-12)
    np.testing.assert_allclose(np.tanh(r["pre"]), r["hs"], atol=1e-12)
    cell = call(STEP["cell"])["figure:cell"]
    equation = cell["frames"][7]["layout"]["annotations"][0]["text"]
    unit = int(np.argmax(r["hs"].std(axis=0)))
    assert f"unit {unit + 1}" in equation and f"{r['hs'][7, unit]:.2f}".replace("-", "−") in equation


# -- what the page shows of how the lesson network was trained --------------------------------
# (the narration's numbers are checked against the runs in tests/lessons/test_rnn_claims.py)


def test_the_training_step_says_how_bptt_was_cut_and_whether_clipping_acted():
    text = json.dumps(call(STEP["training"])["summary"], cls=plotly.utils.PlotlyJSONEncoder)
    assert "cut every 32 steps" in text and "chunks of 32 and 11" in text
    assert "clipped at norm 5: never in this run" in text


def test_the_gradient_figure_shades_the_steps_beyond_the_cut():
    layout = call(STEP["gradients"])["figure:flow"]["figure"]["layout"]
    (shade,) = layout["shapes"]
    assert (shade["x0"], shade["x1"]) == (10.5, 42.5)
    assert any("cut at step 32" in a["text"] for a in layout["annotations"])


# -- settings change the figures; bad settings give messages ----------------------------------


def test_the_temperature_changes_the_melody_and_a_network_setting_changes_the_training():
    a = call(GENERATE)["figure:roll"]["frames"][-1]
    b = call(GENERATE, temperature="0.3")["figure:roll"]["frames"][-1]
    assert a != b
    small = call(FREE, hidden="16")
    assert small["figure:curves"]["figure"]["data"] != call(FREE)["figure:curves"]["figure"]["data"]
    assert small["text"] == ""


@pytest.mark.parametrize("name, raw, said", [
    ("temperature", "0", "Temperature"), ("temperature", "-1", "Temperature"), ("temperature", "nan", "Temperature"),
    ("hidden", "100000", "Hidden units"), ("hidden", "1e308", "Hidden units"), ("tunes", "twinkle.yankee_doodle", "yankee_doodle"),
    ("tunes", "<script>", "Train on these tunes"), ("lr", "inf", "Learning rate"), ("optimizer", "rm -rf", "Optimizer"),
    ("start", "Z9:1", "Starting note"), ("steps", "1e9", "Training steps"), ("clip", "-1", "Clip"),
    ("heldout", ["mary"], "Hold out a tune"), ("tempo", "1e308", "Tempo"), ("draw", "1.5", "Melody number"),
    ("unroll", "1", "Unroll"), ("seed", "-3", "Seed"),
])
def test_bad_settings_give_a_notice_naming_them_and_a_working_page(name, raw, said):
    result = call(FREE, **{name: raw})
    assert said in result["text"] and result["notices-class"] == "ls-notices"
    assert said in result[f"note:{name}"] and "not allowed" in result[f"note:{name}"]    # beside the field
    used = page.SCHEMA.get(name).default                # ... which shows the value used instead
    assert result[f"value:{name}"] == (used if isinstance(used, str) else str(used))
    assert all(result[f"note:{other}"] == "" for other in page.SCHEMA.names if other != name)
    assert all(p["figure"]["data"] for p in shown(result).values())
    assert set(shown(result)) == set(page.SHOWN["free"])


def test_temperature_zero_names_the_limit():
    notices = call(GENERATE, temperature="0")["note:temperature"]
    assert f"{rnn.TEMPERATURE_MIN:g} to {rnn.TEMPERATURE_MAX:g}" in notices


def test_too_much_work_is_refused_with_the_limit_and_the_lesson_network_shown():
    result = call(FREE, hidden="128", steps="400")
    assert "Cannot compute this step" in result["text"] and f"{page.WORK_MAX:,}" in result["text"]
    assert "Showing the default settings" in result["text"]      # the defaults are the lesson's network
    assert page.experiments.free_play_net(DEFAULTS) == page.LESSON_NET
    assert result["figure:curves"] == call(FREE)["figure:curves"]


def test_holding_out_the_only_tune_says_so():
    result = call(FREE, tunes="mary", heldout="mary")
    assert "no tune is left to train on" in result["text"]
    assert shown(result)["roll"]["figure"]["data"]


def test_a_held_out_tune_in_free_play_is_scored_and_reported():
    result = call(FREE, heldout="mary")
    text = json.dumps(result["summary"], cls=plotly.utils.PlotlyJSONEncoder)
    assert "held out" in text and "Mary Had a Little Lamb" in text
    names = [t.get("name") for t in result["figure:curves"]["figure"]["data"]]
    assert "Mary Had a Little Lamb (held out)" in names


def test_a_diverging_optimizer_is_stopped_with_the_step_named():
    result = call(FREE, optimizer="rmsprop", lr="10", clip="0")
    assert "Training stopped: diverged at step 2: the loss became inf." in result["text"]   # steps count from 1
    assert shown(result)["roll"]["figure"]["data"]


@pytest.mark.parametrize("step", [None, -5, 10**9, "3", [1], {"a": 1}, True, 2.5])
def test_garbage_steps_give_a_notice_and_the_first_step(step):
    result = call(step)
    assert "does not exist" in result["text"]
    assert list(shown(result)) == list(page.SHOWN[page.STEPS[0].figure])


def test_layout_builds_from_a_garbage_link_and_says_what_it_replaced():
    with app.server.test_request_context():
        tree = page.layout(step="x", hidden="1e9", tunes="twinkle.nope", temperature="0", start="<b>")
    text = json.dumps(tree.to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder)
    for said in ("Hidden units", "nope", "Temperature", "Starting note", "Step"):
        assert said in text
    notes = field_notes(tree)
    assert "Hidden units" in notes["hidden"] and "nope" in notes["tunes"] and "Temperature" in notes["temperature"]
    assert "Starting note" in notes["start"] and notes["seed"] == ""


def field_notes(tree) -> dict:
    """The text beside each setting's field in a built layout, by setting name."""
    notes, stack = {}, [tree]
    while stack:
        node = stack.pop()
        node_id = getattr(node, "id", None)
        if isinstance(node_id, dict) and node_id.get("type") == "ls-field-note":
            notes[node_id["name"]] = node.children or ""
        children = getattr(node, "children", None)
        stack.extend(children if isinstance(children, list) else [children] if children is not None else [])
    return notes


# -- tasks -------------------------------------------------------------------------------------


def test_writing_a_training_tune_note_for_note_is_the_generate_task():
    assert call(GENERATE)["achieved"] == []
    copy = call(GENERATE, draw="1")
    assert copy["achieved"] == [GENERATE]
    assert "note for note" in json.dumps(copy["summary"], cls=plotly.utils.PlotlyJSONEncoder)


def test_a_small_network_that_learns_every_tune_is_the_free_play_task():
    assert call(FREE)["achieved"] == []
    assert call(FREE, hidden=str(page.SMALL_NET), steps="400", lr="0.03")["achieved"] == [FREE]


# -- smaller callbacks -------------------------------------------------------------------------


def test_the_wav_download_is_a_valid_wav_of_the_melody_on_the_roll():
    melody = call(STEP["sequence"])["melody"]
    data, message = page.download_wav(1, melody)
    assert message == "" and data["filename"].endswith(".wav")
    raw = base64.b64decode(data["content"])
    with wave.open(io.BytesIO(raw)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        beats = sum(b for _, b in melodies.get_tune(page.SHOWN_TUNE).notes)
        assert w.getnframes() == round(beats * 60 / DEFAULTS["tempo"] * 22050)
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert 0 < np.abs(samples).max() < 32767


@pytest.mark.parametrize("data", [
    None, {}, "notes", [1, 2], {"notes": []}, {"notes": "x"}, {"notes": [[60, 1]] * 200},
    {"notes": [["x", 1]]}, {"notes": [[200, 1]]}, {"notes": [[60, -1]]}, {"notes": [[60, True]]},
    {"notes": [[60, 1, 2]]}, {"notes": [[60, float("nan")]]}, {"notes": [[60, 16.0]] * 128, "bpm": 40},
])
def test_the_wav_download_refuses_garbage_with_a_message(data):
    result, message = page.download_wav(1, data)
    assert result is dash.no_update and message.startswith("No WAV:")


def test_a_garbage_tempo_in_the_store_falls_back_to_the_default():
    notes, bpm = page.melody_from_store({"notes": [[60, 1]], "bpm": "fast"})
    assert notes == [(60, 1)] and bpm == DEFAULTS["tempo"]


@pytest.mark.parametrize("chosen, value", [
    (["mary", "twinkle"], "twinkle.mary"), (list(page.TUNE_NAMES), page.ALL_TUNES),
    (["mary", "nope"], "mary"), ([], None), ("x", None), (None, None), ([["mary"]], None),
])
def test_the_tune_list_becomes_the_tunes_setting(chosen, value):
    result, message, css = page.tunes_from_list(chosen)
    if value is None:
        assert result is dash.no_update and "is-error" in css and message
    else:
        assert result == value and "ls-hidden" in css


def test_the_held_out_tune_cannot_be_ticked():
    options = page.mark_held_out("mary")
    assert [o["value"] for o in options if o["disabled"]] == ["mary"]
    assert not any(o["disabled"] for o in page.mark_held_out("<script>"))


@pytest.mark.parametrize("draw, after", [("4", "5"), (7, "8"), (None, "1"), ("x", "1"), ("1000000", "0")])
def test_another_melody_takes_the_next_number(draw, after):
    assert page.another_melody(1, draw) == after


def test_a_free_play_run_at_the_largest_allowed_work_completes():
    result = call(FREE, hidden="128", steps=str(page.WORK_MAX // 128), unroll="64")
    assert result["text"] == "" and math.isfinite(result["figure:curves"]["figure"]["data"][0]["y"][-1])
