"""`promsoc serve --web` opened in the real (headless) Chromium, on the lab."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from promsoc.config import load_settings
from promsoc.lab import Lab
from promsoc.serve.hub import Hub
from promsoc.serve.run import console_factory
from promsoc.serve.web import WebOptions, WebServer
from promsoc.tui.live_backend import LiveBackend, console_options
from tests.serve.browser import BrowserScreen, chromium
from tests.serve.conftest import Served, start_serve

TILE = "ingress-sqli"  # short enough to be shown whole as a tile title and as a compact line
EVALUATED = "✓ OK"
LAST_TILE = "falco-blind"  # the overview's last tile, in its last group (FALCO)


@pytest.fixture(scope="module")
def web_served(lab: Lab) -> Iterator[Served]:
    served = start_serve(["--url", lab.url, "--web", "127.0.0.1:0"], expect=["web"])
    try:
        yield served
    finally:
        assert served.stop() == 0


async def test_browser_shows_the_tiles(web_served: Served) -> None:
    url = f"http://127.0.0.1:{web_served.ports['web']}/"
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        screen = BrowserScreen(page)
        response = await page.goto(url)
        assert response is not None and response.status == 200
        await screen.wait_for(EVALUATED, TILE, "LIVE", "q Quit")  # one frame holding all four
        # xterm.js drew it: the page marks the first bytes, and the canvas is not one flat colour
        await page.wait_for_selector("body.-first-byte")
        shot = await page.screenshot()
        assert len(shot) > 20_000, len(shot)
        # q in the browser ends that console; the page says so
        await page.focus(".xterm-helper-textarea")  # xterm.js reads keys there (a click would be a mouse event)
        await page.keyboard.press("q")
        await page.wait_for_selector("body.-closed", timeout=15_000)
    assert web_served.wait_log(r"web session from=127.0.0.1 kiosk=False .*ended=quit")


async def test_kiosk_url_starts_in_kiosk_mode(web_served: Served) -> None:
    url = f"http://127.0.0.1:{web_served.ports['web']}/?kiosk=1"
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        screen = BrowserScreen(page)
        await page.goto(url)
        # one frame from the header down to the overview's last tile (falco-blind), not one drawn halfway
        text = await screen.wait_for(EVALUATED, TILE, "LIVE", LAST_TILE)
        assert "q Quit" not in text  # kiosk: no key hints
    assert web_served.wait_log(r"web session from=127.0.0.1 kiosk=True ")


def test_open_bind_without_a_secret_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "promsoc", "serve", "--url", "http://127.0.0.1:9", "--web", "0.0.0.0:0"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2
    assert "reachable from other machines" in done.stderr and "password" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
async def guarded(lab: Lab) -> AsyncIterator[WebServer]:
    """A web console that needs a password or a token (in this process, on the lab)."""
    settings = load_settings(None, lab.url, None)
    options = console_options(settings)
    hub = Hub(LiveBackend(settings), intervals=options.intervals, interval=options.interval)
    server = WebServer(
        WebOptions("127.0.0.1", 0, password="correct horse", token="t0ken-for-the-wall"),
        console_factory(hub, settings, None),
    )
    await server.start()
    try:
        yield server
    finally:
        await server.close()
        await hub.aclose()


async def status_of(page: Page, url: str) -> str:
    """A 401 reaches the page as the status, or as Chromium's own auth error when it gives up."""
    try:
        response = await page.goto(url)
    except PlaywrightError as exc:
        return "refused" if "INVALID_AUTH_CREDENTIALS" in str(exc) else str(exc)
    assert response is not None
    return "refused" if response.status == 401 else str(response.status)


async def test_password_is_checked_before_the_console_starts(guarded: WebServer) -> None:
    url = f"http://{guarded.address}/"
    async with chromium() as browser:
        stranger = await browser.new_page()
        assert await status_of(stranger, url) == "refused"
        # the websocket itself is guarded too: a page that opens it directly gets no console
        probe = await browser.new_page()
        outcome = await probe.evaluate(
            """url => new Promise(done => { const ws = new WebSocket(url);
                 ws.onopen = () => done("open"); ws.onerror = () => done("refused"); })""",
            f"ws://{guarded.address}/ws",
        )
        assert outcome == "refused"
        assert guarded.gate.open == 0

        wrong = await browser.new_context(http_credentials={"username": "soc", "password": "wrong"})
        page = await wrong.new_page()
        assert await status_of(page, url) == "refused"
        assert guarded.gate.open == 0

        right = await browser.new_context(http_credentials={"username": "soc", "password": "correct horse"})
        page = await right.new_page()
        screen = BrowserScreen(page)
        response = await page.goto(url)
        assert response is not None and response.status == 200
        await screen.wait_for(EVALUATED, TILE)


async def test_token_url_for_a_wall_screen(guarded: WebServer) -> None:
    async with chromium() as browser:
        page = await browser.new_page()
        screen = BrowserScreen(page)
        await page.goto(f"http://{guarded.address}/?kiosk=1&token=t0ken-for-the-wall")
        assert "token" not in page.url  # the secret leaves the address bar (a cookie carries the session)
        await screen.wait_for(EVALUATED, TILE)
        other = await browser.new_page()
        assert await status_of(other, f"http://{guarded.address}/?token=not-the-token") == "refused"


async def test_web_sessions_are_capped(lab: Lab) -> None:
    settings = load_settings(None, lab.url, None)
    options = console_options(settings)
    hub = Hub(LiveBackend(settings), intervals=options.intervals, interval=options.interval)
    server = WebServer(WebOptions("127.0.0.1", 0, max_sessions=1), console_factory(hub, settings, None))
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            url = f"ws://{server.address}/ws?width=100&height=30"
            async with http.ws_connect(url) as first:
                drawn = await first.receive(timeout=30)
                assert drawn.type == aiohttp.WSMsgType.BINARY and len(drawn.data) > 10  # a console is drawing
                async with http.ws_connect(url) as second:
                    refused = await second.receive(timeout=30)
                    assert b"1 viewers are connected already" in refused.data
                    closing = await second.receive(timeout=30)
                    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                assert server.gate.open == 1
            for _ in range(100):  # the first viewer left: its console ends and frees the place
                if server.gate.open == 0:
                    break
                await asyncio.sleep(0.1)
            assert server.gate.open == 0
    finally:
        await server.close()
        await hub.aclose()
