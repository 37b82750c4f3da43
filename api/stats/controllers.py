"""Stats routes: uptime, SLA, latency, series, status, regions and downtimes (see
docs/querying.md). Handlers only parse the window and delegate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import FromPath, QueryParameter
from pydantic import BaseModel

from api.errors import NotFound, field_error
from api.stats.cache import AnswerCache, Batch
from api.stats.schemas import DowntimesRead, GroupStatsRead, RegionsRead, SeriesRead, StatsRead, StatusRead
from api.stats.service import StatsService
from api.stats.window import BadWindow, Window, parse_window, resolve_resolution

WindowParam = Annotated[str | None, QueryParameter(description="preset: 1h, 24h (default), 7d, 30d or 90d")]
FromParam = Annotated[str | None, QueryParameter(name="from", description="ISO 8601 start (inclusive)")]
ToParam = Annotated[str | None, QueryParameter(name="to", description="ISO 8601 end (exclusive); default now")]
RegionParam = Annotated[str | None, QueryParameter(description="one region's own view (no quorum)")]


# Each answer's query parameters, in the order its cache key lists them, with the handler's
# default. Handlers name their values and the key is built from this table, so the handlers
# and the shortcut for fresh answers (api/stats/shortcut.py) build one key for one question.
ANSWER_QUERIES: dict[str, tuple[tuple[str, str | int | None], ...]] = {
    "getMonitorStats": (("window", None), ("from", None), ("to", None), ("region", None)),
    "getMonitorSeries": (("window", None), ("from", None), ("to", None), ("region", None), ("resolution", "auto")),
    "getMonitorStatus": (("region", None), ("limit", 50)),
    "getMonitorRegions": (("window", None), ("from", None), ("to", None)),
    "getMonitorDowntimes": (("window", None), ("from", None), ("to", None), ("region", None)),
    "getGroupStats": (("tag", None), ("window", None), ("from", None), ("to", None), ("region", None)),
}


def answer_key(account_id: int, operation_id: str, monitor_id: int | None, query: dict) -> tuple:
    """The cache key of one question: whose, which answer, which monitor, the query values."""
    return (account_id, operation_id, monitor_id, *(query[name] for name, _ in ANSWER_QUERIES[operation_id]))


def answer_cache(state) -> AnswerCache:
    cache = getattr(state, "stats_cache", None)
    if cache is None:
        cache = state.stats_cache = AnswerCache(state.settings.stats_cache_seconds)
    return cache


async def _answer(request: Request, schema: type[BaseModel], monitor_id: int | None, query: dict,
                  compute: Callable[[StatsService], Awaitable[dict]],
                  many: Callable[[StatsService, list[int]], Awaitable[dict[int, dict]]] | None = None) -> Response:
    """compute's answer as JSON, shared with identical questions of the same account for a
    few seconds (api/stats/cache.py); the encoded body is what is kept, so a repeat costs
    no validation or serialisation. ``many`` computes the same question for several monitors
    at once: the cache then refreshes this answer together with the same question's answers
    for the account's other monitors."""
    state = request.app.state
    account_id = request.user.account_id
    operation_id = str(request.route_handler.operation_id)
    batch = None
    if many is not None:
        async def encoded_many(monitor_ids: list[int]) -> dict[int, bytes]:
            answers = await state.reads.run(lambda pool: many(StatsService(pool, account_id), monitor_ids))
            return {m: schema(**a).model_dump_json().encode() for m, a in answers.items()}
        # The question without its monitor.
        batch = Batch(answer_key(account_id, operation_id, None, query), monitor_id, encoded_many)

    async def encoded() -> bytes:
        # On the read replica while it is usable, else (or when it fails mid-answer) the
        # primary; a monitor the replica does not know yet is looked up on the primary.
        answer = await state.reads.run(lambda pool: compute(StatsService(pool, account_id)), (NotFound,))
        return schema(**answer).model_dump_json().encode()
    key = answer_key(account_id, operation_id, monitor_id, query)
    return Response(await answer_cache(state).get(key, encoded, batch), media_type=MediaType.JSON)


def _whole_hours(resolution: str, w: Window) -> bool:
    """Whether a series is of whole hours or days, which several monitors' series can be read
    together; a raw one (a point per slot of the monitor's own interval) is read alone."""
    try:
        return resolve_resolution(resolution, w, 0)[0] != "raw"
    except BadWindow:
        return False  # the handler's read reports it


class MonitorStatsController(Controller):
    path = "/monitors/{monitor_id:int}"
    tags = ["stats"]
    exception_handlers = {BadWindow: field_error}

    @get("/stats", operation_id="getMonitorStats")
    async def stats(self, request: Request, monitor_id: FromPath[int], window: WindowParam = None,
                    start: FromParam = None, end: ToParam = None, region: RegionParam = None) -> Response[StatsRead]:
        w = parse_window(window, start, end)
        return await _answer(request, StatsRead, monitor_id,
                             {"window": window, "from": start, "to": end, "region": region},
                             lambda s: s.stats(monitor_id, w, region),
                             # the window as of the refresh: a preset one ends then
                             None if region is not None else lambda s, ids: s.stats_many(ids, parse_window(window, start, end)))

    @get("/series", operation_id="getMonitorSeries")
    async def series(self, request: Request, monitor_id: FromPath[int], window: WindowParam = None,
                     start: FromParam = None, end: ToParam = None, region: RegionParam = None,
                     resolution: Annotated[str, QueryParameter(description="auto, raw, 1h or 1d")] = "auto",
                     ) -> Response[SeriesRead]:
        w = parse_window(window, start, end)
        together = region is None and _whole_hours(resolution, w)
        return await _answer(request, SeriesRead, monitor_id, {"window": window, "from": start, "to": end,
                                                                "region": region, "resolution": resolution},
                             lambda s: s.series(monitor_id, w, region, resolution),
                             (lambda s, ids: s.series_many(ids, parse_window(window, start, end), resolution))
                             if together else None)

    @get("/status", operation_id="getMonitorStatus")
    async def status(self, request: Request, monitor_id: FromPath[int], region: RegionParam = None,
                     limit: Annotated[int, QueryParameter(ge=1, le=1000, description="recent slots")] = 50,
                     ) -> Response[StatusRead]:
        return await _answer(request, StatusRead, monitor_id, {"region": region, "limit": limit},
                             lambda s: s.status(monitor_id, region, limit))

    @get("/regions", operation_id="getMonitorRegions")
    async def regions(self, request: Request, monitor_id: FromPath[int], window: WindowParam = None,
                      start: FromParam = None, end: ToParam = None) -> Response[RegionsRead]:
        w = parse_window(window, start, end)
        return await _answer(request, RegionsRead, monitor_id, {"window": window, "from": start, "to": end},
                             lambda s: s.regions(monitor_id, w),
                             lambda s, ids: s.regions_many(ids, parse_window(window, start, end)))

    @get("/downtimes", operation_id="getMonitorDowntimes")
    async def downtimes(self, request: Request, monitor_id: FromPath[int], window: WindowParam = None,
                        start: FromParam = None, end: ToParam = None, region: RegionParam = None,
                        ) -> Response[DowntimesRead]:
        w = parse_window(window, start, end)
        return await _answer(request, DowntimesRead, monitor_id,
                             {"window": window, "from": start, "to": end, "region": region},
                             lambda s: s.downtimes(monitor_id, w, region),
                             None if region is not None else lambda s, ids: s.downtimes_many(ids, parse_window(window, start, end)))


class GroupStatsController(Controller):
    path = "/stats"
    tags = ["stats"]
    exception_handlers = {BadWindow: field_error}

    @get(operation_id="getGroupStats")
    async def group_stats(self, request: Request,
                          tag: Annotated[str, QueryParameter(min_length=1, max_length=64, description="monitors with this tag")],
                          window: WindowParam = None, start: FromParam = None, end: ToParam = None,
                          region: RegionParam = None) -> Response[GroupStatsRead]:
        w = parse_window(window, start, end)
        return await _answer(request, GroupStatsRead, None,
                             {"tag": tag, "window": window, "from": start, "to": end, "region": region},
                             lambda s: s.group_stats(tag, w, region))
