"""`promsoc topology` argument handling and exit codes that need no Prometheus."""

from __future__ import annotations

import pytest

from promsoc.cli import main
from promsoc.cli.topology import render_text
from promsoc.topology.diff import diff_topology
from promsoc.topology.synthetic import churn_pair


def test_bad_time_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topology", "--url", "http://127.0.0.1:9", "--at", "yesterday"]) == 2
    assert "--at" in capsys.readouterr().err


def test_bad_duration_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topology", "--url", "http://127.0.0.1:9", "--diff", "2 days"]) == 2
    assert "--diff" in capsys.readouterr().err


def test_bad_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topology", "--url", "ftp://example.com"]) == 2
    assert "--url" in capsys.readouterr().err


def test_unreachable_source_exits_3_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["topology", "--url", "http://127.0.0.1:9", "--format", "json"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("promsoc: ")


def test_text_output_has_header_view_and_changes() -> None:
    before, after = churn_pair()
    text = render_text(after, "demo", diff_topology(before, after), "all")
    assert text.startswith("topology of demo at 1970-01-02T00:00:00Z")
    assert "3 nodes, 3 workloads, 3 pods, 3 traffic edges (istio)" in text
    assert "+- w3 " in text and "namespace shop" in text and "mesh: istio" in text
    assert "changes\nadded nodes (1)" in text
    assert max(len(line) for line in text.splitlines()) <= 80
