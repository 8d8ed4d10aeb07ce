"""The one sanitiser: text from a server or a cluster becomes inert, visible, bounded text.

Label values, error texts and answer bodies come from whoever controls the monitored cluster,
Prometheus or a proxy in front of it. Everything that reaches a terminal (the headless
commands' tables and messages, the console's widgets, a hand-off note) passes through `safe`
(or `one_line`, which uses it): escape sequences (CSI, OSC, DCS, SOS/PM/APC, in their 7-bit
and 8-bit forms) become one `?` each, and so does every control, format, bidi, surrogate,
private-use, unassigned or line/paragraph-separator character. Markup is not this module's
business: the console draws the result as plain `rich.text.Text`, never as markup.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LABEL = 63
"""Kubernetes names fit 63 (labels) or 253 (DNS subdomains) characters; cut hostile giants."""
MAX_LINE = 300
"""A message line: an error text, a warning."""

# CSI, OSC, DCS/SOS/PM/APC strings and lone two-byte escapes, in their 7-bit and 8-bit forms.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)

# Bidirectional overrides/isolates/marks: they reorder what the eye reads.
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
_UNSAFE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def safe(value: str, limit: int = MAX_LABEL, *, ascii_only: bool = True) -> str:
    """Escape sequences and unsafe characters become '?'; values over `limit` are cut.

    With `ascii_only` every other non-ASCII character becomes '?' too, so that one character is
    one terminal column and the boxes of the ASCII views stay aligned (Kubernetes names are
    ASCII); without it (the console, messages) printable Unicode stays and a cut ends in '…'.
    """
    if len(value) <= limit and value.isascii() and value.isprintable():
        return value  # the usual Kubernetes name: nothing to escape (isprintable rejects ESC, DEL)
    text = _ESCAPES.sub("?", value)
    out: list[str] = []
    for char in text:
        if char.isascii():
            out.append(char if " " <= char <= "~" else "?")
        elif ascii_only or char in _BIDI or unicodedata.category(char) in _UNSAFE:
            out.append("?")
        else:
            out.append(char)
        if len(out) > limit:
            break
    if len(out) > limit:
        ellipsis = "..." if ascii_only else "…"
        keep = max(limit - len(ellipsis), 0)
        return "".join(out[:keep]) + ellipsis[: limit - keep]
    return "".join(out)


def one_line(value: str | BaseException, limit: int = MAX_LINE) -> str:
    """A message as one inert line: whitespace collapsed, made safe, cut to `limit`.

    An exception reads as its text, or its type's name when it has none.
    """
    text = (str(value).strip() or type(value).__name__) if isinstance(value, BaseException) else value
    return safe(" ".join(text.split()), limit, ascii_only=False)


def safe_lines(value: str, limit: int = 4 * MAX_LINE) -> str:
    """A multi-line message (a usage error with its hint): each line made safe, the breaks kept."""
    return "\n".join(safe(line, limit, ascii_only=False) for line in value.splitlines())


def fit(value: str, width: int) -> str:
    """Already-safe ASCII text padded or cut (with '...') to exactly `width` columns."""
    if len(value) <= width:
        return value.ljust(width)
    if width <= 3:
        return value[:width]
    return value[: width - 3] + "..."
