"""A real headless Chromium (Debian's package, `make browser`) that opens a page and tells
what a person would see: the page's innerText, values computed by the page, a screenshot.

Driven over the DevTools protocol on a websocket (aiohttp, already a dependency), with a
fresh profile and the flags that keep Chromium off a closed network.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--remote-debugging-port=0", "--window-size=1280,900",
)  # fmt: skip


def executable() -> str | None:
    """The Chromium on PATH, if any."""
    return next((found for name in CHROMIUM if (found := shutil.which(name))), None)


class Page:
    """One page, opened from a file: evaluate JavaScript in it, take a screenshot."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; its result (events in between are dropped)."""
        call = next(self._ids)
        await self._socket.send_json({"id": call, "method": method, "params": params})
        while True:
            message = json.loads((await self._socket.receive(timeout=60)).data)
            if message.get("id") == call:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        answer = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"{expression}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def screenshot(self) -> bytes:
        """A PNG of what the window shows (the top of the page)."""
        answer = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(answer["data"])


@contextmanager
def chromium() -> Iterator[str]:
    """A running headless Chromium; yields its DevTools HTTP address."""
    binary = executable()
    if binary is None:
        raise RuntimeError("no Chromium: `make browser` installs Debian's package")
    with tempfile.TemporaryDirectory(prefix="fwop-chromium-") as profile:
        process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 60
            while not port_file.exists() or not port_file.read_text().strip():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Chromium did not start (exit {process.poll()})")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port_file.read_text().split()[0]}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


async def _open(address: str, url: str, work: Any) -> Any:
    async with aiohttp.ClientSession() as session:
        async with session.put(f"{address}/json/new?about:blank") as answer:
            target = await answer.json()
        async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = Page(ws)
            await page.send("Page.enable")
            await page.send("Page.navigate", url=url)
            for _ in range(600):
                if await page.evaluate("document.readyState") == "complete":
                    break
                await asyncio.sleep(0.1)
            return await work(page)


def look(url: str, work: Any) -> Any:
    """Open ``url`` in a fresh headless Chromium and return ``await work(page)``."""
    with chromium() as address:
        return asyncio.run(_open(address, url, work))
