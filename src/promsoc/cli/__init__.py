"""Command-line entry point: parses arguments and hands each subcommand to its module."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from promsoc import __version__
from promsoc.cli import alerts, check, demo, rules, scan, serve, timeline, topology, tui
from promsoc.cli.common import EXIT_USAGE, CliError
from promsoc.cli.output import EXIT_PIPE, OutputError, silence_stdout, write
from promsoc.text import one_line, safe_lines

# Each command module's register(subparsers) adds its parser with a `handler` default.
REGISTER = (
    tui.register, demo.register, scan.register, topology.register, rules.register, check.register,
    alerts.register, serve.register, timeline.register,
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promsoc",
        description="A terminal console for defending Kubernetes clusters with Prometheus metrics.",
    )
    parser.add_argument("--version", action="version", version=f"promsoc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in REGISTER:
        register(sub)
    return parser


def _pipe_gone() -> int:
    silence_stdout()  # the interpreter's last flush of what is left stays quiet
    return EXIT_PIPE


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not args_list or (args_list[0].startswith("-") and args_list[0] not in ("-h", "--help", "--version")):
        args_list = ["tui", *args_list]
    if args_list[0] == "timeline":
        from promsoc.cli.timeline import glue_relative_times

        args_list = glue_relative_times(args_list)
    args = parser.parse_args(args_list)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        code = int(handler(args))
        write("")  # flush now: a closed pipe or a full disk is reported here, not at exit
        return code
    except OutputError as exc:
        if str(exc):
            print(f"promsoc: {safe_lines(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # any other write to a reader that left (stdout or stderr)
        return _pipe_gone()
    except CliError as exc:  # server text reaches the terminal here: made inert
        print(f"promsoc: {safe_lines(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: never a traceback for the user
        if os.environ.get("PROMSOC_DEBUG"):
            raise
        print(
            f"promsoc: internal error: {type(exc).__name__}: {one_line(exc)}\n"
            "  (set PROMSOC_DEBUG=1 to see the traceback, and please report it)",
            file=sys.stderr,
        )
        return 70
