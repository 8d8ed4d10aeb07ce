"""`promsoc rules export`: the detector packs as a Prometheus rules file or PrometheusRule."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from promsoc.cli.common import EXIT_OK, EXIT_USAGE, CliError, configured_detectors, load_config
from promsoc.cli.output import write
from promsoc.detectors.rules import FORMATS, export_by, export_recording, valid_label
from promsoc.text import safe


def _label(text: str) -> str:
    try:
        return valid_label(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
            "as a Prometheus rules file, or as a prometheus-operator PrometheusRule. Many clusters behind "
            "one Prometheus (Thanos, Mimir): `--by cluster` for the alerting rules, `--recording --by "
            "cluster` for the recording rules, which each cluster's source (selector cluster=\"...\") then reads."
        ),
    )
    exp.add_argument("--config", metavar="PATH", help="config file (for detector overrides)")
    exp.add_argument("--format", choices=FORMATS, default="rules")
    exp.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    exp.add_argument("--name", default=None, help="metadata.name of the PrometheusRule")
    exp.add_argument("--recording", action="store_true",
                     help="the recording rules for the heavy building blocks (pod -> workload map, the sibling "
                     "detectors' signals, time bands, pods per node, the presence check), which promsoc then "
                     "reads wherever a source has them")
    exp.add_argument("--by", metavar="LABEL", type=_label, default=None,
                     help="a label every alert keeps (e.g. cluster, on a Thanos/Mimir/VictoriaMetrics holding "
                     "many clusters): each query groups and joins by it too, so a rule evaluates each value "
                     "apart and its alerts say which; a query that cannot keep it is exported as it is, "
                     "with a warning. With --recording: every block keeps LABEL and its marker is one per "
                     "value, so a source whose selector is e.g. cluster=\"c7\" reads c7's recorded blocks "
                     "(and its raw queries where c7's marker is missing); a block that cannot keep LABEL is "
                     "refused (exit 2)")
    exp.set_defaults(handler=run, url=None, source=None)


def run(args: argparse.Namespace) -> int:
    """Render and write; a config error exits 2, an unwritable file too."""
    settings = load_config(args, require_sources=False)
    detectors = configured_detectors(settings)
    if args.recording:  # the configured detectors: their signals are recorded as configured
        try:
            text = export_recording(detectors, args.format, args.name or "promsoc-recording", args.by)
        except ValueError as exc:  # a block that cannot keep the label: nothing half-split is written
            reason = safe(" ".join(str(exc).split()), 600)
            raise CliError(f"--recording --by {args.by}: {reason}; export without --by (read by sources "
                           f"that see every {args.by}) or disable that detector", EXIT_USAGE) from None
    else:
        done = export_by(detectors, args.format, args.name or "promsoc", args.by)
        text = done.text
        for alert, why in done.unsplit.items():
            reason = safe(" ".join(why.split()), 400)
            print(f"promsoc: warning: {alert} not split by {args.by} ({reason}): exported as it is, "
                  f"its alerts carry no {args.by}", file=sys.stderr)
    if not args.output or args.output == "-":
        write(text)
        return EXIT_OK
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"-o {args.output}: {exc.strerror or exc}", EXIT_USAGE) from None
    return EXIT_OK
