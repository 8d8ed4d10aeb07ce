"""Sources that share a Prometheus, asked once: one request answers every source of a group.

Twenty sources on one Thanos/Mimir/Prometheus that differ only by the value of one label in
their selector (`cluster="cluster-1"` ... `cluster="cluster-20"`, other matchers alike) ask
twenty times the same questions. `groups(sources)` finds such sources (same URL, auth, headers,
TLS, timeout, refresh, params and limits; `coalesce: false` leaves a source out); their clients
then share a `FanIn`. While `asking_together()` is on (a poll cycle, a scan), a `query` or
`query_range` of a member waits briefly (until every member expected to ask the same question at
the same moment has asked it, or `WINDOW` s) and the group asks once: the query rewritten by
`prom.group_by` so that the label survives, injected with `cluster=~"v1|v2|..."` and the shared
matchers, its answer split by the label's value to each member (the label dropped where the
member's own query would not have kept it). A member's answer is exactly its own query's:

Expected are the members that asked the question (the same query; for a range, the same step
and length) the last time it was asked, at another moment: the sparklines of the tiles in view
are asked by their sources alone, every refresh, and do not wait for the members that never ask
them; a question asked by one member only is asked alone at once. Until a question has been
asked once, every member recently answered together with others is expected. A poll cycle that
says what it will ask (`expect`, `done`, `fanin_plans.asking_as`: the console's) narrows that
down: a question of its scan no longer waits for members whose scan is over, and one of a kind
("the sparkline of X, last fetched at L") only for the members that said they will ask that kind
and have not finished it, so a question never asked before (a hidden sparkline's first refresh)
goes as soon as they have asked. No member waits longer than it would for all of them.

- a query `group_by` cannot prove splittable, a question only one member asked, a part over
  the member's `max_series`, a series without the label (or with another value): asked alone;
- the merged query refused (`bad query`), too large, or past the timeout: every member asks
  alone, and that query is asked apart from then on;
- any other failure (unreachable, refused credentials, a server error): each member fails with
  the same kind of error, under its own source name.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import copy
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from promsoc.prom.errors import BadQuery, PromError, ResponseTooLarge, Timeout
from promsoc.prom.fanin_plans import Part, Plans, Tag, asked_as
from promsoc.prom.group_by import SplitPlan, plan_for
from promsoc.prom.group_plan import unquote
from promsoc.prom.selector import SelectorError, inject_matchers, matcher_list
from promsoc.prom.types import InstantResult, RangeResult, RangeSeries, Sample

if TYPE_CHECKING:
    from promsoc.prom.client import PromClient
    from promsoc.prom.settings import Source

WINDOW = 0.3
"""Seconds a question waits for the other members of its group to ask it too."""
ACTIVE_FOR = 120.0
"""A member not answered together with others for this long (and three refreshes) is not waited
for: its questions do not meet the others' (a console that polls it at other moments)."""
GRACE = 10.0
"""Seconds after the group is made during which every member is waited for (the first questions)."""
REMEMBERED = 4096
"""Questions whose last askers are kept (the oldest asked forgotten first)."""
_REGEX_SPECIAL = frozenset("\\.+*?()|[]{}^$")

_TOGETHER: contextvars.ContextVar[bool] = contextvars.ContextVar("promsoc_asking_together", default=False)


@contextlib.contextmanager
def asking_together() -> Iterator[None]:
    """Within it (a poll cycle, a scan of every source), grouped sources' questions are merged;
    outside it (a chart, a timeline one source asks for) each member asks alone at once."""
    token = _TOGETHER.set(True)
    try:
        yield
    finally:
        _TOGETHER.reset(token)


def together() -> bool:
    return _TOGETHER.get()


def regex_quote(value: str) -> str:
    """`value` as an RE2 regex matching only itself (Go's regexp.QuoteMeta)."""
    return "".join("\\" + char if char in _REGEX_SPECIAL else char for char in value)


@dataclass(frozen=True)
class Group:
    """Sources asked together: the label that tells them apart, each member's value, the other
    matchers they share."""

    label: str
    values: dict[str, str]  # source name -> its value of the label
    shared: str  # the other matchers, as `a="x",b=~"y"`

    def selector(self, names: Iterable[str]) -> str:
        """The matchers for these members' merged query."""
        wanted = sorted({self.values[name] for name in names})
        pattern = "|".join(regex_quote(value) for value in wanted)
        own = f"{self.label}=~{json.dumps(pattern, ensure_ascii=False)}"
        return f"{own},{self.shared}" if self.shared else own


def _transport(source: Source) -> tuple[Any, ...]:
    return (source.url, source.auth, tuple(sorted(source.headers.items())), source.tls, source.timeout,
            source.refresh, tuple(sorted(source.params.items())), source.max_concurrency,
            source.max_response_bytes)  # fmt: skip


def groups(sources: Iterable[Source]) -> list[Group]:
    """Sources that can be asked together (two or more each), in configuration order."""
    candidates: dict[tuple[Any, ...], dict[str, str]] = {}
    options: dict[str, list[tuple[Any, ...]]] = {}
    for source in sources:
        if not source.selector or not source.coalesce:
            continue
        try:
            matchers = matcher_list(source.selector)
        except SelectorError:
            continue
        texts = [f"{name}{op}{value}" for name, op, value in matchers]
        for index, (name, op, value) in enumerate(matchers):
            if op != "=" or [n for n, _, _ in matchers].count(name) > 1:
                continue
            try:
                unquoted = unquote(value)
            except ValueError:
                continue
            shared = ",".join(sorted(texts[:index] + texts[index + 1 :]))
            key = (_transport(source), name, shared)
            candidates.setdefault(key, {})[source.name] = unquoted
            options.setdefault(source.name, []).append(key)
    found: list[Group] = []
    taken: set[str] = set()
    for key in sorted(candidates, key=lambda k: -len(candidates[k])):  # the biggest groups first
        members = {n: v for n, v in candidates[key].items() if n not in taken}
        if len(members) > 1:
            taken.update(members)
            found.append(Group(key[1], members, key[2]))
    return found


Send = Callable[[str], Awaitable[InstantResult | RangeResult]]
Alone = Callable[[], Awaitable[Any]]


@dataclass
class _Batch:
    plan: SplitPlan
    future: asyncio.Future[Any]
    send: Send
    tag: Tag | None  # the poll cycle and kind of question its first asker said (`fanin_plans`)
    members: dict[str, PromClient] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    sent: bool = False


@dataclass
class _Round:
    """One asking of one question, at one moment: who has asked it."""

    key: tuple[Any, ...]
    began: float  # the clock's time of its first asker
    asked: set[str] = field(default_factory=set)


def question(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A batch's key without its moment: the query (a range: with its step and length)."""
    if key[0] != "range":
        return key[:2]
    _, promql, start, end, step = key
    return ("range", promql, step, round(end - start, 3))


@dataclass
class _Parts:
    """A merged answer split: each value's samples or series."""

    answer: InstantResult | RangeResult
    by_value: dict[str, list[Any]]


class FanIn:
    """The shared asking of one `Group`'s clients (see the module docstring)."""

    def __init__(self, group: Group, client: PromClient, *, window: float = WINDOW, refresh: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.group = group
        self.client = client  # no selector: it sends the merged queries
        self.window = window
        self.active_for = max(ACTIVE_FOR, 3 * refresh)
        self.clock = clock
        self.merged = 0  # requests that answered several members
        self.answered = 0  # members' questions answered by them
        self._joined = dict.fromkeys(group.values, clock() - self.active_for + GRACE)
        self.waiting: dict[tuple[Any, ...], _Batch] = {}  # batches waiting for members (none after a cycle)
        self._apart: set[str] = set()
        self._rounds: dict[tuple[Any, ...], _Round] = {}  # question -> its latest asking
        self._expected: dict[tuple[Any, ...], frozenset[str]] = {}  # question -> who asked it last time
        self._plans = Plans()  # what the members' poll cycles said they will ask
        self.went: Counter[str] = Counter()
        """Why batches went: "asked" (every expected member has asked), "said" (the last one
        expected said it will not ask: `expect`, `done`), "window"."""
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def label(self) -> str:
        return self.group.label

    async def query(self, member: PromClient, promql: str, at: float | None, max_series: int | None,
                    alone: Alone) -> InstantResult:  # fmt: skip
        async def send(merged: str) -> InstantResult:
            return await self.client.query(merged, at)

        found = await self._ask(member, ("query", promql, at), promql, send, max_series)
        return found if isinstance(found, InstantResult) else await alone()

    async def query_range(self, member: PromClient, promql: str, span: tuple[float, float, float | str],
                          max_series: int | None, alone: Alone) -> RangeResult:  # fmt: skip
        async def send(merged: str) -> RangeResult:
            return await self.client.query_range(merged, *span)

        found = await self._ask(member, ("range", promql, *span), promql, send, max_series)
        return found if isinstance(found, RangeResult) else await alone()

    async def _ask(self, member: PromClient, key: tuple[Any, ...], promql: str, send: Send,
                   max_series: int | None) -> InstantResult | RangeResult | None:  # fmt: skip
        """The member's answer from a merged request, or None: it asks alone."""
        plan = plan_for(promql, self.label)
        name = member.name
        if isinstance(plan, str) or promql in self._apart or name not in self.group.values:
            return None
        asked = self._asked(key, name)
        batch = self.waiting.get(key)
        if batch is None or name in batch.members:
            loop = asyncio.get_running_loop()
            batch = self.waiting[key] = _Batch(plan, loop.create_future(), send, asked_as())
            batch.timer = loop.call_later(self.window, self._flush, key, batch, "window")
        batch.members[name] = member
        if not self._awaited(key, batch.tag) - asked:
            self._flush(key, batch, "asked")
        outcome = await asyncio.shield(batch.future)
        if isinstance(outcome, PromError):
            clone = copy.copy(outcome)
            clone.source = name
            raise clone
        if outcome is None:
            return None
        part = outcome.by_value.get(self.group.values[name], [])
        answer = outcome.answer
        if max_series is not None and len(part) > max_series:
            return None
        self.answered += 1
        if isinstance(answer, InstantResult):
            return InstantResult(answer.result_type, part, list(answer.warnings))
        return RangeResult(part, list(answer.warnings))

    def _awaited(self, key: tuple[Any, ...], tag: Tag | None) -> set[str]:
        """The members a question waits for: the active ones (answered together lately, or
        whose cycle at its moment said it began) that asked it last time (every active one when
        it never was, or when it is of a scan's `Part`: who asks one changes from cycle to
        cycle), less those whose cycle said it will not ask it."""
        now = self.clock()
        active = {n for n, joined in self._joined.items() if now - joined < self.active_for}
        if tag is not None:
            active |= self._plans.asking(tag[0]) & set(self._joined)
        part = tag is not None and isinstance(tag[1], Part)
        expected = None if part else self._expected.get(question(key))
        awaited = active if expected is None else active & expected
        return awaited if tag is None else {n for n in awaited if self._plans.waits_for(n, tag)}

    def expect(self, member: str, moment: float, kinds: Collection[Hashable] | None) -> None:
        """What `member`'s poll cycle at `moment` will ask (`fanin_plans.Plans.expect`); a
        question that now waits for nobody goes."""
        self._plans.expect(member, moment, kinds)
        if kinds is not None:
            self._recheck()

    def parts(self, member: str, moment: float, parts: Collection[Part]) -> None:
        """The parts `member`'s scan at `moment` asks (`fanin_plans.Plans.parts`), said as it
        begins; a question that now waits for nobody goes."""
        self._plans.parts(member, moment, parts)
        self._recheck()

    def done(self, member: str, moment: float, kind: Hashable) -> None:
        """`member` has asked every question of `kind` of its cycle at `moment`."""
        self._plans.done(member, moment, kind)
        self._recheck()

    def _recheck(self) -> None:
        for key, batch in list(self.waiting.items()):
            last = self._rounds.get(question(key))
            asked = last.asked if last is not None and last.key == key else set(batch.members)
            if not self._awaited(key, batch.tag) - asked:
                self._flush(key, batch, "said")

    def _asked(self, key: tuple[Any, ...], name: str) -> set[str]:
        """Note that `name` asks the question of `key`; who has asked it at this moment. The
        last asking's askers become the question's expected ones when it is asked at another
        moment, or at the same one again (a cursor held still) after the window."""
        asked_about = question(key)
        last = self._rounds.get(asked_about)
        now = self.clock()
        if last is None or last.key != key or (name in last.asked and now - last.began >= self.window):
            if last is not None:
                self._remember(self._expected, asked_about, frozenset(last.asked))
            last = _Round(key, now)
            self._remember(self._rounds, asked_about, last)
        last.asked.add(name)
        return last.asked

    @staticmethod
    def _remember(kept: dict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> None:
        kept.pop(key, None)
        kept[key] = value
        while len(kept) > REMEMBERED:
            del kept[next(iter(kept))]

    def _flush(self, key: tuple[Any, ...], batch: _Batch, reason: str) -> None:
        if self.waiting.get(key) is batch:
            del self.waiting[key]
        if batch.timer is not None:
            batch.timer.cancel()
            batch.timer = None
        if batch.future.done() or batch.sent:
            return
        batch.sent = True
        self.went[reason] += 1
        if len(batch.members) < 2:
            batch.future.set_result(None)
            return
        now = self.clock()
        for name in batch.members:
            self._joined[name] = now
        task = asyncio.get_running_loop().create_task(self._send(batch, key[1]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: _Batch, promql: str) -> None:
        try:
            merged = inject_matchers(batch.plan.promql, self.group.selector(batch.members))
            answer = await batch.send(merged)
        except (BadQuery, ResponseTooLarge, Timeout, SelectorError):
            self._apart.add(promql)  # asked together it failed where alone it may not: alone
            batch.future.set_result(None)
        except PromError as exc:
            batch.future.set_result(exc)
        except asyncio.CancelledError:
            batch.future.cancel()
            raise
        except Exception as exc:  # a bug: every member sees it, as it would its own
            batch.future.set_exception(exc)
        else:
            parts = self._split(batch.plan, answer)
            if parts is None:
                self._apart.add(promql)
            else:
                self.merged += 1
            batch.future.set_result(parts)

    def _split(self, plan: SplitPlan, answer: InstantResult | RangeResult) -> _Parts | None:
        """The answer's series by the label's value (the label dropped where the members' own
        queries drop it); None when a series has no such value (the members ask alone)."""
        label, values = self.label, set(self.group.values.values())
        parts: dict[str, Any] = {}
        items: list[Sample] | list[RangeSeries]
        items = answer.samples if isinstance(answer, InstantResult) else answer.series
        if isinstance(answer, InstantResult) and answer.result_type not in ("vector", "matrix"):
            return None
        for item in items:
            value = item.labels.get(label)
            keep = plan.keep(item.labels)
            if value is None or value not in values or keep is None:
                return None
            if not keep:
                labels = {k: v for k, v in item.labels.items() if k != label}
                item = replace(item, labels=labels)
            parts.setdefault(value, []).append(item)
        return _Parts(answer, parts)

    async def aclose(self) -> None:
        for batch in self.waiting.values():
            if batch.timer is not None:
                batch.timer.cancel()
            if not batch.future.done():
                batch.future.cancel()
        self.waiting.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.aclose()


__all__ = ["ACTIVE_FOR", "GRACE", "WINDOW", "FanIn", "Group", "asking_together", "groups", "regex_quote", "together"]
