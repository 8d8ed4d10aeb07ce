"""`promsoc timeline` against the lab: at every step of every incident it agrees with a scan."""

from __future__ import annotations

import asyncio
import json

import pytest

from promsoc.detectors.engine import evaluate
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.results import DetectorResult, Status
from promsoc.detectors.timeline import Range, TimelineResult, make_range, timeline
from promsoc.lab import Incident, Lab
from promsoc.lab.day import DAY_EVENTS
from promsoc.lab.scenario import SLOT
from promsoc.prom.client import PromClient
from tests.integration.test_scan_cli import promsoc

STEP = 60.0
ORDINARY_DAY = {e.name for e in DAY_EVENTS}


def timeline_incidents(lab: Lab) -> list[Incident]:
    """The 8-hour incident timeline (the ordinary day before it is the day sweep's)."""
    return [i for i in lab.scenario.incidents if i.name not in ORDINARY_DAY]
Scans = dict[float, list[DetectorResult]]


async def _history(lab: Lab) -> tuple[Range, list[TimelineResult], Scans]:
    detectors = load_detectors()
    incidents = timeline_incidents(lab)
    first, last = min(i.start for i in incidents), max(i.start for i in incidents)
    span = make_range(first - SLOT, last + 2 * SLOT, STEP)
    moments = [t for t in span.moments()
               if any(inc.start - STEP <= t <= inc.start + SLOT for inc in incidents)]
    async with PromClient.from_url(lab.url, name="lab") as client:
        results = await timeline(detectors, client, "lab", span)
        scans = await asyncio.gather(*(evaluate(detectors, client, "lab", t) for t in moments))
    return span, results, dict(zip(moments, scans, strict=True))


@pytest.fixture(scope="module")
def history(lab: Lab) -> tuple[Range, list[TimelineResult], Scans]:
    return asyncio.run(_history(lab))


def test_timeline_agrees_with_a_scan_at_every_step_of_every_incident(
    history: tuple[Range, list[TimelineResult], Scans],
) -> None:
    _span, results, scans = history
    by_id = {r.detector: r for r in results}
    assert not [r for r in results if r.status is Status.ERROR]
    disagreements = []
    for moment, scan in scans.items():
        for result in scan:
            interval = by_id[result.detector].firing_at(moment)
            if (result.status is Status.FIRING) != (interval is not None):
                disagreements.append(f"{result.detector} at {moment}: scan {result.status.value}, "
                                     f"timeline {'firing' if interval else 'not firing'}")
                continue
            if interval is None:
                continue
            seen = {tuple(sorted(labels.items())) for labels in interval.findings}
            for finding in result.findings:
                assert tuple(sorted(finding.labels.items())) in seen, (result.detector, finding)
                assert interval.low <= finding.value <= interval.peak
    assert len(scans) > 300  # every step of 35 incidents' slots
    assert not disagreements, "\n".join(disagreements[:20])


def test_every_attack_shows_as_an_interval_with_its_finding(
    lab: Lab, history: tuple[Range, list[TimelineResult], Scans],
) -> None:
    _span, results, _scans = history
    by_id = {r.detector: r for r in results}
    for inc in lab.scenario.attacks:
        hits = [i for i in by_id[inc.detector].intervals
                if i.start <= inc.end + 300 and i.end >= inc.start]
        assert hits, inc.name
        assert any(all(f.get(k) == v for k, v in inc.labels.items())
                   for i in hits for f in i.findings), (inc.name, hits)


def test_quiet_hours_have_no_interval(lab: Lab, history: tuple[Range, list[TimelineResult], Scans]) -> None:
    span, results, _scans = history
    first = min(i.start for i in timeline_incidents(lab))
    for r in results:
        assert all(i.end >= first for i in r.intervals), (r.detector, span.start, r.intervals[:1])


def test_cli_json_follows_the_contract_and_exits_1(lab: Lab) -> None:
    inc = lab.scenario.incident("sqli")
    # from 5 minutes in: the brute force just before still shows in 5-minute windows until then
    proc = promsoc("timeline", "--url", lab.url, "--from", str(inc.start + 300),
                   "--to", str(inc.end + 600), "--step", "1m", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["step"] == 60 and doc["from"].endswith("Z") and doc["to"].endswith("Z")
    assert len(doc["results"]) == 17
    entry = next(e for e in doc["results"] if e["detector"] == "ingress-sqli")
    assert set(entry) >= {"source", "detector", "severity", "status", "intervals", "error"}
    assert entry["status"] == "firing" and entry["unit"] == "ratio"
    (interval,) = entry["intervals"]
    assert 0.5 < interval["peak"] < 0.6  # 55 % answered 500
    assert {"host": "shop.example.com", "path": "/api/search"} in [
        f["labels"] for f in interval["findings"]]
    quiet = [e for e in doc["results"] if e["detector"] != "ingress-sqli"]
    assert {e["status"] for e in quiet} == {"ok"}


def test_cli_table_fits_80_columns_and_says_when(lab: Lab) -> None:
    inc = lab.scenario.incident("exfiltration")
    proc = promsoc("timeline", "--url", lab.url, "--from", str(inc.start - 600),
                   "--to", str(inc.end + 600))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    index = next(i for i, line in enumerate(lines) if "pod-egress-outlier" in line)
    assert lines[index].startswith("▲ FIRING") and "1 interval" in lines[index]
    assert "UTC" in lines[index + 1] and "peak 25 MB/s" in lines[index + 1]
    assert "every 30 s" in lines[0]  # the default step for a 28-minute range


def test_cli_exit_codes_for_quiet_bad_and_unreachable(lab: Lab) -> None:
    quiet = lab.scenario.quiet_times[0]
    ok = promsoc("timeline", "--url", lab.url, "--from", str(quiet - 900), "--to", str(quiet))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = promsoc("timeline", "--url", lab.url, "--from", "-2h", "--to", "-3h")
    assert bad.returncode == 2 and "empty" in bad.stderr and "Traceback" not in bad.stderr
    down = promsoc("timeline", "--url", "http://127.0.0.1:9", "--from", "-1h")
    assert down.returncode == 3 and "Traceback" not in down.stderr
