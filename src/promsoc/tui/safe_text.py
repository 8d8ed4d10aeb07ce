"""Label values come from the monitored cluster: make them inert, visible, bounded text."""

from __future__ import annotations

import unicodedata

from rich.style import Style
from rich.text import Text

MAX_VALUE = 120

# Bidirectional overrides/isolates and zero-width marks that reorder or hide what the eye reads.
_BIDI = {
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u061c",
}


def clean(value: str, limit: int = MAX_VALUE) -> str:
    """Control, format and bidi characters become visible escapes; long values get an ellipsis."""
    out: list[str] = []
    size = 0
    for char in value:
        if char in _BIDI or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            piece = f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
        else:
            piece = char
        out.append(piece)
        size += len(piece)
        if size > limit:
            break
    text = "".join(out)
    if size > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def inert(value: str, style: str | Style = "", limit: int = MAX_VALUE) -> Text:
    """A rich Text that no markup, escape or override inside `value` can act through."""
    return Text(clean(value, limit), style=style, no_wrap=True, overflow="ellipsis")


def labels_line(labels: dict[str, str], keys: tuple[str, ...] | None = None, limit: int = 60) -> Text:
    """`key=value key=value` as inert text, for the identifying labels of a finding."""
    chosen = [k for k in (keys or tuple(labels)) if k in labels]
    line = Text(no_wrap=True, overflow="ellipsis")
    for index, key in enumerate(chosen):
        if index:
            line.append(" ")
        line.append(clean(key, 40), style="dim")
        line.append("=", style="dim")
        line.append(clean(labels[key], limit))
    return line


# Which labels identify a finding, in the order an on-call engineer looks for them.
IDENTIFYING = (
    "namespace",
    "pod",
    "workload",
    "host",
    "path",
    "rule",
    "rule_name",
    "priority",
    "destination",
    "persistentvolumeclaim",
    "name",
    "ingress",
    "resource",
    "verb",
    "code",
    "hostname",
    "node",
)


def identifying(labels: dict[str, str]) -> tuple[str, ...]:
    """The labels worth showing on a tile: known identifiers, else any non-internal label."""
    keys = tuple(k for k in IDENTIFYING if k in labels)
    if keys:
        return keys
    return tuple(k for k in sorted(labels) if not k.startswith("__") and k not in ("job", "instance"))
