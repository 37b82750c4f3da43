"""The Litestar application: routes under /api/v1, the OpenAPI document at
/api/v1/schema/openapi.json (JSON only: no HTML viewer, which would load remote scripts)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from litestar import Litestar, Router
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.pydantic import PydanticPlugin
from litestar.template.config import TemplateConfig

from api.auth import ApiKeyAuth, count_key_uses, follow_revocations
from api.channels.controllers import ChannelController
from api.deadletters.controllers import list_dead_letters
from api.errors import HANDLERS, internal
from api.headers import add_security_headers
from api.health import health
from api.heartbeats.controllers import HEARTBEAT_HANDLERS
from api.incidents.controllers import IncidentController
from api.keys.controllers import KeyController
from api.maintenance.controllers import MaintenanceController
from api.metrics import metrics, timed
from api.monitors.controllers import MonitorController
from api.notifications.controllers import NotificationController
from api.operator.auth import OperatorAuth
from api.operator.controllers import OperatorController
from api.ratelimit import RateLimits, rate_limited
from api.rules.controllers import RuleController
from api.scopes import scope_guard
from api.security import before_send, request_context
from api.stats.controllers import GroupStatsController, MonitorStatsController
from api.stats.shortcut import cached_stats
from api.status_pages.controllers import BadgeController, StatusPageController
from api.status_pages.public import PUBLIC_HANDLERS
from api.status_pages.render import TEMPLATES
from api.status_pages.shortcut import cached_pages
from api.users.controllers import AuthController
from vigil import logs, tracing
from vigil.constants import API_PREFIX
from vigil.db import open_pool
from vigil.replica import open_reads
from vigil.settings import Settings, get_settings

MAX_REQUEST_BYTES = 1_048_576

ROUTE_HANDLERS = [health, MonitorController, *HEARTBEAT_HANDLERS, ChannelController, NotificationController,
                  list_dead_letters, RuleController, MaintenanceController, IncidentController,
                  MonitorStatsController, GroupStatsController, AuthController, KeyController,
                  StatusPageController, BadgeController]


def _observe(settings: Settings) -> None:
    """Logging and tracing for an API process of its own (uvicorn's extra workers start
    without the command line's setup); request spans come from api/security.py."""
    if not logging.getLogger().handlers:
        logs.configure(settings.log_level, settings.log_format)
    tracing.setup("api")


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    _observe(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.pool = await open_pool(settings.database_url, min_size=2, max_size=20,
                                         wait=False, dict_rows=True)
        # Read-only routes read through app.state.reads: the replica when usable (vigil/replica.py).
        app.state.reads = await open_reads(app.state.pool, settings.database_read_url,
                                           settings.read_max_lag_seconds)
        app.state.redis = aioredis.from_url(settings.redis_url)
        app.state.rate_limits = (RateLimits(settings, app.state.redis.connection_pool)
                                 if settings.rate_limit_enabled else None)
        tasks = [asyncio.create_task(follow_revocations(app.state.redis)),
                 asyncio.create_task(count_key_uses(app.state.pool))]
        if app.state.reads.replica is not None:
            tasks.append(asyncio.create_task(app.state.reads.watch()))
        # The startup heap (Litestar, pydantic, numpy) never becomes garbage: frozen, the full
        # collections stop rescanning it (they paused the server 20-60 ms under load).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.redis.aclose()
            if app.state.reads.replica is not None:
                await app.state.reads.replica.close()
            await app.state.pool.close()

    auth = DefineMiddleware(ApiKeyAuth, exclude=[f"^{API_PREFIX}/schema", f"^{API_PREFIX}/operator(/|$)"])
    operator = Router(f"{API_PREFIX}/operator", route_handlers=[OperatorController],
                      middleware=[DefineMiddleware(OperatorAuth)], security=[{"operatorToken": []}])
    app = Litestar(
        # Field aliases name the fields in the OpenAPI document ("from"/"to" of the stats answers).
        plugins=[PydanticPlugin(prefer_alias=True)],
        route_handlers=[Router(API_PREFIX, route_handlers=ROUTE_HANDLERS, guards=[scope_guard]), operator,
                        *PUBLIC_HANDLERS, *([metrics] if settings.metrics else [])],
        # Public status pages, feeds and badges (api/status_pages/templates/, autoescaped).
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        # Fresh cached status pages are answered right after the request id is set
        # (api/status_pages/shortcut.py), before authentication and the key's rate limit;
        # fresh cached stats answers right after them (api/stats/shortcut.py).
        middleware=[request_context, cached_pages, auth, rate_limited, cached_stats],
        # The services' one root handler (vigil/logs.py) formats every line; Litestar's own
        # logging setup would replace it with a text format of its own.
        logging_config=None,
        lifespan=[lifespan],
        exception_handlers={**HANDLERS, Exception: internal},
        before_send=[before_send, add_security_headers],
        # Every request body this API takes is small; a bigger one is refused before parsing.
        request_max_body_size=MAX_REQUEST_BYTES,
        openapi_config=OpenAPIConfig(
            title="Vigil", version="0.1.0", path=f"{API_PREFIX}/schema",
            components=Components(security_schemes={
                "apiKey": SecurityScheme(type="http", scheme="bearer",
                                         description="an API key from `vigil create-account` or POST "
                                                     "/api/v1/keys, or a user's access token from POST /auth/login"),
                "operatorToken": SecurityScheme(type="http", scheme="bearer",
                                                description="the operator token from `vigil operator-token` "
                                                            "(operator routes only)")}),
            security=[{"apiKey": []}],
            render_plugins=[JsonRenderPlugin()],
        ),
    )
    if settings.metrics:
        # Timed outside Litestar's middleware, so refused and unrouted requests are measured too.
        app.asgi_handler = timed(app.asgi_handler)
    return app
