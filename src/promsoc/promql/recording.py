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


BLOCKS = (Recorded(POD_WORKLOAD, pod_workload(), "pod -> workload map"),)


def recording_rules(interval: str = "1m") -> dict[str, object]:
    """The `groups:` document of the recording rules (one group, evaluated every `interval`)."""
    rules = [{"record": block.record, "expr": block.expr} for block in BLOCKS]
    return {"groups": [{"name": GROUP_NAME, "interval": interval, "rules": rules}]}


def presence_query() -> str:
    """Answers a sample when every recorded block has a series (the rules are installed)."""
    return " and ".join(f"count({block.record})" for block in BLOCKS)


def rewrite(promql: str) -> str:
    """`promql` reading the recorded series wherever it spells out a recorded block."""
    for block in BLOCKS:
        promql = promql.replace(block.expr, block.record)
    return promql


def uses_recorded(promql: str) -> bool:
    """Whether `promql` spells out a block that can be read from a recording instead."""
    return any(block.expr in promql for block in BLOCKS)
