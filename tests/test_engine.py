"""The lesson engine's rules, on a small lesson of its own (no model, no request)."""

import dash
import pytest

from components.engine import Lesson, View, step_index
from components.narration import parse_steps
from components.player import static
from components.settings_schema import Schema, Setting

STEPS = parse_steps("""
## One
figure: a

First.

## Two
figure: b
play: yes

Second.

## Free play
figure: free

Yours.
""")
SCHEMA = Schema((Setting("lr", "Learning rate", "float", 1.0, low=0.001, high=10.0),
                 Setting("on", "Show", "bool", False, labels=("show it",))))


def figure_view(ctx) -> View:
    return View(figures={"main": static({"data": [{"y": [ctx.values["lr"]]}]})}, panels=["settings"],
                achieved=ctx.values["lr"] == 2.0)


def failing_unless_default(ctx) -> View:
    if ctx.values["lr"] != 1.0:
        raise ValueError("lr too brave")
    return figure_view(ctx)


def make(views=None) -> Lesson:
    return Lesson("toy", SCHEMA, STEPS, views or {"a": figure_view, "b": figure_view, "free": figure_view},
                  graphs={"main": 300, "side": (200, "toy-side")}, panels={"settings": "ls-panel"},
                  outputs={"caption": (dash.Output("toy-caption", "children"), "none")})


def test_every_output_has_a_name_and_a_dash_output():
    lesson = make()
    assert list(lesson.outputs(0, {})) == list(lesson.output_map())


def test_a_valid_step_shows_its_view_and_hides_what_it_does_not_name():
    out = make().outputs(2, {"lr": "2"})
    assert out["figure:main"]["figure"]["data"][0]["y"] == [2.0]
    assert out["figure:side"] is None and out["box:side"] == "ls-figure toy-side ls-hidden"
    assert out["height:main"] == {"height": "300px"} and out["panel:settings"] == "ls-panel"
    assert out["caption"] == "none" and out["notices"] == [] and out["notices-class"] == "ls-notices is-empty"
    assert out["achieved"] == [2]


@pytest.mark.parametrize("raw, shown", [(-1, "0"), (3, "4"), (10**9, "1000000001"), (None, "None"),
                                        ("2", "2"), (True, "True"), ([1], "[1]"), (1.5, "1.5")])
def test_any_step_that_is_not_one_shows_step_one_with_a_notice(raw, shown):
    out = make().outputs(raw, {})
    assert step_index(raw, 3)[0] == 0
    assert str(out["notices"][0].children) == f"Step “{shown}” does not exist (1 to 3); showing step 1."


@pytest.mark.parametrize("raw", ["-1", "NaN", "inf", "1e999", "", "abc", None, [], {"x": 1}, "9" * 50])
def test_a_bad_setting_is_replaced_told_beside_its_field_and_rewritten(raw):
    out = make().outputs(0, {"lr": raw})
    assert out["figure:main"]["figure"]["data"][0]["y"] == [1.0]
    if raw in ("", None):  # an empty field means the default, silently
        assert out["note:lr"] == "" and out["value:lr"] is dash.no_update
    else:
        assert "not allowed" in out["note:lr"] and out["value:lr"] == "1.0"
        assert out["notices-class"] == "ls-notices"
    assert out["value:on"] is dash.no_update


def test_a_bool_setting_is_rewritten_as_its_checkbox_holds_it():
    out = make().outputs(0, {"on": "maybe"})
    assert out["value:on"] == [] and "Show" in out["note:on"]


def test_a_model_error_falls_back_to_the_default_settings_with_the_same_words():
    out = make({"a": failing_unless_default, "b": figure_view, "free": figure_view}).outputs(0, {"lr": "5"})
    assert out["figure:main"]["figure"]["data"][0]["y"] == [1.0]
    assert [str(n.children) for n in out["notices"]] == [
        "Cannot compute this step: lr too brave. Showing the default settings."]


def raises(error):
    def view(ctx):
        raise error
    return view


@pytest.mark.parametrize("error, words", [(ValueError("the server is busy"), "the server is busy"),
                                          (ZeroDivisionError("bug"), "an unexpected error")])
def test_a_view_that_always_fails_gives_placeholders_and_a_message(error, words):
    out = make({"a": raises(error), "b": figure_view, "free": figure_view}).outputs(0, {"lr": "5"})
    assert out["figure:main"]["figure"]["layout"]["annotations"][0]["text"].startswith("Cannot compute this step")
    assert out["figure:side"] is not None   # every declared graph says it
    texts = [str(n.children) for n in out["notices"]]
    assert texts[0].startswith("Cannot compute this step") and words in texts[0]
    assert len(texts) == 1 or texts[1].startswith("Cannot compute this step")


def test_a_step_marked_play_starts_its_player_and_others_do_not():
    lesson = make()
    assert lesson.outputs(1, {})["figure:main"]["autoplay"] is True
    assert lesson.outputs(0, {})["figure:main"]["autoplay"] is False


def test_a_narration_figure_without_a_view_is_refused_at_import():
    with pytest.raises(ValueError, match="no view.*free"):
        make({"a": figure_view, "b": figure_view})


def test_a_view_no_step_uses_is_refused_at_import():
    with pytest.raises(ValueError, match="no step uses.*extra"):
        make({"a": figure_view, "b": figure_view, "free": figure_view, "extra": figure_view})


def test_extra_inputs_and_the_trigger_reach_the_view():
    seen = {}

    def view(ctx):
        seen.update(extra=dict(ctx.extra), triggered=ctx.triggered)
        return figure_view(ctx)

    make({"a": view, "b": figure_view, "free": figure_view}).outputs(0, {}, {"request": 3}, triggered="request")
    assert seen == {"extra": {"request": 3}, "triggered": "request"}


# -- a background lesson answers from the cache first ------------------------------------


def memo_view():
    """A view whose work is memoized in the site's cache, counting the computations."""
    import flask
    from app.cache import memoize

    computed = []

    @memoize()
    def slow_square(lr: float) -> float:
        computed.append(lr)
        return lr * lr

    def view(ctx) -> View:
        return View(figures={"main": static({"data": [{"y": [slow_square(ctx.values["lr"])]}]})})

    server = flask.Flask("engine-cache-test")
    server.config["CACHE_TYPE"] = "SimpleCache"
    return view, computed, server


def test_a_background_step_not_in_the_cache_is_handed_over_and_one_in_it_is_answered_at_once():
    from app import cache

    view, computed, server = memo_view()
    lesson = make({"a": view, "b": view, "free": view})
    request = {"step": 0, "raw": {"lr": "3"}, "extra": {}, "triggered": "settings"}
    with server.app_context():
        cache.cache.init_app(server, config={"CACHE_TYPE": "SimpleCache"})
        first = lesson.answer_from_cache(request)
        assert all(v is dash.no_update for v in first[:-1]) and first[-1] == request
        assert computed == []                                 # nothing computed in the quick answer
        computed_answer = lesson.answer(None, first[-1])      # what the background callback does
        assert computed == [3.0]
        again = lesson.answer_from_cache(request)
        assert again[:-1] == computed_answer and again[-1] is dash.no_update
        assert computed == [3.0]
        assert dict(zip(lesson.output_map(), again))["figure:main"]["figure"]["data"][0]["y"] == [9.0]


@pytest.mark.parametrize("garbage", [None, "x", [], {"step": "NaN", "raw": "lr", "extra": 5, "triggered": 7}])
def test_a_handed_over_request_that_is_garbage_shows_step_one_with_defaults(garbage):
    out = dict(zip(make().output_map(), make().answer(None, garbage)))
    assert out["figure:main"]["figure"]["data"][0]["y"] == [1.0]
