"""What every subcommand shares: the contract's exit codes, CliError, the source options and
the one way from `--config/--url/--source` to settings and detectors (config errors exit 2)."""

from __future__ import annotations

import argparse
import calendar
import math
import re
import sys
import time

from promsoc.config import ConfigError, Settings, load_settings
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.spec import Detector, SpecError
from promsoc.text import safe_lines

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
    """The config per the contract (--config, --url, --source, --alertmanager); a ConfigError exits 2."""
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


def print_warnings(settings: Settings) -> None:
    """The config's non-fatal findings, one `promsoc: warning:` line each on stderr."""
    for warning in settings.warnings:
        print(f"promsoc: warning: {safe_lines(warning)}", file=sys.stderr)


_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*([Zz]|[+-]\d{2}:?\d{2})?$"
)


def parse_time(text: str, option: str = "--at") -> float:
    """RFC 3339 or Unix seconds -> Unix seconds; a bad value is a usage error."""
    value = text.strip()
    try:
        return moment(float(value), option, text)
    except ValueError:
        pass
    match = _RFC3339.match(value)
    if not match:
        raise CliError(f"{option}: {text!r} is neither RFC 3339 (2026-11-28T03:12:00Z) nor Unix seconds")
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    frac = float(match.group(7) or 0)
    zone = match.group(8) or "Z"
    try:
        stamp = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
        time.gmtime(stamp)
    except (ValueError, OverflowError) as exc:
        raise CliError(f"{option}: {text!r} is not a valid time ({exc})") from None
    if zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        stamp -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return moment(stamp + frac, option, text)


LAST_MOMENT = 7258118400.0
"""2200-01-01T00:00:00Z: later (or before 1970) is a typo, and would not print as RFC 3339."""


def moment(stamp: float, option: str, text: str = "") -> float:
    """`stamp` if it is a finite time between 1970 and 2200; else a usage error naming `option`."""
    shown = text or f"{stamp:g}"
    if not math.isfinite(stamp):
        raise CliError(f"{option}: {shown!r} is not a time (RFC 3339 like 2026-11-28T03:12:00Z, or Unix seconds)")
    if not 0 <= stamp < LAST_MOMENT:
        raise CliError(f"{option}: {shown!r} gives a moment outside 1970-2200")
    return stamp


def parse_moment(text: str, now: float, option: str) -> float:
    """`now`, a time before now (`-8h`, `-2d`), RFC 3339 or Unix seconds -> Unix seconds."""
    value = text.strip()
    if value.lower() == "now":
        return now
    if value.startswith("-") and value[1:2].isdigit() and not value[1:].replace(".", "").isdigit():
        try:
            return moment(now - parse_duration(value[1:], option), option, text)
        except CliError:
            raise CliError(
                f"{option}: {text!r} is not a time before now like -8h, -2d or -1h30m"
            ) from None
    return parse_time(value, option)


MAX_DURATION = 200 * 31536000.0
_DURATION = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def parse_duration(text: str, option: str = "duration") -> float:
    """A Prometheus duration (5m, 1h30m, 2d, 4w) -> seconds; a bad value is a usage error."""
    value = text.strip()
    pos, total = 0, 0.0
    for match in _DURATION.finditer(value):
        if match.start() != pos or len(match.group(1)) > 12:
            break
        total += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not value or pos != len(value):
        raise CliError(f"{option}: {text!r} is not a Prometheus duration like 5m, 1h, 2d or 4w")
    if total > MAX_DURATION:
        raise CliError(f"{option}: {text!r} is longer than 200 years")
    return total


def format_time(stamp: float) -> str:
    """Unix seconds -> RFC 3339 UTC with a Z, as the contract's JSON prints it."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
