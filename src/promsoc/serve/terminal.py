"""A Textual driver for a remote terminal: text out through a callback, keys and resizes in through a queue.

One console runs per viewer inside the server's event loop. The SSH channel or the browser's
websocket is the terminal: whatever the console draws goes to `Terminal.write`, and whatever the
viewer types arrives through `Terminal.feed`. Input is parsed by a task the driver starts from the
console's own context, so every key is handled as the console's (Textual keeps "the active app"
in a context variable, and several consoles share this loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual import events
from textual._xterm_parser import XTermParser
from textual.driver import Driver
from textual.geometry import Size
from textual.message import Message

ESCAPE_WAIT = 0.1  # a lone Esc is a key once this long has passed without the rest of a sequence
MIN_SIZE, MAX_SIZE = 10, 1000  # cells; a client's nonsense window size is clamped into this


def clamp(width: int, height: int) -> tuple[int, int]:
    return (min(max(width, MIN_SIZE), MAX_SIZE), min(max(height, MIN_SIZE // 2), MAX_SIZE))


class Terminal:
    """The viewer's end: where output goes, its size, and the keys and resizes coming back."""

    def __init__(self, write: Callable[[str], None], width: int, height: int) -> None:
        self.write = write
        self.size = clamp(width, height)
        self.inbox: asyncio.Queue[str | tuple[int, int] | None] = asyncio.Queue()

    def feed(self, text: str) -> None:
        """Keys as the terminal sends them (escape sequences included)."""
        if text:
            self.inbox.put_nowait(text)

    def resize(self, width: int, height: int) -> None:
        self.size = clamp(width, height)
        self.inbox.put_nowait(self.size)

    def hang_up(self) -> None:
        """The viewer has gone: stop reading input (the session then ends the console)."""
        self.inbox.put_nowait(None)


class TerminalDriver(Driver):
    """Drives a console on a `Terminal` that the app carries as its `terminal` attribute."""

    def __init__(
        self, app: Any, *, debug: bool = False, mouse: bool = True, size: tuple[int, int] | None = None
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self.terminal: Terminal = app.terminal
        self._parser = XTermParser()
        self._reader: asyncio.Task[None] | None = None

    def write(self, data: str) -> None:
        self.terminal.write(data)

    def send_message(self, message: Message) -> None:
        """Input is parsed on the console's own loop and context: post directly."""
        self._app.post_message(message)

    def start_application_mode(self) -> None:
        for code in (
            "\x1b[?1049h",  # alternate screen
            "\x1b[?25l",  # hide the cursor
            "\x1b[?1004h",  # focus in/out reports
            "\x1b[?2004h",  # bracketed paste
            "\x1b[?7l",  # no line wrap
        ):
            self.write(code)
        if self._mouse:
            for code in ("\x1b[?1000h", "\x1b[?1003h", "\x1b[?1015h", "\x1b[?1006h"):
                self.write(code)
        self._post_size(self.terminal.size)
        # Started here, from the console's task: the reader inherits the console's context.
        self._reader = asyncio.get_running_loop().create_task(self._read_input(), name="promsoc terminal input")

    def _post_size(self, size: tuple[int, int]) -> None:
        textual_size = Size(*size)
        self._parser.terminal_size = size
        self.send_message(events.Resize(textual_size, textual_size))

    async def _read_input(self) -> None:
        inbox = self.terminal.inbox
        while True:
            pending = getattr(self._parser, "_timeout_time", None) is not None
            try:
                item = await asyncio.wait_for(inbox.get(), ESCAPE_WAIT) if pending else await inbox.get()
            except TimeoutError:
                for event in self._parser.tick():
                    self.process_message(event)
                continue
            if item is None:
                return
            if isinstance(item, tuple):
                self._post_size(item)
                continue
            for event in self._parser.feed(item):
                self.process_message(event)

    def disable_input(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None

    def stop_application_mode(self) -> None:
        self.disable_input()
        if self._mouse:
            for code in ("\x1b[?1000l", "\x1b[?1003l", "\x1b[?1015l", "\x1b[?1006l"):
                self.write(code)
        for code in ("\x1b[?2004l", "\x1b[?7h", "\x1b[?1004l", "\x1b[?1049l", "\x1b[?25h"):
            self.write(code)
