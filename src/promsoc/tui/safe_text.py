"""Label values come from the monitored cluster: the console draws them as inert, bounded `Text`.

Every string passes through the one sanitiser (`promsoc.text.safe`); `clean` is its console
preset (printable Unicode kept, longer values), and the result is plain `rich.text.Text`,
never markup.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from promsoc.text import safe

MAX_VALUE = 120


def clean(value: str, limit: int = MAX_VALUE) -> str:
    """`safe` for the console: Unicode stays, unsafe characters and escape sequences become '?'."""
    return safe(value, limit, ascii_only=False)


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
