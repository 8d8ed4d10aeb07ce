"""The console in a real pseudo-terminal, for the tests that need one (signals, crashes)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from collections.abc import Callable, Mapping
from pathlib import Path

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


def console_in_pty(
    argv: list[str],
    act: Callable[[int, int], object],
    environment: Mapping[str, str] | None = None,
    drawn: bytes = b"LIVE",
) -> tuple[bytes, int, int]:
    """Run `argv` (a promsoc console) on a 100x30 pty; once it is drawn and `drawn` (LIVE) is in
    what it wrote, `act(pid, fd)`, then read until it ends. Returns what it wrote, where `act`
    began in it, and its wait status."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: a 100x30 terminal, then the console (never back into pytest)
        try:
            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
            os.execve(argv[0], argv, dict(environment or env()))  # noqa: S606
        finally:
            os._exit(127)
    output = bytearray()
    try:
        assert read_until(fd, output, ALT_ON, 30), bytes(output[-500:])
        assert read_until(fd, output, drawn, 30), bytes(output[-500:])
        started = len(output)
        act(pid, fd)
        drain(fd, output, 15)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
    return bytes(output), started, status
