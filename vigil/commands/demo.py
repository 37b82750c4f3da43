"""The demo target `vigil up` serves on loopback, so a newcomer without internet sees
every kind of result: healthy, slow, flapping and down endpoints."""

from __future__ import annotations

import asyncio
import collections
import os
import random
import time

from aiohttp import web

from notify.transports.webhook import SIGNATURE_HEADER, verify
from vigil.commands.demo_seed import webhook_secret

# (name, path, interval) of the demo monitors; the target serves each path.
DEMO_MONITORS = [
    ("demo: homepage", "/ok", 30),
    ("demo: api", "/api", 30),
    ("demo: login", "/ok?page=login", 60),
    ("demo: slow search", "/slow", 30),
    ("demo: flapping cart", "/flap", 30),
    ("demo: retired service", "/down", 60),
]


async def ok(_: web.Request) -> web.Response:
    await asyncio.sleep(random.lognormvariate(-4.6, 0.5))  # ~10 ms median
    return web.Response(text="ok")


async def api(_: web.Request) -> web.Response:
    await asyncio.sleep(random.lognormvariate(-3.9, 0.7))  # ~20 ms, longer tail
    return web.json_response({"status": "ok"})


async def slow(_: web.Request) -> web.Response:
    await asyncio.sleep(random.uniform(0.6, 1.4))
    return web.Response(text="slow but fine")


async def flap(_: web.Request) -> web.Response:
    # Up for two minutes, down for one, repeating.
    if int(time.time() // 60) % 3 == 2:
        return web.Response(status=503, text="flapping: down this minute")
    return web.Response(text="flapping: up this minute")


async def down(_: web.Request) -> web.Response:
    return web.Response(status=503, text="this service is down")


# The demo webhook channel's receiver: verifies each delivery's signature and keeps the
# latest ones, shown by GET /hook.
RECEIVED: collections.deque = collections.deque(maxlen=50)


async def hook(request: web.Request) -> web.Response:
    body = await request.read()
    secret = webhook_secret(os.environ.get("VIGIL_SECRET_KEY", ""))
    ok = verify(secret, request.headers.get(SIGNATURE_HEADER, ""), body)
    RECEIVED.appendleft({"received_at": time.time(), "event": request.headers.get("Vigil-Event"),
                         "delivery": request.headers.get("Vigil-Delivery"), "signature_ok": ok,
                         "body": body.decode(errors="replace")[:2000]})
    return web.Response(status=200 if ok else 401, text="ok" if ok else "bad signature")


async def received(_: web.Request) -> web.Response:
    return web.json_response(list(RECEIVED))


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/hook", received)
    app.router.add_get("/ok", ok)
    app.router.add_get("/api", api)
    app.router.add_get("/slow", slow)
    app.router.add_get("/flap", flap)
    app.router.add_get("/down", down)
    return app


def serve(port: int) -> None:
    web.run_app(make_app(), host="127.0.0.1", port=port, print=None, access_log=None)
