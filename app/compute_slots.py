"""How many expensive computations a worker process runs at once.

A cache miss that must compute waits for one of `settings.compute_slots`
slots of its process and, after `settings.compute_wait_s` seconds, gives up
with `Busy` (a ValueError, which every lesson shows to the visitor as a
message). `busy_notice` is Dash's app-wide `on_error`: a `Busy` that a lesson
did not catch becomes a message in the lesson's notices.

The slots are not visitor state: they only bound this process's CPU use.
"""

from __future__ import annotations

import os
import threading

from app.config import Settings


class Busy(ValueError):
    """Too many computations at once in this worker; the visitor may retry."""


class _Slots:
    """This process's semaphore and how long to wait for it (seconds)."""

    def __init__(self):
        self.settings: Settings | None = None
        self.semaphore = threading.BoundedSemaphore(1)

    def bind(self, settings: Settings) -> None:
        self.settings = settings
        self.semaphore = threading.BoundedSemaphore(settings.compute_slots)

    @property
    def wait_s(self) -> float:
        return self.settings.compute_wait_s if self.settings else 10.0


slots = _Slots()
_held = threading.local()


def bind(settings: Settings) -> None:
    """Size this process's slots from `settings` (done once, in app.main)."""
    slots.bind(settings)


def _fresh_slots_after_fork() -> None:
    # A background job forked while another thread held a slot would inherit a
    # taken semaphore that no one in the child ever releases.
    settings = slots.settings
    slots.semaphore = threading.BoundedSemaphore(settings.compute_slots if settings else 1)
    _held.depth = 0


os.register_at_fork(after_in_child=_fresh_slots_after_fork)


class _Slot:
    """One of this process's slots for a computation (re-entrant per thread,
    so a memoized function may call another)."""

    def __enter__(self):
        depth = getattr(_held, "depth", 0)
        if depth == 0:
            wait = slots.wait_s
            if not slots.semaphore.acquire(timeout=wait):
                mark_transient()
                raise Busy(f"the server is busy with other visitors' runs and waited {wait:g} s "
                           "for a free slot; try again in a few seconds")
        _held.depth = depth + 1
        return self

    def __exit__(self, *exc):
        _held.depth -= 1
        if _held.depth == 0:
            slots.semaphore.release()
        return False


def holding() -> bool:
    """Does this thread hold a computation slot (is it inside a computation)?"""
    return getattr(_held, "depth", 0) > 0


def compute_slot() -> _Slot:
    """Context manager: hold a computation slot of this process, or raise Busy."""
    return _Slot()


def mark_transient() -> None:
    """This request's answer says something passing (busy): never cache it whole."""
    from flask import g, has_request_context

    if has_request_context():
        g.transient_answer = True


def answer_is_transient() -> bool:
    """Did this request say something passing (see `mark_transient`)?"""
    from flask import g, has_request_context

    return has_request_context() and bool(g.get("transient_answer"))


def busy_notice(error: Exception):
    """Dash's app-wide `on_error`: a `Busy` that a lesson did not catch becomes
    a message in the lesson's notices (and no other change); any other error
    is a bug and stays one."""
    if not isinstance(error, Busy):
        raise error
    import dash

    outputs = dash.ctx.outputs_list
    for output in outputs if isinstance(outputs, list) else [outputs]:
        for item in output if isinstance(output, list) else [output]:
            id_ = item.get("id") if isinstance(item, dict) else None
            if isinstance(id_, dict) and id_.get("type") == "ls-notices":
                dash.set_props(id_, {"children": f"Not computed now: {error}.", "className": "ls-notices"})
    return dash.no_update
