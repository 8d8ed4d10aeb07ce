"""What the members of a group said their poll cycle will ask: a question waits only for them.

Fan-in alone cannot know who will ask a question it has never seen: it waits for every active
member, up to its window. A poll cycle knows better. When it begins, a member's cycle says so
(`expect(member, moment, None)`); once its scan is done it names the kinds of questions it will
still ask at that moment (`expect(member, moment, kinds)`: "the sparkline of detector X, last
fetched at L"; members that name the same kind ask the same questions) and, as it finishes each
kind, says so (`done`). The questions themselves carry their cycle's moment and kind
(`asking_as`). A question then waits only for the members that have not said what they will ask
(a scan under way, a caller that never says: `promsoc scan`, the served hub) and for those that
named its kind and have not finished it; a member that has said asks no more questions of its
scan (kind None). Saying only ever removes a member from those waited for: no member waits
longer than it would without it.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Collection, Hashable, Iterator

MOMENTS = 16
"""Cycles (moments) whose members' plans are kept, the oldest said forgotten first."""

Tag = tuple[float, Hashable]
"""A question's cycle (its moment) and kind (None: the cycle's scan)."""

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
        self._by_moment: dict[float, dict[str, set[Hashable]]] = {}

    def expect(self, member: str, moment: float, kinds: Collection[Hashable] | None) -> None:
        """`member`'s cycle at `moment` begins (None: what it will ask is not known yet), or
        will ask no more than questions of these kinds. A member beginning another cycle at a
        moment it has already said about (a time cursor held still) begins a new asking of that
        moment: what every member said about it is forgotten."""
        plans = self._by_moment.get(moment)
        if kinds is None:
            if plans is not None and member in plans:
                del self._by_moment[moment]
            return
        if plans is None:
            plans = self._by_moment[moment] = {}
            while len(self._by_moment) > self.keep:
                del self._by_moment[next(iter(self._by_moment))]
        plans[member] = set(kinds)

    def done(self, member: str, moment: float, kind: Hashable) -> None:
        """`member` has asked every question of `kind` it had to ask at `moment`."""
        plans = self._by_moment.get(moment)
        if plans is not None and member in plans:
            plans[member].discard(kind)

    def waits_for(self, member: str, tag: Tag) -> bool:
        """Whether a question of `tag` (its moment and kind) should wait for `member`."""
        moment, kind = tag
        plan = self._by_moment.get(moment, {}).get(member)
        return plan is None or (kind is not None and kind in plan)


__all__ = ["MOMENTS", "Plans", "Tag", "asked_as", "asking_as"]
