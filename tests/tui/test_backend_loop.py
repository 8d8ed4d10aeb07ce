"""The backend's loop ends with nothing left to fail unobserved, and loop errors never reach the terminal.

A query still in flight when the console ended (SIGHUP during a poll) once left a failed future
behind; when the garbage collector found it, asyncio wrote "Future exception was never retrieved"
and a traceback onto the terminal, between Textual's last frame and its leaving the alternate screen.
"""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from promsoc.tui.backend_loop import PAUSED_THRESHOLD, BackendLoop, collection_paused, quiet_loop_errors


async def test_closing_cancels_and_awaits_the_work_still_in_flight(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    backend = BackendLoop()
    ended: list[str] = []
    started = asyncio.Event()
    ui_loop = asyncio.get_running_loop()

    async def fails_soon() -> None:
        await asyncio.sleep(0.01)
        raise ValueError("resultType 'vector', expected matrix")

    async def slow() -> None:
        try:
            # running now: a task cancelled before its first step has no `finally` to run
            ui_loop.call_soon_threadsafe(started.set)
            await asyncio.sleep(60)
        finally:
            ended.append("slow")

    async def query() -> None:  # as _ranges does: a gather whose siblings outlive a failure
        try:
            await asyncio.gather(fails_soon(), slow())
        finally:
            ended.append("query")

    waiting = asyncio.create_task(backend.run(query()))
    await started.wait()
    waiting.cancel()  # the UI side gives up (the console ends) ...
    await backend.aclose()  # ... and the backend closes with the work still running there
    assert sorted(ended) == ["query", "slow"]  # both ran their `finally`: cancelled and awaited
    assert backend.loop.is_closed()
    await asyncio.gather(waiting, return_exceptions=True)
    del waiting
    gc.collect()
    leftovers = [r.getMessage() for r in caplog.records if r.name in ("asyncio", "promsoc.backend")]
    leftovers = [m for m in leftovers if not m.startswith("Using selector")]
    assert leftovers == []  # no "Task was destroyed but it is pending", no "never retrieved"


def test_a_loop_error_goes_to_the_debug_log_not_the_terminal(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    gc.collect()  # another test's garbage is not this one's report
    caplog.set_level(logging.DEBUG, logger="promsoc.backend")
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(quiet_loop_errors)
    try:
        future = loop.create_future()
        future.set_exception(RuntimeError("\x1b]52;c;aGk=\x07boom"))
        del future
        gc.collect()
    finally:
        loop.close()
    out, err = capfd.readouterr()
    assert "Traceback" not in err and "boom" not in err and out == ""
    reported = [r for r in caplog.records if r.name == "promsoc.backend"]
    assert len(reported) == 1 and "never retrieved" in reported[0].getMessage()
    assert reported[0].levelno == logging.DEBUG


async def test_a_poll_defers_collection_until_the_last_overlapping_one_ends() -> None:
    before = gc.get_threshold()
    gate = asyncio.Event()
    seen: list[tuple[int, int, int]] = []

    async def poll(wait: bool) -> None:
        with collection_paused():
            seen.append(gc.get_threshold())
            if wait:
                await gate.wait()
            seen.append(gc.get_threshold())

    first = asyncio.create_task(poll(True))
    await asyncio.sleep(0)
    await poll(False)  # overlaps the first, ends before it
    assert gc.get_threshold()[0] == PAUSED_THRESHOLD  # the first still runs
    gate.set()
    await first
    assert gc.get_threshold() == before and gc.isenabled()
    assert seen and all(t == (PAUSED_THRESHOLD, *before[1:]) for t in seen)
    with pytest.raises(ValueError), collection_paused():
        raise ValueError("a failing poll")
    assert gc.get_threshold() == before
