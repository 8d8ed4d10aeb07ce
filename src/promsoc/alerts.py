"""Alertmanager's alerts and silences shaped for people: grouped by alert name, one state word each,
the silence behind a silenced alert, and what was firing at a past moment (Prometheus's `ALERTS`).

The console and `promsoc alerts` both show an `AlertsBoard`; neither reads API JSON or builds PromQL.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from promsoc.prom.alertmanager import Alert, Matcher, NewSilence, Silence
from promsoc.prom.group_plan import Unsplittable, unquote
from promsoc.prom.selector import SelectorError, matcher_list
from promsoc.prom.types import InstantResult
from promsoc.promql import alerts as alerts_promql
from promsoc.text import one_line

# Alertmanager's severities are free text; these ranks order the common spellings.
_RANK = {"critical": 0, "page": 0, "high": 1, "error": 1, "warning": 2, "medium": 2, "low": 3, "info": 4}
# The state words a person reads: glyph + word, never colour alone.
STATE_GLYPH = {
    "active": "▲",
    "silenced": "◌",
    "inhibited": "◇",
    "unprocessed": "…",
    "firing": "▲",
    "pending": "△",
}
DETECTOR_LABEL = "detector"
"""The label `promsoc rules export` puts on every alert: the detector it came from."""
HIDDEN_LABELS = ("alertname", "severity", "alertstate", "__name__", "mitre_attack", "category")
"""Shown elsewhere (name, severity, state) or the same on every alert of a detector."""
_DETECTOR_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class SilenceNote:
    """Who silenced an alert, why, and until when."""

    id: str
    created_by: str
    comment: str
    ends_at: float


@dataclass(frozen=True)
class AlertRow:
    """One alert as shown: its labels, a state word and, when silenced, the silence's words."""

    name: str
    severity: str
    state: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: float | None = None
    silences: tuple[SilenceNote, ...] = ()
    inhibited_by: tuple[str, ...] = ()

    @property
    def detector(self) -> str | None:
        """The promsoc detector behind this alert, when it came from `promsoc rules export`."""
        value = self.labels.get(DETECTOR_LABEL, "")
        return value if _DETECTOR_ID.match(value) else None

    @property
    def summary(self) -> str:
        return self.annotations.get("summary") or self.annotations.get("description") or ""

    def shown_labels(self) -> dict[str, str]:
        """The labels that tell alerts of one name apart (name and severity are shown already)."""
        return {k: v for k, v in self.labels.items() if k not in HIDDEN_LABELS}


@dataclass(frozen=True)
class AlertGroup:
    """The alerts of one alert name, worst severity first."""

    name: str
    severity: str
    rows: tuple[AlertRow, ...]

    @property
    def common(self) -> dict[str, str]:
        """Labels every alert of the group shares (shown once, on the group's line)."""
        first = self.rows[0].shown_labels() if self.rows else {}
        return {k: v for k, v in first.items() if all(r.labels.get(k) == v for r in self.rows[1:])}

    def varying(self, row: AlertRow) -> dict[str, str]:
        """The labels that tell this alert apart from the rest of its group."""
        common = self.common if len(self.rows) > 1 else {}
        return {k: v for k, v in row.shown_labels().items() if k not in common}

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row.state] = out.get(row.state, 0) + 1
        return out


@dataclass(frozen=True)
class AlertsBoard:
    """What is paging: groups of alerts, the silences, and whether this is Alertmanager's live view."""

    groups: tuple[AlertGroup, ...]
    silences: tuple[Silence, ...] = ()
    live: bool = True
    at: float | None = None
    note: str = ""
    unanswered: tuple[str, ...] = ()
    """At a past moment: `name: reason` of each Prometheus of the board that did not answer."""

    @property
    def rows(self) -> list[AlertRow]:
        return [row for group in self.groups for row in group.rows]

    @property
    def active(self) -> int:
        """Alerts paging now: active and neither silenced nor inhibited (firing, at a past moment)."""
        return sum(row.state in ("active", "firing") for row in self.rows)


def age(seconds: float) -> str:
    """`45s`, `12m`, `3h`, `2d`: how long an alert has been going, in one short word."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def severity_rank(severity: str) -> int:
    return _RANK.get(severity.lower(), 5)


def row_state(alert: Alert) -> str:
    """Alertmanager's `suppressed` split into the reason a person needs: silenced or inhibited."""
    if alert.state == "suppressed":
        return "silenced" if alert.silenced_by else "inhibited"
    return alert.state


def group_rows(rows: Iterable[AlertRow]) -> tuple[AlertGroup, ...]:
    """Rows grouped by alert name; groups by worst severity then name, rows by state then start."""
    by_name: dict[str, list[AlertRow]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    state_order = {"active": 0, "firing": 0, "pending": 1, "unprocessed": 1, "inhibited": 2, "silenced": 3}
    groups = []
    for name, members in by_name.items():
        members.sort(key=lambda r: (state_order.get(r.state, 4), severity_rank(r.severity), r.starts_at or 0.0,
                                    sorted(r.labels.items())))
        worst = min((r.severity for r in members), key=severity_rank)
        groups.append(AlertGroup(name, worst, tuple(members)))
    groups.sort(key=lambda g: (severity_rank(g.severity), g.name))
    return tuple(groups)


def live_silences(silences: Iterable[Silence]) -> tuple[Silence, ...]:
    """Active and pending silences, the soonest to end first (expired ones are history)."""
    return tuple(sorted((s for s in silences if s.state != "expired"), key=lambda s: (s.ends_at, s.id)))


def board(alerts: Sequence[Alert], silences: Sequence[Silence]) -> AlertsBoard:
    """Alertmanager's live alerts and silences as a board."""
    by_id = {s.id: s for s in silences}
    rows = []
    for alert in alerts:
        notes = tuple(
            SilenceNote(sid, by_id[sid].created_by, by_id[sid].comment, by_id[sid].ends_at)
            for sid in alert.silenced_by
            if sid in by_id
        )
        rows.append(
            AlertRow(
                name=alert.labels.get("alertname", "(no alertname)"),
                severity=alert.labels.get("severity", ""),
                state=row_state(alert),
                labels=dict(alert.labels),
                annotations=dict(alert.annotations),
                starts_at=alert.starts_at,
                silences=notes,
                inhibited_by=alert.inhibited_by,
            )
        )
    return AlertsBoard(group_rows(rows), live_silences(silences))


class SourceRule:
    """Which alerts belong to a source whose selector is `selector` (`cluster="a"`): the one rule
    of the live board (Alertmanager's alerts, `of_source`), the past one (Prometheus's `ALERTS`,
    `board_at`) and `promsoc alerts --source`. One Alertmanager shared by sources of one
    Prometheus (clusters of a Thanos/Mimir, rules exported `--by cluster`) shows each source the
    alerts whose labels match its selector. An alert without a label the selector names (a rule
    not split by it, another Prometheus's alert) says nothing against it: every source keeps it;
    a label with the empty value is a missing one, as in Prometheus. A selector that cannot be
    read here filters nothing."""

    def __init__(self, selector: str) -> None:
        # `key` is equal for selectors that keep the same alerts however they are written
        try:
            wanted = [(name, op, unquote(value)) for name, op, value in matcher_list(selector)] if selector else []
            self._tests = [(name, op, value if op in ("=", "!=") else re.compile(value)) for name, op, value in wanted]
            self.key = repr(sorted(wanted))
        except (SelectorError, Unsplittable, re.error):
            wanted, self._tests, self.key = [], [], "unreadable " + selector
        self.promql = alerts_promql.of_source(wanted)
        """The matchers that ask `ALERTS` for these alerts (and, for a `!~` matching the empty
        value, some more that `keeps` drops): `promql.alerts.of_source`."""

    def keeps(self, labels: Mapping[str, str]) -> bool:
        return all(_matches(labels, *test) for test in self._tests)


def of_source(alerts: Sequence[Alert], selector: str) -> list[Alert]:
    """The alerts of a source whose selector is `selector`, by `SourceRule`."""
    rule = SourceRule(selector)
    return [alert for alert in alerts if rule.keeps(alert.labels)]


def _matches(labels: Mapping[str, str], name: str, op: str, value: str | re.Pattern[str]) -> bool:
    have = labels.get(name, "")
    if not have:
        return True
    if isinstance(value, str):
        return (have == value) == (op == "=")
    return (value.fullmatch(have) is not None) == (op == "=~")


# -- the past: Prometheus's own record of its alerting rules ---------------------------------------

PAST_NOTE = (
    "as of a past moment: what Prometheus's rules were firing then (ALERTS); Alertmanager keeps no "
    "history, so silences and inhibitions are live-only"
)


def _key(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k not in ("__name__", "alertstate")))


class PastClient(Protocol):
    """A Prometheus client that can ask one query through another selector than its source's
    (`prom.client.PromClient` is one)."""

    async def query(self, promql: str, at: float | None = None, *, selector: str | None = None) -> InstantResult: ...


async def board_at(proms: Mapping[str, PastClient], at: float, selector: str | None = None) -> AlertsBoard:
    """What Prometheus's alerting rules had firing (or pending) at `at`, with when each began: the
    alerts of every Prometheus of `proms` (sources sharing one board: an alert two of them hold,
    HA replicas, shows once). With `selector` (the sources'), the alerts of that selector by the
    live board's rule (`SourceRule`: asked with its wider matchers instead of each client's own
    selector, then kept by its test); without, all that each client's selector sees. A server
    that does not answer is named in `unanswered`; when none answers, its error is raised."""
    rule = SourceRule(selector) if selector is not None else None
    answers = await asyncio.gather(*(_past_rows(prom, at, rule) for prom in proms.values()), return_exceptions=True)
    rows: dict[tuple[tuple[str, str], ...], AlertRow] = {}
    failed: list[str] = []
    for name, answer in zip(proms, answers, strict=True):
        if isinstance(answer, BaseException):
            if not isinstance(answer, Exception):
                raise answer
            failed.append(f"{name}: {one_line(answer, 120)}")
            continue
        for row in answer:
            rows[_key(row.labels)] = _merged(rows.get(_key(row.labels)), row)
    if failed and len(failed) == len(answers):
        raise next(a for a in answers if isinstance(a, BaseException))
    return AlertsBoard(group_rows(rows.values()), (), live=False, at=at, note=PAST_NOTE, unanswered=tuple(failed))


async def _past_rows(prom: PastClient, at: float, rule: SourceRule | None) -> list[AlertRow]:
    wider = {} if rule is None else {"selector": rule.promql}
    fired, since = await asyncio.gather(
        prom.query(alerts_promql.FIRING, at, **wider), prom.query(alerts_promql.ACTIVE_SINCE, at, **wider)
    )
    began = {_key(s.labels): s.value for s in since.samples}
    rows = []
    for sample in fired.samples:
        labels = {k: v for k, v in sample.labels.items() if k != "__name__"}
        state = labels.pop("alertstate", "firing")
        if rule is not None and not rule.keeps(labels):
            continue
        rows.append(
            AlertRow(
                name=labels.get("alertname", "(no alertname)"),
                severity=labels.get("severity", ""),
                state=state if state in ("firing", "pending") else "firing",
                labels=labels,
                starts_at=began.get(_key(labels)),
            )
        )
    return rows


def _merged(known: AlertRow | None, row: AlertRow) -> AlertRow:
    """One alert held by two servers: firing if either fires, since the earlier start."""
    if known is None:
        return row
    starts = [t for t in (known.starts_at, row.starts_at) if t is not None]
    firing = "firing" if "firing" in (known.state, row.state) else known.state
    return replace(known, state=firing, starts_at=min(starts) if starts else None)


# -- silences made by a person -------------------------------------------------------------------

SILENCE_SKIP = ("alertstate", "__name__")


def silence_for(
    row: AlertRow, *, author: str, comment: str, duration: float, now: float, names: Sequence[str] | None = None
) -> NewSilence:
    """A silence matching `row` exactly on its labels (or only `names` of them) for `duration` seconds."""
    chosen = [k for k in row.labels if k not in SILENCE_SKIP and (names is None or k in names)]
    if not chosen:
        raise ValueError("a silence needs at least one matcher")
    if duration <= 0:
        raise ValueError("a silence needs a positive duration")
    if not comment.strip():
        raise ValueError("a silence needs a comment (why)")
    return NewSilence(
        tuple(Matcher(k, row.labels[k]) for k in chosen), now, now + duration, author, comment.strip()
    )


def matchers_text(matchers: Iterable[Matcher]) -> str:
    """`{alertname="X", pod=~"web-.*"}`, as Alertmanager's own UI writes a silence's matchers."""
    return "{" + ", ".join(f"{m.name}{m.operator}{_quoted(m.value)}" for m in matchers) + "}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


__all__ = [
    "PAST_NOTE",
    "STATE_GLYPH",
    "AlertGroup",
    "AlertRow",
    "AlertsBoard",
    "PastClient",
    "Silence",
    "SilenceNote",
    "SourceRule",
    "age",
    "board",
    "board_at",
    "group_rows",
    "live_silences",
    "matchers_text",
    "of_source",
    "row_state",
    "severity_rank",
    "silence_for",
]
