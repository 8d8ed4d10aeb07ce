"""One HTTP endpoint as configured (URL, auth, TLS, headers, timeout): pooled connections,
retries, and every transport failure as a typed, redacted `PromError`.

Prometheus's client and Alertmanager's client both speak through a `Connection`, so a
source and an `alertmanager:` entry connect, authenticate and fail in exactly the same way.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import httpx

from promsoc import __version__
from promsoc.prom.body import ACCEPT_ENCODING, MAX_RESPONSE_BYTES, read_capped
from promsoc.prom.errors import AuthRefused, MalformedResponse, PromError, Redactor, Timeout, Unreachable
from promsoc.prom.parse import http_error
from promsoc.prom.settings import BasicAuth, Secret
from promsoc.prom.transport import FileAuth, chain_text, connect_reason, retry_after, ssl_context, tls_cause

if TYPE_CHECKING:
    from promsoc.prom.settings import Source

log = logging.getLogger("promsoc.prom")

RETRY_STATUSES = frozenset({502, 503, 504})
POOL_SHARD = 4
"""Connections per httpx pool; a source's max_concurrency is spread over several pools."""
_TLS_DROPPED = ("reset by peer", "without sending a response", "EOF occurred", "UNEXPECTED_EOF")
_CLIENT_CERT_REFUSED = (
    "certificate required",
    "bad certificate",
    "unknown ca",
    "handshake failure",
)


class Connection:
    """An endpoint's pools, auth and TLS; `request` retries and maps failures to PromErrors."""

    def __init__(
        self,
        source: Source,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 2,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        root_hint: str = "the Prometheus root",
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
        self.root_hint = root_hint
        self._sleep = sleep
        parts = urlsplit(source.url)
        self.host = parts.hostname or "?"
        if parts.port:
            self.host = f"{self.host}:{parts.port}"
        self.redact = Redactor(source.secrets())
        auth = source.auth
        if parts.username or parts.password:
            # userinfo would reach httpx's log lines: move it into an Authorization header.
            password = unquote(parts.password or "")
            self.redact.add(password)
            if auth is None:
                auth = BasicAuth(unquote(parts.username or ""), Secret(password))
        # Unusable TLS files (the config checks them, but files change) fail each call, not here.
        self._broken: PromError | None = None
        try:
            context = ssl_context(source)
        except (OSError, ssl.SSLError) as exc:
            reason = self.redact(str(exc) or type(exc).__name__)
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
                auth=FileAuth(auth, self.redact) if auth else None,
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

    async def aclose(self) -> None:
        """Close the connection pools."""
        for pool in self._pools:
            await pool.aclose()

    def malformed(self, detail: str) -> PromError:
        return MalformedResponse(self.redact(f"{detail} (from {self.host})"), source=self.name)

    def http_error(self, response: httpx.Response, body: bytes, attempts: int = 1) -> PromError:
        """The typed error for a non-2xx answer whose (capped) body is `body`."""
        return http_error(response, body, self.redact, self.host, self.name, attempts=attempts, root=self.root_hint)

    async def request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> tuple[httpx.Response, bytes]:
        """One call, retried (when `retry`) on connect errors and 502/503/504 with backoff.

        Returns the answer and its body (read under max_response_bytes) whatever its status,
        except a retryable status that outlived the retries, which raises; connection failures
        raise Unreachable, Timeout or AuthRefused.
        """
        if self._broken is not None:
            raise self._broken
        retries = self.retries if retry else 0
        for attempt in range(retries + 1):
            answer = await self._attempt(method, path, content, headers)
            outcome = answer[0] if isinstance(answer, tuple) else answer
            if isinstance(answer, tuple) and answer[0].status_code not in RETRY_STATUSES:
                return answer
            if attempt == retries:
                break
            delay = min(self.max_backoff, self.backoff * 2**attempt * (0.5 + random.random() / 2))
            if isinstance(outcome, httpx.Response):
                delay = max(delay, min(self.max_backoff, retry_after(outcome)))
            why = f"HTTP {outcome.status_code}" if isinstance(outcome, httpx.Response) else outcome
            log.info("source %s: %s; retry %d/%d in %.2fs", self.name, why, attempt + 1, retries, delay)
            await self._sleep(delay)
        attempts = retries + 1
        if isinstance(answer, tuple):
            raise self.http_error(*answer, attempts)
        tail = f" (after {attempts} attempts)" if attempts > 1 else ""
        raise Unreachable(f"cannot connect to {self.host}: {outcome}{tail}", source=self.name)

    async def _attempt(
        self, method: str, path: str, content: bytes | None, headers: Mapping[str, str] | None
    ) -> tuple[httpx.Response, bytes] | str:
        """One request: the response and its body, or the reason of a retryable connect error."""
        try:
            # The least busy pool; under the concurrency cap it always has a free connection,
            # and sequential use stays on the first pool's one connection.
            shard = self._in_flight.index(min(self._in_flight))
            self._in_flight[shard] += 1
            try:
                async with asyncio.timeout(self.source.timeout):
                    http = self._pools[shard]
                    request = http.build_request(method, path, content=content, headers=dict(headers or {}))
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
                raise self._tls_error(self.redact(str(tls))) from None
            return self.redact(connect_reason(exc))
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            text = self.redact(chain_text(exc))
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
                raise self.malformed(f"truncated body: {text}") from None
            raise Unreachable(f"{self.host} dropped the connection: {text}", source=self.name) from None
        except ssl.SSLError as exc:  # raised raw by the TLS stream when the server sends an alert
            raise self._tls_error(self.redact(str(exc) or type(exc).__name__)) from None
        except (httpx.HTTPError, OSError) as exc:
            text = self.redact(str(exc) or type(exc).__name__)
            raise Unreachable(f"{self.host}: {text}", source=self.name) from None

    def _tls_error(self, text: str) -> PromError:
        if any(word in text.lower() for word in _CLIENT_CERT_REFUSED):
            return AuthRefused(f"{self.host} refused the client certificate ({text})", source=self.name)
        return Unreachable(f"TLS with {self.host} failed: {text}", source=self.name)


__all__ = ["RETRY_STATUSES", "Connection"]
