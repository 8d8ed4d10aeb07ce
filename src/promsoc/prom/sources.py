"""Many sources at once: one long-lived client per source, one coroutine per source per cycle.

    async with Sources(settings.sources) as pool:
        results = await pool.run(lambda prom: prom.query("up"))
        # {"prod-eu": InstantResult(...), "prod-us": Unreachable(...)}

A failing source never hides the others: its `PromError` is its entry in the result map.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import replace
from types import TracebackType
from typing import TypeVar

from promsoc.prom.client import PromClient
from promsoc.prom.errors import PromError
from promsoc.prom.fanin import WINDOW, FanIn, Group, groups
from promsoc.prom.settings import Source

T = TypeVar("T")

WINDOW_ENV = "PROMSOC_FANIN_WINDOW"
"""Seconds a grouped question waits for the other members (`fanin.WINDOW` when unset): made long,
a question that waits out the window shows (a diagnostic; tests/integration/test_serve_plans_lab)."""


def fanin_window(environ: dict[str, str] | None = None) -> float:
    """`$PROMSOC_FANIN_WINDOW` in seconds (0 to 3600), else `fanin.WINDOW`; ValueError names it."""
    text = (os.environ if environ is None else environ).get(WINDOW_ENV, "").strip()
    if not text:
        return WINDOW
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 3600.0:
        raise ValueError(f"${WINDOW_ENV}: expected seconds from 0 to 3600, got {text[:40]!r}")
    return value


def client_for(source: Source) -> PromClient:
    """The client for one configured source (keep it for the source's lifetime)."""
    return PromClient(source)


class Sources:
    """A client per source, kept across poll cycles; closes them all on exit."""

    def __init__(self, sources: Iterable[Source], factory: Callable[[Source], PromClient] = client_for) -> None:
        self._clients: dict[str, PromClient] = {}
        sources = list(sources)
        for source in sources:
            if source.name in self._clients:
                raise ValueError(f"duplicate source name {source.name!r}")
            self._clients[source.name] = factory(source)
        self.groups: list[FanIn] = []
        by_name = {source.name: source for source in sources}
        for group in groups(by_name.values()):
            self.groups.append(self._join(group, [by_name[name] for name in group.values], factory))

    def _join(self, group: Group, members: list[Source], factory: Callable[[Source], PromClient]) -> FanIn:
        """One client (no selector, room for every member's answer) asking for the group."""
        first = members[0]
        name = f"{first.name} and {len(members) - 1} more"
        room = min(1 << 30, sum(source.max_response_bytes for source in members))
        fanin = FanIn(group, factory(replace(first, name=name, selector="", max_response_bytes=room)),
                      refresh=first.refresh, window=fanin_window())  # fmt: skip
        for source in members:
            self._clients[source.name].fanin = fanin
        return fanin

    def together(self, name: str) -> list[str]:
        """The sources asked with `name` in one request (itself included; alone: just itself)."""
        fanin = self._clients[name].fanin if name in self._clients else None
        return list(fanin.group.values) if fanin is not None else [name]

    def fanin_summary(self) -> str | None:
        """What the groups' fan-in did (None: no group): merged requests, the questions they
        answered, and why batches went ("window": a question waited out `fanin.WINDOW`)."""
        if not self.groups:
            return None
        went = sum((fanin.went for fanin in self.groups), Counter[str]())
        why = ", ".join(f"{reason} {went[reason]}" for reason in ("asked", "said", "window"))
        merged, answered = sum(f.merged for f in self.groups), sum(f.answered for f in self.groups)
        waiting = sum(len(fanin.waiting) for fanin in self.groups)
        return (f"fan-in: {merged} merged requests answered {answered} questions; batches went: {why}; "
                f"still waiting {waiting}")  # fmt: skip

    @property
    def names(self) -> list[str]:
        """Source names in configuration order."""
        return list(self._clients)

    def __getitem__(self, name: str) -> PromClient:
        return self._clients[name]

    def __iter__(self) -> Iterator[PromClient]:
        return iter(self._clients.values())

    def __len__(self) -> int:
        return len(self._clients)

    async def run(self, work: Callable[[PromClient], Awaitable[T]]) -> dict[str, T | PromError]:
        """Run `work(client)` for every source concurrently; results (or PromErrors) by name.

        Only `PromError`s are caught: any other exception is a bug and propagates.
        """

        async def one(client: PromClient) -> T | PromError:
            try:
                return await work(client)
            except PromError as exc:
                return exc

        outcomes = await asyncio.gather(*(one(client) for client in self._clients.values()))
        return dict(zip(self._clients, outcomes, strict=True))

    async def aclose(self) -> None:
        """Close every client's connection pool."""
        await asyncio.gather(*(fanin.aclose() for fanin in self.groups))
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))

    async def __aenter__(self) -> Sources:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


__all__ = ["Sources", "client_for"]
