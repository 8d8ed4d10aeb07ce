"""What a PromClient needs below HTTP: auth that re-reads secret files, TLS contexts, form
encoding, and readable reasons for connection failures."""

from __future__ import annotations

import base64
import os
import socket
import ssl
from collections.abc import Generator, Sequence

import httpx

from promsoc.prom.errors import AuthRefused, Redactor
from promsoc.prom.settings import Auth, BearerAuth, Source


class FileAuth(httpx.Auth):
    """Bearer or basic auth whose secret may live in a file, re-read per request (rotation)."""

    def __init__(self, auth: Auth, redact: Redactor) -> None:
        self._auth = auth
        self._redact = redact

    def _read(self, path: object) -> str:
        try:
            with open(str(path), encoding="utf-8") as handle:
                value = handle.read().strip()
        except OSError as exc:
            raise AuthRefused(
                f"cannot read credentials file {path}: {exc.strerror or exc}"
            ) from None
        self._redact.add(value)
        return value

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        auth = self._auth
        if isinstance(auth, BearerAuth):
            token = auth.token.reveal() if auth.token else self._read(auth.token_file)
            request.headers["Authorization"] = f"Bearer {token}"
        else:
            password = auth.password.reveal() if auth.password else ""
            if auth.password_file:
                password = self._read(auth.password_file)
            pair = base64.b64encode(f"{auth.username}:{password}".encode()).decode("ascii")
            request.headers["Authorization"] = f"Basic {pair}"
        yield request


def ssl_context(source: Source) -> ssl.SSLContext:
    """The TLS context for a source: its CA (or the system store), client cert, verification."""
    tls = source.tls
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.cert_file:
        context.load_cert_chain(str(tls.cert_file), str(tls.key_file) if tls.key_file else None)
    if tls.insecure_skip_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


# Byte -> its application/x-www-form-urlencoded spelling, exactly as urllib's quote_plus.
_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_FORM = [chr(b) if b in _SAFE else "+" if b == 0x20 else f"%{b:02X}" for b in range(256)]


def form_encode(params: Sequence[tuple[str, str]]) -> str:
    """`urllib.parse.urlencode(params)`, byte for byte, without its per-byte Python loop.

    A detector query is several kilobytes; urlencode spent more client CPU on it than httpx.
    """
    return "&".join(
        "".join(map(_FORM.__getitem__, k.encode())) + "=" + "".join(map(_FORM.__getitem__, v.encode()))
        for k, v in params
    )


def tls_cause(exc: BaseException) -> BaseException | None:
    """The TLS failure behind a connect error, if that is what it was."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "[SSL" in str(seen):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def connect_reason(exc: BaseException) -> str:
    """`connection refused`, `unknown host ...`, or the errors' own words."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return f"unknown host ({seen.strerror})"
        if isinstance(seen, OSError) and seen.errno:
            return os.strerror(seen.errno).lower()
        seen = seen.__cause__ or seen.__context__
    return chain_text(exc)


def chain_text(exc: BaseException) -> str:
    """The messages of an exception and its causes (a TLS alert hides under a bare ReadError)."""
    texts: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(texts) < 5:
        text = str(seen)
        if text and text not in texts:
            texts.append(text)
        seen = seen.__cause__ or seen.__context__
    return "; ".join(texts) or type(exc).__name__


def retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0
