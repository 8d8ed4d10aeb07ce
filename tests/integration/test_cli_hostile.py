"""The headless commands against hostile answers and hostile readers: complete JSON any parser
reads, exit 4 when blind, quiet closed pipes, full disks and absurd times as clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from promsoc.lab import Lab
from tests.integration.hostile_server import answering, vector

SRC = str(Path(__file__).resolve().parents[2] / "src")
HOSTILE = "a\ud800b\x85c\x9bd\x7fe\u202ef\u200bg\u2066h\ufeffi"
EMPTY = vector()


def promsoc(*args: str, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": SRC, "NO_COLOR": "1"}
    env.pop("PROMSOC_CONFIG", None)
    env.pop("PROMSOC_DEBUG", None)
    cmd = [sys.executable, "-m", "promsoc", *args]
    return subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, env=env, timeout=120, check=False)


def strict(text: bytes) -> Any:
    """Parse as a strict parser would: NaN/Infinity are not JSON, and the bytes must be UTF-8."""

    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text.decode("utf-8"), parse_constant=refuse)


def test_scan_json_of_infinite_values_and_hostile_labels_is_complete_strict_json() -> None:
    answer = vector(({"pod": HOSTILE, "namespace": "shop"}, "+Inf"), ({"pod": "p2"}, "NaN"))
    with answering(answer) as url:
        proc = promsoc("scan", "--url", url, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert b"Traceback" not in proc.stderr
    doc = strict(proc.stdout)
    findings = [f for r in doc["results"] for f in r["findings"]]
    assert len(doc["results"]) == 17 and findings
    assert {f["value"] for f in findings} == {"+Inf"}  # NaN never fires a detector
    hostile = next(f for f in findings if f["labels"].get("namespace") == "shop")
    assert hostile["labels"]["pod"] == HOSTILE  # escaped on the wire, the same text read back
    raw = proc.stdout.decode("utf-8")
    for char in "\x85\x9b\x7f\u202e\u200b\u2066\ufeff":
        assert char not in raw, repr(char)
    assert "\\ud800" in raw and "\\u202e" in raw and "\\u0085" in raw


def test_scan_exits_4_and_says_so_when_every_detector_is_no_data() -> None:
    with answering(EMPTY) as url:
        proc = promsoc("scan", "--url", url)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert b"every detector of every source was no_data" in proc.stderr
    assert proc.stdout.decode().count("○ NO DATA") == 17


def test_scan_of_the_lab_before_its_history_is_blind_not_clean(lab: Lab) -> None:
    proc = promsoc("scan", "--url", lab.url, "--at", "2001-01-01T00:00:00Z", "--format", "json")
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert {r["status"] for r in strict(proc.stdout)["results"]} == {"no_data"}


def test_a_closed_pipe_ends_quietly() -> None:
    read, write = os.pipe()
    with answering(EMPTY) as url:
        env = {**os.environ, "PYTHONPATH": SRC}
        env.pop("PROMSOC_DEBUG", None)
        child = subprocess.Popen(
            [sys.executable, "-m", "promsoc", "scan", "--url", url, "--format", "json"],
            stdout=write, stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        os.close(write)
        os.close(read)  # the reader leaves before the first byte, like `| head -c 0`
        _, stderr = child.communicate(timeout=120)
    assert child.returncode == 141, stderr
    assert stderr == b"", stderr  # no traceback, no 'Exception ignored', no no_data note either


def test_a_full_disk_is_one_line_and_exit_74(tmp_path: Path) -> None:
    with open("/dev/full", "wb") as full, answering(EMPTY) as url:
        proc = promsoc("scan", "--url", url, "--format", "json", stdout=full)
    assert proc.returncode == 74, proc.stderr
    assert proc.stderr.decode().strip() == "promsoc: cannot write the output: No space left on device"


def test_absurd_times_and_durations_are_usage_errors() -> None:
    cases = [
        ("scan", "--at", "nan"),
        ("scan", "--at", "inf"),
        ("scan", "--at", "1e308"),
        ("scan", "--at", "-5"),
        ("tui", "--at", "nan"),
        ("topology", "--offset", "9999999999999999y"),
        ("topology", "--offset", "60y"),
        ("topology", "--diff", "999999999999w"),
        ("topology", "--diff", "1" * 5000 + "s"),
    ]
    for case in cases:
        proc = promsoc(*case, "--url", "http://127.0.0.1:9")
        assert proc.returncode == 2, (case, proc.stderr)
        lines = proc.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"promsoc: {case[1]}: "), (case, lines)
