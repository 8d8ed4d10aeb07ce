"""Async client for Alertmanager's API v2: alerts with their silenced/inhibited state, silences,
and, through a separate `SilenceWriter` made only where writing is allowed, creating and
expiring silences.

    async with AlertmanagerClient(settings.alertmanager.connection) as am:
        alerts = await am.alerts()       # list[Alert]
        silences = await am.silences()   # list[Silence]

It connects exactly as a Prometheus source does (same `Connection`: auth, TLS, timeouts,
retries, typed redacted errors). Nothing here knows about detectors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import httpx

from promsoc.prom.connection import Connection
from promsoc.prom.errors import BadQuery, PromError, Rejected
from promsoc.times import format_rfc3339

if TYPE_CHECKING:
    from promsoc.prom.settings import Source

T = TypeVar("T")
API = "/api/v2"
ALERT_STATES = ("active", "suppressed", "unprocessed")
SILENCE_STATES = ("active", "pending", "expired")


@dataclass(frozen=True)
class Matcher:
    """One silence matcher: `name="value"`, `name=~"regex"`, `name!="value"` or `name!~"regex"`."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    @property
    def operator(self) -> str:
        return ("=~" if self.is_regex else "=") if self.is_equal else ("!~" if self.is_regex else "!=")


@dataclass(frozen=True)
class Alert:
    """One alert as Alertmanager holds it; `state` is `active`, `suppressed` or `unprocessed`."""

    labels: dict[str, str]
    annotations: dict[str, str]
    state: str
    starts_at: float
    ends_at: float | None = None
    silenced_by: tuple[str, ...] = ()
    inhibited_by: tuple[str, ...] = ()
    fingerprint: str = ""
    receivers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Silence:
    """One silence; `state` is `active`, `pending` (starts later) or `expired`."""

    id: str
    matchers: tuple[Matcher, ...]
    created_by: str
    comment: str
    starts_at: float
    ends_at: float
    state: str


@dataclass(frozen=True)
class NewSilence:
    """What a new silence says: its matchers, its window, who made it and why."""

    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    created_by: str
    comment: str
    extra: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "matchers": [
                {"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}
                for m in self.matchers
            ],
            "startsAt": rfc3339(self.starts_at),
            "endsAt": rfc3339(self.ends_at),
            "createdBy": self.created_by,
            "comment": self.comment,
        }


def rfc3339(stamp: float) -> str:
    """Unix seconds -> RFC 3339 UTC with milliseconds, as Alertmanager writes it."""
    return format_rfc3339(stamp, millis=True)


def _stamp(value: Any) -> float:
    if not isinstance(value, str):
        raise TypeError(f"time {value!r} is not a string")
    return datetime.fromisoformat(value).timestamp()


def _strings(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"{what} is not an object")
    return {str(k): str(v) for k, v in value.items()}


def _ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise TypeError("expected a list of ids")
    return tuple(str(item) for item in value)


def parse_alert(item: Any) -> Alert:
    """One element of `GET /api/v2/alerts` -> Alert (raises TypeError/KeyError/ValueError)."""
    status = item["status"]
    state = str(status["state"])
    ends = item.get("endsAt")
    return Alert(
        labels=_strings(item.get("labels"), "labels"),
        annotations=_strings(item.get("annotations"), "annotations"),
        state=state if state in ALERT_STATES else "unprocessed",
        starts_at=_stamp(item["startsAt"]),
        ends_at=_stamp(ends) if ends else None,
        silenced_by=_ids(status.get("silencedBy")),
        inhibited_by=_ids(status.get("inhibitedBy")),
        fingerprint=str(item.get("fingerprint", "")),
        receivers=tuple(str(r.get("name", "")) for r in item.get("receivers") or [] if isinstance(r, dict)),
    )


def parse_silence(item: Any) -> Silence:
    """One element of `GET /api/v2/silences` -> Silence."""
    matchers = tuple(
        Matcher(str(m["name"]), str(m["value"]), bool(m.get("isRegex", False)), bool(m.get("isEqual", True)))
        for m in item["matchers"]
    )
    return Silence(
        id=str(item["id"]),
        matchers=matchers,
        created_by=str(item.get("createdBy", "")),
        comment=str(item.get("comment", "")),
        starts_at=_stamp(item["startsAt"]),
        ends_at=_stamp(item["endsAt"]),
        state=str(item["status"]["state"]),
    )


class AlertmanagerClient:
    """One Alertmanager's API v2; every failure is a PromError with a one-line reason."""

    def __init__(self, source: Source, *, transport: httpx.AsyncBaseTransport | None = None, retries: int = 2) -> None:
        self.source = source
        self.name = source.name
        self._http = Connection(source, transport=transport, retries=retries, root_hint="the Alertmanager root")
        self.host = self._http.host
        self.url = source.display_url

    def __repr__(self) -> str:
        return f"AlertmanagerClient(name={self.name!r}, host={self.host!r})"

    async def __aenter__(self) -> AlertmanagerClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def alerts(self) -> list[Alert]:
        """Every alert Alertmanager holds: active, silenced, inhibited and unprocessed."""
        data = await self._get_json("/alerts")
        return self._list(data, parse_alert, "alerts")

    async def silences(self) -> list[Silence]:
        """Every silence Alertmanager remembers, expired ones included."""
        data = await self._get_json("/silences")
        return self._list(data, parse_silence, "silences")

    async def version(self) -> str:
        """Alertmanager's version (`/api/v2/status`), to say what answered."""
        data = await self._get_json("/status")
        info = data.get("versionInfo") if isinstance(data, dict) else None
        return str(info.get("version", "?")) if isinstance(info, dict) else "?"

    def _error(self, response: httpx.Response, body: bytes) -> PromError:
        """A 400 is Alertmanager refusing what was asked (a bad silence, an unknown id)."""
        error = self._http.http_error(response, body)
        if isinstance(error, BadQuery):
            return Rejected(f"{self.host} refused: {error.detail}", source=self.name, status=error.status)
        return error

    async def _get_json(self, path: str) -> Any:
        return self._json(*await self._http.request("GET", API + path))

    def _json(self, response: httpx.Response, body: bytes) -> Any:
        if not 200 <= response.status_code < 300:
            raise self._error(response, body)
        try:
            return json.loads(body)
        except RecursionError:
            raise self._http.malformed("JSON nested too deeply") from None
        except ValueError as exc:
            raise self._http.malformed(f"invalid JSON: {exc}") from None

    def _list(self, data: Any, parse: Callable[[Any], T], what: str) -> list[T]:
        if not isinstance(data, list):
            raise self._http.malformed(f"{what}: expected a list")
        try:
            return [parse(item) for item in data]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._http.malformed(f"{what}: unexpected item ({str(exc)[:80]})") from None


class SilenceWriter:
    """The one way to change an Alertmanager: create and expire silences (nothing else writes).

    Made on purpose from a read client by code that checked it is allowed to write.
    """

    def __init__(self, client: AlertmanagerClient) -> None:
        self._client = client
        self.url = client.url

    async def create_silence(self, silence: NewSilence) -> str:
        """POST a new silence (never retried: a lost answer must not make two); its id."""
        body = json.dumps(silence.body()).encode()
        answer = await self._client._http.request(
            "POST", f"{API}/silences", content=body, headers={"Content-Type": "application/json"}, retry=False
        )
        data = self._client._json(*answer)
        if not isinstance(data, dict) or not isinstance(data.get("silenceID"), str):
            raise self._client._http.malformed("silences: no silenceID in the answer")
        return str(data["silenceID"])

    async def expire_silence(self, silence_id: str) -> None:
        """DELETE a silence: Alertmanager marks it expired from now on."""
        path = f"{API}/silence/{quote(silence_id, safe='')}"
        response, text = await self._client._http.request("DELETE", path, retry=False)
        if not 200 <= response.status_code < 300:
            raise self._client._error(response, text)


def matchers_for(labels: dict[str, str], names: Sequence[str] | None = None) -> tuple[Matcher, ...]:
    """Exact matchers for `labels` (or only for `names` of them), as a silence form prefills."""
    keys = [k for k in labels if names is None or k in names]
    return tuple(Matcher(k, labels[k]) for k in keys)


__all__ = [
    "Alert",
    "AlertmanagerClient",
    "Matcher",
    "NewSilence",
    "Silence",
    "SilenceWriter",
    "matchers_for",
    "parse_alert",
    "parse_silence",
    "rfc3339",
]
