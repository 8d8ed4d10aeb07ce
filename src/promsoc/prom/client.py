"""Async client for one Prometheus-compatible source: pooled connections, a concurrency cap, typed errors.

Keep one `PromClient` per source for the life of the poller (its connection pools and TLS
sessions are reused across cycles) and close it with `aclose()` or `async with`.

    async with PromClient(Source(name="lab", url="http://127.0.0.1:9090")) as prom:
        result = await prom.query('up')            # InstantResult
        for sample in result.samples: ...
    # every failure is a PromError subclass: Unreachable, Timeout, AuthRefused,
    # BadQuery, ServerError, MalformedResponse; str(err) is one line, free of secrets.

The source's `selector` is added to every vector selector of every query, its `params`
to every request. Retries (exponential backoff with jitter) happen only for connect
errors and HTTP 502/503/504, never for 4xx or timeouts.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from promsoc.prom.connection import RETRY_STATUSES, Connection
from promsoc.prom.errors import BadQuery, PromError
from promsoc.prom.fanin import FanIn, together
from promsoc.prom.parse import instant_result, instant_sample, range_result, range_series, string_list, success_data
from promsoc.prom.selector import SelectorError, inject_matchers
from promsoc.prom.settings import Source, source_from_url
from promsoc.prom.stream import Convert
from promsoc.prom.transport import form_encode
from promsoc.prom.types import InstantResult, RangeResult
from promsoc.times import TimeError, parse_duration

log = logging.getLogger("promsoc.prom")

POST_OVER = 1500
"""Encoded parameters longer than this go in a form-encoded POST body (URL limits of proxies)."""
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _number(value: float | str) -> str:
    return value if isinstance(value, str) else repr(float(value))


class PromClient:
    """One source's HTTP API client: see the module docstring for use and error kinds."""

    def __init__(
        self,
        source: Source,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 2,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        post_over: int = POST_OVER,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_response_bytes: int | None = None,
    ) -> None:
        self.source = source
        self.name = source.name
        self.post_over = post_over
        self._http = Connection(
            source, transport=transport, retries=retries, backoff=backoff, max_backoff=max_backoff, sleep=sleep,
            max_response_bytes=max_response_bytes,
        )  # fmt: skip
        self.max_response_bytes = self._http.max_response_bytes
        self.host = self._http.host
        self._semaphore = asyncio.Semaphore(source.max_concurrency)
        self.fanin: FanIn | None = None
        """The group of sources on the same server this one is asked with (`prom.fanin`), if any."""

    @classmethod
    def from_url(cls, url: str, name: str | None = None, **kwargs: Any) -> PromClient:
        """A no-auth client for `url` (tests, the lab, `--url`); ValueError if it is not http(s)."""
        return cls(source_from_url(url, name), **kwargs)

    def __repr__(self) -> str:
        return f"PromClient(name={self.name!r}, host={self.host!r})"

    async def __aenter__(self) -> PromClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._http.aclose()

    def scope(self, promql: str, selector: str | None = None) -> str:
        """`promql` with the source's selector (or `selector`) injected (unchanged if empty)."""
        chosen = self.source.selector if selector is None else selector
        if not chosen:
            return promql
        try:
            return inject_matchers(promql, chosen)
        except SelectorError as exc:
            raise BadQuery(f"cannot scope the query to {chosen}: {exc}", source=self.name) from None

    async def query(
        self, promql: str, at: float | None = None, *, max_series: int | None = None, selector: str | None = None
    ) -> InstantResult:
        """Instant query at `at` (Unix seconds; None: the server's now); at most `max_series`
        samples are kept (the result's `omitted` counts the rest). Within `asking_together()`,
        a source of a group is answered by the group's one request (`prom.fanin`). `selector`
        scopes this one query instead of the source's own selector (the alerts view's rule,
        `alerts.SourceRule`, is wider than it); such a query is asked alone."""
        if selector is None and self.fanin is not None and at is not None and together():
            return await self.fanin.query(self, promql, at, max_series, lambda: self._query(promql, at, max_series))
        return await self._query(promql, at, max_series, selector)

    async def _query(
        self, promql: str, at: float | None, max_series: int | None, selector: str | None = None
    ) -> InstantResult:
        params = [("query", self.scope(promql, selector))]
        if at is not None:
            params.append(("time", _number(at)))
        data, warnings = await self._call("/api/v1/query", params, instant_sample, max_series)
        return instant_result(data, warnings, self._malformed, max_series)

    async def query_range(
        self, promql: str, start: float, end: float, step: float | str, *, max_series: int | None = None
    ) -> RangeResult:
        """Range query from `start` to `end` (Unix seconds), `step` in seconds or as `30s`; at
        most `max_series` series are kept (the result's `omitted` counts the rest); see `query`
        for the sources asked together."""
        if self.fanin is not None and together():
            alone = lambda: self._query_range(promql, start, end, step, max_series)  # noqa: E731
            return await self.fanin.query_range(self, promql, (start, end, step), max_series, alone)
        return await self._query_range(promql, start, end, step, max_series)

    async def _query_range(
        self, promql: str, start: float, end: float, step: float | str, max_series: int | None
    ) -> RangeResult:
        params = [
            ("query", self.scope(promql)),
            ("start", _number(start)),
            ("end", _number(end)),
            ("step", _number(step)),
        ]
        data, warnings = await self._call("/api/v1/query_range", params, range_series, max_series)
        return range_result(data, warnings, self._malformed, max_series)

    async def series(
        self, match: str | Sequence[str], start: float | None = None, end: float | None = None
    ) -> list[dict[str, str]]:
        """Label sets of the series matching any of `match` between `start` and `end`."""
        matches = [match] if isinstance(match, str) else list(match)
        params = [("match[]", self.scope(m)) for m in matches]
        params += self._range_params(start, end)
        data, _ = await self._call("/api/v1/series", params)
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise self._malformed("series: expected a list of label sets")
        return [{str(k): str(v) for k, v in item.items()} for item in data]

    async def labels(self, match: Sequence[str] = ()) -> list[str]:
        """Label names (within the source's selector, if it has one)."""
        data, _ = await self._call("/api/v1/labels", self._match_params(match))
        return string_list(data, self._malformed)

    async def label_values(self, name: str, match: Sequence[str] = ()) -> list[str]:
        """Values of label `name` (within the source's selector, if it has one)."""
        if not _LABEL_NAME.match(name):
            raise BadQuery(f"{name!r} is not a label name", source=self.name)
        path = f"/api/v1/label/{quote(name)}/values"
        data, _ = await self._call(path, self._match_params(match))
        return string_list(data, self._malformed)

    async def buildinfo(self) -> dict[str, str]:
        """The server's version, revision, Go version... (`/api/v1/status/buildinfo`)."""
        data, _ = await self._call("/api/v1/status/buildinfo", [])
        if not isinstance(data, dict):
            raise self._malformed("buildinfo: expected an object")
        return {str(k): str(v) for k, v in data.items()}

    async def retention(self) -> float | None:
        """How far back the server keeps samples, in seconds, from its runtime info
        (`storageRetention`: `15d`, `15d or 10GiB`); None when it does not say (a size-only
        retention, Thanos, Mimir, a proxy that hides the status API) or cannot be asked."""
        try:
            data, _ = await self._call("/api/v1/status/runtimeinfo", [])
        except PromError:
            return None
        words = str(data.get("storageRetention", "")).split() if isinstance(data, dict) else []
        for word in words:
            try:
                return parse_duration(word) or None
            except TimeError:
                continue
        return None

    def _match_params(self, match: Sequence[str]) -> list[tuple[str, str]]:
        if match:
            return [("match[]", self.scope(m)) for m in match]
        if self.source.selector:
            return [("match[]", "{" + self.source.selector + "}")]
        return []

    @staticmethod
    def _range_params(start: float | None, end: float | None) -> list[tuple[str, str]]:
        params = []
        if start is not None:
            params.append(("start", _number(start)))
        if end is not None:
            params.append(("end", _number(end)))
        return params

    def _malformed(self, detail: str) -> PromError:
        return self._http.malformed(detail)

    async def _call(
        self, path: str, params: list[tuple[str, str]], convert: Convert | None = None, limit: int | None = None
    ) -> tuple[Any, list[str]]:
        """One API call under the concurrency cap, with retries: the envelope's (data, warnings);
        a big answer's `data.result` is read one series at a time by `convert` (`prom.stream`)."""
        encoded = form_encode([*params, *self.source.params.items()])
        async with self._semaphore:
            if len(encoded) > self.post_over:
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                answer = await self._http.request("POST", path, content=encoded.encode(), headers=headers)
            else:
                answer = await self._http.request("GET", f"{path}?{encoded}" if encoded else path)
        return success_data(*answer, self._http.redact, self.host, self.name, convert=convert, limit=limit)


__all__ = ["POST_OVER", "RETRY_STATUSES", "PromClient"]
