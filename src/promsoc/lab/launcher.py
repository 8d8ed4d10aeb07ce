"""Start and stop a real Prometheus server for the lab, the demo and the tests."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Protocol

import yaml

INSTALL_HINT = (
    "promsoc's lab needs the Prometheus server and promtool.\n"
    "  Debian/Ubuntu: sudo apt-get install --no-install-recommends prometheus\n"
    "  macOS:         brew install prometheus\n"
    "or point $PROMSOC_PROMETHEUS_BIN at the prometheus binary (promtool is looked for beside it)."
)

READY_LINE = "Server is ready to receive web requests."


class LabError(Exception):
    """The lab could not start; the message is one readable paragraph for the user."""


class PrometheusNotFound(LabError):
    """prometheus or promtool is not installed."""


@dataclass(frozen=True)
class Binaries:
    prometheus: Path
    promtool: Path


def find_binaries() -> Binaries:
    """Find prometheus and promtool via $PROMSOC_PROMETHEUS_BIN or PATH."""
    override = os.environ.get("PROMSOC_PROMETHEUS_BIN")
    if override:
        prom = Path(override)
        if prom.is_dir():
            prom = prom / "prometheus"
        tool = prom.with_name("promtool")
        if not tool.exists():
            found = shutil.which("promtool")
            tool = Path(found) if found else tool
    else:
        found_prom = shutil.which("prometheus")
        found_tool = shutil.which("promtool")
        if not found_prom or not found_tool:
            missing = " and ".join(
                n for n, f in (("prometheus", found_prom), ("promtool", found_tool)) if not f
            )
            raise PrometheusNotFound(f"{missing} not found on PATH.\n{INSTALL_HINT}")
        prom, tool = Path(found_prom), Path(found_tool)
    for path in (prom, tool):
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise PrometheusNotFound(f"{path} is not an executable file.\n{INSTALL_HINT}")
    return Binaries(prom, tool)


def end_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM a server we started, SIGKILL it if it has not gone within 10 s."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def free_port() -> int:
    """A loopback TCP port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the child when the parent dies, so no server is orphaned."""
    os.setsid()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class PrometheusServer:
    """One Prometheus process on 127.0.0.1 with its own data directory.

    Use as a context manager; it is also stopped at interpreter exit and on SIGTERM.
    """

    data_dir: Path | None = None
    scrape_targets: Sequence[str] = ()
    scrape_options: Mapping[str, object] = field(default_factory=dict)
    """Extra keys of the scrape job (e.g. honor_timestamps: false for dumps with old timestamps)."""
    scrape_interval: str = "10s"
    retention: str = "90d"
    web_config: dict[str, object] | None = None
    extra_args: Sequence[str] = ()
    rule_files: Sequence[Path] = ()
    """Alerting-rules files Prometheus evaluates (e.g. `promsoc rules export`)."""
    alertmanagers: Sequence[str] = ()
    """host:port of the Alertmanagers the rules' alerts are sent to."""
    binaries: Binaries | None = None
    port: int = 0
    scheme: str = "http"
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)
    _workdir: Path | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_path(self) -> Path:
        assert self._workdir is not None
        return self._workdir / "prometheus.log"

    def _write_config(self, workdir: Path) -> Path:
        config: dict[str, object] = {
            "global": {
                "scrape_interval": self.scrape_interval,
                "scrape_timeout": self.scrape_interval,
                "evaluation_interval": "15s",
            },
            "scrape_configs": [],
        }
        if self.scrape_targets:
            config["scrape_configs"] = [
                {
                    "job_name": "promsoc-lab",
                    # The simulator writes job/instance itself, exactly as in its backfill.
                    "honor_labels": True,
                    "static_configs": [{"targets": list(self.scrape_targets)}],
                    **self.scrape_options,
                }
            ]
        if self.rule_files:
            config["rule_files"] = [str(path) for path in self.rule_files]
        if self.alertmanagers:
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": list(self.alertmanagers)}]}]}
        path = workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    def start(self, timeout: float = 60.0) -> PrometheusServer:
        bins = self.binaries or find_binaries()
        self._tmp = tempfile.TemporaryDirectory(prefix="promsoc-prom-")
        self._workdir = Path(self._tmp.name)
        data_dir = self.data_dir or (self._workdir / "data")
        data_dir.mkdir(parents=True, exist_ok=True)
        config = self._write_config(self._workdir)
        for _attempt in range(5):
            self.port = self.port or free_port()
            args = [
                str(bins.prometheus),
                f"--config.file={config}",
                f"--storage.tsdb.path={data_dir}",
                f"--storage.tsdb.retention.time={self.retention}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                "--query.lookback-delta=5m",
                *self.extra_args,
            ]
            if self.alertmanagers:
                # Prometheus's first send can come before its notifier knows the Alertmanager; the
                # default resend after 1 min would keep the lab's first alert away that long.
                args.append("--rules.alert.resend-delay=5s")
            if self.web_config is not None:
                web = self._workdir / "web.yml"
                web.write_text(yaml.safe_dump(self.web_config))
                args.append(f"--web.config.file={web}")
            with open(self.log_path, "wb") as log:
                self._proc = subprocess.Popen(
                    args,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent,
                )
            _REGISTRY.add(self)
            outcome = self._wait_ready(timeout)
            if outcome == "ready":
                return self
            self.stop()
            if outcome == "port" and self.port:
                self.port = 0
                continue
            raise LabError(f"Prometheus did not become ready: {self._log_tail()}")
        raise LabError("Prometheus could not find a free port after 5 attempts")

    def _wait_ready(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        assert self._proc is not None
        while time.monotonic() < deadline:
            log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            if self._proc.poll() is not None:
                return "port" if "address already in use" in log else "exited"
            if READY_LINE in log and (self.web_config is not None or self._http_ready()):
                return "ready"
            time.sleep(0.05)
        return "timeout"

    def _http_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:  # noqa: S310
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def _log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:])

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        end_process(proc)
        _REGISTRY.discard(self)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> PrometheusServer:
        return self.start() if self._proc is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class Stoppable(Protocol):
    def stop(self) -> None: ...


class _Registry:
    """Every running server, so that exit and SIGTERM stop them all."""

    def __init__(self) -> None:
        self._servers: list[Stoppable] = []
        self._installed = False

    def add(self, server: Stoppable) -> None:
        if server not in self._servers:
            self._servers.append(server)
        if not self._installed:
            self._installed = True
            atexit.register(self.stop_all)
            with contextlib.suppress(ValueError):  # not in the main thread
                previous = signal.getsignal(signal.SIGTERM)

                def on_term(signum: int, frame: object) -> None:
                    self.stop_all()
                    if callable(previous):
                        previous(signum, frame)  # type: ignore[arg-type]
                    raise SystemExit(128 + signum)

                signal.signal(signal.SIGTERM, on_term)

    def discard(self, server: Stoppable) -> None:
        if server in self._servers:
            self._servers.remove(server)

    def stop_all(self) -> None:
        for server in list(self._servers):
            server.stop()


_REGISTRY = _Registry()
