"""Reading an answer's body with a hard cap on the bytes it may cost, compressed or not.

httpx's own decoders inflate a whole network chunk at once (a 64 KiB gzip chunk can become
64 MiB), so the client reads the raw bytes and inflates them here in bounded slices, counting
the DECOMPRESSED bytes: a 200 MB answer or a gzip bomb ends as one `response too large` error
after at most `limit` bytes were held.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import httpx

from promsoc.prom.errors import MalformedResponse, ResponseTooLarge

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""Default cap on one answer's decompressed body (a 5,000-series, 240-point range answer is ~60 MB)."""
ACCEPT_ENCODING = "gzip"
"""What the client asks for: the only encoding Prometheus sends, and one this module inflates in slices."""
_SLICE = 1 << 20  # bytes inflated per step: what one compressed chunk may cost before it is counted


def _size(limit: int) -> str:
    return f"{limit / (1 << 20):g} MiB" if limit >= 1 << 20 else f"{limit} bytes"


class _Inflater:
    """Identity, gzip or deflate (zlib-wrapped), inflated at most _SLICE bytes at a time."""

    def __init__(self, encoding: str) -> None:
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip() and c.strip().lower() != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise ValueError(f"unsupported Content-Encoding {encoding[:40]!r}")
        # 32 + MAX_WBITS: accept either a gzip or a zlib header (servers mislabel deflate).
        self._zlib = zlib.decompressobj(32 + zlib.MAX_WBITS) if codings else None

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Slices of the inflated `data`, one at a time: the caller counts each before the next."""
        if self._zlib is None:
            yield data
            return
        while data:
            piece = self._zlib.decompress(data, _SLICE)
            if piece:
                yield piece
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:
                break

    def flush(self) -> bytes:
        return self._zlib.flush(_SLICE) if self._zlib is not None else b""


async def read_capped(response: httpx.Response, limit: int, host: str, source: str) -> bytes:
    """The decompressed body of a streamed response; ResponseTooLarge past `limit` bytes."""
    too_large = ResponseTooLarge(
        f"the answer from {host} is over {_size(limit)} (the source's max_response_bytes)",
        source=source,
    )
    declared = response.headers.get("Content-Length", "")
    if not response.headers.get("Content-Encoding") and declared.isdigit() and int(declared) > limit:
        raise too_large
    try:
        # A transport that built its response from bytes (tests, middleware) has already read it.
        if len(response.content) > limit:
            raise too_large
        return response.content
    except httpx.ResponseNotRead:
        pass
    try:
        inflater = _Inflater(response.headers.get("Content-Encoding", ""))
    except ValueError as exc:
        raise MalformedResponse(f"{exc} from {host}", source=source) from None
    chunks: list[bytes] = []
    total = 0
    try:
        async for raw in response.aiter_raw():
            for piece in inflater.feed(raw):
                total += len(piece)
                if total > limit:
                    raise too_large
                chunks.append(piece)
        tail = inflater.flush()
    except zlib.error as exc:
        raise MalformedResponse(f"corrupt compressed body from {host}: {exc}", source=source) from None
    if total + len(tail) > limit:
        raise too_large
    chunks.append(tail)
    return b"".join(chunks)


__all__ = ["ACCEPT_ENCODING", "MAX_RESPONSE_BYTES", "read_capped"]
