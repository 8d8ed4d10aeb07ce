"""Source health: a failing or late source is stale; tiles are replaced, never appended."""

from __future__ import annotations

from promsoc.detectors.results import Status
from promsoc.tui.state import ConsoleState, SourceHealth
from tests.tui.fakes import DETECTORS, NOW, FakeBackend


def test_stale_when_failing_or_late() -> None:
    health = SourceHealth(last_ok=NOW, latency=0.1)
    assert not health.stale(NOW + 10, interval=5)
    assert health.stale(NOW + 16, interval=5)  # three cycles without a success
    health.error = "timeout after 10 s"
    assert health.stale(NOW + 1, interval=5)


async def test_results_replace_per_tile() -> None:
    state = ConsoleState(["demo", "prod"], DETECTORS)
    backend = FakeBackend()
    for _ in range(3):
        state.apply_results("demo", await backend.evaluate("demo", NOW), 0.1, NOW, NOW)
    assert len(state.results) == len(DETECTORS)
    groups = state.groups()
    assert [g[0] for g in groups][:1] == ["demo"] and {g[0] for g in groups} == {"demo", "prod"}
    assert state.health["demo"].last_ok == NOW and state.health["prod"].last_ok is None


async def test_a_cycle_where_every_query_failed_marks_the_source_down() -> None:
    state = ConsoleState(["demo"], DETECTORS)
    backend = FakeBackend()
    state.apply_results("demo", await backend.evaluate("demo", NOW), 0.1, NOW, NOW)
    backend.statuses = dict.fromkeys(backend.statuses, Status.ERROR)
    state.apply_results("demo", await backend.evaluate("demo", NOW + 5), 0.1, NOW + 5, NOW + 5)
    health = state.health["demo"]
    assert health.last_ok == NOW and health.error == "query failed: 503 Service Unavailable"
    assert health.stale(NOW + 6, interval=5)
