"""A failed concurrent query cancels its siblings instead of orphaning them (no shutdown traceback)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from promsoc.tasks import gather_all


class Boom(Exception):
    pass


async def _fail_after(delay: float, what: str) -> str:
    await asyncio.sleep(delay)
    raise Boom(what)


async def _value_after(delay: float, value: int) -> int:
    await asyncio.sleep(delay)
    return value


def _run_collecting_orphans(main: Any) -> list[dict[str, Any]]:
    """asyncio.run, with the loop's 'unhandled exception' reports collected instead of printed."""
    reported: list[dict[str, Any]] = []

    async def wrapper() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: reported.append(ctx))
        with contextlib.suppress(Boom):
            await main()

    asyncio.run(wrapper())
    return reported


async def _converts_its_cancellation(what: str) -> str:
    """Like a client that turns a connection torn down mid-request into its own error."""
    try:
        await asyncio.sleep(5)
    except asyncio.CancelledError:
        raise Boom(what) from None
    return what


@pytest.mark.parametrize("gather", ["asyncio", "gather_all"])
def test_a_sibling_failing_at_shutdown_is_never_an_orphan(gather: str) -> None:
    async def main() -> None:
        first, second = _fail_after(0.01, "first"), _converts_its_cancellation("second")
        if gather == "asyncio":
            await asyncio.gather(first, second)
        else:
            await gather_all(first, second)

    reported = _run_collecting_orphans(main)
    if gather == "asyncio":
        # what the topology command did: asyncio.run cancels the orphan at shutdown, it fails,
        # and the loop prints 'unhandled exception during asyncio.run() shutdown' with a traceback
        assert any("asyncio.run() shutdown" in str(ctx.get("message")) for ctx in reported)
    else:
        assert reported == []


async def test_results_come_back_in_order_and_the_first_failure_is_raised() -> None:
    assert await gather_all(_value_after(0.02, 1), _value_after(0.01, 2)) == (1, 2)
    slow = asyncio.ensure_future(_value_after(5, 3))
    with pytest.raises(Boom, match="first"):
        await gather_all(_fail_after(0.01, "first"), slow)
    assert slow.cancelled()
