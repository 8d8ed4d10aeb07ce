"""`promsoc alerts`: Alertmanager's alerts (with silenced/inhibited state) and its silences."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import TYPE_CHECKING, Any

from promsoc.alerts import STATE_GLYPH, AlertsBoard, age, board, live_silences, matchers_text, of_source
from promsoc.cli import output
from promsoc.cli.common import (
    EXIT_FIRING,
    EXIT_OK,
    EXIT_SOURCE,
    CliError,
    add_alertmanager_option,
    format_time,
    load_config,
    print_warnings,
)
from promsoc.tasks import gather_all
from promsoc.text import safe

if TYPE_CHECKING:
    from promsoc.prom.alertmanager import Alert, Silence
    from promsoc.prom.settings import Source

WIDTH = 80


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "alerts",
        help="Alertmanager's alerts (silenced/inhibited state) and its silences",
        description=(
            "List the alerts an Alertmanager holds, grouped by alert name, and its active silences. "
            "Exit codes: 0 no active unsilenced alert, 1 at least one, 2 usage or config error, "
            "3 Alertmanager unreachable."
        ),
    )
    parser.add_argument("--config", metavar="PATH",
                        help="config file (default: $PROMSOC_CONFIG, then the XDG config dir)")
    add_alertmanager_option(parser)
    parser.add_argument("--source", metavar="NAME", help="the Alertmanager of this configured source")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=run, url=None)


def target(args: argparse.Namespace) -> tuple[Source, str]:
    """The Alertmanager to ask (--alertmanager, else the source's with --source, else the global
    one) and the selector of the --source whose alerts to show (empty: every alert)."""
    settings = load_config(args, require_sources=False)
    print_warnings(settings)
    selector = settings.source(args.source).selector if args.source else ""
    chosen = settings.alertmanager_for(args.source)
    if chosen is None:
        where = f"source {args.source!r} has no alertmanager: and there is no global one" if args.source else (
            "no Alertmanager configured"
        )
        raise CliError(f"{where}; pass --alertmanager URL or set `alertmanager:` in the config")
    return chosen.connection, selector


async def fetch(source: Source) -> tuple[list[Alert], list[Silence]]:
    """Alerts and silences at once; a failure is exit 3 with Alertmanager's reason."""
    from promsoc.prom.alertmanager import AlertmanagerClient
    from promsoc.prom.errors import PromError

    async with AlertmanagerClient(source) as client:
        try:
            alerts, silences = await gather_all(client.alerts(), client.silences())
        except PromError as exc:
            raise CliError(f"Alertmanager {source.display_url}: {exc}", EXIT_SOURCE) from None
    return alerts, silences


def to_json(url: str, alerts: list[Alert], silences: list[Silence]) -> dict[str, Any]:
    """The contract's document: Alertmanager's own states, and its active (and pending) silences."""
    return {
        "alertmanager": url,
        "alerts": [
            {
                "labels": a.labels,
                "annotations": a.annotations,
                "state": a.state,
                "silenced_by": list(a.silenced_by),
                "inhibited_by": list(a.inhibited_by),
                "starts_at": format_time(a.starts_at),
            }
            for a in alerts
        ],
        "silences": [
            {
                "id": s.id,
                "matchers": [
                    {"name": m.name, "value": m.value, "is_regex": m.is_regex, "is_equal": m.is_equal}
                    for m in s.matchers
                ],
                "created_by": s.created_by,
                "comment": s.comment,
                "starts_at": format_time(s.starts_at),
                "ends_at": format_time(s.ends_at),
                "state": s.state,
            }
            for s in live_silences(silences)
        ],
    }


def _fit(text: str, width: int = WIDTH) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _labels(labels: dict[str, str]) -> str:
    return " ".join(f"{safe(k, 30)}={safe(v, 50)}" for k, v in labels.items())


def render_table(url: str, shown: AlertsBoard, now: float) -> str:
    """Alerts grouped by name (state, severity, age, labels; the silence under a silenced one),
    then the silences; 80 columns, every server text made inert."""
    rows = shown.rows
    counts = {state: sum(r.state == state for r in rows) for state in ("active", "silenced", "inhibited")}
    lines = [_fit(f"Alertmanager {safe(url, 66)}"),
             f"{len(rows)} alerts ({counts['active']} active, {counts['silenced']} silenced, "
             f"{counts['inhibited']} inhibited), {len(shown.silences)} silences"]
    if rows:
        lines.append(f"{'STATE':<13}{'SEVERITY':<10}{'SINCE':<7}LABELS")
    for group in shown.groups:
        common = _labels(group.common) if len(group.rows) > 1 else ""
        lines.append(_fit(f"{safe(group.name, 60)} ({len(group.rows)}) {common}".rstrip()))
        for row in group.rows:
            state = f"{STATE_GLYPH.get(row.state, '?')} {row.state}"
            since = age(now - row.starts_at) if row.starts_at else "?"
            labels = _labels(group.varying(row)) or "{}"
            lines.append(_fit(f"{state:<13}{safe(row.severity, 9):<10}{since:<7}{labels}"))
            for note in row.silences:
                lines.append(_fit(f"{'':<13}└ silenced by {safe(note.created_by, 20)} until "
                                  f"{format_time(note.ends_at)}: {safe(note.comment, 60)}"))
    if shown.silences:
        lines += ["", "SILENCES", f"{'ENDS':<22}{'BY':<14}MATCHERS / COMMENT"]
        for silence in shown.silences:
            ends = format_time(silence.ends_at) + ("*" if silence.state == "pending" else "")
            lines.append(_fit(f"{ends:<22}{safe(silence.created_by, 13):<14}"
                              f"{safe(matchers_text(silence.matchers), 200)}"))
            lines.append(_fit(f"{'':<22}{safe(silence.id, 13):<14}{safe(silence.comment, 200)}"))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Ask Alertmanager, print, and say by the exit code whether anything pages unsilenced."""
    source, selector = target(args)
    alerts, silences = asyncio.run(fetch(source))
    # One Alertmanager shared by the clusters of one Prometheus: a source sees its own alerts (those
    # its selector matches, and those without the label), as in the console's alerts view.
    alerts = of_source(alerts, selector)
    if args.format == "json":
        output.write(output.json_text(to_json(source.display_url, alerts, silences)))
    else:
        output.write(render_table(source.display_url, board(alerts, silences), time.time()) + "\n")
    return EXIT_FIRING if any(a.state == "active" for a in alerts) else EXIT_OK
