"""One viewer's console: the same ConsoleApp a local promsoc runs, on a remote terminal.

A served viewer may look at everything and move their own time cursor, but writes nothing on the
server: the hand-off note and Textual's SVG screenshot are refused with a notice.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from textual.app import SystemCommand
from textual.filter import Monochrome
from textual.screen import Screen

from promsoc.serve.terminal import Terminal, TerminalDriver
from promsoc.tui.app import ConsoleApp
from promsoc.tui.backend import Backend

NOT_HERE = "not available to a served viewer: it would write on the server"
CRASHED = "promsoc: this console stopped on an internal error (the server's log has it); reconnect for a new one.\r\n"


@dataclass(frozen=True)
class ViewerTerminal:
    """What a viewer's terminal says about itself (SSH: the pty request; web: a browser)."""

    term: str = "xterm-256color"
    colorterm: str = ""
    no_color: bool = False


def color_system(viewer: ViewerTerminal) -> str:
    """The richest colours the viewer's terminal claims: truecolor, 256 or the 16 standard ones."""
    if viewer.colorterm.lower() in ("truecolor", "24bit") or viewer.term.endswith("-direct"):
        return "truecolor"
    if "256color" in viewer.term:
        return "256"
    return "standard"


class ServedConsole(ConsoleApp):
    """The console on a `Terminal` (SSH channel or browser) instead of the process's own tty."""

    OWNS_LOOP = False  # the server's loop: its errors belong to the server's log

    def __init__(self, terminal: Terminal, backend: Backend, *, viewer: ViewerTerminal, **options: Any) -> None:
        super().__init__(backend, **options)
        self.terminal = terminal
        self.driver_class = TerminalDriver
        # Colours follow the viewer's terminal, not the server's environment.
        self.console = Console(
            color_system=color_system(viewer),  # type: ignore[arg-type]
            file=self.console.file,
            markup=True,
            highlight=False,
            emoji=False,
            legacy_windows=False,
            force_terminal=True,
            safe_box=False,
            soft_wrap=False,
            width=terminal.size[0],
            height=terminal.size[1],
        )
        if viewer.no_color and not self.no_color:
            self.no_color = True
            self._filters.append(Monochrome())

    def action_handoff(self) -> None:
        self.notify(f"Hand-off is {NOT_HERE}.", severity="warning", markup=False)

    def deliver_screenshot(self, *args: Any, **kwargs: Any) -> str | None:
        self.notify(f"Screenshots are {NOT_HERE}.", severity="warning", markup=False)
        return None

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title not in ("Screenshot", "Hand-off"):
                yield command


_live: dict[ServedConsole, asyncio.Future[None]] = {}  # running consoles -> resolved when each ends


async def run_console(app: ServedConsole) -> int:
    """Run one viewer's console to its end (the viewer pressed q, or hung up); 0, or 1 when the
    console failed (Textual has written the traceback to the server's stderr, never to the viewer)."""
    ended = _live[app] = asyncio.get_running_loop().create_future()
    try:
        await app.run_async(mouse=True)
    finally:
        del _live[app]
        ended.set_result(None)
        # Each console redirects sys.stdout/stderr while it runs and restores what it found, so
        # consoles ending out of order would leave a finished one's capture in place.
        if not _live:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    return app.return_code or 0


async def end_all(within: float = 10.0) -> int:
    """The server is stopping: every console ends as if its viewer had pressed q (their workers and
    threads finish while the loop still runs). Returns how many were running."""
    running = dict(_live)
    for app in running:
        app.exit()
    if running:
        await asyncio.wait(running.values(), timeout=within)
    return len(running)
