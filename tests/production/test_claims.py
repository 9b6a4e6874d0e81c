"""Claims in the shared cache: one process computes a value, the others wait for it
(app.cache.claim_or_wait), as memoized functions and decision-boundary runs use them."""

from __future__ import annotations

import threading
import time

import flask
import pytest

from app import cache as site_cache
from app.cache import cache_config, memoize
from app.config import load
from app.lessons import decision_boundaries as experiments
from app.ml import decision_runs


@pytest.fixture
def shared(tmp_path, monkeypatch):
    """A Flask app on a filesystem cache in its own folder (what workers and jobs share)."""
    monkeypatch.setenv("CACHE_TYPE", "filesystem")
    monkeypatch.setenv("CACHE_DIR", str(tmp_path))
    server = flask.Flask("claims")
    site_cache.init_app(server, cache_config(load(), "claims"))
    return server


def in_thread(server, fn, *args) -> threading.Thread:
    """Run fn(*args) in an app context on another thread (another worker, for the cache)."""
    def work():
        with server.app_context():
            fn(*args)
    thread = threading.Thread(target=work)
    thread.start()
    return thread


def compute_later(key: str, value, after_s: float):
    """What the claim's holder does: compute for `after_s` seconds, store, release."""
    def work():
        time.sleep(after_s)
        site_cache.set(key, value)
        site_cache.release(key)
    return work


def test_a_claimed_value_is_waited_for_not_computed(shared):
    first = []

    def holder():   # another worker: claims the value, computes for 0.3 s, stores it
        first.append(site_cache.claim_or_wait("v"))
        compute_later("v", 42, 0.3)()

    with shared.app_context():
        thread = in_thread(shared, holder)
        while not first:
            time.sleep(0.01)
        start = time.monotonic()
        assert site_cache.claim_or_wait("v") == (True, 42)
        thread.join()
    assert first == [(False, None)] and time.monotonic() - start >= 0.2


def test_a_lapsed_claim_is_taken_over(shared):
    with shared.app_context():
        assert site_cache.add("claim:lost", True, timeout=1)      # its holder died: never released
        assert site_cache.claim_or_wait("lost", hold_s=5) == (False, None)   # within about a second
        assert site_cache.peek("claim:lost") == (True, True)       # now this thread's claim
        site_cache.release("lost")
        assert site_cache.peek("claim:lost") == (False, None)


def test_only_the_holder_releases_or_renews_a_claim(shared):
    with shared.app_context():
        assert site_cache.add("claim:theirs", True, timeout=60)
        site_cache.release("theirs")                           # not this thread's
        site_cache.renew("theirs", hold_s=1)
        assert site_cache.peek("claim:theirs") == (True, True)


def test_memoize_waits_for_a_value_another_process_computes(shared):
    calls = []

    @memoize()
    def slow_square(x: int) -> int:
        calls.append(x)
        return x * x

    key = slow_square.cache_key(7)
    with shared.app_context():
        assert site_cache.add(site_cache.claim_key(key), True, timeout=60)   # another process computes
        holder = in_thread(shared, compute_later(key, 49, 0.3))
        assert slow_square(7) == 49
        holder.join()
    assert calls == []


def test_a_decision_run_being_trained_elsewhere_is_waited_for(shared, monkeypatch):
    spec = experiments.lesson_spec(1, 5)
    key = experiments.run_key("run", spec)

    def no_training(*_args, **_kwargs):
        raise AssertionError("trained a run another process was training")

    with shared.app_context():
        assert site_cache.add(site_cache.claim_key(key), True, timeout=60)
        holder = in_thread(shared, compute_later(key, {"stored": "elsewhere"}, 0.3))
        monkeypatch.setattr(decision_runs, "start", no_training)
        assert experiments.run_of(spec, site_cache) == {"stored": "elsewhere"}
        holder.join()


def test_a_decision_run_holds_its_claim_while_training_and_releases_it(shared):
    spec = experiments.lesson_spec(0, 1)
    key = experiments.run_key("run", spec)
    seen = []
    with shared.app_context():
        run = experiments.run_of(spec, site_cache, report=lambda epoch: seen.append(
            site_cache.peek(site_cache.claim_key(key))[0]))
        assert seen and all(seen)                          # claimed at every chunk
        assert site_cache.peek(site_cache.claim_key(key)) == (False, None)
        assert site_cache.get(key)[0] and run
