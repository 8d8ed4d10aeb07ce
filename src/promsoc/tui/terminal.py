"""The console and the terminal it owns: refuse a non-terminal, leave it usable on every ending.

Textual restores the terminal (alternate screen off, mouse tracking off, cursor shown, cooked
mode) when the app exits normally. SIGTERM and SIGHUP would kill the process without that, so
they ask the app to exit (status 128 + signal); if the event loop cannot get there within
GRACE seconds (a frozen loop), the terminal is restored directly and the process ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import termios
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the check for a terminal runs before Textual is imported (promsoc.cli.tui)
    from textual.app import App

GRACE = 3.0
EXIT_CRASH = 70
RESTORE = (
    b"\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1015l\x1b[?1006l"  # mouse tracking off
    b"\x1b[?2004l"  # bracketed paste off
    b"\x1b[?1049l"  # the alternate screen off
    b"\x1b[?25h"  # the cursor visible
)
SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class NotATerminal(Exception):
    """stdout is not a terminal: the console cannot draw there."""


def not_a_terminal() -> str | None:
    """The stream ("stdout", then "stdin") that is not a terminal, or None when both are."""
    for name, stream in (("stdout", sys.stdout), ("stdin", sys.stdin)):
        try:
            tty = stream is not None and os.isatty(stream.fileno())
        except (AttributeError, ValueError, OSError):
            tty = False
        if not tty:
            return name
    return None


def require_terminal() -> None:
    """NotATerminal unless stdin and stdout are terminals."""
    name = not_a_terminal()
    if name is not None:
        raise NotATerminal(
            f"the console needs a terminal, and {name} is not one; for a report in a pipe, "
            "a file or cron use `promsoc scan` (or `promsoc scan --format json`)"
        )


def exit_status(app: App[Any], result: Any) -> int:
    """The process status for an ended app: a crash (Textual's code 1) is 70, never 0."""
    code = app.return_code
    if code == 1:
        return EXIT_CRASH
    if code:
        return int(code)
    return int(result or 0)


def _force_restore(fd: int, saved: list[Any] | None, status: int) -> None:
    """The loop did not exit in time: restore the terminal by hand and end the process."""
    with contextlib.suppress(OSError):
        os.write(fd, RESTORE)
    if saved is not None:
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
    os._exit(status)


@contextlib.contextmanager
def restore_on_signals(app: App[Any]) -> Iterator[None]:
    """While the app runs, SIGTERM and SIGHUP end it through its normal exit (terminal restored)."""
    fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
    try:
        saved: list[Any] | None = termios.tcgetattr(fd)
    except (termios.error, OSError):
        saved = None

    def handler(signum: int, _frame: FrameType | None) -> None:
        status = 128 + signum
        # The handler runs on the main thread, inside the app's running loop (if it is running):
        # call_soon_threadsafe wakes its selector, which a plain call_soon would not.
        with contextlib.suppress(RuntimeError):  # not running yet, or winding down: the timer covers it
            asyncio.get_running_loop().call_soon_threadsafe(app.exit, None, status)
        timer = threading.Timer(GRACE, _force_restore, (fd, saved, status))
        timer.daemon = True
        timer.start()

    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


__all__ = ["EXIT_CRASH", "NotATerminal", "exit_status", "not_a_terminal", "require_terminal", "restore_on_signals"]
