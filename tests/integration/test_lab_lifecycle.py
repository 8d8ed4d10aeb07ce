"""The demo serves a real Prometheus and leaves nothing running after Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from promsoc.lab import Lab
from promsoc.lab.launcher import PrometheusServer


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def test_demo_no_tui_prints_url_and_stops_cleanly_on_ctrl_c(lab: Lab) -> None:
    # the session lab has just built (or reused) today's history, so the demo reuses the cache
    proc = subprocess.Popen([sys.executable, "-m", "promsoc", "demo", "--no-tui"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Prometheus: http://127.0.0.1:"), line
        url = line.split()[1]
        assert _ready(url)
        # the demo opens on an incident: a scan right away (the console's first poll) fires
        scan = subprocess.run([sys.executable, "-m", "promsoc", "scan", "--url", url],
                              capture_output=True, text=True, timeout=60)
        assert scan.returncode == 1, scan.stdout + scan.stderr
        row = next(ln for ln in scan.stdout.splitlines() if "ingress-created" in ln)
        assert row.startswith("▲ FIRING") and "1 finding: created" in row and " ago" in row, row
        assert "ingress=promo-backdoor" in scan.stdout
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        stderr = proc.stderr.read() if proc.stderr else ""
        assert "Traceback" not in stderr
        deadline = time.monotonic() + 10
        while _ready(url) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _ready(url), "Prometheus outlived the demo"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_server_stops_and_cleans_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = PrometheusServer().start()
    url = server.url
    assert _ready(url)
    proc = server._proc
    assert proc is not None
    server.stop()
    assert proc.poll() is not None
    assert not _ready(url)


def test_lab_history_is_retained_beyond_the_default_15_days(lab: Lab) -> None:
    assert lab.prometheus is not None
    with urllib.request.urlopen(f"{lab.url}/api/v1/status/flags", timeout=5) as resp:
        flags = resp.read().decode()
    assert '"storage.tsdb.retention.time":"90d"' in flags


def test_a_reused_history_continues_without_gaps_or_counter_resets(lab: Lab) -> None:
    """Starting again from the cache fills the gap since its anchor, and live counters carry on."""
    from tests.integration.labquery import query

    with Lab(lab.options) as again:
        assert again.cache_hit
        time.sleep(12)  # a couple of live scrapes after the filled gap
        since = max(60.0, time.time() - again.anchor + 60)
        window = f"{int(since)}s"
        resets = query(again.url, f"count(resets(container_cpu_usage_seconds_total[{window}]) > 0)")
        assert resets == [], "a live scrape went below the backfill: counters restarted"
        # every minute from the cached anchor to now: each long-lived series has samples
        at = again.anchor + 120
        while at < time.time() - 5:
            holes = query(again.url, 'count(count_over_time(container_cpu_usage_seconds_total'
                          '{namespace!="batch"}[2m]) < 2)', at)
            assert holes == [], f"samples are missing {at - again.anchor:.0f}s after the cached history"
            at += 60
        fast = query(again.url, "max(rate(container_cpu_usage_seconds_total[1m])) > 10")
        assert fast == [], "a pod 'used' more than 10 cores: a discontinuity at the junction"
