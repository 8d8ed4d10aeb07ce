"""A Thanos/Mimir partial response (an answer with `warnings`: a store did not answer) is marked
on every detector it touched, in the scan's JSON and on the console's tile. A real Prometheus 2.x
cannot be made to answer partially on demand, so a real HTTP server sends Thanos's envelope."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.integration.hostile_server import answering

SRC = str(Path(__file__).resolve().parents[2] / "src")
WARNING = "partial response: store 10.0.4.7:10901 (eu-west-2) unavailable"


def thanos_partial(value: str) -> bytes:
    result = [{"metric": {"namespace": "shop", "pod": "web-1"}, "value": [1764460800, value]}]
    body = {"status": "success", "data": {"resultType": "vector", "result": result}, "warnings": [WARNING]}
    return json.dumps(body).encode()


def test_scan_json_carries_the_partial_response_warnings_of_each_detector() -> None:
    env = {**os.environ, "PYTHONPATH": SRC, "NO_COLOR": "1"}
    env.pop("PROMSOC_CONFIG", None)
    with answering(thanos_partial("3")) as url:
        proc = subprocess.run(
            [sys.executable, "-m", "promsoc", "scan", "--url", url, "--format", "json"],
            capture_output=True, env=env, timeout=120, check=False,
        )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert len(doc["results"]) == 17
    assert all(r["warnings"] == [WARNING] for r in doc["results"]), [r["warnings"] for r in doc["results"]]
