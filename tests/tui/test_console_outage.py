"""Against the lab through a relay we can cut: tiles go stale with the reason, then recover."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from promsoc.config import load_settings
from promsoc.lab import Lab
from promsoc.tui.app import ConsoleApp
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.state import TileKey
from promsoc.tui.widgets.tile import DetectorTile
from tests.tui.conftest import settle


class Relay:
    """A loopback TCP relay to Prometheus that can go away and come back on the same port."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.writers.difference_update((writer, up_writer))


async def test_prometheus_going_away_and_coming_back(lab: Lab) -> None:
    relay = Relay(lab.url)
    await relay.start()
    settings = load_settings(None, f"http://127.0.0.1:{relay.port}", "lab")
    app = ConsoleApp(LiveBackend(settings), poll=False, clock=lambda: lab.anchor)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.state.health["lab"].error is None
        await relay.stop()
        await settle(pilot)
        reason = app.state.health["lab"].error or ""
        assert "unreachable" in reason or "connect" in reason, reason
        assert "⌛ STALE" in str(app.screen.query_one("#header").render())
        tile = next(t for t in app.screen.query(DetectorTile) if t.key == TileKey("lab", "falco-blind"))
        assert str(tile.render()).startswith("⌛ STALE  ✗ ERROR")
        await relay.start()
        await settle(pilot)
        assert app.state.health["lab"].error is None
        assert "STALE" not in str(tile.render())
    await relay.stop()
