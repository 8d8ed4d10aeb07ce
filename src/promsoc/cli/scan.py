"""`promsoc scan`: every detector once, against every source, as an 80-column table or JSON."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

from promsoc import units
from promsoc.cli.common import (
    EXIT_BLIND,
    EXIT_FIRING,
    EXIT_OK,
    EXIT_SOURCE,
    WIDTH,
    add_source_options,
    configured_detectors,
    format_time,
    load_config,
    no_warnings,
    parse_time,
    per_source,
    print_lines,
    print_warnings,
    retention_warnings,
)
from promsoc.cli.output import json_text, write
from promsoc.config import Settings
from promsoc.detectors.engine import evaluate
from promsoc.detectors.results import DetectorResult, Status, status_text
from promsoc.detectors.spec import Detector
from promsoc.prom.client import PromClient
from promsoc.text import safe

# Glyph + word: statuses read without colour (NO_COLOR, 16-colour jump hosts, colour blindness).
STATUS_TEXT = {status: status_text(status) for status in Status}
QUIET_LABELS = ("job", "instance", "__name__")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "scan",
        help="evaluate every detector once and print the results",
        description=(
            "Evaluate every enabled detector against every source at one moment. Exit codes: "
            "0 nothing firing, 1 something firing, 2 usage or config error, 3 a source failed, "
            "4 every detector of every source was no_data (blind)."
        ),
    )
    add_source_options(parser)
    parser.add_argument("--at", metavar="TIME", help="RFC 3339 or Unix seconds (default: now)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=run)


async def scan_sources(
    settings: Settings, detectors: Sequence[Detector], at: float
) -> list[DetectorResult]:
    """Every detector on every source, sources concurrently; results in source, pack order."""

    def ask(client: PromClient, name: str) -> Awaitable[list[DetectorResult]]:
        return evaluate(detectors, client, name, at, local=client.source.sibling_bands == "local")

    return await per_source(settings.sources, ask)


class Outcome(Protocol):
    """What the exit code reads of a result (a scan's or a timeline's)."""

    @property
    def source(self) -> str: ...
    @property
    def status(self) -> Status: ...


def exit_code(results: Sequence[Outcome]) -> int:
    """3 if a source answered nothing, else 1 if anything fires, else 3 on any error, else 4 when
    every result is no_data (blind, not clean), else 0."""
    by_source: dict[str, list[Outcome]] = {}
    for result in results:
        by_source.setdefault(result.source, []).append(result)
    if any(all(r.status is Status.ERROR for r in rs) for rs in by_source.values()):
        return EXIT_SOURCE
    if any(r.status is Status.FIRING for r in results):
        return EXIT_FIRING
    if any(r.status is Status.ERROR for r in results):
        return EXIT_SOURCE
    if results and all(r.status is Status.NO_DATA for r in results):
        return EXIT_BLIND
    return EXIT_OK


def to_json(
    results: Sequence[DetectorResult], at: float, unit_of: dict[str, str] | None = None
) -> dict[str, Any]:
    """The contract's JSON document (plus `unit`, the values' unit, `missing` for no_data, `note`,
    and `warnings`: the server's warnings, e.g. a Thanos partial response)."""
    unit_of = unit_of or {}
    return {
        "evaluated_at": format_time(at),
        "results": [
            {
                "source": r.source,
                "detector": r.detector,
                "title": r.title,
                "category": r.category,
                "severity": r.severity,
                "status": r.status.value,
                "unit": unit_of.get(r.detector, units.DEFAULT),
                "findings": [{"labels": f.labels, "value": f.value} for f in r.findings],
                "error": r.error,
                "missing": list(r.missing),
                "note": r.note,
                "warnings": list(r.warnings),
            }
            for r in results
        ],
    }


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _labels(labels: dict[str, str]) -> str:
    shown = [f"{safe(k, 40)}={safe(v, 60)}" for k, v in labels.items() if k not in QUIET_LABELS]
    return " ".join(shown) or "{}"


def _detail(result: DetectorResult, unit: str) -> str:
    if result.status is Status.FIRING:
        count = len(result.findings)
        worst = units.human(result.findings[0].value, unit)  # the engine sorts worst first
        return f"{count} finding{'s' if count > 1 else ''}: {worst}"
    if result.status is Status.NO_DATA:
        return "blind spot: what it needs is absent" if result.note else "blind spot: its metrics are absent"
    if result.status is Status.ERROR:
        return safe(result.error or "", 200)
    return ""


def render_table(
    results: Sequence[DetectorResult], at: float, unit_of: dict[str, str] | None = None
) -> str:
    """One block per source: status, detector, severity, top finding or reason; 80 columns."""
    unit_of = unit_of or {}
    lines: list[str] = []
    sources = list(dict.fromkeys(r.source for r in results))
    for source in sources:
        mine = [r for r in results if r.source == source]
        firing = sum(r.status is Status.FIRING for r in mine)
        blind = sum(r.status is Status.NO_DATA for r in mine)
        errors = sum(r.status is Status.ERROR for r in mine)
        if lines:
            lines.append("")
        lines.append(_fit(f"{safe(source, 40)} at {format_time(at)}: {firing} firing, "
                          f"{blind} no data, {errors} error, {len(mine)} detectors", WIDTH))
        lines.append(f"{'STATUS':<10}{'DETECTOR':<31}{'SEVERITY':<9}DETAIL")
        for r in mine:
            detail = _detail(r, unit_of.get(r.detector, units.DEFAULT))
            row = f"{STATUS_TEXT[r.status]:<10}{r.detector:<31}{r.severity:<9}{detail}"
            lines.append(_fit(row.rstrip(), WIDTH))
            for finding in r.findings[:3]:
                lines.append(_fit(f"{'':<10}└ {_labels(finding.labels)}", WIDTH))
            for family in r.missing:
                lines.append(_fit(f"{'':<10}└ missing {family}", WIDTH))
            if r.note:
                lines.append(_fit(f"{'':<10}└ {safe(r.note, 200)}", WIDTH))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Load config and detectors, evaluate, print; the exit code says what happened."""
    at = parse_time(args.at) if args.at else time.time()
    settings = load_config(args)
    detectors = configured_detectors(settings)
    print_warnings(settings)

    async def scan_and_check_retention() -> tuple[list[DetectorResult], list[str]]:
        old = retention_warnings(settings.sources, at, "--at") if args.at else no_warnings()
        return await asyncio.gather(scan_sources(settings, detectors, at), old)

    results, warnings = asyncio.run(scan_and_check_retention())
    print_lines(warnings)
    unit_of = {det.id: det.unit for det in detectors}
    if args.format == "json":
        write(json_text(to_json(results, at, unit_of)))
    else:
        write(render_table(results, at, unit_of) + "\n")
    code = exit_code(results)
    if code == EXIT_BLIND:
        print(
            "promsoc: every detector of every source was no_data: promsoc saw nothing it could judge "
            "(a wrong server, or a time outside its retention?)",
            file=sys.stderr,
        )
    return code
