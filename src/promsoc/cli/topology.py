"""`promsoc topology`: the cluster map at a moment, as ASCII views or the contract's JSON."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from promsoc.cli.common import (
    EXIT_OK,
    EXIT_SOURCE,
    EXIT_USAGE,
    CliError,
    add_source_options,
    format_time,
    load_config,
    moment,
    no_warnings,
    parse_duration,
    parse_time,
    print_lines,
    retention_warnings,
)
from promsoc.cli.output import json_text, write
from promsoc.tasks import gather_all
from promsoc.text import safe
from promsoc.topology.diff import TopologyDiff, diff_topology
from promsoc.topology.export import to_json
from promsoc.topology.model import Topology
from promsoc.topology.queries import load_topology
from promsoc.topology.render import (
    Line,
    as_text,
    render_diff_summary,
    render_nodes,
    render_traffic,
    render_workloads,
)
from promsoc.topology.select import filter_diff, filter_topology

VIEWS = ("nodes", "workloads", "traffic", "all")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "topology",
        help="print the cluster topology at a point in time",
        description=(
            "Nodes, workloads, pods and mesh traffic as they were at a moment, from "
            "kube-state-metrics and Istio/Linkerd metrics; --diff lists what changed."
        ),
    )
    add_source_options(parser)
    parser.add_argument("--at", metavar="TIME", help="RFC 3339 or Unix seconds (default: now)")
    parser.add_argument("--offset", metavar="DURATION", help="show the view that long before --at (5m, 1h, 2d, 4w)")
    parser.add_argument("--diff", metavar="DURATION", help="compare with the view that long before the shown moment")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--view", choices=VIEWS, default="nodes", help="text view to print (default: nodes)")
    parser.add_argument("--filter", metavar="TEXT", default="", help="keep pods matching ns:X node:Y name:Z or text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Resolve the moment and the source, query, print; errors become the contract's exit codes."""
    at = parse_time(args.at) if args.at else time.time()
    if args.offset:
        at = moment(at - parse_duration(args.offset, "--offset"), "--offset", args.offset)
    against = moment(at - parse_duration(args.diff, "--diff"), "--diff", args.diff) if args.diff else None
    if args.diff and against is not None and against >= at:
        raise CliError("--diff: the duration must be longer than zero", EXIT_USAGE)
    source_name, topo, diff = asyncio.run(_load(args, at, against))
    if args.filter:
        topo = filter_topology(topo, args.filter)
        diff = filter_diff(diff, args.filter) if diff is not None else None
    if args.format == "json":
        write(json_text(to_json(topo, source_name, diff)))
    else:
        write(render_text(topo, source_name, diff, args.view) + "\n")
    return EXIT_OK


async def _load(
    args: argparse.Namespace, at: float, against: float | None
) -> tuple[str, Topology, TopologyDiff | None]:
    from promsoc.prom.client import PromClient
    from promsoc.prom.errors import PromError

    settings = load_config(args)
    source = settings.sources[0]
    if len(settings.sources) > 1:
        print(
            f"promsoc: topology shows one source: {source.name} (pick another with --source)",
            file=sys.stderr,
        )
    option = "--diff" if against is not None else "--offset" if args.offset else "--at"
    asked = args.at or args.offset or args.diff
    old = retention_warnings([source], min(at, against or at), option) if asked else no_warnings()
    try:
        async with PromClient(source) as client:
            if against is None:
                topo, warnings = await gather_all(load_topology(client, at), old)
                print_lines(warnings)
                return source.name, topo, None
            before, after, warnings = await gather_all(
                load_topology(client, against), load_topology(client, at), old
            )
            print_lines(warnings)
    except PromError as exc:
        raise CliError(f"source {source.name}: {exc}", EXIT_SOURCE) from None
    return source.name, after, diff_topology(before, after)


def render_text(topo: Topology, source: str, diff: TopologyDiff | None, view: str) -> str:
    """Header, the chosen view(s), then the diff summary: what a terminal or a ticket shows."""
    pods = len(topo.pods)
    header = [
        Line(f"topology of {safe(source)} at {format_time(topo.at)}"),
        Line(
            f"{len(topo.nodes)} nodes, {len(topo.workloads)} workloads, {pods} pods, "
            f"{len(topo.edges)} traffic edges ({topo.mesh or 'no mesh metrics'})"
        ),
    ]
    if diff is not None:
        header.append(Line(f"diff against {format_time(diff.before_at)}: + added  - removed  ~ moved"))
    header.extend(Line(f"warning: {safe(w, 200)}") for w in topo.warnings)
    sections: list[list[Line]] = [header]
    if view in ("nodes", "all"):
        sections.append(render_nodes(topo, diff))
    if view in ("workloads", "all"):
        sections.append(render_workloads(topo, diff))
    if view in ("traffic", "all"):
        sections.append(render_traffic(topo, diff))
    if diff is not None:
        sections.append([Line("changes"), *render_diff_summary(diff)])
    return "\n\n".join(as_text(lines) for lines in sections)
