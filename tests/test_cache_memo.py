"""Memo keys are exact (app.cache): an argument is keyed by the exact text of
its value, or refused with a TypeError naming it; a stored None is a hit, and
removing an entry is explicit."""

from __future__ import annotations

from typing import NamedTuple

import flask
import numpy as np
import pytest

from app import cache as site_cache
from app.cache import cache, memoize


class Spec(NamedTuple):
    width: int
    rate: float


def key(*args, **kwargs) -> str:
    return keyed.cache_key(*args, **kwargs)


@memoize()
def keyed(x, y=None, *rest, **options):
    return x


@pytest.fixture
def in_app():
    """An app context with an in-process cache of its own."""
    server = flask.Flask("memo-test")
    cache.init_app(server, config={"CACHE_TYPE": "SimpleCache", "CACHE_KEY_PREFIX": "memo-test:"})
    with server.app_context():
        yield
    site_cache.guard.skip_until = 0.0


def counted(result=None):
    calls = []

    @memoize()
    def compute(n: int, scale: float = 1.0):
        calls.append(n)
        return result

    return compute, calls


def test_scalars_and_containers_of_them_are_keyed_exactly():
    assert key(0.1) != key(0.1000000000000001) and key(0.1) == key(0.1)
    assert key(1) != key(1.0) != key(True)
    assert key(float("nan")) == key(float("nan")) and key(0.0) != key(-0.0)
    assert key("a", (1, 2.5)) != key("a", [1, 2.5]) != key("a", (1, 2.5, None))
    assert key({"a": 1, "b": (2, 3)}) == key({"b": (2, 3), "a": 1}) != key({"a": 1, "b": (2, 4)})
    assert key(Spec(3, 0.5)) == key(Spec(3, 0.5)) != key(Spec(3, 0.25)) and key(Spec(3, 0.5)) != key((3, 0.5))
    assert key(np.float64(0.5)) != key(np.float32(0.5)) and key(np.int64(3)) == key(np.int64(3))
    assert key(b"\x00") != key("\x00")
    assert key(1, 2, 3, flag=True) != key(1, 2, 3, flag=False)


def test_spelling_of_a_call_does_not_change_its_key():
    assert key(1) == key(x=1) == key(1, None) == key(1, y=None)


def test_two_large_arrays_alike_in_their_ends_are_refused_not_confused():
    a, b = np.arange(2000.0), np.arange(2000.0)
    b[1000] = -1.0                      # repr elides the middle: both print alike
    assert repr(a) == repr(b)
    with pytest.raises(TypeError, match=r"keyed.*argument 'x' is a numpy\.ndarray"):
        key(a)


@pytest.mark.parametrize(("call", "named"), [
    (lambda: key(object()), r"argument 'x' is a builtins\.object"),
    (lambda: key(1, y=np.zeros(3)), r"argument 'y' is a numpy\.ndarray"),
    (lambda: key(1, None, (2, np.zeros(3))), r"argument 'rest'\[0\]\[1\] is a numpy\.ndarray"),
    (lambda: key(1, hyper={"lr": np.zeros(1)}), r"argument 'options'\['hyper'\]\['lr'\] is a numpy\.ndarray"),
    (lambda: key({1, 2}), r"argument 'x' is a builtins\.set"),
    (lambda: key(np.array(3.0)), r"argument 'x' is a numpy\.ndarray"),
])
def test_unkeyable_arguments_are_refused_naming_them(call, named):
    with pytest.raises(TypeError, match=named):
        call()


def test_a_call_with_an_unkeyable_argument_computes_nothing(in_app):
    compute, calls = counted()
    with pytest.raises(TypeError, match="argument 'n'"):
        compute(np.arange(3))
    assert calls == []


def test_a_cached_none_is_a_hit(in_app):
    compute, calls = counted(result=None)
    assert compute(1) is None and compute(1) is None
    assert calls == [1]


def test_removing_an_entry_is_explicit(in_app):
    assert site_cache.set("entry", None)
    assert site_cache.get("entry") == (True, None)
    assert site_cache.delete("entry")
    assert site_cache.get("entry") == (False, None)
    compute, calls = counted(result={"value": 2})
    compute(2)
    assert compute.forget(2) and not compute.forget(2)
    compute(n=2)
    assert calls == [2, 2]


def test_outside_an_app_a_memoized_function_just_computes(monkeypatch):
    monkeypatch.setattr(site_cache.guard, "app", None)      # none bound for jobs either (app.main binds one)
    compute, calls = counted(result=5)
    assert compute(3) == 5 and compute(3) == 5
    assert calls == [3, 3]
    with pytest.raises(TypeError, match="argument 'n'"):   # and refuses the same arguments
        compute(np.arange(3))
