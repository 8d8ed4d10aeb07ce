"""`promsoc timeline`: when each detector fired between two moments, as intervals (table or JSON)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from typing import Any

from promsoc import units
from promsoc.cli.common import (
    EXIT_BLIND,
    EXIT_USAGE,
    WIDTH,
    CliError,
    add_source_options,
    configured_detectors,
    format_time,
    load_config,
    parse_duration,
    parse_moment,
    per_source,
    print_lines,
    print_warnings,
    retention_warnings,
)
from promsoc.cli.output import json_text, write
from promsoc.cli.scan import QUIET_LABELS, STATUS_TEXT, exit_code
from promsoc.config import Settings
from promsoc.detectors.results import Status
from promsoc.detectors.spec import Detector
from promsoc.detectors.timeline import Range, TimelineResult, make_range, timeline
from promsoc.text import safe

RELATIVE_OPTIONS = ("--from", "--to")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "timeline",
        help="when each detector fired between two moments",
        description=(
            "Firing intervals of every enabled detector between --from and --to, from one range "
            "query per detector and source. TIME is RFC 3339, Unix seconds, 'now' or relative to "
            "now (-8h, -2d). Exit codes: 0 nothing fired, 1 something fired, 2 usage or config "
            "error, 3 a source failed."
        ),
    )
    add_source_options(parser)
    parser.add_argument("--from", dest="start", metavar="TIME", default="-24h",
                        help="start of the range (default: -24h)")
    parser.add_argument("--to", dest="end", metavar="TIME", default="now",
                        help="end of the range (default: now)")
    parser.add_argument("--step", metavar="DURATION",
                        help="step between evaluations (default: at most 1,500 steps, at least 30s)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=run)


def glue_relative_times(argv: Sequence[str]) -> list[str]:
    """`--from -8h` -> `--from=-8h`: argparse would read '-8h' as an unknown option."""
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        item = items[i]
        if item in RELATIVE_OPTIONS and i + 1 < len(items) and items[i + 1].startswith("-"):
            out.append(f"{item}={items[i + 1]}")
            i += 2
            continue
        out.append(item)
        i += 1
    return out


def time_range(args: argparse.Namespace, now: float) -> Range:
    """--from/--to/--step -> the aligned steps; bad values are usage errors."""
    start = parse_moment(args.start, now, "--from")
    end = parse_moment(args.end, now, "--to")
    step = parse_duration(args.step, "--step") if args.step else None
    try:
        return make_range(start, end, step)
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


async def timeline_sources(
    settings: Settings, detectors: Sequence[Detector], span: Range
) -> list[TimelineResult]:
    """Every detector's intervals on every source, sources concurrently."""
    return await per_source(settings.sources, lambda client, name: timeline(detectors, client, name, span))


def to_json(results: Sequence[TimelineResult], span: Range) -> dict[str, Any]:
    """The contract's JSON document, plus `title`, `unit`, each interval's `low` (its smallest
    value: the worst one of an expiry or an age), for no_data `missing`, and `note`."""
    return {
        "from": format_time(span.start),
        "to": format_time(span.end),
        "step": span.step,
        "results": [
            {
                "source": r.source,
                "detector": r.detector,
                "title": r.title,
                "severity": r.severity,
                "unit": r.unit,
                "status": r.status.value,
                "intervals": [
                    {"start": format_time(i.start), "end": format_time(i.end), "peak": i.peak,
                     "low": i.low, "findings": [{"labels": labels} for labels in i.findings]}
                    for i in r.intervals
                ],
                "error": r.error,
                "missing": list(r.missing),
                "note": r.note,
            }
            for r in results
        ],
    }


def _fit(text: str, width: int = WIDTH) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _clock(stamp: float, day: bool) -> str:
    return time.strftime("%Y-%m-%d %H:%M" if day else "%H:%M", time.gmtime(stamp))


def _labels(labels: dict[str, str]) -> str:
    shown = [f"{safe(k, 40)}={safe(v, 60)}" for k, v in labels.items() if k not in QUIET_LABELS]
    return " ".join(shown) or "{}"


def _detail(result: TimelineResult) -> str:
    if result.status is Status.FIRING:
        count = len(result.intervals)
        return f"{count} interval{'s' if count > 1 else ''}"
    if result.status is Status.NO_DATA:
        return "blind spot: its metrics are absent over the whole range"
    if result.status is Status.ERROR:
        return safe(result.error or "", 200)
    return ""


def render_table(results: Sequence[TimelineResult], span: Range) -> str:
    """One block per source; under each firing detector its intervals, UTC; 80 columns."""
    lines: list[str] = []
    step = units.duration(span.step)
    for source in dict.fromkeys(r.source for r in results):
        mine = [r for r in results if r.source == source]
        fired = sum(r.status is Status.FIRING for r in mine)
        blind = sum(r.status is Status.NO_DATA for r in mine)
        errors = sum(r.status is Status.ERROR for r in mine)
        if lines:
            lines.append("")
        lines.append(_fit(f"{safe(source, 40)} {format_time(span.start)} to {format_time(span.end)}, "
                          f"every {step}"))
        lines.append(_fit(f"{fired} fired, {blind} no data, {errors} error, {len(mine)} detectors"))
        lines.append(f"{'STATUS':<10}{'DETECTOR':<31}{'SEVERITY':<9}DETAIL")
        for r in mine:
            row = f"{STATUS_TEXT[r.status]:<10}{r.detector:<31}{r.severity:<9}{_detail(r)}"
            lines.append(_fit(row.rstrip()))
            for interval in r.intervals:
                same_day = _clock(interval.start, True)[:10] == _clock(interval.end, True)[:10]
                end = _clock(interval.end, not same_day)
                length = units.duration(interval.end - interval.start + span.step)
                if units.lower_is_worse(r.unit):
                    worst = f"worst {units.human(interval.low, r.unit)}"
                else:
                    worst = f"peak {units.human(interval.peak, r.unit)}"
                lines.append(_fit(f"{'':<10}└ {_clock(interval.start, True)}–{end} UTC, {length}, "
                                  f"{worst}"))
                for labels in interval.findings[:3]:
                    lines.append(_fit(f"{'':<12}{_labels(labels)}"))
                if len(interval.findings) > 3:
                    lines.append(_fit(f"{'':<12}and {len(interval.findings) - 3} more"))
            for family in r.missing:
                lines.append(_fit(f"{'':<10}└ missing {family}"))
            if r.note:
                lines.append(_fit(f"{'':<10}└ {safe(r.note, 200)}"))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Load config and detectors, run the range queries, print; the exit code says what happened."""
    span = time_range(args, time.time())
    settings = load_config(args)
    detectors = configured_detectors(settings)
    print_warnings(settings)

    async def timeline_and_check_retention() -> tuple[list[TimelineResult], list[str]]:
        return await asyncio.gather(
            timeline_sources(settings, detectors, span), retention_warnings(settings.sources, span.start, "--from")
        )

    results, warnings = asyncio.run(timeline_and_check_retention())
    print_lines(warnings)
    if args.format == "json":
        write(json_text(to_json(results, span)))
    else:
        write(render_table(results, span) + "\n")
    code = exit_code(results)
    if code == EXIT_BLIND:
        print("promsoc: every detector of every source was no_data over the whole range: promsoc "
              "saw nothing it could judge (a wrong server, or a range outside its retention?)",
              file=sys.stderr)
    return code
