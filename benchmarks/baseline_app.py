"""The baseline of benchmarks.api: a trivial Litestar endpoint, served by uvicorn exactly as
the API is, so the ratio shows what the stats endpoints cost beyond the framework."""

from litestar import Litestar, get


@get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


app = Litestar(route_handlers=[ping])
