"""`promsoc serve` on three sources of one Prometheus: the hub's poll cycles say what they will ask
(`tui.poller.saying`, as a console's do), so a question of theirs waits only for the sources that
will ask it, never for the fan-in window. The window is made ten minutes long here
(`$PROMSOC_FANIN_WINDOW`): a question that waited for it would still be waiting when the server
stops, and the server's fan-in line says so.

Served here: cluster-1 and cluster-2, which both read the recording rules' series. A group
whose members read different ones (cluster-3 never does: `CLUSTER_WITHOUT_MARKERS`) still
waits out the window once per question their scans ask differently, the first time (README,
"Served cycles say what they will ask").
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from promsoc.detectors.engine import present_blocks, recorded_blocks
from promsoc.detectors.packs import load_detectors
from promsoc.lab import Lab
from promsoc.prom.client import PromClient
from promsoc.prom.fanin import GRACE
from promsoc.prom.settings import Source
from tests.integration.test_fanin_lab import api_requests
from tests.integration.test_serve_fanin_lab import served_console
from tests.serve.ptyclient import PtyClient

LONG = {"PROMSOC_FANIN_WINDOW": "600"}
FANIN = re.compile(r"fan-in: (\d+) merged requests answered (\d+) questions; batches went: asked (\d+), "
                   r"said (\d+), window (\d+); still waiting (\d+)")  # fmt: skip


def recording_read(lab: Lab, wait: float = 120.0) -> None:
    """Until cluster-1's scan reads every recorded block it can before they have aged (the first
    evaluations of the lab's recording rules; the aged ones take 71 minutes): both served
    sources' scans ask the recorded queries from the first cycle on."""

    async def poll() -> None:
        blocks = recorded_blocks(load_detectors())
        young = {b.record for b in blocks if b.aged is None}
        deadline = time.monotonic() + wait
        async with PromClient(Source(name="c1", url=lab.url, selector='cluster="cluster-1"')) as client:
            while not young <= {b.record for b in await present_blocks(client, None, blocks)}:
                assert time.monotonic() < deadline, "the lab's recording rules never recorded cluster-1"
                await asyncio.sleep(1.0)

    asyncio.run(poll())


def tiles_ready(lines: list[str]) -> bool:
    text = "\n".join(lines)
    return "LIVE" in lines[0] and "✓ OK" in text and "WAITING" not in text


def fanin_line(log: list[str]) -> tuple[int, ...]:
    found = [FANIN.search(line) for line in log]
    numbers = [tuple(int(n) for n in match.groups()) for match in found if match]
    assert len(numbers) == 1, "".join(log)
    return numbers[0]


def test_served_cycles_are_asked_together_and_never_wait_out_the_fanin_window(clusters_lab: Lab,
                                                                           tmp_path: Path) -> None:  # fmt: skip
    """A viewer who comes after `fanin.GRACE` (no member has been answered together with another
    yet: before the hub's cycles said they begin, every question then went alone, never merged)
    stays on the overview until a later cycle of the hub (one every 15 s) has been drawn: its
    tiles arrive at once, Prometheus is asked in merged requests (each answering both sources),
    and when the server stops no batch has gone after the window and none is waiting."""
    recording_read(clusters_lab)
    served, ssh = served_console(clusters_lab, tmp_path, coalesce=True, refresh="15s", clusters=2, env=LONG)
    time.sleep(GRACE + 2)
    client = PtyClient(ssh, 120, 40)
    try:
        before = api_requests(clusters_lab.url)
        began = time.monotonic()
        client.wait_until(tiles_ready, timeout=60)
        first = time.monotonic() - began
        header = client.lines()[0]
        client.wait_until(lambda lines: tiles_ready(lines) and lines[0] != header, timeout=60)  # a later cycle
        asked = api_requests(clusters_lab.url) - before
        screen = client.text
        client.send("q")
        assert client.wait_exit() == 0, screen
    finally:
        client.close()
        code = served.stop()
    assert code == 0, "".join(served.log)
    merged, answered, went, said, window, waiting = fanin_line(served.log)
    print(f"first tiles {first:.1f} s; {asked} requests; fan-in {merged} merged for {answered}, "
          f"went asked {went} said {said} window {window}, waiting {waiting}")  # fmt: skip
    assert window == 0 and waiting == 0, "".join(served.log)
    assert merged > 0 and answered == 2 * merged, "".join(served.log)  # asked together
    assert merged >= 0.9 * asked  # nearly every request answered both (not: each asked alone)
    assert first < 30.0  # not the window's ten minutes, nor anything near
