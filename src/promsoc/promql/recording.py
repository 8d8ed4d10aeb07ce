"""Recording rules for the heavy building blocks, and the detectors rewritten to read them.

The pod-to-workload map (`fragments.pod_workload()`: kube_pod_owner joined with the ReplicaSet
and Job owners, for every pod) is the costliest part of the sibling detectors, and it is the
same answer for every viewer and every detector. Recorded once a minute by Prometheus
(`promsoc rules export --recording`), a detector reads `promsoc:pod_workload:owner` instead.
The recorded series carries exactly the fragment's labels and value, so a detector's answer is
the same either way, up to one rule interval late for a pod that has just appeared (the promtool
tests in tests/rules run the sibling detectors' attack and look-alike cases on both paths).

A detector with a time or seasonal band has its signal recorded (`promsoc:<id>:signal`) and the
band's mean and stddev over the signal's past computed from that recording
(`promsoc:<id>:band_mean`, `promsoc:<id>:band_stddev`): a scan then reads three small series
instead of re-evaluating the signal at every step of a subquery. Those terms read the recorded
signal over the band's reach (window + skip, or the longest season + 1m), so they are only read
once the recorded signal is that old: until then (rules installed an hour ago have no
yesterday) the detector keeps its raw query, whole.

falco-blind's pods per node and the scan's presence check (every series of every family the pack
needs) are recorded too. Each block has a marker (`promsoc:recording:block{block, expr}`, `expr`
a fingerprint of its expression): promsoc reads a block only where its marker is there at the
moment evaluated, with the fingerprint of the expression it would run (rules exported for other
parameters are ignored). Sparklines and charts read a block only where the source has had it
over what they read (the recorded series begins when the rules were installed); before that they
keep the raw query.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from promsoc.prom.group_by import plan_for
from promsoc.prom.group_plan import Unsplittable, uniform_keeps
from promsoc.promql.bands import BandQueries
from promsoc.promql.fragments import PODS_PER_NODE, pod_workload

GROUP_NAME = "promsoc-recording"
POD_WORKLOAD = "promsoc:pod_workload:owner"
PRESENCE = "promsoc:families:present"
MARKER = "promsoc:recording:block"
_FAMILY = "promsoc_family"
BY = "promsoc_by"
"""The marker label naming the label a block is recorded by (`split`)."""


@dataclass(frozen=True)
class Recorded:
    """One building block: the series it is recorded as and the expression it replaces."""

    record: str
    expr: str
    what: str
    rule: str = ""
    """The rule's expression when it differs from `expr` (a band term reads the recorded signal)."""
    aged: str | None = None
    """A record that must already have had a sample `age` seconds before for this block to be
    read (the recorded signal a band term reads over its reach)."""
    age: float = 0.0
    read: str = ""
    """How a query reads it when that is not the record's name without its `__name__` label."""
    by: str | None = None
    """The label it is recorded by (`split`): one Prometheus, many clusters."""

    @property
    def fingerprint(self) -> str:
        """A short hash of the rule's expression (and of the label it is recorded by): its marker
        carries it."""
        text = (self.rule or self.expr) + (f"\nby {self.by}" if self.by else "")
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def reads(self) -> str:
        """What replaces `expr` in a query: the recorded series, without the name the rule gave
        them (the expression's answer has none; a comparison or `unless` would keep it)."""
        return self.read or f'label_replace({self.record}, "__name__", "", "", "")'


MAP = Recorded(POD_WORKLOAD, pod_workload(), "pod -> workload map")
NODE_PODS = Recorded("promsoc:node_pods:count", PODS_PER_NODE, "pods per node")
BLOCKS = (MAP,)
INTERVAL = 60.0
"""The rules' evaluation interval (seconds): a band term recorded now read its signal up to one
interval before now, so the signal must be older than the band's reach by that much."""


def _signal_record(name: str) -> str:
    return f"promsoc:{name.replace('-', '_')}:signal"


def _on_map(signal: str) -> str:
    """A signal's rule: reading the map recorded just before it in the same evaluation (the same
    answer as the raw join at that moment, computed once for every signal)."""
    return signal.replace(MAP.expr, MAP.reads) if MAP.expr in signal else ""


def _band_blocks(name: str, signal: str, band: BandQueries) -> list[Recorded]:
    """The signal recorded, and the band's terms computed from that recording (rules in this order:
    Prometheus evaluates a group's rules one after the other, so a term reads this minute's signal)."""
    record = _signal_record(name)
    age = band.reach + INTERVAL
    found = [Recorded(record, signal, "signal", rule=_on_map(signal), aged=record, age=age)]
    for term, suffix in zip(band.terms, ("band_mean", "band_stddev"), strict=False):
        found.append(
            Recorded(
                f"promsoc:{name.replace('-', '_')}:{suffix}", term,
                f"{band.kind} band {suffix.removeprefix('band_')}",
                rule=term.replace(signal, record), aged=record, age=age,
            )
        )  # fmt: skip
    return found


def presence_block(presence: str) -> Recorded:
    """The scan's presence check (which families exist now) recorded: each family's series keeps
    its name in `promsoc_family`, and reading it puts the name back."""
    back = f'label_replace({PRESENCE}, "__name__", "$1", "{_FAMILY}", "(.*)")'  # none: no name
    return Recorded(
        PRESENCE, presence, "metrics present",
        rule=f'label_replace({presence}, "{_FAMILY}", "$1", "__name__", "(.+)")',
        read=f'label_replace({back}, "{_FAMILY}", "", "", "")',
    )  # fmt: skip


def blocks(
    detectors: Iterable[tuple[str, str | None, str, BandQueries | None]], presence: str | None = None
) -> tuple[Recorded, ...]:
    """What to record for these (detector id, signal, query, band) and the scan's presence check,
    in the order Prometheus evaluates them: the map; the pods per node where a query counts them;
    every signal built on the map recorded whole as `promsoc:<detector_id>:signal` (per pod, with
    its workload), so a sibling detector's per-pod rates and per-workload medians read one recorded
    series instead of 5,000 pods' raw samples; the signal and band terms of every time or seasonal
    band; the presence check."""
    found: list[Recorded] = []
    shared = [MAP]
    for name, signal, query, band in detectors:
        if signal and band is not None and band.terms and signal in band.upper:
            found.extend(_band_blocks(name, signal, band))
        elif signal and MAP.expr in signal:
            found.append(Recorded(_signal_record(name), signal, "signal per pod", rule=_on_map(signal)))
        if NODE_PODS.expr in query and NODE_PODS not in shared:
            shared.append(NODE_PODS)
    return (*shared, *found, *([presence_block(presence)] if presence else []))


@functools.lru_cache(maxsize=256)
def split(block: Recorded, by: str) -> Recorded:
    """`block` recorded by the label `by` (`promsoc rules export --recording --by cluster`): its
    rule keeps `by` through every aggregation and join (`prom.group_by`), so it answers for every
    value apart; read by a source that sees one value (its selector pins one cluster), the label
    is dropped where the raw expression would not have it, so the answer is the raw one's.
    `Unsplittable`, saying why, where the rule cannot be proven to keep the label."""
    rule = plan_for(block.rule or block.expr, by)
    keeps = plan_for(block.expr, by)
    for found in (rule, keeps):
        if isinstance(found, str):
            raise Unsplittable(f"{block.record} ({block.what}): {found}")
    assert not isinstance(rule, str) and not isinstance(keeps, str)
    kept = uniform_keeps(keeps.keeps)
    if kept is None:
        raise Unsplittable(f"{block.record} ({block.what}): parts with {by} and parts without")
    read = block.reads if kept else f'label_replace({block.reads}, "{by}", "", "", "")'
    return replace(block, rule=rule.promql, read=read, by=by)


def marker_rule(block: Recorded) -> dict[str, object]:
    """A block's marker: `vector(1)` with its name and fingerprint; recorded by a label (`split`),
    one per value of the label the block has series for, read from the block itself."""
    labels = {"block": block.record, "expr": block.fingerprint}
    if block.by is None:
        return {"record": MARKER, "expr": "vector(1)", "labels": labels}
    return {"record": MARKER, "expr": f"group by ({block.by}) ({block.record})", "labels": {**labels, BY: block.by}}


def recording_rules(recorded: Sequence[Recorded] = BLOCKS, interval: str = "1m") -> dict[str, object]:
    """The `groups:` document of the recording rules (one group, evaluated every `interval`): every
    block, then one marker per block (`promsoc:recording:block{block, expr}`, the expression's
    fingerprint), which is what promsoc looks for before reading a block."""
    rules: list[dict[str, object]] = [{"record": b.record, "expr": b.rule or b.expr} for b in recorded]
    rules.extend(marker_rule(block) for block in recorded)
    return {"groups": [{"name": GROUP_NAME, "interval": interval, "rules": rules}]}


def presence_query(recorded: Sequence[Recorded] = BLOCKS) -> str:
    """The recording rules' markers now (a few series, whatever the size of the blocks), and, for
    each record that blocks need aged, its marker as long ago as needed (labelled `promsoc_age`)."""
    parts = [MARKER]
    for aged, age in dict.fromkeys((b.aged, b.age) for b in recorded if b.aged is not None):
        parts.append(
            f'label_replace({MARKER}{{block="{aged}"}} offset {int(age)}s, "promsoc_age", "{int(age)}", "", "")'
        )
    return " or ".join(parts)


@dataclass(frozen=True)
class Present:
    """What a presence answer says: the blocks that can be read, and those recorded but too young
    (what they need aged has not existed long enough: read raw until then)."""

    readable: tuple[Recorded, ...] = ()
    young: tuple[Recorded, ...] = ()
    spans: tuple[str, int] | None = None
    """Blocks recorded by a label (`split`) not read because the source sees that many of its
    values (no selector narrowing it to one cluster): the label and how many."""


def _candidates(recorded: Sequence[Recorded], samples: Sequence[Mapping[str, str]]) -> tuple[
        list[Recorded], tuple[str, int] | None]:  # fmt: skip
    """The blocks as they may be recorded: as they are, and split by each label a marker says it
    was recorded by, where the source sees one value of it (`Present.spans` otherwise)."""
    found = list(recorded)
    spans = None
    for by in sorted({labels[BY] for labels in samples if BY in labels}):
        values = {labels.get(by, "") for labels in samples if labels.get(BY) == by and "promsoc_age" not in labels}
        if len(values) > 1:
            spans = (by, len(values))
            continue
        for block in recorded:
            try:
                found.append(split(block, by))
            except Unsplittable:
                continue  # not exported split: its marker cannot match
    return found, spans


def present(recorded: Sequence[Recorded], samples: Iterable[Mapping[str, str]]) -> Present:
    """Read `presence_query`'s answer (its samples' labels) for these blocks: a block is there when
    its marker is, with this expression's fingerprint (rules exported for other parameters are
    not read), and readable when what it needs aged had its marker that long ago too. Blocks
    recorded by a label (`split`) are read by a source that sees one value of it only: one
    cluster's recorded series, that label dropped where the raw expression drops it, are that
    cluster's raw answer; over several clusters they would not be."""
    samples = list(samples)
    candidates, spans = _candidates(recorded, samples)
    now: set[tuple[str, str]] = set()
    then: set[tuple[str, str, str]] = set()
    for labels in samples:
        key = (labels.get("block", ""), labels.get("expr", ""))
        if "promsoc_age" in labels:
            then.add((*key, labels["promsoc_age"]))
        else:
            now.add(key)
    prints = {(block.record, block.by): block.fingerprint for block in candidates}

    def old_enough(block: Recorded) -> bool:
        if block.aged is None:
            return True
        return (block.aged, prints.get((block.aged, block.by), ""), str(int(block.age))) in then

    there = [block for block in candidates if (block.record, block.fingerprint) in now]
    old = tuple(b for b in there if old_enough(b))
    return Present(old, tuple(b for b in there if b not in old), spans)


def rewrite(promql: str, recorded: Sequence[Recorded] = BLOCKS) -> str:
    """`promql` reading the recorded series wherever it spells out a recorded block (the largest
    blocks first: a recorded signal holds the map)."""
    for block in sorted(recorded, key=lambda b: len(b.expr), reverse=True):
        promql = promql.replace(block.expr, block.reads)
    return promql


def uses_recorded(promql: str, recorded: Sequence[Recorded] = BLOCKS) -> bool:
    """Whether `promql` spells out a block that can be read from a recording instead."""
    return any(block.expr in promql for block in recorded)
