"""The console's first scan starts before Textual is imported and the first poll takes its answers
(issue 10: the first full frame is the longer of the console's start and the scan, not their sum)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from promsoc.config import load_settings
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.settings import Source
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.messages import ResultsUpdated
from promsoc.tui.poller import Poller
from tests.tui.fakes import NOW, FakeBackend
from tests.tui.pty_console import console_in_pty, env

PRESENCE = "group by (__name__)"  # once per scan: the presence check (detectors.engine)


class Counting(httpx.AsyncBaseTransport):
    """Forwards to the real server and counts the scans (their presence checks)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.scans = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        text = str(request.url) + (await request.aread()).decode()
        self.scans += PRESENCE in text or "group+by+%28__name__%29" in text
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def counted_backend(lab: Lab) -> tuple[LiveBackend, Counting]:
    transport = Counting()

    def clients(source: Source) -> PromClient:
        return PromClient(source, transport=transport)

    return LiveBackend(load_settings(None, lab.url, "lab"), clients=clients), transport


def test_a_scan_begun_early_is_the_first_polls_answer_at_its_moment(lab: Lab) -> None:
    backend, transport = counted_backend(lab)

    async def run() -> None:
        try:
            before = time.time()
            backend.begin()
            first = backend.first_scan("lab")
            assert first is not None
            moment, began = first
            assert moment == began and before <= moment <= time.time()
            results = await backend.evaluate("lab", moment)
            assert results and {r.evaluated_at for r in results} == {moment}
            assert transport.scans == 1  # the early scan's answers, not a second scan
            later = await backend.evaluate("lab", moment - 600)  # the past: every detector afresh
            assert {r.evaluated_at for r in later} == {moment - 600}
            assert transport.scans == 2
        finally:
            await backend.aclose()

    asyncio.run(run())


def test_a_scan_begun_for_another_moment_is_dropped_and_the_asked_one_evaluated(lab: Lab) -> None:
    backend, _ = counted_backend(lab)

    async def run() -> None:
        try:
            backend.begin(lab.anchor)
            first = backend.first_scan("lab")
            assert first is not None and first[0] == lab.anchor and abs(first[1] - time.time()) < 5
            results = await backend.evaluate("lab", lab.anchor - 600)
            assert {r.evaluated_at for r in results} == {lab.anchor - 600}
            assert backend.first_scan("lab") is None  # asked once: a later poll evaluates afresh
        finally:
            await backend.aclose()

    asyncio.run(run())


def test_a_console_that_never_runs_ends_the_scan_it_began(lab: Lab) -> None:
    backend, _ = counted_backend(lab)
    backend.begin()
    backend.close()
    assert not backend._worker.loop.is_running()


def poller(
    backend: FakeBackend, cursor: float | None, first: tuple[float, float] | None, now: float
) -> tuple[Poller, list[Any]]:
    posted: list[Any] = []
    made = Poller(backend, "demo", interval=5.0, cursor=lambda: cursor, post=posted.append, clock=lambda: now,
                  first=first)  # fmt: skip
    return made, posted


async def test_the_first_live_cycle_evaluates_the_early_moment_and_counts_latency_from_its_start() -> None:
    backend = FakeBackend()
    live, posted = poller(backend, None, (NOW - 0.4, NOW - 0.4), NOW)
    await live.cycle()
    await live.cycle()  # the next cycles are the clock's
    assert backend.evaluated_at == [NOW - 0.4, NOW]
    first = next(m for m in posted if isinstance(m, ResultsUpdated))
    assert first.at == NOW - 0.4 and first.latency == pytest.approx(0.4)


async def test_an_early_scan_older_than_a_refresh_or_for_another_cursor_is_not_the_first_cycles() -> None:
    backend = FakeBackend()
    await poller(backend, None, (NOW - 6.0, NOW - 6.0), NOW)[0].cycle()  # the console took longer than a refresh
    await poller(backend, NOW - 3600, (NOW - 7200, NOW - 1), NOW)[0].cycle()
    at, posted = poller(backend, NOW - 3600, (NOW - 3600, NOW - 0.3), NOW)  # --at: that moment, begun early
    await at.cycle()
    assert backend.evaluated_at == [NOW, NOW - 3600, NOW - 3600]
    latency = next(m for m in posted if isinstance(m, ResultsUpdated)).latency
    assert latency == pytest.approx(0.3)


PROBE = """
import json, os, sys, threading
from promsoc.prom import client

asked = client.PromClient.query
queried = threading.Event()

async def query(self, *args, **kwargs):
    queried.set()
    return await asked(self, *args, **kwargs)

class HoldTheConsole:
    # The console's module (and Textual with it) is imported only once a query went out, or
    # after 10 s: the old order (the scan from the app's on_load) would wait here in vain.
    def find_spec(self, name, path=None, target=None):
        if name == "promsoc.tui.app":
            sys.meta_path.remove(self)
            textual = any(m.split(".")[0] == "textual" for m in sys.modules)
            with open(os.environ["FIRST_QUERY"], "w") as out:
                json.dump({"asked before the console": queried.wait(10.0), "textual": textual}, out)
        return None

client.PromClient.query = query
sys.meta_path.insert(0, HoldTheConsole())
from promsoc.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_console_asks_prometheus_before_it_imports_textual(lab: Lab, tmp_path: Path) -> None:
    marker = tmp_path / "first-query.json"
    environment = {**env(), "FIRST_QUERY": str(marker)}

    # the header's " UTC " (the moment evaluated) is drawn once the first poll's results are in
    output, _, status = console_in_pty(
        [sys.executable, "-c", PROBE, "tui", "--url", lab.url],
        lambda _pid, fd: os.write(fd, b"q"),
        environment,
        b" UTC ",
    )
    assert os.waitstatus_to_exitcode(status) == 0, output[-500:]
    assert json.loads(marker.read_text()) == {"asked before the console": True, "textual": False}
    assert b"UTC" in output  # the header showed the polled results
