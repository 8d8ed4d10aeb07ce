"""`promsoc check`: the config loads, and per source every detector's query runs on real metrics."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from promsoc import units
from promsoc.cli.common import (
    EXIT_OK,
    EXIT_SOURCE,
    WIDTH,
    add_source_options,
    configured_detectors,
    load_config,
    print_warnings,
)
from promsoc.cli.output import write
from promsoc.config import Settings
from promsoc.detectors.engine import (
    can_read_recorded,
    detectors_presence_query,
    judge,
    query_for,
    recorded_blocks,
    recorded_state,
)
from promsoc.detectors.spec import Detector
from promsoc.prom.errors import PromError
from promsoc.prom.types import InstantResult
from promsoc.text import safe

if TYPE_CHECKING:
    from promsoc.prom.client import PromClient
    from promsoc.prom.settings import Source


RECORDED = "  └ reads recorded series: "
RAW = "  └ raw query: `promsoc rules export --recording` makes it cheap"
YOUNG = "  └ raw until its recorded signal is {age} old (the rules are younger)"
SPANS = "  └ raw query: recorded by {label}, and this source sees {count} values of it"


@dataclass(frozen=True)
class CheckRow:
    """One (source, detector): does its query run, and do the metrics it needs exist?"""

    source: str
    detector: str
    query_error: str | None
    missing: tuple[str, ...]
    metrics_error: str | None = None
    note: str | None = None
    recorded: bool | None = None
    """For detectors built on a recorded block: whether the source has the recording rules' series."""
    read: tuple[str, ...] = ()
    """What it reads recorded (`signal per pod`, `pod -> workload map`, `time band mean`, ...)."""
    young: float | None = None
    """Recorded but too young to be read: how old its recorded signal must be (seconds)."""
    spans: tuple[str, int] | None = None
    """Recorded by a label (`--recording --by`) but not read: the source sees that many of its values."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check",
        help="validate the config and every detector's query against each source",
        description=(
            "Load the config and the detector packs, then run every detector's query on each "
            "source and report whether it runs and whether the metrics it needs exist. Exit "
            "codes: 0 every query runs, 2 config error, 3 a query or a source failed."
        ),
    )
    add_source_options(parser)
    parser.set_defaults(handler=run)


async def _check_source(
    client: PromClient, name: str, detectors: Sequence[Detector]
) -> list[CheckRow]:
    async def attempt(promql: str) -> InstantResult | PromError:
        try:
            return await client.query(promql)
        except PromError as exc:
            return exc

    presence_promql = detectors_presence_query(detectors) or "vector(1)"
    state = await recorded_state(client, None, recorded_blocks(detectors))
    present = state.readable

    outcomes = await asyncio.gather(
        attempt(presence_promql), *(attempt(query_for(det, present)) for det in detectors)
    )
    presence, results = outcomes[0], outcomes[1:]
    rows = []
    for det, result in zip(detectors, results, strict=True):
        verdict = None if isinstance(presence, PromError) else judge(det, presence)
        rows.append(
            CheckRow(
                source=name,
                detector=det.id,
                query_error=str(result) if isinstance(result, PromError) else None,
                missing=verdict.missing if verdict else (),
                metrics_error=str(presence) if isinstance(presence, PromError) else None,
                note=verdict.note if verdict else None,
                recorded=query_for(det, present) != det.query if can_read_recorded(det) else None,
                read=tuple(b.what for b in present if b.record in query_for(det, present)),
                young=max((b.age for b in state.young if b.expr in det.query), default=None),
                spans=state.spans,
            )
        )
    return rows


async def check_sources(settings: Settings, detectors: Sequence[Detector]) -> list[CheckRow]:
    """Check every detector on every configured source, sources concurrently."""
    from promsoc.prom.sources import Sources

    async with Sources(settings.sources) as pool:
        per_source = await asyncio.gather(
            *(_check_source(pool[name], name, detectors) for name in pool.names)
        )
    return [row for rows in per_source for row in rows]


def together_lines(sources: Sequence[Source]) -> list[str]:
    """Which sources are asked together (`prom.fanin`): one line per group, wrapped at 80 columns."""
    from promsoc.prom.fanin import groups

    lines = []
    for group in groups(sources):
        head = f"asked together (one request a query, split by {safe(group.label, 40)}): "
        words = [safe(name, 60) for name in group.values]
        line = head
        for index, word in enumerate(words):
            piece = word + ("," if index < len(words) - 1 else "")
            if len(line) + len(piece) + 1 > WIDTH and line.strip():
                lines.append(line.rstrip())
                line = "  "
            line += piece + " "
        lines.append(line.rstrip())
    return lines


def render(rows: Sequence[CheckRow], detectors: int, together: Sequence[str] = ()) -> str:
    """SOURCE/DETECTOR/QUERY/METRICS lines that fit 80 columns (after the sources asked together)."""
    lines = [f"config ok: {detectors} detectors enabled", *together]
    lines.append(f"{'DETECTOR':<31}{'QUERY':<10}METRICS")
    source = None
    for row in rows:
        if row.source != source:
            source = row.source
            lines.append(f"-- source {safe(source, 60)}")
        query = "✗ fails" if row.query_error else "✓ runs"
        if row.metrics_error:
            metrics = f"✗ {safe(row.metrics_error, 200)}"
        elif row.missing:
            metrics = "? missing"
        else:
            metrics = "✓ present"
        line = f"{row.detector:<31}{query:<10}{metrics}"
        lines.append(line if len(line) <= WIDTH else line[: WIDTH - 1] + "…")
        if row.query_error:
            lines.append(f"  {safe(row.query_error, WIDTH - 2)}")
        for family in row.missing:
            missing = f"  └ missing {family}"
            lines.append(missing if len(missing) <= WIDTH else missing[: WIDTH - 1] + "…")
        if row.note:
            note = f"  └ {safe(row.note, 200)}"
            lines.append(note if len(note) <= WIDTH else note[: WIDTH - 1] + "…")
        if row.recorded:
            read = RECORDED + ", ".join(row.read)
            lines.append(read if len(read) <= WIDTH else read[: WIDTH - 1] + "…")
        elif row.young is not None:
            lines.append(YOUNG.format(age=units.duration(row.young)))
        elif row.recorded is not None and row.spans is not None:
            spans = SPANS.format(label=safe(row.spans[0], 40), count=row.spans[1])
            lines.append(spans if len(spans) <= WIDTH else spans[: WIDTH - 1] + "…")
        elif row.recorded is not None:
            lines.append(RAW)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Config, packs, then the queries: exit 0 when every query runs on every source."""
    settings = load_config(args)
    detectors = configured_detectors(settings)
    print_warnings(settings)
    rows = asyncio.run(check_sources(settings, detectors))
    write(render(rows, len(detectors), together_lines(settings.sources)) + "\n")
    failed = any(row.query_error or row.metrics_error for row in rows)
    return EXIT_SOURCE if failed else EXIT_OK
