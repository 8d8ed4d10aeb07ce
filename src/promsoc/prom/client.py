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
import random
import re
import ssl
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import httpx

from promsoc import __version__
from promsoc.prom.body import ACCEPT_ENCODING, MAX_RESPONSE_BYTES, read_capped
from promsoc.prom.errors import (
    AuthRefused,
    BadQuery,
    MalformedResponse,
    PromError,
    Redactor,
    Timeout,
    Unreachable,
)
from promsoc.prom.parse import http_error, instant_result, range_result, string_list, success_data
from promsoc.prom.selector import SelectorError, inject_matchers
from promsoc.prom.settings import BasicAuth, Secret, Source, source_from_url
from promsoc.prom.transport import (
    FileAuth,
    chain_text,
    connect_reason,
    form_encode,
    retry_after,
    ssl_context,
    tls_cause,
)
from promsoc.prom.types import InstantResult, RangeResult

log = logging.getLogger("promsoc.prom")

RETRY_STATUSES = frozenset({502, 503, 504})
POST_OVER = 1500
"""Encoded parameters longer than this go in a form-encoded POST body (URL limits of proxies)."""
POOL_SHARD = 4
"""Connections per httpx pool; a source's max_concurrency is spread over several pools."""
_TLS_DROPPED = ("reset by peer", "without sending a response", "EOF occurred", "UNEXPECTED_EOF")
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CLIENT_CERT_REFUSED = (
    "certificate required",
    "bad certificate",
    "unknown ca",
    "handshake failure",
)


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
        # Bytes one answer may cost once decompressed; over it, `response too large`.
        self.max_response_bytes = int(
            max_response_bytes or getattr(source, "max_response_bytes", None) or MAX_RESPONSE_BYTES
        )
        self.name = source.name
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.post_over = post_over
        self._sleep = sleep
        parts = urlsplit(source.url)
        self.host = parts.hostname or "?"
        if parts.port:
            self.host = f"{self.host}:{parts.port}"
        self._redact = Redactor(source.secrets())
        auth = source.auth
        if parts.username or parts.password:
            # userinfo would reach httpx's log lines: move it into an Authorization header.
            password = unquote(parts.password or "")
            self._redact.add(password)
            if auth is None:
                auth = BasicAuth(unquote(parts.username or ""), Secret(password))
        self._semaphore = asyncio.Semaphore(source.max_concurrency)
        # Unusable TLS files (the config checks them, but files change) fail each call, not here.
        self._broken: PromError | None = None
        try:
            context = ssl_context(source)
        except (OSError, ssl.SSLError) as exc:
            reason = self._redact(str(exc) or type(exc).__name__)
            self._broken = Unreachable(f"TLS files of {self.name} unusable: {reason}", source=self.name)
            context = ssl.create_default_context()
        # Several small pools instead of one of max_concurrency connections: httpcore's pool
        # does O(connections^2) bookkeeping and polls every idle socket on each request and
        # response, which at 20 connections cost more client CPU than the request itself.
        shards = max(1, -(-source.max_concurrency // POOL_SHARD))
        per_shard = -(-source.max_concurrency // shards)
        limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._pools = [
            httpx.AsyncClient(
                base_url=source.display_url,
                headers={
                    "User-Agent": f"promsoc/{__version__}",
                    **source.headers,
                    "Accept-Encoding": ACCEPT_ENCODING,
                },
                auth=FileAuth(auth, self._redact) if auth else None,
                verify=context,
                timeout=httpx.Timeout(source.timeout),
                limits=limits,
                transport=transport,
                # Each source says exactly how to connect: no proxies, netrc or CA bundles from env.
                trust_env=False,
            )
            for _ in range(shards)
        ]
        self._in_flight = [0] * shards

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
        for pool in self._pools:
            await pool.aclose()

    def scope(self, promql: str) -> str:
        """`promql` with the source's selector injected (unchanged if it has none)."""
        if not self.source.selector:
            return promql
        try:
            return inject_matchers(promql, self.source.selector)
        except SelectorError as exc:
            raise BadQuery(
                f"cannot scope the query to {self.source.selector}: {exc}", source=self.name
            ) from None

    async def query(self, promql: str, at: float | None = None) -> InstantResult:
        """Instant query at `at` (Unix seconds; None: the server's now)."""
        params = [("query", self.scope(promql))]
        if at is not None:
            params.append(("time", _number(at)))
        data, warnings = await self._call("/api/v1/query", params)
        return instant_result(data, warnings, self._malformed)

    async def query_range(
        self, promql: str, start: float, end: float, step: float | str
    ) -> RangeResult:
        """Range query from `start` to `end` (Unix seconds), `step` in seconds or as `30s`."""
        params = [
            ("query", self.scope(promql)),
            ("start", _number(start)),
            ("end", _number(end)),
            ("step", _number(step)),
        ]
        data, warnings = await self._call("/api/v1/query_range", params)
        return range_result(data, warnings, self._malformed)

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
        return MalformedResponse(self._redact(f"{detail} (from {self.host})"), source=self.name)

    async def _call(self, path: str, params: list[tuple[str, str]]) -> tuple[Any, list[str]]:
        """One API call under the concurrency cap, with retries: the envelope's (data, warnings)."""
        if self._broken is not None:
            raise self._broken
        encoded = form_encode([*params, *self.source.params.items()])
        async with self._semaphore:
            for attempt in range(self.retries + 1):
                answer = await self._attempt(path, encoded)
                outcome = answer[0] if isinstance(answer, tuple) else answer
                if isinstance(answer, tuple) and answer[0].status_code not in RETRY_STATUSES:
                    return success_data(*answer, self._redact, self.host, self.name)
                if attempt == self.retries:
                    break
                delay = min(
                    self.max_backoff, self.backoff * 2**attempt * (0.5 + random.random() / 2)
                )
                if isinstance(outcome, httpx.Response):
                    delay = max(delay, min(self.max_backoff, retry_after(outcome)))
                why = (
                    f"HTTP {outcome.status_code}"
                    if isinstance(outcome, httpx.Response)
                    else outcome
                )
                log.info(
                    "source %s: %s; retry %d/%d in %.2fs",
                    self.name,
                    why,
                    attempt + 1,
                    self.retries,
                    delay,
                )
                await self._sleep(delay)
        attempts = self.retries + 1
        if isinstance(answer, tuple):
            raise http_error(*answer, self._redact, self.host, self.name, attempts=attempts)
        tail = f" (after {attempts} attempts)" if attempts > 1 else ""
        raise Unreachable(f"cannot connect to {self.host}: {outcome}{tail}", source=self.name)

    async def _attempt(self, path: str, encoded: str) -> tuple[httpx.Response, bytes] | str:
        """One request: the response and its body, or the reason of a retryable connect error."""
        try:
            # The least busy pool; under the concurrency cap it always has a free connection,
            # and sequential use stays on the first pool's one connection.
            shard = self._in_flight.index(min(self._in_flight))
            self._in_flight[shard] += 1
            try:
                async with asyncio.timeout(self.source.timeout):
                    http = self._pools[shard]
                    if len(encoded) > self.post_over:
                        headers = {"Content-Type": "application/x-www-form-urlencoded"}
                        request = http.build_request("POST", path, content=encoded.encode(), headers=headers)
                    else:
                        request = http.build_request("GET", f"{path}?{encoded}" if encoded else path)
                    # Streamed, so the body is read (and inflated) under max_response_bytes.
                    response = await http.send(request, stream=True)
                    try:
                        body = await read_capped(response, self.max_response_bytes, self.host, self.name)
                    finally:
                        await response.aclose()
                    return response, body
            finally:
                self._in_flight[shard] -= 1
        except PromError:
            raise
        except (TimeoutError, httpx.TimeoutException):
            raise Timeout(
                f"no answer from {self.host} within {self.source.timeout:g}s", source=self.name
            ) from None
        except httpx.ConnectError as exc:
            tls = tls_cause(exc)
            if tls is not None:
                raise self._tls_error(self._redact(str(tls))) from None
            return self._redact(connect_reason(exc))
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            text = self._redact(chain_text(exc))
            if any(word in text.lower() for word in _CLIENT_CERT_REFUSED):
                raise self._tls_error(text) from None
            if self.source.url.startswith("https:") and any(m in text for m in _TLS_DROPPED):
                # Go servers close (often with a reset that beats the TLS alert) when they
                # reject a client certificate after a TLS 1.3 handshake.
                raise AuthRefused(
                    f"{self.host} closed the TLS connection before answering ({text}); it "
                    "probably refused the client certificate (see tls.cert_file)",
                    source=self.name,
                ) from None
            if "incomplete" in text or "message body" in text:
                raise self._malformed(f"truncated body: {text}") from None
            raise Unreachable(
                f"{self.host} dropped the connection: {text}", source=self.name
            ) from None
        except ssl.SSLError as exc:  # raised raw by the TLS stream when the server sends an alert
            raise self._tls_error(self._redact(str(exc) or type(exc).__name__)) from None
        except (httpx.HTTPError, OSError) as exc:
            text = self._redact(str(exc) or type(exc).__name__)
            raise Unreachable(f"{self.host}: {text}", source=self.name) from None

    def _tls_error(self, text: str) -> PromError:
        if any(word in text.lower() for word in _CLIENT_CERT_REFUSED):
            return AuthRefused(
                f"{self.host} refused the client certificate ({text})", source=self.name
            )
        return Unreachable(f"TLS with {self.host} failed: {text}", source=self.name)


__all__ = ["POST_OVER", "RETRY_STATUSES", "PromClient"]
