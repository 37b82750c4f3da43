"""The public answers' cache: pages, JSON, feeds and badges, per API process, for
`VIGIL_STATUS_CACHE_SECONDS` (the stats answer cache's rules: a repeat within that time is
answered from memory, an expired answer is served once more while one background refresh
runs, so an answer is at most twice that old). A write through the management routes drops
this process's cache at once; other processes catch up within that bound."""

from __future__ import annotations

from litestar import Litestar

from api.stats.cache import AnswerCache


def answers(app: Litestar) -> AnswerCache:
    cache = getattr(app.state, "status_cache", None)
    if cache is None:
        cache = app.state.status_cache = AnswerCache(app.state.settings.status_cache_seconds)
    return cache


def forget_answers(app: Litestar) -> None:
    if getattr(app.state, "status_cache", None) is not None:
        app.state.status_cache = AnswerCache(app.state.settings.status_cache_seconds)
