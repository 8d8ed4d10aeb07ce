"""The lab's /metrics endpoint keeps the demo's terminal clean when a scrape is abandoned."""

from __future__ import annotations

import pytest

from promsoc.lab.server import MetricsServer
from promsoc.lab.simulator import SimOptions, Simulator

ANCHOR = 1_800_000_000.0


def _server() -> MetricsServer:
    return MetricsServer(Simulator(ANCHOR, SimOptions(history_days=1.0, traffic_days=0.5, live_incidents=False)))


@pytest.mark.parametrize("exc", [BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset")])
def test_an_abandoned_scrape_prints_nothing(exc: OSError, capsys: pytest.CaptureFixture[str]) -> None:
    server = _server()
    try:
        try:
            raise exc
        except OSError:
            server.handle_error(None, ("127.0.0.1", 1))
    finally:
        server.server_close()
    assert capsys.readouterr().err == ""


def test_a_real_fault_still_reports(capsys: pytest.CaptureFixture[str]) -> None:
    server = _server()
    try:
        try:
            raise ValueError("simulator bug")
        except ValueError:
            server.handle_error(None, ("127.0.0.1", 1))
    finally:
        server.server_close()
    assert "simulator bug" in capsys.readouterr().err
