"""The lab: a real Prometheus fed by a simulated Kubernetes cluster under scripted attack."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path
from types import TracebackType

import yaml

from promsoc.lab import backfill
from promsoc.lab.alertmanager import AlertmanagerServer
from promsoc.lab.launcher import LabError, PrometheusNotFound, PrometheusServer, find_binaries
from promsoc.lab.scenario import OPENING_LEAD, Incident, Scenario
from promsoc.lab.server import MetricsServer
from promsoc.lab.simulator import SimOptions, Simulator

BLOCK = 7200  # seconds: the TSDB's 2 h blocks, which promtool cuts backfilled data into

__all__ = ["Incident", "Lab", "LabError", "LabOptions", "PrometheusNotFound", "Scenario"]


def _recorded_from(rules: str, start: float) -> str:
    """`rules` with each expression silent before `start` (a rules file's text, rewritten)."""
    document = yaml.safe_load(rules) or {}
    for group in document.get("groups") or ():
        for rule in group.get("rules") or ():
            rule["expr"] = f"({rule['expr']}) and on () (vector(time()) >= {start:.3f})"
    return str(yaml.safe_dump(document, sort_keys=False))


@dataclass(frozen=True)
class LabOptions(SimOptions):
    """SimOptions plus how the lab runs: scrape interval and the history cache."""

    scrape_interval: str = "10s"
    cache: bool = True
    cache_dir: Path | None = None
    alert_rules: str = ""
    """An alerting-rules file's text (`promsoc rules export`) for the lab's Prometheus to evaluate."""
    recording_rules: str = ""
    """A recording-rules file's text (`promsoc rules export --recording`, `--by cluster` for
    several clusters) for the lab's Prometheus to evaluate beside the alerting rules."""
    alertmanager: bool = False
    """Start a real Alertmanager too, and have Prometheus send its alerts there."""

    def sim_options(self) -> SimOptions:
        return SimOptions(**{f.name: getattr(self, f.name) for f in fields(SimOptions)})


class Lab:
    """Backfill the simulated history, serve live values, run Prometheus on them.

    `Lab(options).start()` (or `with Lab() as lab:`) gives `.url`, `.scenario` and `.anchor`;
    with `clusters` > 1, `.scenarios` holds each cluster's (`.scenario` is the first's).
    """

    def __init__(self, options: LabOptions | None = None) -> None:
        self.options = options or LabOptions()
        self.prometheus: PrometheusServer | None = None
        self.alertmanager: AlertmanagerServer | None = None
        self.metrics: MetricsServer | None = None
        self.simulator: Simulator | None = None
        self.cache_hit = False
        self.startup_seconds = 0.0
        self.ready_at = 0.0
        """When (Unix seconds) its Prometheus was up: rules evaluate, and `ALERTS` exists, from then."""
        self._tmp: str | None = None

    @property
    def url(self) -> str:
        assert self.prometheus is not None, "the lab is not running"
        return self.prometheus.url

    @property
    def scenario(self) -> Scenario:
        assert self.simulator is not None, "the lab is not running"
        return self.simulator.scenario

    @property
    def scenarios(self) -> dict[str, Scenario]:
        """Each cluster's scenario by its `cluster` label value (`LabOptions.clusters`)."""
        assert self.simulator is not None, "the lab is not running"
        return self.simulator.scenarios

    @property
    def anchor(self) -> float:
        """End of the backfilled history (Unix seconds); live scrapes continue after it."""
        return self.scenario.anchor

    def start(self) -> Lab:
        began = time.monotonic()
        binaries = find_binaries()
        opts = self.options
        sim_opts = opts.sim_options()
        now = time.time()
        self._tmp = tempfile.mkdtemp(prefix="promsoc-lab-")
        data_dir = Path(self._tmp) / "data"
        cache_dir = opts.cache_dir or backfill.default_cache_dir()
        cached = backfill.restore(cache_dir, sim_opts, now) if opts.cache else None
        # Live mode opens on an attack begun before now (scenario.OPENING); it lies after the
        # history's anchor, in the gap filled below, so the shared cache never holds it.
        opening = now - OPENING_LEAD
        try:
            sim = None
            if cached is not None:
                anchor, entry = cached
                sim = Simulator(anchor, sim_opts, live_start=now + 30, opening=max(opening, anchor + 1))
                try:
                    backfill.load_cached(entry, sim, data_dir)
                    self.cache_hit = True
                except backfill.CacheMiss:
                    sim = None  # pruned under our feet by another run: build afresh
            if sim is None:
                anchor = float(int(opening - 1) // 60 * 60)
                sim = Simulator(anchor, sim_opts, live_start=now + 30, opening=opening)
                start = anchor - sim_opts.history_days * 86400
                backfill.build_blocks(sim, binaries, data_dir, start, anchor)
                if opts.cache:
                    backfill.save(cache_dir, sim_opts, anchor, sim, data_dir)
            gap_end = float(int(time.time()) - 1)
            backfill.build_blocks(sim, binaries, data_dir, anchor + 1, gap_end)
            self.simulator = sim
            self.metrics = MetricsServer(sim).start()
            if opts.alertmanager:
                self.alertmanager = AlertmanagerServer(group_wait="5s").start()
            rule_files = []
            files = (("promsoc-rules.yml", opts.alert_rules), ("promsoc-recording.yml", opts.recording_rules))
            for name, text in files:
                if text:
                    rule_files.append(Path(self._tmp) / name)
                    rule_files[-1].write_text(text, encoding="utf-8")
            self.prometheus = PrometheusServer(
                data_dir=data_dir,
                scrape_targets=[f"127.0.0.1:{self.metrics.port}"],
                scrape_interval=opts.scrape_interval,
                retention="90d",
                rule_files=rule_files,
                alertmanagers=[self.alertmanager.address] if self.alertmanager else [],
                binaries=binaries,
            ).start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        self.ready_at = time.time()
        return self

    def backfill_rules(self, rules: str, start: float, end: float) -> None:
        """Record `rules` (a recording-rules file's text) over [start, end] from the lab's own data,
        as if Prometheus had run them since `start` (`promtool tsdb create-blocks-from rules`):
        the blocks go into its data directory, where it loads them within a minute. A rule that
        reads another recorded series is not supported by promtool: give the series it reads."""
        assert self.prometheus is not None and self._tmp is not None, "the lab is not running"
        # promtool 2.42 writes nothing (and exits 0) when the first 2 h block it cuts holds no
        # evaluation (prometheus#19714): it starts on a block boundary, a little earlier than
        # asked, and each rule records nothing before `start` (so the series begin exactly there).
        work = Path(tempfile.mkdtemp(prefix="rules-", dir=self._tmp))
        (work / "rules.yml").write_text(_recorded_from(rules, start), encoding="utf-8")
        start = start // BLOCK * BLOCK
        proc = subprocess.run(
            [str(find_binaries().promtool), "tsdb", "create-blocks-from", "rules", "-q",
             f"--url={self.url}", f"--start={int(start)}", f"--end={int(end)}",
             f"--output-dir={work / 'blocks'}", str(work / "rules.yml")],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise LabError(f"promtool could not backfill the rules: {proc.stderr[-2000:]}")
        blocks = list((work / "blocks").iterdir()) if (work / "blocks").is_dir() else []
        if not blocks:
            raise LabError(f"promtool wrote no blocks for the rules: {proc.stderr[-2000:]}")
        for block in blocks:
            shutil.move(str(block), str(Path(self._tmp) / "data" / block.name))
        shutil.rmtree(work, ignore_errors=True)

    def stop(self) -> None:
        if self.prometheus is not None:
            self.prometheus.stop()
            self.prometheus = None
        if self.alertmanager is not None:
            self.alertmanager.stop()
            self.alertmanager = None
        if self.metrics is not None:
            self.metrics.stop()
            self.metrics = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Lab:
        return self.start() if self.prometheus is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
