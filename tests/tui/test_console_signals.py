"""The console in a real pseudo-terminal: SIGTERM and SIGHUP leave the terminal usable, and the
console refuses to start without a terminal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.integration.hostile_server import answering, vector
from tests.tui.pty_console import ALT_OFF, CURSOR_SHOWN, MOUSE_OFF, MOUSE_ON, console_in_pty, env


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_console_with_the_terminal_restored(signum: int) -> None:
    with answering(vector()) as url:
        argv = [sys.executable, "-m", "promsoc", "tui", "--url", url]
        output, started, status = console_in_pty(argv, lambda pid, _fd: os.kill(pid, signum))
    assert MOUSE_ON in output[:started]
    tail = bytes(output[started:])
    for sequence in (ALT_OFF, MOUSE_OFF, CURSOR_SHOWN):
        assert sequence in tail, (sequence, tail[-300:])
    assert b"Traceback" not in tail
    assert os.WIFEXITED(status), f"killed by signal {os.WTERMSIG(status) if os.WIFSIGNALED(status) else '?'}"
    assert os.WEXITSTATUS(status) == 128 + signum


def test_the_console_refuses_to_start_without_a_terminal() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "promsoc", "tui", "--url", "http://127.0.0.1:9"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env(), timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "needs a terminal" in proc.stderr and "promsoc scan" in proc.stderr
    assert "Traceback" not in proc.stderr
