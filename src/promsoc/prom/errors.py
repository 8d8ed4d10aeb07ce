"""Typed query failures: one readable line each, for tiles, `scan` and `check`, never a secret.

Every failure of a Prometheus call is a `PromError` subclass with a stable `.kind`
(the word a tile or a JSON consumer can switch on) and a one-line `str()`.
Texts pass through `Redactor` before they are stored, so a token, a password or
URL userinfo cannot leak into an exception, a log line or a `repr`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from promsoc.text import one_line

MAX_DETAIL = 300

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")
_AUTH_HEADER = re.compile(r"(?i)\b(authorization|proxy-authorization)\s*[:=]\s*\S+(\s+\S+)?")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


class Redactor:
    """Scrubs known secret values, URL userinfo and Authorization values out of a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Remember one more secret value (short values are ignored: they would shred text)."""
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        text = _USERINFO.sub(r"\1***@", text)
        text = _AUTH_HEADER.sub(r"\1: ***", text)
        return _BEARER.sub(r"\1 ***", text)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"


class PromError(Exception):
    """Base of every query failure: `.kind` is a stable word, `str()` one readable line."""

    kind = "error"
    label = "error"

    def __init__(self, detail: str, *, source: str = "", status: int | None = None) -> None:
        self.detail = one_line(detail)
        self.source = source
        self.status = status
        super().__init__(self.detail)

    def __str__(self) -> str:
        return f"{self.label}: {self.detail}" if self.detail else self.label

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, source={self.source!r})"


class Unreachable(PromError):
    """No connection: refused, DNS failure, TLS handshake failure, connection dropped."""

    kind = "unreachable"
    label = "unreachable"


class Timeout(PromError):
    """The source did not answer within its configured timeout."""

    kind = "timeout"
    label = "timeout"


class AuthRefused(PromError):
    """HTTP 401/403: credentials missing, wrong or not allowed to read."""

    kind = "auth_refused"
    label = "auth refused"


class BadQuery(PromError):
    """HTTP 400/422: Prometheus rejected the PromQL; the detail is its own error text."""

    kind = "bad_query"
    label = "bad query"


class Rejected(PromError):
    """HTTP 400/422 to a write (Alertmanager refusing a silence): the detail is its own text."""

    kind = "rejected"
    label = "rejected"


class ServerError(PromError):
    """Any other HTTP status (5xx after retries, 404 on a wrong URL path, ...)."""

    kind = "server_error"
    label = "server error"


class MalformedResponse(PromError):
    """HTTP 200 with a body that is not the Prometheus API's JSON envelope."""

    kind = "malformed_response"
    label = "malformed response"


class ResponseTooLarge(PromError):
    """The answer's (decompressed) body is over the source's max_response_bytes: not read further."""

    kind = "response_too_large"
    label = "response too large"


__all__ = [
    "AuthRefused",
    "BadQuery",
    "MalformedResponse",
    "PromError",
    "Redactor",
    "Rejected",
    "ResponseTooLarge",
    "ServerError",
    "Timeout",
    "Unreachable",
]
