"""Label values come from the monitored cluster: make them inert, visible, bounded text."""

from __future__ import annotations

import re
import unicodedata

MAX_LABEL = 63
"""Kubernetes names fit 63 (labels) or 253 (DNS subdomains) characters; cut hostile giants."""

# CSI, OSC, DCS/SOS/PM/APC strings and lone two-byte escapes, in their 7-bit and 8-bit forms.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -~]?"
)

# Bidirectional overrides/isolates/marks: they reorder what the eye reads.
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
_UNSAFE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


def safe(value: str, limit: int = MAX_LABEL, ascii_only: bool = True) -> str:
    """Escape sequences and control/format/bidi characters become '?'; cut long values.

    With `ascii_only` every other non-ASCII character becomes '?' too, so that one character is
    one terminal column and the boxes of the ASCII views stay aligned (Kubernetes names are ASCII).
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


def fit(value: str, width: int) -> str:
    """Already-safe ASCII text padded or cut (with '...') to exactly `width` columns."""
    if len(value) <= width:
        return value.ljust(width)
    if width <= 3:
        return value[:width]
    return value[: width - 3] + "..."
