"""Recording rules for the heavy building blocks, and the detectors rewritten to read them.

The pod-to-workload map (`fragments.pod_workload()`: kube_pod_owner joined with the ReplicaSet
and Job owners, for every pod) is the costliest part of the sibling detectors, and it is the
same answer for every viewer and every detector. Recorded once a minute by Prometheus
(`promsoc rules export --recording`), a detector reads `promsoc:pod_workload:owner` instead.
The recorded series carries exactly the fragment's labels and value, so a detector's answer is
the same either way, up to one rule interval late for a pod that has just appeared (the promtool
tests in tests/rules run the sibling detectors' attack and look-alike cases on both paths).

promsoc uses the recorded map only where the source has it at the moment evaluated (charts over
the past keep the raw query: the recorded series begins when the rules were installed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from promsoc.promql.fragments import pod_workload

GROUP_NAME = "promsoc-recording"
POD_WORKLOAD = "promsoc:pod_workload:owner"


@dataclass(frozen=True)
class Recorded:
    """One building block: the series it is recorded as and the expression it replaces."""

    record: str
    expr: str
    what: str


MAP = Recorded(POD_WORKLOAD, pod_workload(), "pod -> workload map")
BLOCKS = (MAP,)


def blocks(signals: Iterable[tuple[str, str]]) -> tuple[Recorded, ...]:
    """The map, and every (detector id, signal) built on it recorded whole as
    `promsoc:<detector_id>:signal` (per pod, with its workload): then a sibling detector's per-pod
    rates and per-workload medians read one recorded series instead of 5,000 pods' raw samples."""
    found = [
        Recorded(f"promsoc:{name.replace('-', '_')}:signal", signal, f"{name}: its signal per pod")
        for name, signal in signals
        if MAP.expr in signal
    ]
    return (*found, MAP)


def recording_rules(recorded: Sequence[Recorded] = BLOCKS, interval: str = "1m") -> dict[str, object]:
    """The `groups:` document of the recording rules (one group, evaluated every `interval`)."""
    rules = [{"record": block.record, "expr": block.expr} for block in recorded]
    return {"groups": [{"name": GROUP_NAME, "interval": interval, "rules": rules}]}


def presence_query(recorded: Sequence[Recorded] = BLOCKS) -> str:
    """One sample per recorded block that has a series (`__name__` says which)."""
    names = "|".join(block.record for block in recorded)
    return f'count by (__name__) ({{__name__=~"{names}"}})'


def rewrite(promql: str, recorded: Sequence[Recorded] = BLOCKS) -> str:
    """`promql` reading the recorded series wherever it spells out a recorded block (the largest
    blocks first: a recorded signal holds the map)."""
    for block in sorted(recorded, key=lambda b: len(b.expr), reverse=True):
        promql = promql.replace(block.expr, block.record)
    return promql


def uses_recorded(promql: str, recorded: Sequence[Recorded] = BLOCKS) -> bool:
    """Whether `promql` spells out a block that can be read from a recording instead."""
    return any(block.expr in promql for block in recorded)
