"""The perceptron page's callbacks, called as the server would, with bad input."""

import dash
import pytest

from app.main import app
from pages import perceptron as page

DEFAULTS = [page.SCHEMA.defaults()[n] for n in page.SCHEMA.names]


def call_show_step(step, **overrides):
    """Every output of the step callback, by name."""
    with app.server.test_request_context():
        return page.ENGINE.outputs(step, {**page.SCHEMA.defaults(), **overrides})


@pytest.mark.parametrize("step", range(len(page.STEPS)))
def test_every_step_produces_three_animations(step):
    out = call_show_step(step)
    for name in ("cube", "bars", "curves"):
        assert out[f"figure:{name}"]["figure"]["data"] and len(out[f"figure:{name}"]["frames"]) >= 1


def test_the_training_step_animates_many_epochs():
    training = [i for i, s in enumerate(page.STEPS) if s.figure == "train"][0]
    bars = call_show_step(training)["figure:bars"]
    assert 50 <= len(bars["frames"]) <= page.MAX_FRAMES
    assert bars["autoplay"] is True


def test_the_update_step_shows_its_table_and_only_there():
    update = [i for i, s in enumerate(page.STEPS) if s.figure == "update"][0]
    out = call_show_step(update)
    assert out["panel:update"] == "ls-panel" and "Loss before" in str(out["update"])
    assert call_show_step(0)["panel:update"].endswith("ls-hidden")


def test_a_setting_change_changes_the_figure():
    free = len(page.STEPS) - 1
    a = call_show_step(free)["figure:bars"]["frames"][-1]
    b = call_show_step(free, lr="0.01")["figure:bars"]["frames"][-1]
    assert a != b


@pytest.mark.parametrize("name, raw", [("lr", "-1"), ("lr", "NaN"), ("epochs", "1000000000"),
                                       ("optimizer", "rm -rf"), ("seed", "1.5"), ("songs", "")])
def test_bad_settings_give_a_notice_and_a_working_page(name, raw):
    out = call_show_step(len(page.STEPS) - 1, **{name: raw})
    assert all(out[f"figure:{g}"]["figure"]["data"] for g in ("cube", "bars", "curves"))
    if raw != "":
        assert out["notices-class"] == "ls-notices" and out["notices"]
        assert "not allowed" in out[f"note:{name}"]


@pytest.mark.parametrize("step", [None, -5, 10**9, "3", [1], {"a": 1}])
def test_garbage_steps_do_not_break(step):
    assert call_show_step(step)["figure:cube"]["figure"]["data"]


@pytest.mark.parametrize("rows, ok", [
    ([{"modern": 1, "sad": 0, "piano": 1, "likes": 1}], True),
    ([], False),
    ([{"modern": 2, "sad": 0, "piano": 1, "likes": 1}], False),
    ([{"modern": "x", "sad": None, "piano": 1, "likes": 1}], False),
    ("not a list", False),
    ([{"modern": 1, "sad": 0, "piano": 1, "likes": 1}] * 65, False),
])
def test_song_table_edits_are_checked(rows, ok):
    value, message, css = page.songs_from_table(rows)
    assert (value is not dash.no_update) == ok
    assert ("is-ok" in css) == ok and message


def test_adding_songs_stops_at_the_limit():
    rows = [{"song": "s", "modern": 0, "sad": 0, "piano": 0, "likes": 0}] * page.MAX_SONGS
    assert page.add_song(1, rows) is dash.no_update
    assert len(page.add_song(1, rows[:3])) == 4


def test_prediction_of_a_new_song_and_its_task():
    """The task: the song not in the data that the perceptron rates highest (piano alone)."""
    predict_step = [i for i, s in enumerate(page.STEPS) if s.figure == "predict"][0]
    with app.server.test_request_context():
        text, achieved = page.predict_new_song(["piano"], predict_step, *DEFAULTS)
        trained, known = page.predict_new_song(["sad", "piano"], predict_step, *DEFAULTS)
        _, lower = page.predict_new_song(["modern"], predict_step, *DEFAULTS)
        _, elsewhere = page.predict_new_song(["piano"], 0, *DEFAULTS)
    assert "p(like)" in str(text) and "not in the data; the highest of the new songs" in str(text)
    assert "a training song: Old ballad" in str(trained)
    assert achieved == [predict_step] and known == lower == elsewhere == []


@pytest.mark.parametrize("features", [None, "piano", [1, None, {"a": 1}], ["piano"] * 100, ["rm -rf"]])
def test_garbage_features_give_a_prediction_not_an_error(features):
    predict_step = [i for i, s in enumerate(page.STEPS) if s.figure == "predict"][0]
    with app.server.test_request_context():
        text, achieved = page.predict_new_song(features, predict_step, *DEFAULTS)
    assert "p(like)" in str(text) and achieved in ([], [predict_step])


def test_learning_your_own_songs_is_detected_as_the_free_play_task():
    free = len(page.STEPS) - 1
    own = page.encode_songs([[1, 0, 0, 1], [0, 0, 0, 0]])
    assert call_show_step(free, songs=own)["achieved"] == [free]
    assert call_show_step(free)["achieved"] == []  # the preset songs do not count
