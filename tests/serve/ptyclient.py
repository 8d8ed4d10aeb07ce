"""A real terminal client for the tests: a program (OpenSSH's `ssh -tt`) in a pseudo-terminal.

What the program prints is fed to pyte, a VT100 emulator, so a test reads the screen as a person
would see it. Resizing sets the pty's window size and sends SIGWINCH, as a terminal emulator does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Sequence

import pyte


def _set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class PtyClient:
    def __init__(self, argv: Sequence[str], cols: int = 120, rows: int = 40) -> None:
        self.master, slave = pty.openpty()
        _set_size(slave, cols, rows)
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.emulate = True  # feed pyte (the benchmark turns it off once connected, to read raw bytes)
        self._lock = threading.Lock()
        env = {**os.environ, "TERM": "xterm-256color"}
        self.proc = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave, stderr=slave, start_new_session=True, env=env, close_fds=True
        )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.raw.extend(data)
                if self.emulate:
                    self.stream.feed(data)

    @property
    def text(self) -> str:
        with self._lock:
            return "\n".join(self.screen.display)

    def lines(self) -> list[str]:
        with self._lock:
            return list(self.screen.display)

    def wait_for(self, *needles: str, timeout: float = 30.0) -> str:
        """The screen once every needle is on it at the same moment (not a frame drawn halfway)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text
            if all(needle in text for needle in needles):
                return text
            if self.proc.poll() is not None:
                time.sleep(0.2)
                text = self.text
                if all(needle in text for needle in needles):
                    return text
                break
            time.sleep(0.1)
        raise AssertionError(f"{needles!r} not all on screen after {timeout}s; screen:\n{self.text}\nraw tail: "
                             f"{bytes(self.raw[-400:])!r}")  # fmt: skip

    def wait_until(self, predicate: object, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                lines = list(self.screen.display)
            if callable(predicate) and predicate(lines):
                return "\n".join(lines)
            time.sleep(0.1)
        raise AssertionError(f"condition not met after {timeout}s; screen:\n{self.text}")

    def send(self, keys: str | bytes) -> None:
        os.write(self.master, keys if isinstance(keys, bytes) else keys.encode())

    def resize(self, cols: int, rows: int) -> None:
        with self._lock:
            self.screen.resize(rows, cols)
        _set_size(self.master, cols, rows)
        self.proc.send_signal(signal.SIGWINCH)

    def wait_exit(self, timeout: float = 15.0) -> int:
        """The program's exit status, once it ended and everything it wrote has been read: the
        reader thread may not yet have taken its last bytes from the pty when the process is reaped."""
        status = self.proc.wait(timeout)
        self._reader.join(5)  # it ends at EOF (EIO): nothing holds the terminal's other side any more
        return status

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self._reader.join(2)
