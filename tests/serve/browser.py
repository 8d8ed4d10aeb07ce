"""The system Chromium, headless, driven over the DevTools protocol by Playwright (no browser download).

xterm.js paints on a canvas, so the page has no text to query: the console's text is read from
what the browser itself received on its websocket, replayed through pyte (a VT100 emulator) at
the size the browser asked for. The screenshot is the pixels the browser drew.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyte
from playwright.async_api import Browser, Page, WebSocket, async_playwright

CHROMIUM = "/usr/bin/chromium"


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


class BrowserScreen:
    """The terminal screen as the page's websocket carried it."""

    def __init__(self, page: Page) -> None:
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.sockets: list[WebSocket] = []
        self.closed = False
        page.on("websocket", self._opened)

    def _opened(self, ws: WebSocket) -> None:
        self.sockets.append(ws)
        query = parse_qs(urlparse(ws.url).query)
        self.screen.resize(int(query.get("height", ["24"])[0]), int(query.get("width", ["80"])[0]))
        ws.on("framereceived", self._received)
        ws.on("framesent", self._sent)
        ws.on("close", lambda _: setattr(self, "closed", True))

    def _received(self, payload: Any) -> None:
        if isinstance(payload, bytes):
            self.stream.feed(payload)

    def _sent(self, payload: Any) -> None:
        try:
            message = json.loads(payload)
        except (TypeError, ValueError):
            return
        if isinstance(message, list) and message and message[0] == "resize":
            self.screen.resize(int(message[1]["height"]), int(message[1]["width"]))

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, *needles: str, within: float = 40.0) -> str:
        """The console's text once every needle is in it at the same moment (not a frame drawn halfway)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            text = self.text
            if all(needle in text for needle in needles):
                return text
            await asyncio.sleep(0.1)
        raise AssertionError(f"{needles!r} not all in the browser's console after {within}s:\n{self.text}")
