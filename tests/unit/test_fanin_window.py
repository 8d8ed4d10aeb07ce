"""`$PROMSOC_FANIN_WINDOW` (how long a grouped question waits for the others) and the fan-in's
summary that `promsoc serve` logs when it stops."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from promsoc.prom.fanin import WINDOW
from promsoc.prom.settings import Source
from promsoc.prom.sources import WINDOW_ENV, Sources, fanin_window

ROOT = Path(__file__).resolve().parents[2]


def test_the_window_is_the_default_unless_set_to_seconds() -> None:
    assert fanin_window({}) == WINDOW == fanin_window({WINDOW_ENV: "  "})
    assert fanin_window({WINDOW_ENV: "600"}) == 600.0
    assert fanin_window({WINDOW_ENV: "0"}) == 0.0
    for bad in ("abc", "-1", "3601", "nan", "inf"):
        with pytest.raises(ValueError, match=r"\$PROMSOC_FANIN_WINDOW: expected seconds from 0 to 3600"):
            fanin_window({WINDOW_ENV: bad})


def test_grouped_sources_wait_the_window_set_and_say_what_their_fan_in_did(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WINDOW_ENV, "42")
    members = [Source(name=f"c{i}", url="http://127.0.0.1:9", selector=f'cluster="c{i}"') for i in (1, 2)]
    grouped, alone = Sources(members), Sources(members[:1])
    try:
        assert [fanin.window for fanin in grouped.groups] == [42.0]
        assert grouped.fanin_summary() == ("fan-in: 0 merged requests answered 0 questions; batches went: "
                                           "asked 0, said 0, window 0; still waiting 0")  # fmt: skip
        assert alone.fanin_summary() is None  # no group: nothing to say
    finally:
        asyncio.run(grouped.aclose())
        asyncio.run(alone.aclose())


@pytest.mark.parametrize("command", ["scan", "serve"])
def test_a_bad_window_exits_2_naming_it_without_a_traceback(command: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), WINDOW_ENV: "soon\x1b[31m"}
    proc = subprocess.run(
        [sys.executable, "-m", "promsoc", command, "--url", "http://127.0.0.1:9", *(["--ssh", "127.0.0.1:0"]
         if command == "serve" else [])], capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "$PROMSOC_FANIN_WINDOW: expected seconds from 0 to 3600" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "\x1b" not in proc.stderr
