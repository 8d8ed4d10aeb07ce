"""The demo's loop end to end: the lab's attacks fire promsoc's exported rules into a real Alertmanager."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request

from promsoc.detectors.packs import builtin_detectors
from promsoc.lab import Lab
from promsoc.prom.alertmanager import AlertmanagerClient
from promsoc.prom.settings import Source
from tests.integration.test_lab_lifecycle import _ready
from tests.integration.test_scan_cli import promsoc


def test_demo_alerts_flow_from_the_lab_into_alertmanager_and_promsoc_alerts(lab: Lab) -> None:
    # the session lab has just built (or reused) today's history, so the demo reuses the cache
    proc = subprocess.Popen([sys.executable, "-m", "promsoc", "demo", "--no-tui"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    try:
        assert proc.stdout is not None
        prom_url = proc.stdout.readline().split()[1]
        line = proc.stdout.readline()
        assert line.startswith("Alertmanager: http://127.0.0.1:"), line
        am_url = line.split()[1]
        rules = _get(f"{prom_url}/api/v1/rules")
        assert '"name":"promsoc"' in rules and '"PromsocIngressSqli"' in rules  # the exported pack is loaded

        async def detector_alerts() -> list[str]:
            async with AlertmanagerClient(Source("demo-am", am_url)) as client:
                return [a.labels["detector"] for a in await client.alerts() if "detector" in a.labels]

        deadline = time.monotonic() + 240  # rules evaluate every minute; the live attacks repeat every 90 s
        fired: list[str] = []
        while not fired and time.monotonic() < deadline:
            time.sleep(5)
            fired = asyncio.run(detector_alerts())
        known = {d.id for d in builtin_detectors()}
        assert fired, "no promsoc alert reached the demo's Alertmanager in 4 minutes"
        assert set(fired) <= known
        listed = promsoc("alerts", "--alertmanager", am_url)
        assert listed.returncode == 1, listed.stderr  # active, unsilenced alerts page
        assert f"detector={fired[0]}" in listed.stdout
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        stderr = proc.stderr.read() if proc.stderr else ""
        assert "Traceback" not in stderr
        deadline = time.monotonic() + 10
        while _ready(am_url) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _ready(am_url), "Alertmanager outlived the demo"
    finally:
        if proc.poll() is None:
            proc.kill()


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return str(resp.read().decode())
