"""`promsoc serve`: one hub on the configured sources, and the SSH and/or web servers on top of it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from promsoc.serve.hub import Hub
from promsoc.serve.session import ServedConsole, ViewerTerminal, end_all
from promsoc.serve.ssh import ServeError, SshOptions, SshServer
from promsoc.serve.terminal import Terminal
from promsoc.serve.web import WebOptions, WebServer, check_bind

log = logging.getLogger("promsoc.serve")


@dataclass(frozen=True)
class ServeOptions:
    ssh: SshOptions | None
    web: WebOptions | None
    theme: str | None = None


ConsoleFactory = Callable[[Terminal, ViewerTerminal, bool], ServedConsole]


def console_factory(hub: Hub, settings: Any, theme: str | None) -> ConsoleFactory:
    """Each viewer's console: the local console's options, the hub as its backend, no hand-off."""
    from promsoc.tui.live_backend import console_options

    options = console_options(settings)

    def make(terminal: Terminal, viewer: ViewerTerminal, kiosk: bool) -> ServedConsole:
        return ServedConsole(
            terminal,
            hub.viewer(),
            viewer=viewer,
            theme=theme or options.theme,
            kiosk=kiosk,
            interval=options.interval,
            rotate_every=options.rotate_every,
            rotation=options.views,
            intervals=options.intervals,
        )

    return make


def setup_logging() -> None:
    """One line per event on stderr (journald adds its own time, but a terminal does not)."""
    logger = logging.getLogger("promsoc.serve")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.__stderr__)
        handler.setFormatter(logging.Formatter("%(asctime)s promsoc serve: %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


async def serve(
    hub: Hub, settings: Any, options: ServeOptions, ready: Callable[[list[str]], None] | None = None
) -> int:
    """Run until SIGINT/SIGTERM (exit 0); a server that cannot start raises ServeError (exit 2)."""
    make = console_factory(hub, settings, options.theme)
    servers: list[SshServer | WebServer] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        if options.web is not None:
            check_bind(options.web)  # before anything listens
        if options.ssh is not None:
            ssh = SshServer(options.ssh, lambda terminal, viewer: make(terminal, viewer, False))
            await ssh.start()
            servers.append(ssh)
        if options.web is not None:
            web = WebServer(options.web, make)
            await web.start()
            servers.append(web)
        if ready is not None:
            ready([s.address for s in servers])
        await stop.wait()
        log.info("stopping (%d viewers connected)", hub.viewers)
        await end_all()
        fanin = getattr(getattr(hub.domain, "pool", None), "fanin_summary", None)  # LiveBackend's sources
        summary = fanin() if fanin is not None else None
        if summary:
            log.info("%s", summary)
        return 0
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        for server in reversed(servers):
            with contextlib.suppress(Exception):
                await server.close()
        await hub.aclose()


def run_serve(settings: Any, options: ServeOptions) -> int:
    """Blocking entry point for the CLI."""
    from promsoc.tui.live_backend import LiveBackend, console_options

    if options.ssh is None and options.web is None:
        raise ServeError("nothing to serve: give --ssh HOST:PORT and/or --web HOST:PORT (or serve.ssh/web.listen)")
    setup_logging()
    console = console_options(settings)

    async def main() -> int:
        domain = LiveBackend(settings)
        hub = Hub(domain, intervals=console.intervals, interval=console.interval)
        return await serve(hub, settings, options)

    return asyncio.run(main())


__all__ = ["ServeError", "ServeOptions", "run_serve", "serve"]
