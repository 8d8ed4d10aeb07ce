"""The console in a real pseudo-terminal: SIGTERM and SIGHUP leave the terminal usable, and the
console refuses to start without a terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.integration.hostile_server import answering, vector

SRC = str(Path(__file__).resolve().parents[2] / "src")
ALT_ON, ALT_OFF = b"\x1b[?1049h", b"\x1b[?1049l"
MOUSE_ON, MOUSE_OFF = b"\x1b[?1000h", b"\x1b[?1000l"
CURSOR_SHOWN = b"\x1b[?25h"


def env() -> dict[str, str]:
    out = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": SRC}
    for name in ("PROMSOC_CONFIG", "PROMSOC_DEBUG", "NO_COLOR"):
        out.pop(name, None)
    return out


def read_until(fd: int, output: bytearray, wanted: bytes, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while wanted not in output and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                return wanted in output
            if not chunk:
                break
            output += chunk
    return wanted in output


def drain(fd: int, output: bytearray, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            output += chunk


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_console_with_the_terminal_restored(signum: int) -> None:
    with answering(vector()) as url:
        pid, fd = pty.fork()
        if pid == 0:  # the child: a 100x30 terminal, then the console (never back into pytest)
            try:
                fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
                argv = [sys.executable, "-m", "promsoc", "tui", "--url", url]
                os.execve(sys.executable, argv, env())  # noqa: S606
            finally:
                os._exit(127)
        output = bytearray()
        try:
            assert read_until(fd, output, ALT_ON, 30), bytes(output[-500:])
            assert read_until(fd, output, b"LIVE", 30), bytes(output[-500:])
            started = len(output)
            os.kill(pid, signum)
            drain(fd, output, 15)
            _, status = os.waitpid(pid, 0)
        finally:
            os.close(fd)
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
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
