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
import concurrent.futures
import contextlib
import gc
import logging
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
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


PAUSED_THRESHOLD = 200_000
"""Young objects (net of those freed) before a collection while a poll runs; 700 otherwise."""
_paused: list[tuple[int, int, int]] = []


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """Garbage collection deferred while the block runs (nested and concurrent blocks count).

    A poll holds 5,000 samples per answer for a moment. Collected meanwhile (every 700 new
    objects), they were promoted to the oldest generation, and each cycle paid one or two full
    collections of 50-80 ms: a C call the UI thread waited on (issue 15). Deferred, they die
    young (freed by their reference counts) and the next collection sees only what was kept.
    Not disabled: past PAUSED_THRESHOLD young objects it collects anyway, so a poll that runs
    for minutes cannot pile up garbage without bound.
    """
    if not _paused:
        _paused.append(gc.get_threshold())
        gc.set_threshold(PAUSED_THRESHOLD, *_paused[0][1:])
    else:
        _paused.append(_paused[0])
    try:
        yield
    finally:
        saved = _paused.pop()
        if not _paused:
            gc.set_threshold(*saved)


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
        return await asyncio.wrap_future(self.submit(coro))

    def call(self, callback: Callable[..., object], *args: Any) -> None:
        """Run `callback(*args)` on this loop soon, from any thread, in order with `submit`'s
        coroutines (nothing when the loop is closed)."""
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(callback, *args)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start `coro` here now, from any thread (no event loop needed: the console's first scan
        starts before Textual is imported); cancelling the future cancels the coroutine."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

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

    def close(self) -> None:
        """`aclose` for a caller outside any event loop (a console that never started)."""
        if self.loop.is_running():
            done = self.submit(_cancel_the_rest())
            with contextlib.suppress(concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
                done.result(CLOSE_GRACE)
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


__all__ = ["PAUSED_THRESHOLD", "SWITCH_INTERVAL", "BackendLoop", "collection_paused", "quiet_loop_errors"]
