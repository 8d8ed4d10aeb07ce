"""`promsoc` / `promsoc tui`: open the console on the configured (or --url) sources."""

from __future__ import annotations

import argparse
from typing import Any

from promsoc.cli.common import (
    CliError,
    add_alertmanager_option,
    add_source_options,
    load_config,
    parse_time,
    print_warnings,
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "tui", help="the console (the default command)", description="Open the console."
    )
    add_source_options(parser)
    add_alertmanager_option(parser)
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="dark, light, high-contrast, 16-colour, or a theme from your themes folder",
    )
    parser.add_argument(
        "--kiosk",
        action="store_true",
        help="wall display: no key hints, rotate overview → Falco → topology",
    )
    parser.add_argument(
        "--at",
        metavar="TIME",
        help="start with the time cursor at TIME (RFC 3339 or Unix seconds) instead of live",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from promsoc.tui.live_backend import LiveBackend
    from promsoc.tui.terminal import not_a_terminal

    settings = load_config(args)
    print_warnings(settings)  # before the console takes the screen; still there after it quits
    at = parse_time(args.at) if args.at else None
    backend = LiveBackend(settings)
    if not_a_terminal() is None:
        # The first scan starts before Textual is even imported: Prometheus answers while the
        # console loads and draws, and the first full frame is the longer of the two, not their sum.
        backend.begin(at)

    from promsoc.tui.app import run_console
    from promsoc.tui.terminal import NotATerminal
    from promsoc.tui.themes import ThemeError

    try:
        return run_console(settings, theme=args.theme, kiosk=args.kiosk, at=at, backend=backend)
    except (ThemeError, NotATerminal) as exc:
        raise CliError(str(exc)) from None
