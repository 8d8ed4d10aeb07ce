"""Every built-in detector against the lab: attacks caught, look-alikes and quiet times silent."""

from __future__ import annotations

import asyncio

import pytest

from promsoc.detectors.engine import evaluate
from promsoc.detectors.local_band import local_band
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.results import DetectorResult, Status
from promsoc.lab import Incident, Lab
from promsoc.prom.client import PromClient

ByIncident = dict[str, list[DetectorResult]]
AtQuiet = dict[float, list[DetectorResult]]
Evaluations = tuple[ByIncident, AtQuiet]


def _caught(result: DetectorResult, incident: Incident) -> bool:
    """Firing, with a finding whose labels include the incident's identifying labels."""
    return result.status is Status.FIRING and any(
        all(f.labels.get(k) == v for k, v in incident.labels.items()) for f in result.findings
    )


async def _evaluate_all(lab: Lab) -> Evaluations:
    detectors = load_detectors()
    async with PromClient.from_url(lab.url, name="lab") as client:
        at_incident = await asyncio.gather(
            *(evaluate(detectors, client, "lab", inc.eval_at) for inc in lab.scenario.incidents)
        )
        at_quiet = await asyncio.gather(
            *(evaluate(detectors, client, "lab", t) for t in lab.scenario.quiet_times)
        )
    return (
        {inc.name: res for inc, res in zip(lab.scenario.incidents, at_incident, strict=True)},
        dict(zip(lab.scenario.quiet_times, at_quiet, strict=True)),
    )


def detector_table(lab: Lab, by_incident: ByIncident) -> str:
    """Markdown: detector x incident, caught or silent, as in the README's Detectors section."""
    rows = ["| detector | incident | kind | expected | got |", "| --- | --- | --- | --- | --- |"]
    for inc in lab.scenario.incidents:
        result = next(r for r in by_incident[inc.name] if r.detector == inc.detector)
        if inc.benign:
            expected, ok = "silent", result.status is not Status.FIRING
        else:
            expected, ok = "caught", _caught(result, inc)
        got = f"{result.status.value} ({len(result.findings)} findings)"
        mark = "✓" if ok else "✗"
        kind = "look-alike" if inc.benign else "attack"
        rows.append(f"| `{inc.detector}` | {inc.name} | {kind} | {expected} | {mark} {got} |")
    return "\n".join(rows)


@pytest.fixture(scope="module")
def evaluations(lab: Lab) -> Evaluations:
    return asyncio.run(_evaluate_all(lab))


def test_every_detector_has_an_attack_in_the_scenario(lab: Lab) -> None:
    attacked = {inc.detector for inc in lab.scenario.attacks}
    assert {det.id for det in load_detectors()} <= attacked


def test_every_attack_is_caught(lab: Lab, evaluations: Evaluations) -> None:
    by_incident, _quiet = evaluations
    print("\n" + detector_table(lab, by_incident))
    missed = []
    for inc in lab.scenario.attacks:
        result = next(r for r in by_incident[inc.name] if r.detector == inc.detector)
        if not _caught(result, inc):
            missed.append(f"{inc.name}: {result.status.value} {result.error or ''} "
                          f"{[f.labels for f in result.findings][:3]}")
    assert not missed, "\n".join(missed)


def test_no_look_alike_fires(lab: Lab, evaluations: Evaluations) -> None:
    by_incident, _quiet = evaluations
    fired = []
    for inc in lab.scenario.lookalikes:
        result = next(r for r in by_incident[inc.name] if r.detector == inc.detector)
        if result.status is Status.FIRING:
            fired.append(f"{inc.name}: {[f.labels for f in result.findings][:3]}")
    assert not fired, "\n".join(fired)


def test_nothing_fires_at_quiet_times(evaluations: Evaluations) -> None:
    _by_incident, quiet = evaluations
    noisy = [
        f"{t}: {r.detector} {[f.labels for f in r.findings][:2]}"
        for t, results in quiet.items()
        for r in results
        if r.status is Status.FIRING
    ]
    errors = [f"{t}: {r.detector}: {r.error}" for t, rs in quiet.items() for r in rs
              if r.status is Status.ERROR]
    assert not noisy, "\n".join(noisy)
    assert not errors, "\n".join(errors)


def test_no_detector_errors_or_lacks_data_in_the_full_lab(evaluations: Evaluations) -> None:
    by_incident, _quiet = evaluations
    bad = [f"{name}: {r.detector} {r.status.value} {r.error or ''} {r.missing}"
           for name, results in by_incident.items() for r in results
           if r.status in (Status.ERROR, Status.NO_DATA) and not name.startswith("falco-gone")]
    assert not bad, "\n".join(bad)


def test_batched_and_single_queries_agree(lab: Lab) -> None:
    """Combining light detectors into one request changes nothing but the cost."""

    async def both() -> list[tuple[list[DetectorResult], list[DetectorResult]]]:
        detectors = load_detectors()
        times = [inc.eval_at for inc in lab.scenario.incidents] + lab.scenario.quiet_times[:1]
        async with PromClient.from_url(lab.url, name="lab") as client:
            return [
                (await evaluate(detectors, client, "lab", t, batch=True),
                 await evaluate(detectors, client, "lab", t, batch=False))
                for t in times
            ]

    for batched, single in asyncio.run(both()):
        assert [(r.detector, r.status, r.findings, r.missing) for r in batched] == [
            (r.detector, r.status, r.findings, r.missing) for r in single
        ]


def test_sibling_bands_applied_by_promsoc_give_the_querys_findings(lab: Lab) -> None:
    """Without recording rules the sibling detectors ask for their signal once and promsoc applies
    the median band (detectors.local_band): at every incident and quiet time, the findings are the
    detector's PromQL query's, label for label and value for value (the attacks among them)."""
    detectors = [d for d in load_detectors() if local_band(d) is not None]
    assert {d.id for d in detectors} == {"container-cpu-outlier", "pod-egress-outlier"}

    async def compare() -> int:
        fired = 0
        times = [inc.eval_at for inc in lab.scenario.incidents] + lab.scenario.quiet_times
        async with PromClient.from_url(lab.url, name="lab") as client:
            for at in times:
                results = await evaluate(detectors, client, "lab", at, recorded=False)
                for det, result in zip(detectors, results, strict=True):
                    query = await client.query(det.query, at)  # the query as written: both operands
                    want = sorted((sorted(s.labels.items()), s.value) for s in query.samples)
                    got = sorted((sorted(f.labels.items()), f.value) for f in result.findings)
                    assert got == want, (det.id, at)
                    assert result.status is (Status.FIRING if want else Status.OK), (det.id, at)
                    fired += bool(want)
        return fired

    assert asyncio.run(compare()) >= 2  # the crypto-miner and the exfiltration at least
