"""`promsoc alerts`: Alertmanager's alerts (with silenced/inhibited state) and its silences;
with `--at`, what Prometheus's alerting rules had firing at a past moment (its `ALERTS`), the
console's past board (`alerts.board_at`, by the same `alerts.SourceRule`)."""

from __future__ import annotations

import argparse
import asyncio
import textwrap
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from promsoc.alerts import (
    STATE_GLYPH,
    AlertsBoard,
    age,
    board,
    board_at,
    live_silences,
    matchers_text,
    of_source,
)
from promsoc.cli import output
from promsoc.cli.common import (
    EXIT_FIRING,
    EXIT_OK,
    EXIT_SOURCE,
    CliError,
    add_alertmanager_option,
    format_time,
    load_config,
    parse_time,
    print_lines,
    print_warnings,
    retention_warnings,
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
            "With --at, what Prometheus's alerting rules had firing at that moment (its ALERTS "
            "series; Alertmanager keeps no history, so silences are not known then). "
            "Exit codes: 0 no active unsilenced alert (--at: none firing), 1 at least one, "
            "2 usage or config error, 3 Alertmanager unreachable (--at: a Prometheus did not answer)."
        ),
    )
    parser.add_argument("--config", metavar="PATH",
                        help="config file (default: $PROMSOC_CONFIG, then the XDG config dir)")
    add_alertmanager_option(parser)
    parser.add_argument("--source", metavar="NAME",
                        help="the Alertmanager of this configured source (--at: its Prometheus), its alerts")
    parser.add_argument("--at", metavar="TIME",
                        help="a past moment, RFC 3339 or Unix seconds: the alerts Prometheus's rules had firing then")
    parser.add_argument("--url", metavar="URL",
                        help="with --at: an ad-hoc Prometheus URL (no auth); overrides the config's sources")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=run)


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
    lines += group_lines(shown, now)
    if shown.silences:
        lines += ["", "SILENCES", f"{'ENDS':<22}{'BY':<14}MATCHERS / COMMENT"]
        for silence in shown.silences:
            ends = format_time(silence.ends_at) + ("*" if silence.state == "pending" else "")
            lines.append(_fit(f"{ends:<22}{safe(silence.created_by, 13):<14}"
                              f"{safe(matchers_text(silence.matchers), 200)}"))
            lines.append(_fit(f"{'':<22}{safe(silence.id, 13):<14}{safe(silence.comment, 200)}"))
    return "\n".join(lines)


def group_lines(shown: AlertsBoard, now: float) -> list[str]:
    """The board's alerts under a column header, grouped by name: state (glyph + word), severity,
    how long before `now` each began, the labels that tell it apart; the silences behind it."""
    lines = [f"{'STATE':<13}{'SEVERITY':<10}{'SINCE':<7}LABELS"] if shown.rows else []
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
    return lines


def run(args: argparse.Namespace) -> int:
    """Ask Alertmanager, print, and say by the exit code whether anything pages unsilenced (with
    `--at`, Prometheus's record of that moment: `alerts_past`)."""
    if args.at is not None:
        return run_past(args)
    if args.url:
        raise CliError("--url names a Prometheus, which `promsoc alerts` asks only for a past moment (--at); "
                       "the live alerts come from Alertmanager (--alertmanager URL, or alertmanager: in the config)")
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


# -- `--at`: a past moment, from Prometheus's own record of its alerting rules ----------------------


def servers(sources: Sequence[Source]) -> list[tuple[Source, tuple[str, ...]]]:
    """Each server to ask once, with the sources it serves: sources that differ only by name
    and selector (the clusters of one Thanos) ask the same Prometheus the same question."""
    found: list[tuple[Source, Source, list[str]]] = []
    for source in sources:
        bare = replace(source, name="", selector="")
        known = next((entry for entry in found if entry[1] == bare), None)
        if known is None:
            found.append((source, bare, [source.name]))
        else:
            known[2].append(source.name)
    return [(source, tuple(names)) for source, _, names in found]


async def fetch_past(asked: Sequence[tuple[Source, tuple[str, ...]]], at: float, selector: str) -> AlertsBoard:
    """The console's past board (`alerts.board_at`) of these servers, by the rule of `selector`;
    when none answers, exit 3 with the first one's reason."""
    from promsoc.prom.client import PromClient
    from promsoc.prom.errors import PromError

    async with AsyncExitStack() as stack:
        proms = {source.name: await stack.enter_async_context(PromClient(source)) for source, _ in asked}
        try:
            return await board_at(proms, at, selector)
        except PromError as exc:
            raise CliError(f"Prometheus {safe(exc.source or asked[0][0].name, 40)}: {exc}", EXIT_SOURCE) from None


def past_answers(shown: AlertsBoard, asked: Sequence[tuple[Source, tuple[str, ...]]]) -> dict[str, Any]:
    """Which sources' Prometheus answered and which did not (with the reason), every source named."""
    answered: list[str] = []
    unanswered: list[dict[str, str]] = []
    for source, names in asked:
        entry = next((e for e in shown.unanswered if e.startswith(source.name + ": ")), None)
        if entry is None:
            answered += names
        else:
            unanswered += [{"source": name, "error": entry[len(source.name) + 2 :]} for name in names]
    return {"answered": answered, "unanswered": unanswered}


def past_json(shown: AlertsBoard, at: float, answers: dict[str, Any]) -> dict[str, Any]:
    """`--at`'s document: not Alertmanager's (`from`: Prometheus's ALERTS then; no silences, no
    inhibitions: they are live-only), `state` Prometheus's own (`firing` or `pending`)."""
    return {
        "at": format_time(at),
        "from": "prometheus ALERTS",
        "note": shown.note,
        "sources": answers,
        "alerts": [
            {"labels": row.labels, "state": row.state,
             "starts_at": format_time(row.starts_at) if row.starts_at is not None else None}
            for row in shown.rows
        ],
    }  # fmt: skip


def render_past(shown: AlertsBoard, at: float, answers: dict[str, Any]) -> str:
    """The past board: where it comes from and what it cannot know, who did not answer, then the
    alerts as the live table groups them (SINCE: how long before `at` each began)."""
    firing = sum(row.state == "firing" for row in shown.rows)
    lines = [_fit(f"Prometheus ALERTS at {format_time(at)}: {safe(', '.join(answers['answered']), 60)}")]
    lines += textwrap.wrap(shown.note, WIDTH)
    lines.append(f"{len(shown.rows)} alerts ({firing} firing, {len(shown.rows) - firing} pending)")
    for entry in answers["unanswered"]:
        lines.append(_fit(f"✗ no answer from {safe(entry['source'], 40)}: {safe(entry['error'], 200)}"))
    return "\n".join(lines + group_lines(shown, at))


def run_past(args: argparse.Namespace) -> int:
    """`--at`: the alerts Prometheus's rules had firing then, of every configured source's
    Prometheus (or `--source`'s, by its selector's rule; or `--url`'s). Exit 3 when one did not
    answer (the board may lack its alerts), else 1 when any was firing, else 0."""
    at = parse_time(args.at)
    if args.alertmanager:
        raise CliError("--alertmanager with --at: Alertmanager keeps no history; the alerts of a past moment "
                       "come from Prometheus (--url URL, or the config's sources)")
    settings = load_config(args)
    print_warnings(settings)
    selector = settings.sources[0].selector if args.source else ""
    asked = servers(settings.sources)

    async def ask() -> tuple[AlertsBoard, list[str]]:
        return await gather_all(fetch_past(asked, at, selector),
                                retention_warnings([source for source, _ in asked], at, "--at"))  # fmt: skip

    shown, warnings = asyncio.run(ask())
    print_lines(warnings)
    answers = past_answers(shown, asked)
    if args.format == "json":
        output.write(output.json_text(past_json(shown, at, answers)))
    else:
        output.write(render_past(shown, at, answers) + "\n")
    if answers["unanswered"]:
        return EXIT_SOURCE
    return EXIT_FIRING if shown.active else EXIT_OK
