"""`promsoc demo`: the built-in lab, and the console on top of it."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promsoc.cli.common import EXIT_USAGE, CliError, configured_detectors, load_config

if TYPE_CHECKING:  # the lab (multiprocessing, the simulator) loads only when demo runs
    from promsoc.lab import Lab, LabOptions


_NO_SOURCES = argparse.Namespace(config=None, url=None, source=None)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "demo",
        help="start the built-in lab (a real Prometheus fed by a simulated, attacked cluster)",
        description="Start a real Prometheus fed by a simulated cluster under scripted attack, "
        "then open the console on it.",
    )
    parser.add_argument("--no-tui", action="store_true",
                        help="only run the lab: print its Prometheus URL and serve until Ctrl-C")
    parser.add_argument("--pods", type=int, default=120, help="pods in the simulated cluster (max 5000)")
    parser.add_argument("--nodes", type=int, default=6, help="nodes in the simulated cluster (max 200)")
    parser.add_argument("--clusters", type=int, default=1,
                        help="simulate N clusters behind one Prometheus (a `cluster` label, as Thanos/Mimir "
                        "show them); the console gets one source per cluster")
    parser.add_argument("--topology-only", action="store_true",
                        help="only the topology families (kube-state-metrics): a fast start for map benchmarks")
    parser.add_argument("--no-cache", action="store_true",
                        help="rebuild the simulated history instead of reusing a recent one")
    parser.add_argument("--legacy-falcosidekick", action="store_true",
                        help="emit falcosidekick's pre-2.30 metric names")
    parser.add_argument("--ingress-status-classes", action="store_true",
                        help='ingress-nginx as with --report-status-classes (status="4xx", not "404")')
    parser.add_argument("--theme", help="console theme (see `promsoc tui --help`)")
    parser.add_argument("--kiosk", action="store_true", help="open the console in kiosk mode")
    parser.add_argument("--no-alertmanager", action="store_true",
                        help="no Alertmanager and no alerting rules in the lab")
    parser.add_argument("--recording-rules", action="store_true",
                        help="the lab's Prometheus records the heavy building blocks (`promsoc rules export "
                        "--recording`; with --clusters, split by cluster), which the console then reads")
    parser.set_defaults(handler=run)


def _options(args: argparse.Namespace) -> LabOptions:
    from promsoc.lab import LabOptions

    if not 6 <= args.pods <= 5000:
        raise CliError(f"--pods: {args.pods} is outside 6..5000")
    if not 2 <= args.nodes <= 200:
        raise CliError(f"--nodes: {args.nodes} is outside 2..200")
    if not 1 <= args.clusters <= 50:
        raise CliError(f"--clusters: {args.clusters} is outside 1..50")
    if args.pods * args.clusters > 5000:
        raise CliError(f"--pods x --clusters: {args.pods * args.clusters} pods in all, more than the lab's 5000")
    scaled = args.pods != 120 or args.nodes != 6 or args.clusters > 1
    alerts = not args.no_alertmanager and _alertmanager_installed()
    return LabOptions(
        pods=args.pods,
        nodes=args.nodes,
        clusters=args.clusters,
        cache=not args.no_cache,
        falcosidekick_legacy=args.legacy_falcosidekick,
        ingress_status_classes=args.ingress_status_classes,
        # every detector's metrics at any scale; a scaled cluster (or several) keeps 2 days of
        # topology and one day of traffic (the seasonal band's day-ago point), 30 s samples only in
        # the last hour (120 s before): its cold start is mostly samples through promtool
        traffic=not args.topology_only,
        history_days=29.0 if not scaled else 2.0,
        traffic_days=8.0 if not scaled else 1.0,
        fine_hours=10.0 if not scaled else 1.0,
        # the loop on-call lives in: promsoc's detectors as Prometheus rules, firing into Alertmanager
        alertmanager=alerts,
        alert_rules=_alert_rules(args.clusters) if alerts else "",
        recording_rules=_recording_rules(args.clusters) if args.recording_rules else "",
    )


def _alertmanager_installed() -> bool:
    """Whether the demo can start an Alertmanager; without one it says how to get it and goes on."""
    from promsoc.lab.alertmanager import AlertmanagerNotFound, find_alertmanager

    try:
        find_alertmanager()
    except AlertmanagerNotFound as exc:
        print(f"promsoc demo: no alerts view today: {exc}", file=sys.stderr)
        return False
    return True


def _alert_rules(clusters: int = 1) -> str:
    """`promsoc rules export` of the detectors the console runs (the config's overrides apply); with
    several clusters `--by cluster`, so each alert is one cluster's and says which."""
    from promsoc.detectors.rules import export_by

    detectors = configured_detectors(load_config(_NO_SOURCES, require_sources=False))
    return export_by(detectors, "rules", "promsoc", "cluster" if clusters > 1 else None).text


def _recording_rules(clusters: int = 1) -> str:
    """`promsoc rules export --recording` of the detectors the console runs; with several clusters
    `--by cluster`, so each cluster's source reads its own cluster's recorded blocks."""
    from promsoc.detectors.rules import export_recording

    detectors = configured_detectors(load_config(_NO_SOURCES, require_sources=False))
    return export_recording(detectors, by="cluster" if clusters > 1 else None)


def run(args: argparse.Namespace) -> int:
    from promsoc.lab import Lab, LabError, PrometheusNotFound

    options = _options(args)
    if not args.no_tui:
        _require_terminal()
    print("promsoc demo: building the lab (a simulated cluster's history, then Prometheus)...",
          file=sys.stderr, flush=True)
    try:
        lab = Lab(options).start()
    except PrometheusNotFound as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    except LabError as exc:
        raise CliError(f"the lab could not start: {exc}", EXIT_USAGE) from None
    try:
        with tempfile.TemporaryDirectory(prefix="promsoc-demo-") as tmp:
            how = "reused a cached history" if lab.cache_hit else "built a fresh history"
            print(f"promsoc demo: lab ready in {lab.startup_seconds:.1f}s ({how})", file=sys.stderr)
            config = None
            if options.clusters > 1:  # one source per cluster, as a config file the user can reuse
                config = Path(tmp) / "promsoc-demo.yaml"
                config.write_text(sources_config(lab.url, options.clusters), encoding="utf-8")
            if args.no_tui:
                return _serve(lab, config)
            return _console(lab, args, config)
    finally:
        lab.stop()


def sources_config(url: str, clusters: int) -> str:
    """The config of a multi-cluster lab: one source per cluster, all on the lab's Prometheus, each
    with the `cluster` selector that every one of its queries gets (as on Thanos or Mimir)."""
    from promsoc.lab.simulator import cluster_name

    lines = [f"# promsoc demo --clusters {clusters}: one source per simulated cluster", "sources:"]
    for index in range(clusters):
        name = cluster_name(index)
        lines += [f"  - name: {name}", f"    url: {url}", f"    selector: 'cluster=\"{name}\"'"]
    return "\n".join(lines) + "\n"


def _require_terminal() -> None:
    """Refuse before the lab is built: the console could not draw anyway."""
    try:
        from promsoc.tui.terminal import NotATerminal, require_terminal
    except ImportError:  # no console in this build: the lab is served instead
        return
    try:
        require_terminal()
    except NotATerminal as exc:
        raise CliError(f"{exc}; `promsoc demo --no-tui` serves the lab alone", EXIT_USAGE) from None


def _serve(lab: Lab, config: Path | None) -> int:
    print(f"Prometheus: {lab.url}", flush=True)
    if lab.alertmanager is not None:
        print(f"Alertmanager: {lab.alertmanager.url}", flush=True)
    if config is not None:
        print(f"Config: {config}", flush=True)
    target = f"--config {config}" if config is not None else f"--url {lab.url}"
    print(f"Serving the lab until Ctrl-C. Try: promsoc scan {target}", file=sys.stderr, flush=True)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stop.is_set():
        if lab.prometheus is None or not lab.prometheus.running:
            print("promsoc demo: Prometheus exited unexpectedly", file=sys.stderr)
            return 3
        stop.wait(1.0)
    return 0


def _console(lab: Lab, args: argparse.Namespace, config: Path | None) -> int:
    from dataclasses import replace

    from promsoc.config import adhoc_alertmanager, load_file, load_settings
    from promsoc.tui.app import run_console

    # the lab is the only source, named as in the contract's examples; or one source per cluster
    settings = load_settings(None, lab.url, "demo")
    if config is not None:
        settings = replace(settings, sources=load_file(config).sources)
    if lab.alertmanager is not None:
        # the lab's own Alertmanager: silencing from the console is part of the demo

        lab_am = replace(adhoc_alertmanager(lab.alertmanager.url), allow_silence=True)
        settings = replace(settings, alertmanager=lab_am, source_alertmanagers={})
    return int(run_console(settings, theme=args.theme, kiosk=args.kiosk, at=None))
