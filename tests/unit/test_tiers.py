"""Test tiers: markers come from directory and fixtures; a missing tool fails the run, never skips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIERS = ("lab", "promtool", "tui", "static")
# Collects the whole suite once in a fresh interpreter and prints each test's tiers.
COLLECT = f"""
import json, sys, pytest
class Recorder:
    def pytest_collection_finish(self, session):
        marks = {{i.nodeid: sorted(m.name for m in i.iter_markers() if m.name in {TIERS!r})
                 for i in session.items}}
        print("TIERS " + json.dumps(marks))
sys.exit(pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider"], plugins=[Recorder()]))
"""


def _run(args: list[str], path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path if path is not None else os.environ["PATH"]}
    env.pop("PROMSOC_PROMETHEUS_BIN", None)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120,
        check=False,
    )


def test_tiers_are_assigned_by_directory_and_fixture() -> None:
    proc = _run(["-c", COLLECT])
    line = next(x for x in proc.stdout.splitlines() if x.startswith("TIERS "))
    tiers: dict[str, list[str]] = json.loads(line.removeprefix("TIERS "))
    where = {tier: {i for i, t in tiers.items() if tier in t} for tier in TIERS}
    assert {i for i in tiers if i.startswith("tests/integration/")} <= where["lab"]
    assert any(i.startswith("tests/tui/test_console_lab.py") for i in where["lab"])  # its fixture
    assert not any(i.startswith("tests/unit/") for i in where["lab"])
    assert any("test_promtool_unit_tests_pass" in i for i in where["promtool"])
    assert {i for i in tiers if i.startswith(("tests/tui/", "tests/serve/"))} == where["tui"]
    assert where["static"] == {i for i in tiers if i.startswith("tests/test_static_checks.py")}
    assert any(not t for t in tiers.values())  # the quick tier is not empty


def test_a_missing_tool_is_an_error_and_a_tier_without_it_still_runs(tmp_path: Path) -> None:
    bare = str(tmp_path)  # nothing on PATH: no prometheus, promtool or openssl
    pytest = ["-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider"]
    needs = _run([*pytest, "tests/unit/test_rules_export.py"], path=bare)
    said = needs.stdout + needs.stderr
    assert needs.returncode != 0, said
    assert "need promtool on PATH" in said and "apt-get install --no-install-recommends prometheus" in said
    quick = _run([*pytest, "-m", "not promtool", "tests/unit/test_rules_export.py"], path=bare)
    assert quick.returncode == 0, quick.stdout + quick.stderr
