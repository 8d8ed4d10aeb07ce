"""`promsoc rules export`: the detector packs as a Prometheus rules file or PrometheusRule."""

from __future__ import annotations

import argparse
from pathlib import Path

from promsoc.cli.common import EXIT_OK, EXIT_USAGE, CliError, configured_detectors, load_config
from promsoc.cli.output import write
from promsoc.detectors.rules import FORMATS, export, export_recording


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="export the detector pack as Prometheus alerting rules",
        description="Work with the detectors as Prometheus alerting rules.",
    )
    sub = parser.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    exp = sub.add_parser(
        "export",
        help="write one alerting rule per enabled detector",
        description=(
            "Write the enabled detectors (built-in packs, packs_dir and the config's overrides) "
            "as a Prometheus rules file, or as a prometheus-operator PrometheusRule."
        ),
    )
    exp.add_argument("--config", metavar="PATH", help="config file (for detector overrides)")
    exp.add_argument("--format", choices=FORMATS, default="rules")
    exp.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    exp.add_argument("--name", default=None, help="metadata.name of the PrometheusRule")
    exp.add_argument("--recording", action="store_true",
                     help="the recording rules for the heavy building blocks (pod -> workload map), "
                     "which promsoc then reads wherever a source has them")
    exp.set_defaults(handler=run, url=None, source=None)


def run(args: argparse.Namespace) -> int:
    """Render and write; a config error exits 2, an unwritable file too."""
    settings = load_config(args, require_sources=False)
    detectors = configured_detectors(settings)
    if args.recording:  # the configured detectors: their signals are recorded as configured
        text = export_recording(detectors, args.format, args.name or "promsoc-recording")
    else:
        text = export(detectors, args.format, args.name or "promsoc")
    if not args.output or args.output == "-":
        write(text)
        return EXIT_OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"-o {args.output}: {exc.strerror or exc}", EXIT_USAGE) from None
    return EXIT_OK
