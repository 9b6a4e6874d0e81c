"""A lesson's next steps computed while the visitor reads the one on screen.

When a visitor's browser asks for a step, `ahead(lesson, index)` starts a child
process (a fork of the worker) that computes the lesson's later steps at their
default settings, one after the other, into the shared cache. By the time the
visitor presses Next, the step's runs are stored and its answer is a cache read.
A request for a run the child is computing at that moment waits for it (the
cache's claims, `app.cache.claim_or_wait`) instead of computing it twice.

Only with a shared cache (filesystem or Redis: what the child stores must reach
the site) and `PREFETCH` on (the default). One child per lesson and start step
in the whole site at a time (a claim in the cache); once it has finished, none
again for that start for `DONE_S` seconds.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from flask import current_app, has_request_context

from app import cache as site_cache
from app.config import settings

log = logging.getLogger("learnscape.prefetch")

#: After a lesson's steps were computed from a start step, no prefetch from there for this long (s).
DONE_S = 3600
#: A child's claim on its lesson and start lapses after this long, should it die (s).
CLAIM_S = 900

#: The child starts this long after the step's answer, once the page is drawing it (s).
START_DELAY_S = 1.0
#: How much lower the child's CPU priority is than the worker's (os.nice).
NICENESS = 19

_enabled = True


def disable() -> None:
    """No prefetch from this process (the warm-up computes every step itself)."""
    global _enabled
    _enabled = False


def _key(lesson_id: str, index: int) -> str:
    return f"prefetch:{lesson_id}:{index}"


def ahead(lesson, index: int) -> bool:
    """Start computing the steps after step `index` (0-based) of `lesson` (a
    components.engine.Lesson) in a child process; False when none was started
    (off, no shared cache, not a visitor's request, last step, done or running)."""
    if not (_enabled and settings.prefetch and settings.cache_type in ("filesystem", "redis")
            and has_request_context() and 0 <= index < len(lesson.steps) - 1):
        return False
    key = _key(lesson.id, index)
    if site_cache.peek(key + ":done")[0] or not site_cache.add(key, True, timeout=CLAIM_S):
        return False
    app = current_app._get_current_object()
    threading.Thread(target=_fork, args=(app, lesson, index), daemon=True, name=f"prefetch-{lesson.id}").start()
    return True


def _fork(app, lesson, index: int) -> None:
    """After START_DELAY_S (the answer has gone out, the page draws it), fork the child
    that computes the steps, and wait for it (no zombie is left)."""
    time.sleep(START_DELAY_S)
    pid = os.fork()
    if pid == 0:      # the child: compute, and leave without running the parent's exit handlers
        code = 1
        try:
            _compute(app, lesson, index)
            code = 0
        except BaseException:  # noqa: BLE001 - a child must never return into the server's code
            log.exception("prefetch of lesson %s after step %d", lesson.id, index + 1)
        finally:
            os._exit(code)
    os.waitpid(pid, 0)


def _compute(app, lesson, index: int) -> None:
    disable()
    # Work done ahead yields the CPU to what visitors wait for now (and their browsers, when
    # the site runs on their machine); a visitor who waits for it leaves it the CPU anyway.
    os.nice(NICENESS)
    with app.app_context():
        try:
            for k in range(index + 1, len(lesson.steps)):
                try:
                    lesson.outputs(k, lesson.schema.defaults(), {}, triggered="step")
                    lesson.work_ahead(k)
                except Exception:  # noqa: BLE001 - the visitor's own request will say what failed
                    log.exception("prefetch of lesson %s, step %d", lesson.id, k + 1)
            site_cache.set(_key(lesson.id, index) + ":done", True, timeout=DONE_S)
        finally:
            site_cache.delete(_key(lesson.id, index))
