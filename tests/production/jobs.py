"""The background job a lesson hands over, built as the browser would send it."""

from __future__ import annotations

from app import warmup


def decision_boundaries_job(app, page: dict, callbacks: list) -> dict:
    """The background request for the decision-boundaries lesson's first step at its
    default settings: what the page POSTs when the quick answer from the cache
    hands the step over (`components.engine.Lesson.answer_from_cache`)."""
    from pages.decision_boundaries import ENGINE, SCHEMA

    defaults = SCHEMA.defaults()
    value = ENGINE.request(0, [defaults[name] for name in SCHEMA.names])
    return warmup.handover_bodies(warmup.Page.render(app, page), callbacks, value)[0]
