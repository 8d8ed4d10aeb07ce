"""The console in a browser: xterm.js (textual-serve's bundle) on a websocket, one console per tab.

Unlike textual-serve, which starts a process per browser, each console runs in this process on the
shared hub. Bound to loopback it is open; bound to anything else it needs a password or a token
(config `serve.web`), checked on the page and on the websocket before any console starts:
- a browser gets a Basic-auth prompt (any user name, the configured password);
- a wall screen opens `/?kiosk=1&token=...` once: the token becomes a session cookie and the
  address bar is cleared of it (redirect);
- `Authorization: Bearer <token>` works for anything that can set a header.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hmac
import ipaddress
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from aiohttp import WSMsgType, web

from promsoc.serve.session import CRASHED, ServedConsole, ViewerTerminal, run_console
from promsoc.serve.ssh import Gate, ServeError, stamp
from promsoc.serve.terminal import Terminal
from promsoc.tui.safe_text import clean

log = logging.getLogger("promsoc.serve")

WebConsoleFactory = Callable[[Terminal, ViewerTerminal, bool], ServedConsole]
COOKIE = "promsoc_session"
MAX_COOKIES = 1000
BROWSER = ViewerTerminal(term="xterm-256color", colorterm="truecolor")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class WebOptions:
    host: str
    port: int
    password: str | None = None
    token: str | None = None
    max_sessions: int = 20

    def __repr__(self) -> str:  # the secrets never reach a log or a traceback
        return f"WebOptions(host={self.host!r}, port={self.port}, password=***, token=***)"


def check_bind(options: WebOptions) -> None:
    """Anything but loopback needs a secret, or the server does not start (exit 2)."""
    if not is_loopback(options.host) and not (options.password or options.token):
        raise ServeError(
            f"--web {options.host}:{options.port} is reachable from other machines: set serve.web.password_env/"
            "password_file or token_env/token_file in the config (or bind to 127.0.0.1)"
        )


def _static_dir() -> Path:
    return Path(str(files("textual_serve") / "static"))


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>promsoc</title>
<link rel="stylesheet" href="static/css/xterm.css">
<style>
@font-face {{ font-family: "Roboto Mono"; src: url("static/fonts/RobotoMono-VariableFont_wght.ttf"); }}
html, body {{ margin: 0; height: 100%; background: #0c181f; overflow: hidden; }}
#terminal {{ width: 100vw; height: 100vh; }}
#ended {{ display: none; position: absolute; inset: 0; align-items: center; justify-content: center;
  color: #eee; font: 16px "Roboto Mono", monospace; background: #0c181f; }}
body.-closed #ended {{ display: flex; }}
</style>
<script src="static/js/textual.js"></script></head>
<body><div id="terminal" class="textual-terminal" data-font-size="{font_size}"></div>
<div id="ended">Session ended. Reload the page to start a new one.</div>
<script>
const ws = new URL("{ws_path}", location.href);
ws.protocol = location.protocol === "https:" ? "wss:" : "ws:";
document.getElementById("terminal").dataset.sessionWebsocketUrl = ws.href;
</script></body></html>
"""


class WebServer:
    """aiohttp app: the page, the static bundle, and a websocket per console."""

    def __init__(self, options: WebOptions, console_factory: WebConsoleFactory) -> None:
        check_bind(options)
        self.options = options
        self.console_factory = console_factory
        self.gate = Gate(options.max_sessions)
        self._sessions: dict[str, None] = {}  # cookie values handed out by this process, oldest first
        self._runner: web.AppRunner | None = None
        self._address = f"{options.host}:{options.port}"

    # -- authentication ------------------------------------------------------------------
    @property
    def open(self) -> bool:
        return not (self.options.password or self.options.token)

    def _matches(self, given: str, secret: str | None) -> bool:
        return bool(secret) and hmac.compare_digest(given.encode(), (secret or "").encode())

    def _authorised(self, request: web.Request) -> bool:
        if self.open:
            return True
        cookie = request.cookies.get(COOKIE, "")
        if cookie and any(hmac.compare_digest(cookie, s) for s in self._sessions):
            return True
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and self._matches(value.strip(), self.options.token):
            return True
        if scheme.lower() == "basic":
            try:
                _, _, password = base64.b64decode(value.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return self._matches(password, self.options.password)
        return False

    def _refuse(self, request: web.Request) -> web.Response:
        log.info("web refused from=%s path=%s", request.remote, clean(request.path, 80))
        headers = {"WWW-Authenticate": 'Basic realm="promsoc"'} if self.options.password else {}
        return web.Response(status=401, text="promsoc: a password or token is needed\n", headers=headers)

    def _new_session(self, response: web.StreamResponse, request: web.Request) -> None:
        value = secrets.token_urlsafe(32)
        self._sessions[value] = None
        while len(self._sessions) > MAX_COOKIES:  # the oldest browser logs in again
            del self._sessions[next(iter(self._sessions))]
        response.set_cookie(COOKIE, value, httponly=True, samesite="Strict", secure=request.secure, path="/")

    # -- handlers ------------------------------------------------------------------------
    async def page(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("token", "")
        if token and self._matches(token, self.options.token):
            query = {k: v for k, v in request.query.items() if k != "token"}
            target = request.rel_url.with_query(query)
            redirect = web.HTTPFound(str(target))
            self._new_session(redirect, request)
            raise redirect
        if not self._authorised(request):
            return self._refuse(request)
        kiosk = request.query.get("kiosk", "") not in ("", "0", "false")
        try:
            font_size = max(8, min(int(request.query.get("fontsize", "16")), 48))
        except ValueError:
            font_size = 16
        html = PAGE.format(font_size=font_size, ws_path="ws/kiosk" if kiosk else "ws")
        response = web.Response(text=html, content_type="text/html")
        if not self.open and COOKIE not in request.cookies:
            self._new_session(response, request)
        return response

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if not self._authorised(request):
            return self._refuse(request)
        kiosk = request.match_info.get("kind") == "kiosk"
        size = (_int(request.query.get("width"), 80), _int(request.query.get("height"), 24))
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=1 << 16)
        await ws.prepare(request)
        started, ended = time.time(), "closed"
        if not self.gate.enter():
            await ws.send_bytes(f"promsoc: {self.gate.limit} viewers are connected already.\r\n".encode())
            await ws.close()
            log.info("web refused from=%s: too many sessions", request.remote)
            return ws
        try:
            ended = await self._serve(ws, size, kiosk)
        finally:
            self.gate.leave()
            log.info(
                "web session from=%s kiosk=%s start=%s end=%s ended=%s",
                request.remote, kiosk, stamp(started), stamp(time.time()), ended,
            )  # fmt: skip
        return ws

    async def _serve(self, ws: web.WebSocketResponse, size: tuple[int, int], kiosk: bool) -> str:
        outbox: asyncio.Queue[bytes] = asyncio.Queue()
        terminal = Terminal(lambda text: outbox.put_nowait(text.encode("utf-8")), *size)
        app = self.console_factory(terminal, BROWSER, kiosk)
        console = asyncio.create_task(run_console(app))

        def said_why(done: asyncio.Task[int]) -> None:
            if not done.cancelled() and done.exception() is None and done.result():
                outbox.put_nowait(CRASHED.encode())

        console.add_done_callback(said_why)
        sender = asyncio.create_task(_send(ws, outbox))
        console.add_done_callback(lambda _: asyncio.ensure_future(_close_after(ws, outbox)))
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                await _handle(message.data, terminal, ws)
        finally:
            quit_by_viewer = console.done()
            terminal.hang_up()
            app.exit()  # also while it is still starting: it then ends as soon as it can
            failed = 0
            with contextlib.suppress(asyncio.CancelledError):
                failed = await console
            sender.cancel()
        if failed and quit_by_viewer:
            return "error"
        return "quit" if quit_by_viewer else "disconnected"

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.add_routes([
            web.get("/", self.page),
            web.get("/ws", self.websocket),
            web.get("/ws/{kind}", self.websocket),
            web.static("/static", _static_dir()),
        ])  # fmt: skip
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise ServeError(f"cannot listen for the web console on {self._address}: {exc.strerror or exc}") from None
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            host, port = sockets[0].getsockname()[:2]
            self._address = f"{host}:{port}"
        log.info("web listening on http://%s/ (%s)", self._address, "open" if self.open else "password/token")

    @property
    def address(self) -> str:
        return self._address

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or default)
    except ValueError:
        return default


async def _handle(data: str, terminal: Terminal, ws: web.WebSocketResponse) -> None:
    """One message from textual.js: keys, a resize, or a ping."""
    try:
        envelope = json.loads(data)
    except ValueError:
        return
    if not isinstance(envelope, list) or not envelope:
        return
    kind = envelope[0]
    body = envelope[1] if len(envelope) > 1 else None
    if kind == "stdin" and isinstance(body, str):
        terminal.feed(body)
    elif kind == "resize" and isinstance(body, dict):
        terminal.resize(_int(str(body.get("width")), 80), _int(str(body.get("height")), 24))
    elif kind == "ping":
        await ws.send_json(["pong", body])


async def _send(ws: web.WebSocketResponse, outbox: asyncio.Queue[bytes]) -> None:
    """Everything the console wrote since the last send goes as one frame."""
    while True:
        chunks = [await outbox.get()]
        while not outbox.empty():
            chunks.append(outbox.get_nowait())
        if ws.closed:
            return
        try:
            await ws.send_bytes(b"".join(chunks))
        except (ConnectionError, RuntimeError):
            return


async def _close_after(ws: web.WebSocketResponse, outbox: asyncio.Queue[bytes]) -> None:
    """The viewer pressed q: let the last frame out, then close the socket (the page says so)."""
    for _ in range(50):
        if outbox.empty():
            break
        await asyncio.sleep(0.01)
    await ws.close()
