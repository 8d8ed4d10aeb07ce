"""A big answer read one series at a time, so reading it never holds the interpreter for long.

`json.loads` of a 30 MB answer (5,000 series of 240 points) is one C call: the console's UI
thread waited for it, and the million lists it built made each garbage collection in the
meantime scan them all (a collection is one C call too: seconds, keys frozen). Here the
envelope is walked by hand and each element of `data.result` is decoded alone (tens of
microseconds), turned into its typed result at once and the raw element dropped; between two
elements the interpreter can switch threads. Past `limit` elements the rest are decoded to
find the end of the answer but not kept.

Only the envelope Prometheus writes is walked (an object holding `data`, an object whose
`resultType`, vector or matrix, precedes `result`, an array); anything else, invalid JSON, a repeated key or a
BOM, raises `Unusual` and the caller parses the body whole, with the messages it always gave.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STREAM_OVER = 256 * 1024
"""Bodies longer than this (bytes) are read one series at a time; shorter ones in one call."""

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")

Convert = Callable[[str, Any], Any]
"""(resultType, raw element) -> the typed element, or None to leave it out (a matrix series
without points read as an instant answer); may raise on a malformed element."""


class Unusual(Exception):
    """Not the envelope this reader walks, or not JSON at all: parse the body whole."""


@dataclass
class Read:
    """`data.result` as it was read: the typed elements kept, how many there were, and the first
    conversion failure (raised only when the envelope turns out to be a success)."""

    items: list[Any] = field(default_factory=list)
    total: int = 0
    converted: int = 0  # elements converted, kept or left out (a matrix series without points)
    error: Exception | None = None

    @property
    def omitted(self) -> int:
        """Elements past the cap: read, never converted."""
        return self.total - self.converted


class _Walk:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def space(self) -> None:
        found = _SPACE.match(self.text, self.at)
        self.at = found.end() if found else self.at

    def peek(self) -> str:
        self.space()
        return self.text[self.at : self.at + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise Unusual(f"expected {char!r} at {self.at}")
        self.at += 1

    def value(self) -> Any:
        self.space()
        try:
            value, self.at = _DECODER.raw_decode(self.text, self.at)
        except (ValueError, RecursionError) as exc:
            raise Unusual(str(exc)) from None
        return value

    def members(self) -> Any:
        """Yield each key of the object at the cursor, leaving the cursor on its value."""
        self.expect("{")
        seen: set[str] = set()
        if self.peek() == "}":
            self.at += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str) or key in seen:
                raise Unusual("a key that is not a string, or a repeated key")
            seen.add(key)
            self.expect(":")
            yield key
            char = self.peek()
            self.at += 1
            if char == "}":
                return
            if char != ",":
                raise Unusual(f"expected ',' or '}}' at {self.at}")


def _result(walk: _Walk, kind: str, convert: Convert, limit: int | None) -> Read:
    read = Read()
    walk.expect("[")
    if walk.peek() == "]":
        walk.at += 1
        return read
    while True:
        element = walk.value()
        read.total += 1
        if read.error is None and (limit is None or len(read.items) < limit):
            read.converted += 1
            try:
                item = convert(kind, element)
            except Exception as exc:  # kept; raised by the caller as malformed
                read.error = exc
            else:
                if item is not None:
                    read.items.append(item)
        del element
        char = walk.peek()
        walk.at += 1
        if char == "]":
            return read
        if char != ",":
            raise Unusual(f"expected ',' or ']' at {walk.at}")


def _data(walk: _Walk, convert: Convert, limit: int | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in walk.members():
        kind = data.get("resultType")
        if key == "result" and kind in ("vector", "matrix") and walk.peek() == "[":
            data[key] = _result(walk, kind, convert, limit)
        else:
            data[key] = walk.value()
    return data


def read_envelope(body: bytes, convert: Convert, limit: int | None = None) -> dict[str, Any]:
    """The envelope as `json.loads` would give it, but with `data.result` as a `Read` (when it is
    an array after `resultType`); `Unusual` for anything this reader does not walk."""
    try:
        text = body.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        raise Unusual("not UTF-8") from None
    walk = _Walk(text)
    payload: dict[str, Any] = {}
    for key in walk.members():
        if key == "data" and walk.peek() == "{":
            payload[key] = _data(walk, convert, limit)
        else:
            payload[key] = walk.value()
    walk.space()
    if walk.at != len(text):
        raise Unusual("extra data")
    return payload


__all__ = ["STREAM_OVER", "Read", "Unusual", "read_envelope"]
