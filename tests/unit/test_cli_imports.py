"""Headless commands load neither the lab nor Textual (checked at run time, as harlequin does)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Runs one command in a fresh interpreter, then reports which heavy modules it loaded.
PROBE = """
import json, sys
from promsoc.cli import main
code = main(sys.argv[1:])
heavy = ("promsoc.lab", "promsoc.tui", "textual", "textual_plotext", "plotext", "multiprocessing")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy or m.startswith(heavy))
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""
REFUSED = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["scan", "--url", REFUSED], 3),
        (["check", "--url", REFUSED], 3),
        (["topology", "--url", REFUSED], 3),
        (["rules", "export"], 0),
        (["timeline", "--url", REFUSED, "--from", "-1h"], 3),
        (["alerts", "--alertmanager", REFUSED], 3),
        (["alerts", "--url", REFUSED, "--at", "1700000000"], 3),
    ],
    ids=["scan", "check", "topology", "rules", "timeline", "alerts", "alerts-at"],
)
def test_headless_command_loads_neither_lab_nor_textual(argv: list[str], code: int) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120, check=False
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report["code"] == code, proc.stderr
    assert report["loaded"] == [], f"{argv[0]} loaded {report['loaded']}"
