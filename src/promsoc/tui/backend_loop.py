"""The backend's own event loop, in a daemon thread, and a quiet end for every loop the console owns.

A future that failed and was never awaited is reported by asyncio when it is collected:
"Future exception was never retrieved" and a traceback, written to stderr. In the console stderr
is the terminal Textual draws on, and collection happens at any moment (it was once seen between
Textual's last frame and its leaving the alternate screen, after SIGHUP ended the console while a
query was in flight). So the backend loop cancels and awaits everything it still runs before it
closes, and both loops report such leftovers to the debug log, never to the screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
SWITCH_INTERVAL = 0.001
"""Longest the UI thread waits for the interpreter while the backend thread computes."""
CLOSE_GRACE = 5.0
"""Seconds the backend's cancelled work has to finish before its thread is left behind."""

log = logging.getLogger("promsoc.backend")


def quiet_loop_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An event loop's exception handler: to the debug log, never to the terminal."""
    error = context.get("exception")
    log.debug("%s: %r", context.get("message", "event loop error"), error, exc_info=error)


class BackendLoop:
    """An event loop in a daemon thread: every Prometheus client of the backend lives on it.

    Parsing answers and judging findings is CPU work: with 5,000 series per answer a poll cycle
    costs the better part of a second of Python. On the UI's loop that froze the keys; here the
    UI thread gets the interpreter back within SWITCH_INTERVAL (the GIL's switch interval).
    Cancelling the awaiting task cancels the coroutine on this loop.
    """

    def __init__(self) -> None:
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(quiet_loop_errors)
        self._thread = threading.Thread(target=self.loop.run_forever, name="promsoc-backend", daemon=True)
        self._thread.start()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def cancel_pending(self) -> None:
        """Cancel and await what still runs here, so nothing is left to fail unobserved later."""
        if self.loop.is_running():
            done = asyncio.run_coroutine_threadsafe(_cancel_the_rest(), self.loop)
            # a frozen backend: its daemon thread is left behind, and the console still ends
            with contextlib.suppress(TimeoutError, RuntimeError):
                await asyncio.wait_for(asyncio.wrap_future(done), CLOSE_GRACE)

    async def aclose(self) -> None:
        await self.cancel_pending()
        self.stop()

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=CLOSE_GRACE)
        if not self.loop.is_running():
            self.loop.close()


async def _cancel_the_rest() -> None:
    me = asyncio.current_task()
    rest = [task for task in asyncio.all_tasks() if task is not me]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


__all__ = ["SWITCH_INTERVAL", "BackendLoop", "quiet_loop_errors"]
