"""The one flask-caching Cache of the site, bound to the server in app.main.

Expensive pure computations are memoized on scalar arguments (seed, sizes,
names, rates) with `@memoize()` below. Called outside a Flask application
(unit tests, scripts), memoized functions simply compute.
"""

from __future__ import annotations

import functools

from flask import has_app_context
from flask_caching import Cache

from app.config import Settings

cache = Cache()


def cache_config(settings: Settings) -> dict:
    """flask-caching configuration for the chosen backend."""
    common = {"CACHE_DEFAULT_TIMEOUT": settings.cache_timeout_s}
    if settings.cache_type == "redis":
        return {**common, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.cache_redis_url}
    if settings.cache_type == "filesystem":
        return {**common, "CACHE_TYPE": "FileSystemCache", "CACHE_DIR": settings.cache_dir,
                "CACHE_THRESHOLD": 2000}
    return {**common, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 500}


def memoize(timeout: int | None = None):
    """`cache.memoize` that computes directly when no Flask app is active.

    Use only on functions whose arguments are scalars (and strings, tuples of
    scalars): the cache key is built from them.
    """

    def decorate(fn):
        cached = cache.memoize(timeout=timeout)(fn)

        @functools.wraps(fn)
        def call(*args, **kwargs):
            if has_app_context():
                return cached(*args, **kwargs)
            return fn(*args, **kwargs)

        call.uncached = fn
        return call

    return decorate
