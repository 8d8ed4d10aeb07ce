"""Start and stop a real Alertmanager for the demo and the tests (found like Prometheus)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import yaml

from promsoc.lab.launcher import _REGISTRY, LabError, PrometheusNotFound, _die_with_parent, end_process, free_port

INSTALL_HINT = (
    "promsoc's demo and tests need Alertmanager.\n"
    "  Debian/Ubuntu: sudo apt-get install --no-install-recommends prometheus-alertmanager\n"
    "  macOS:         brew install alertmanager\n"
    "or point $PROMSOC_ALERTMANAGER_BIN at the alertmanager binary."
)
NAMES = ("prometheus-alertmanager", "alertmanager")  # Debian's name, then upstream's


class AlertmanagerNotFound(PrometheusNotFound):
    """No Alertmanager binary: the message says how to install one."""


def find_alertmanager() -> Path:
    """The Alertmanager binary: $PROMSOC_ALERTMANAGER_BIN, else Debian's or upstream's name on PATH."""
    override = os.environ.get("PROMSOC_ALERTMANAGER_BIN")
    found = override or next((hit for name in NAMES if (hit := shutil.which(name))), None)
    if not found:
        raise AlertmanagerNotFound(f"{' or '.join(NAMES)} not found on PATH.\n{INSTALL_HINT}")
    path = Path(found)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise AlertmanagerNotFound(f"{path} is not an executable file.\n{INSTALL_HINT}")
    return path


def _config(group_wait: str, inhibit_rules: list[dict[str, object]]) -> dict[str, object]:
    """Route everything to a receiver that sends nothing: the lab only holds and silences alerts."""
    config: dict[str, object] = {
        "route": {
            "receiver": "lab-null",
            "group_by": ["alertname"],
            "group_wait": group_wait,
            "group_interval": "10s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "lab-null"}],
    }
    if inhibit_rules:
        config["inhibit_rules"] = inhibit_rules
    return config


@dataclass
class AlertmanagerServer:
    """One Alertmanager on 127.0.0.1 with its own storage, clustering off.

    Use as a context manager; it is also stopped at interpreter exit and on SIGTERM.
    """

    web_config: dict[str, object] | None = None
    group_wait: str = "1s"
    inhibit_rules: list[dict[str, object]] = field(default_factory=list)
    binary: Path | None = None
    port: int = 0
    scheme: str = "http"
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        """host:port, as Prometheus's `alerting` section wants it."""
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30.0) -> AlertmanagerServer:
        binary = self.binary or find_alertmanager()
        self._tmp = tempfile.TemporaryDirectory(prefix="promsoc-am-")
        work = Path(self._tmp.name)
        config = work / "alertmanager.yml"
        config.write_text(yaml.safe_dump(_config(self.group_wait, self.inhibit_rules), sort_keys=False))
        for _attempt in range(5):
            self.port = self.port or free_port()
            args = [
                str(binary),
                f"--config.file={config}",
                f"--storage.path={work / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",  # no gossip port (9094) to collide on
                "--log.level=warn",
            ]
            if self.web_config is not None:
                web = work / "web.yml"
                web.write_text(yaml.safe_dump(self.web_config))
                args.append(f"--web.config.file={web}")
            with open(work / "alertmanager.log", "wb") as log:
                self._proc = subprocess.Popen(
                    args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent,
                )  # fmt: skip
            _REGISTRY.add(self)
            outcome = self._wait_ready(timeout, work / "alertmanager.log")
            if outcome == "ready":
                return self
            tail = self._log_tail(work / "alertmanager.log")
            self._halt()
            if outcome == "port":
                self.port = 0
                continue
            self.stop()
            raise LabError(f"Alertmanager did not become ready: {tail}")
        self.stop()
        raise LabError("Alertmanager could not find a free port after 5 attempts")

    def _wait_ready(self, timeout: float, log: Path) -> str:
        deadline = time.monotonic() + timeout
        assert self._proc is not None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                text = log.read_text(errors="replace") if log.exists() else ""
                return "port" if "address already in use" in text else "exited"
            if self._listening() and (self.web_config is not None or self._http_ready()):
                return "ready"
            time.sleep(0.05)
        return "timeout"

    def _listening(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def _http_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as resp:  # noqa: S310
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    @staticmethod
    def _log_tail(log: Path, lines: int = 6) -> str:
        try:
            return " | ".join(log.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _halt(self) -> None:
        proc, self._proc = self._proc, None
        end_process(proc)

    def stop(self) -> None:
        self._halt()
        _REGISTRY.discard(self)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> AlertmanagerServer:
        return self.start() if self._proc is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
