"""What one view of the map draws: filter, diff and render in one pure call (CLI and console)."""

from __future__ import annotations

from dataclasses import dataclass

from promsoc.topology.diff import TopologyDiff, diff_topology
from promsoc.topology.model import Topology
from promsoc.topology.render import (
    Line,
    render_diff_summary,
    render_nodes,
    render_traffic,
    render_workloads,
)
from promsoc.topology.select import filter_diff, filter_topology

VIEWS = ("nodes", "workloads", "traffic", "changes")


@dataclass(frozen=True)
class Shown:
    """What the view currently draws: the (filtered) map, its diff and the lines."""

    topo: Topology
    diff: TopologyDiff | None
    lines: list[Line]


def render_view(topo: Topology, before: Topology | None, view: str, filter_text: str, width: int) -> Shown:
    """Filter, diff and draw one view (pure: runs in a thread so keys never wait for it)."""
    diff = diff_topology(before, topo) if before is not None else None
    shown = filter_topology(topo, filter_text)
    if diff is not None and filter_text:
        diff = filter_diff(diff, filter_text)
    if view == "workloads":
        lines = render_workloads(shown, diff, width)
    elif view == "traffic":
        lines = render_traffic(shown, diff, width)
    elif view == "changes":
        lines = render_diff_summary(diff, width) if diff else [Line("press d to diff against an earlier time")]
    else:
        lines = render_nodes(shown, diff, width)
    if not shown.pods and view != "changes":
        lines = [Line("no pods match" if filter_text else "no pods at this moment"), *lines]
    return Shown(shown, diff, lines)
