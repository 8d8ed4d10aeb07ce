"""What the members of a group said their poll cycle will ask: a question waits only for them.

Fan-in alone cannot know who will ask a question it has never seen: it waits for every active
member, up to its window. A poll cycle knows better. When it begins, a member's cycle says so
(`expect(member, moment, None)`); once its scan is done it names the kinds of questions it will
still ask at that moment (`expect(member, moment, kinds)`: "the sparkline of detector X, last
fetched at L"; members that name the same kind ask the same questions) and, as it finishes each
kind, says so (`done`). The questions themselves carry their cycle's moment and kind
(`asking_as`). A question then waits only for the members that have not said what they will ask
(a scan under way, a caller that never says: `promsoc scan`) and for those that named its kind
and have not finished it; a member that has said asks no more questions of its scan (kind None).

A scan may have parts that only some members ask in a cycle (`Part`: the detectors on the pod ->
workload join, which each source evaluates every 2 minutes at its own phase, `detectors.cadence`).
A member says which parts its scan asks as the scan begins (`parts`); a question of a part waits
only for the members that said they ask it (and those that have not said yet), not for those
that asked it last time: which members ask a part changes from one cycle to the next. A member
whose scan's own questions are over while a part still runs says so (`done` with kind None): until
the part is over, other questions of its cycle (the others' sparklines) do not wait for it.

Saying that its cycle begins also makes a member one that questions of that moment wait for,
even when it has not been answered together with the others lately (`fanin.ACTIVE_FOR`): the
served hub's pollers (serve/live.py) begin when a viewer comes, maybe hours after the group was
made, and without it no member was active, so every question went alone at once, never merged.
Otherwise saying only removes members from those waited for, and no wait is longer than the
window.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Collection, Hashable, Iterator
from dataclasses import dataclass
from typing import Any

MOMENTS = 16
"""Cycles (moments) whose members' plans are kept, the oldest said forgotten first."""

Tag = tuple[float, Hashable]
"""A question's cycle (its moment) and kind (None: the cycle's scan)."""


@dataclass(frozen=True)
class Part:
    """A kind of question of a scan that only some members ask in a cycle (said by `parts`)."""

    name: str


_ASKING: contextvars.ContextVar[Tag | None] = contextvars.ContextVar("promsoc_asking_as", default=None)


@contextlib.contextmanager
def asking_as(moment: float, kind: Hashable = None) -> Iterator[None]:
    """Within it, questions are of `kind` (None: the scan), in the poll cycle at `moment`."""
    token = _ASKING.set((moment, kind))
    try:
        yield
    finally:
        _ASKING.reset(token)


def asked_as() -> Tag | None:
    """The cycle and kind of the questions asked here (None: not in a cycle that says)."""
    return _ASKING.get()


class Plans:
    """Per cycle (moment), what each member said it will still ask."""

    def __init__(self, keep: int = MOMENTS) -> None:
        self.keep = keep
        self._by_moment: dict[float, dict[str, set[Hashable] | None]] = {}  # None: began, not said
        self._parts: dict[float, dict[str, set[Part]]] = {}  # moment -> member -> the parts its scan asks
        self._scanned: dict[float, set[str]] = {}  # moment -> members past their scan's own questions

    def expect(self, member: str, moment: float, kinds: Collection[Hashable] | None) -> None:
        """`member`'s cycle at `moment` begins (None: what it will ask is not known yet), or
        will ask no more than questions of these kinds. A member beginning another cycle at a
        moment it has already said about (a time cursor held still) begins a new asking of that
        moment: what every member said about it is forgotten."""
        plans = self._by_moment.get(moment)
        if kinds is None and plans is not None and plans.get(member) is not None:
            del self._by_moment[moment]
            self._parts.pop(moment, None)
            self._scanned.pop(moment, None)
            plans = None
        if plans is None:
            plans = self._by_moment[moment] = {}
            self._trim(self._by_moment)
        plans[member] = None if kinds is None else set(kinds)

    def asking(self, moment: float) -> set[str]:
        """The members whose cycle at `moment` said it began (and what it will ask, if it has)."""
        return set(self._by_moment.get(moment, ()))

    def parts(self, member: str, moment: float, parts: Collection[Part]) -> None:
        """`member`'s scan at `moment` asks questions of these parts, and of no other part."""
        said = self._parts.get(moment)
        if said is None:
            said = self._parts[moment] = {}
            self._trim(self._parts)
        said[member] = set(parts)

    def _trim(self, kept: dict[float, Any]) -> None:
        while len(kept) > self.keep:
            del kept[next(iter(kept))]

    def done(self, member: str, moment: float, kind: Hashable) -> None:
        """`member` has asked every question of `kind` it had to ask at `moment` (None: its
        scan's own, while a part of it still runs: what it asks until its parts are over too is
        not waited for)."""
        if kind is None and self._parts.get(moment, {}).get(member):  # a part of its scan still runs
            self._scanned.setdefault(moment, set()).add(member)
            self._trim(self._scanned)
        for kept in (self._by_moment, self._parts):
            plan = kept.get(moment, {}).get(member)
            if plan is not None:
                plan.discard(kind)
        if isinstance(kind, Part) and not self._parts.get(moment, {}).get(member):  # its whole scan is over
            self._scanned.get(moment, set()).discard(member)

    def waits_for(self, member: str, tag: Tag) -> bool:
        """Whether a question of `tag` (its moment and kind) should wait for `member`."""
        moment, kind = tag
        plan = self._by_moment.get(moment, {}).get(member)
        if isinstance(kind, Part):  # a part of the scan: asked by those that said so
            said = self._parts.get(moment, {}).get(member)
            return plan is None and (said is None or kind in said)
        if plan is None:  # its scan under way (past its own questions, only a part: not waited for)
            return member not in self._scanned.get(moment, ())
        return kind is not None and kind in plan


__all__ = ["MOMENTS", "Part", "Plans", "Tag", "asked_as", "asking_as"]
