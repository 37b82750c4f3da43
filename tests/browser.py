"""Headless Chromium driven over the DevTools protocol (a websocket, with aiohttp's client):
load a page, evaluate JavaScript in it, take a screenshot, run axe-core in it.

Also a command, for the screenshot the docs show:

    python -m tests.browser http://127.0.0.1:8080/status/demo docs/status-page.png
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / ".data" / "axe-core" / "axe.min.js"  # fetched by scripts/setup.sh
WIDTH, HEIGHT = 1000, 1400


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium process and one page (tab) of it."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future] = {}
        self._events: dict[str, asyncio.Future] = {}

    async def __aenter__(self) -> Browser:
        # Chromium's helper processes may still be writing into the profile for a moment after
        # the browser itself exits; what they leave behind is not the test's concern.
        self._profile = tempfile.TemporaryDirectory(prefix="vigil-chromium-", ignore_cleanup_errors=True)
        # --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
        self._proc = await asyncio.create_subprocess_exec(
            chromium() or "chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-extensions", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            f"--user-data-dir={self._profile.name}", f"--window-size={WIDTH},{HEIGHT}", "about:blank",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        port_file = Path(self._profile.name) / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and len(port_file.read_text().splitlines()) == 2:
                break
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().splitlines()[0])
        self._http = aiohttp.ClientSession()
        async with self._http.get(f"http://127.0.0.1:{port}/json/list") as r:
            target = next(t for t in await r.json() if t["type"] == "page")
        self._ws = await self._http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._reader.cancel()
        await self._ws.close()
        await self._http.close()
        self._proc.terminate()
        try:
            await asyncio.wait_for(self._proc.wait(), 10)
        except TimeoutError:
            self._proc.kill()
            await self._proc.wait()
        self._profile.cleanup()

    async def _read(self) -> None:
        async for msg in self._ws:
            data = json.loads(msg.data)
            if "id" in data and data["id"] in self._waiting:
                self._waiting.pop(data["id"]).set_result(data)
            elif data.get("method") in self._events and not self._events[data["method"]].done():
                self._events[data["method"]].set_result(data.get("params"))

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        mid = next(self._ids)
        self._waiting[mid] = asyncio.get_running_loop().create_future()
        await self._ws.send_str(json.dumps({"id": mid, "method": method, "params": params or {}}))
        answer = await asyncio.wait_for(self._waiting[mid], 60)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    async def open(self, url: str) -> None:
        loaded = self._events["Page.loadEventFired"] = asyncio.get_running_loop().create_future()
        result = await self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise RuntimeError(f"could not load {url}: {result['errorText']}")
        await asyncio.wait_for(loaded, 30)

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of ``expression`` in the page (a promise is awaited)."""
        result = await self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                      "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def screenshot(self, path: Path, max_height: int = 2400) -> None:
        """A PNG of the whole page (at most max_height CSS pixels tall)."""
        height = min(int(await self.evaluate("document.documentElement.scrollHeight")), max_height)
        shot = await self.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}})
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))

    async def axe(self) -> tuple[list[dict[str, Any]], int]:
        """axe-core's violations of the WCAG 2.1 A and AA rules and its best practices, and
        how many rules the page passed (proof that the rules ran)."""
        await self.evaluate(AXE.read_text())
        found = await self.evaluate(
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
            " 'best-practice']}}).then(r => ({passes: r.passes.length, violations: r.violations.map(v => ({"
            "id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))}))")
        return found["violations"], found["passes"]


async def _shoot(url: str, out: Path) -> None:
    async with Browser() as browser:
        await browser.open(url)
        await browser.screenshot(out)


if __name__ == "__main__":
    asyncio.run(_shoot(sys.argv[1], Path(sys.argv[2])))
