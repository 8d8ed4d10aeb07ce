"""What every subcommand shares: the contract's exit codes, CliError, the source options and
the one way from `--config/--url/--source` to settings and detectors (config errors exit 2)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from promsoc import times
from promsoc.config import ConfigError, Settings, load_settings
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.spec import Detector, SpecError
from promsoc.tasks import gather_all
from promsoc.text import safe, safe_lines

if TYPE_CHECKING:
    from promsoc.prom.client import PromClient
    from promsoc.prom.settings import Source

T = TypeVar("T")

EXIT_OK = 0
EXIT_FIRING = 1
EXIT_USAGE = 2
EXIT_SOURCE = 3
WIDTH = 80
"""Headless output fits an 80-column terminal."""
EXIT_BLIND = 4
"""Ran, nothing firing, but every detector of every source was no_data: blind, not clean."""


class CliError(Exception):
    """A failure to report as one line on stderr with the contract's exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """--config, --url and --source, common to tui, scan, topology and check."""
    parser.add_argument("--config", metavar="PATH",
                        help="config file (default: $PROMSOC_CONFIG, then the XDG config dir)")
    parser.add_argument("--url", metavar="URL",
                        help="an ad-hoc Prometheus URL (no auth); overrides the config's sources")
    parser.add_argument("--source", metavar="NAME", help="restrict to one configured source")


def add_alertmanager_option(parser: argparse.ArgumentParser) -> None:
    """--alertmanager URL: a quick look at an Alertmanager (no auth, read-only)."""
    parser.add_argument("--alertmanager", metavar="URL",
                        help="an ad-hoc Alertmanager URL (no auth, read-only); overrides the config's")


def load_config(args: argparse.Namespace, require_sources: bool = True) -> Settings:
    """The config per the contract (--config, --url, --source, --alertmanager); a ConfigError
    (or a bad `$PROMSOC_FANIN_WINDOW`) exits 2."""
    from promsoc.prom.sources import fanin_window

    try:
        fanin_window()
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    try:
        return load_settings(
            args.config, args.url, args.source, require_sources=require_sources,
            alertmanager=getattr(args, "alertmanager", None),
        )  # fmt: skip
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


def configured_detectors(settings: Settings, include_disabled: bool = False) -> list[Detector]:
    """Built-in packs, the user's packs_dir and per-detector settings; errors exit 2."""
    try:
        return load_detectors(settings.packs_dir, settings.detectors, include_disabled)
    except SpecError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None


async def retention_warnings(sources: Sequence[Source], at: float, option: str) -> list[str]:
    """One warning per source whose retention ends after `at` (expect no data then).

    One cheap request per source (`/api/v1/status/runtimeinfo`, asked in parallel); a server that
    does not say (Thanos, Mimir, a size-only retention) gets no warning. A history shorter than
    the retention (a young Prometheus) is not known this cheaply, so it is not warned about."""
    from promsoc.prom.client import PromClient

    async def retention(source: Source) -> float | None:
        async with PromClient(source) as client:
            return await client.retention()

    kept = await asyncio.gather(*(retention(s) for s in sources))
    oldest = {source.name: seconds for source, seconds in zip(sources, kept, strict=True) if seconds is not None}
    now = time.time()
    return [
        f"promsoc: warning: {option} {format_time(at)} is older than source {safe(name, 40)} keeps samples "
        f"({seconds / 86400:g} days' retention): expect no data"
        for name, seconds in oldest.items()
        if at < now - seconds
    ]


async def no_warnings() -> list[str]:
    return []


async def per_source(
    sources: Sequence[Source], ask: Callable[[PromClient, str], Awaitable[Sequence[T]]]
) -> list[T]:
    """`ask(client, name)` on every source at once (a client each, all closed after); the answers
    in source order, flattened. A failure cancels the other sources' work before it is raised."""
    from promsoc.prom.fanin import asking_together
    from promsoc.prom.sources import Sources

    async with Sources(sources) as pool:
        with asking_together():  # sources sharing a server (and differing by one label) ask once
            answers = await gather_all(*(ask(pool[name], name) for name in pool.names))
    return [item for items in answers for item in items]


def print_lines(lines: Sequence[str]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def print_warnings(settings: Settings) -> None:
    """The config's non-fatal findings, one `promsoc: warning:` line each on stderr."""
    for warning in settings.warnings:
        print(f"promsoc: warning: {safe_lines(warning)}", file=sys.stderr)


def parse_time(text: str, option: str = "--at") -> float:
    """RFC 3339 or Unix seconds -> Unix seconds (`promsoc.times`); a bad value is a usage error."""
    try:
        return times.parse_time(text)
    except times.TimeError as exc:
        raise CliError(f"{option}: {exc}") from None


def moment(stamp: float, option: str, text: str = "") -> float:
    """`stamp` if it is a finite time between 1970 and 2200; else a usage error naming `option`."""
    try:
        return times.check_moment(stamp, text)
    except times.TimeError as exc:
        raise CliError(f"{option}: {exc}") from None


def parse_moment(text: str, now: float, option: str) -> float:
    """`now`, a time before now (`-8h`, `-2d`), RFC 3339 or Unix seconds -> Unix seconds."""
    try:
        return times.parse_moment(text, now)
    except times.TimeError as exc:
        raise CliError(f"{option}: {exc}") from None


MAX_DURATION = 200 * 31536000.0
"""200 years: a longer duration on the command line is a typo."""


def parse_duration(text: str, option: str = "duration") -> float:
    """A Prometheus duration (5m, 1h30m, 2d, 4w) -> seconds; a bad value is a usage error."""
    try:
        seconds = times.parse_duration(text)
    except times.TimeError as exc:
        raise CliError(f"{option}: {exc}") from None
    if seconds > MAX_DURATION:
        raise CliError(f"{option}: {text!r} is longer than 200 years")
    return seconds


format_time = times.format_rfc3339
"""Unix seconds -> RFC 3339 UTC with a Z, as the contract's JSON prints it."""
