"""The topology screen in the console that ships: views, offsets, diff, filter, selection, hostile text, scale."""

from __future__ import annotations

import time
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from promsoc.detectors.results import Finding
from promsoc.topology.build import build_topology, istio_edges
from promsoc.topology.model import Topology
from promsoc.topology.synthetic import generate, node_sample, pod_samples
from promsoc.tui.screens.topology import OFFSETS, TopologyScreen
from promsoc.tui.widgets.topology_view import TopologyView
from tests.tui.conftest import make_app, settle
from tests.tui.fakes import NOW, FakeBackend

HOSTILE = "[@click=app.quit]boom[/] \x1b[31mred\x1b]0;pwned\x07 \u202eexe.txt" + "A" * 300


def backend_with_finding(maps: tuple[Topology, Topology] | None = None) -> FakeBackend:
    """The fake console backend, its CPU outlier firing on shop/db-0 with a hostile label."""
    backend = FakeBackend(maps=maps)
    finding = Finding({"namespace": "shop", "pod": "db-0", "container": HOSTILE}, 4.2)
    backend.findings["container-cpu-outlier"] = [finding]
    return backend


async def open_map(pilot: Pilot[Any]) -> TopologyScreen:
    """Poll once (findings for the details pane), then open the topology mode and let it load."""
    await settle(pilot)
    await pilot.press("m")
    await _settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TopologyScreen)
    return screen


def _lines(screen: TopologyScreen) -> list[str]:
    return [line.text for line in screen.query_one(TopologyView).lines]


def _static(screen: TopologyScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).visual)


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _at(backend: FakeBackend) -> list[float]:
    return [at for _, at in backend.topology_calls]


async def test_three_views_and_the_node_boxes() -> None:
    backend = backend_with_finding()
    app = make_app(backend)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_map(pilot)
        assert _at(backend) == [NOW]
        text = "\n".join(_lines(screen))
        assert "+- w3 (192.168.0.1)" in text and "[hostNet]" in text
        assert "3 nodes · 3 workloads · 3 pods · 3 edges (istio)" in _static(screen, "#topology-title")
        await pilot.press("2")
        await _settle(pilot)
        assert any("db-0" in line for line in _lines(screen))
        await pilot.press("3")
        await _settle(pilot)
        assert any("-> shop/db" in line and "PLAIN" in line for line in _lines(screen))
        assert _at(backend) == [NOW], "switching views must not query again"


async def test_offsets_step_back_and_forward() -> None:
    backend = backend_with_finding()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_map(pilot)
        for _ in range(4):
            await pilot.press("comma")
        await _settle(pilot)
        assert OFFSETS[screen.offset_index][0] == "−2d"
        assert _at(backend)[-1] == NOW - 2 * 86400
        assert "−2d" in _static(screen, "#topology-title")
        assert not any("w3" in line for line in _lines(screen)), "the old map has no node w3"
        await pilot.press("0")
        await _settle(pilot)
        assert screen.offset_index == 0 and any("w3" in line for line in _lines(screen))
        assert _at(backend).count(NOW) == 1, "a moment already loaded comes from the cache"


async def test_diff_marks_and_changes_view() -> None:
    backend = backend_with_finding()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_map(pilot)
        await pilot.press("d")
        await _settle(pilot)
        assert NOW - 86400 in _at(backend)
        view = screen.query_one(TopologyView)
        marks = {(line.ref, line.mark) for line in view.lines if line.kind == "workload"}
        assert ("kube-system/DaemonSet/agent", "+") in marks
        assert ("batch/Job/old-job-1", "-") in marks
        await pilot.press("4")
        await _settle(pilot)
        text = "\n".join(_lines(screen))
        assert "  ~ shop/db-0: w1 -> w3" in text and "  ! shop/web -> shop/db" in text


async def test_filter_by_namespace() -> None:
    app = make_app(backend_with_finding())
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_map(pilot)
        await pilot.press("2", "slash", *"ns:kube", "enter")
        await _settle(pilot)
        text = "\n".join(_lines(screen))
        assert "agent-x" in text and "db-0" not in text
        assert "ns:kube" in _static(screen, "#topology-title")


async def test_jumping_to_a_pod_shows_its_findings_inert() -> None:
    app = make_app(backend_with_finding())
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await app.show_pod("shop", "db-0")
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, TopologyScreen) and screen.view == "workloads"
        view = screen.query_one(TopologyView)
        assert view.current is not None and view.current.ref == "shop/db-0"
        panel = _static(screen, "#topology-details")
        assert "Pod shop/db-0" in panel and "A pod using far more CPU" in panel
        assert "[@click=app.quit]boom[/]" in panel, "markup must show literally"
        assert "\x1b" not in panel and "\u202e" not in panel and "A" * 100 not in panel
        assert app.is_running


async def test_jump_to_a_pod_that_is_gone_says_so() -> None:
    app = make_app(backend_with_finding())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.show_pod("shop", "no-such-pod")
        await _settle(pilot)
        screen = app.screen
        assert isinstance(screen, TopologyScreen)
        assert "not on the map" in _static(screen, "#topology-title")


async def test_a_failing_source_is_shown_not_raised() -> None:
    backend = backend_with_finding()
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        backend.down = "source unreachable: connection refused"
        screen = await open_map(pilot)
        assert "✗ source unreachable" in _static(screen, "#topology-title")
        assert app.is_running


async def test_hostile_node_names_render_as_plain_ascii() -> None:
    info, owner = pod_samples("ns", HOSTILE, HOSTILE, "DaemonSet", HOSTILE, True)
    topo = build_topology(NOW, [info], [owner], [], [node_sample(HOSTILE, HOSTILE)])
    app = make_app(backend_with_finding((topo, topo)))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_map(pilot)
        assert _lines(screen)
        for line in _lines(screen):
            assert all(" " <= ch <= "~" for ch in line), repr(line)


def _big(at: float) -> Topology:
    cluster = generate(pods=5000, nodes=200, workloads=800, at=at)
    edges = istio_edges(cluster.istio_total, cluster.istio_errors)
    return build_topology(at, cluster.pod_info, cluster.pod_owner, cluster.rs_owner, cluster.node_info, edges, "istio")


async def test_5000_pods_scroll_while_keys_keep_answering() -> None:
    big = _big(NOW)
    app = make_app(backend_with_finding((big, big)))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_map(pilot)
        await pilot.press("2")
        await _settle(pilot)
        view = screen.query_one(TopologyView)
        assert len(view.lines) > 5800
        start = time.perf_counter()
        for _ in range(40):
            await pilot.press("pagedown")
        await pilot.pause()
        per_key = (time.perf_counter() - start) / 40
        assert view.cursor > 40 * 30, f"the keys went to {app.focused}"
        assert per_key < 0.25, f"{per_key * 1000:.0f} ms per key"


async def test_the_time_cursor_and_the_offsets_both_move_the_map() -> None:
    backend = backend_with_finding()
    app = make_app(backend)
    async with app.run_test(size=(130, 40)) as pilot:
        screen = await open_map(pilot)
        assert backend.topology_calls == [(backend.sources[0], NOW)]
        assert any("+- w3 " in line for line in _lines(screen))
        await pilot.press("left_square_bracket")  # the console's time cursor, one step back
        await _settle(pilot)
        assert backend.topology_calls[-1] == (backend.sources[0], NOW - 300)
        await pilot.press("comma")  # and the screen's own offset counts back from the cursor
        await _settle(pilot)
        assert backend.topology_calls[-1] == (backend.sources[0], NOW - 600)
        await pilot.press("escape")
        await _settle(pilot)
        assert app.current_mode == "overview"


async def test_narrow_terminal_gives_the_map_the_whole_width() -> None:
    """At 80 columns the details pane opens on Enter and Escape returns to the map."""
    app = make_app(backend_with_finding())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_map(pilot)
        view = screen.query_one(TopologyView)
        side = screen.query_one("#topology-side")
        assert screen.has_class("-narrow")
        assert view.size.width >= 76 and not side.display
        await pilot.press("down", "enter")
        await pilot.pause()
        assert side.display and not view.display
        assert "Select a line" not in _static(screen, "#topology-details")
        await pilot.press("escape")
        await pilot.pause()
        assert view.display and not side.display
