"""Concurrent awaits that never leave an orphan behind.

`asyncio.gather` returns the first failure at once and lets the others run on: when the command
then closes its client and `asyncio.run` ends, a sibling that failed meanwhile is reported as an
"unhandled exception during asyncio.run() shutdown", a traceback on the user's terminal. Here the
first failure cancels the siblings and waits for them before it is raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar, overload

T = TypeVar("T")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")


@overload
async def gather_all(a: Awaitable[T1], b: Awaitable[T2], /) -> tuple[T1, T2]: ...
@overload
async def gather_all(a: Awaitable[T1], b: Awaitable[T2], c: Awaitable[T3], /) -> tuple[T1, T2, T3]: ...
@overload
async def gather_all(*aws: Awaitable[T]) -> tuple[T, ...]: ...


async def gather_all(*aws: Awaitable[Any]) -> Any:
    """Every result in order (a tuple), or the first failure once no sibling is left running."""
    tasks = [asyncio.ensure_future(aw) for aw in aws]
    try:
        return tuple(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
