"""Which signals share one join (detectors.shared_join): exactly `LHS * on (…) group_left (…) RHS`
of two single terms, nothing that PromQL would parse another way."""

from __future__ import annotations

import pytest

from promsoc.detectors.local_band import local_band
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.shared_join import shared, split_join

JOIN = "* on (namespace, pod) group_left (workload_kind, workload)"
MAP = '(max by (namespace, pod, workload_kind, workload) (kube_pod_owner{owner_kind="Job"}))'


def test_the_sibling_signals_share_the_pod_workload_map() -> None:
    signals = {d.id: band.signal for d in load_detectors() if (band := local_band(d)) is not None}
    groups = shared(signals)
    assert len(groups) == 1
    (join, members), = groups.items()
    assert set(members) == {"container-cpu-outlier", "pod-egress-outlier"}
    assert join.startswith(JOIN) and "kube_replicaset_owner" in join
    for key, lhs in members.items():
        assert "kube_pod_owner" not in lhs and signals[key].startswith(lhs)


@pytest.mark.parametrize("lhs", [
    "sum by (namespace, pod) (rate(x[5m]))",
    "sum(rate(x[5m])) by (namespace, pod)",
    "( sum by (namespace, pod) (x) unless on (namespace, pod) y )",
    'x{a="*", b=~"(.*"}',  # brackets and stars in strings are text
    'sum by (namespace, pod) (x{a=")\\")"})',
    "rate(x[5m])",
])
def test_a_join_of_two_single_terms_is_split(lhs: str) -> None:
    assert split_join(f"{lhs}\n{JOIN} {MAP}") == (lhs, f"{JOIN} {MAP}")


@pytest.mark.parametrize("signal", [
    f"a + sum by (namespace, pod) (x) {JOIN} {MAP}",  # a + (x * map)
    f"sum by (namespace, pod) (x) {JOIN} {MAP} + 1",  # (x * map) + 1
    f"sum by (namespace, pod) (x) {JOIN} {MAP} or y",
    f"2 * sum by (namespace, pod) (x) {JOIN} {MAP}",
    f"sum by (namespace, pod) (x) * on (namespace, pod) group_right (workload) {MAP}",
    f"sum by (namespace, pod) (x) * on (namespace, pod) {MAP}",
    f"sum by (namespace, pod) (x) / on (namespace, pod) group_left (workload) {MAP}",
    f"x offset 5m {JOIN} {MAP}",
    f"sum by (namespace, pod) (x {JOIN} {MAP}",
    "sum by (namespace, pod) (x)",
])
def test_anything_else_is_asked_as_written(signal: str) -> None:
    assert split_join(signal) is None


def test_a_lone_join_or_different_maps_are_not_combined() -> None:
    one = f"sum by (namespace, pod) (a) {JOIN} {MAP}"
    other = f"sum by (namespace, pod) (b) {JOIN} (max by (namespace, pod, workload_kind, workload) (z))"
    assert shared({"a": one}) == {}
    assert shared({"a": one, "b": other}) == {}
    assert set(shared({"a": one, "b": one.replace("(a)", "(b)")})[f"{JOIN} {MAP}"]) == {"a", "b"}
