"""`promsoc serve` as a user runs it: the real command, on the lab's Prometheus, with real keys."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from promsoc.lab import Lab

LISTENING = re.compile(r"(ssh|web) listening on (?:http://)?([\d.]+):(\d+)")


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True)
    return path


@dataclass
class Served:
    """A running `promsoc serve` process: its addresses and everything it logged."""

    proc: subprocess.Popen[str]
    ports: dict[str, int] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def wait_log(self, pattern: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.log):
                if re.search(pattern, line):
                    return line
            time.sleep(0.1)
        raise AssertionError(f"no log line matching {pattern!r}; log:\n" + "".join(self.log))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError("promsoc serve did not stop on SIGTERM") from None


def start_serve(args: Sequence[str], *, expect: Sequence[str], env: dict[str, str] | None = None) -> Served:
    """Start `promsoc serve ARGS` and wait until every server in `expect` ('ssh', 'web') listens."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "promsoc", "serve", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    served = Served(proc)

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            served.log.append(line)
            match = LISTENING.search(line)
            if match:
                served.ports[match.group(1)] = int(match.group(3))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not set(expect) <= set(served.ports):
        if proc.poll() is not None:
            time.sleep(0.3)
            raise AssertionError(f"promsoc serve exited {proc.returncode}:\n" + "".join(served.log))
        time.sleep(0.1)
    if not set(expect) <= set(served.ports):
        served.stop()
        raise AssertionError("promsoc serve did not start listening:\n" + "".join(served.log))
    return served


@dataclass
class SshSetup:
    served: Served
    folder: Path
    viewer_key: Path
    stranger_key: Path
    authorized_keys: Path
    host_key: Path

    def ssh(self, *extra: str, key: Path | None = None, user: str = "soc") -> list[str]:
        return [
            "ssh", "-p", str(self.served.ports["ssh"]), "-i", str(key or self.viewer_key),
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", f"UserKnownHostsFile={self.folder / 'known_hosts'}", "-o", "LogLevel=ERROR",
            "-F", "/dev/null", *extra, f"{user}@127.0.0.1",
        ]  # fmt: skip


@pytest.fixture(scope="module")
def ssh_setup(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshSetup]:
    folder = tmp_path_factory.mktemp("serve-ssh")
    viewer, stranger = keygen(folder / "viewer"), keygen(folder / "stranger")
    authorized = folder / "authorized_keys"
    authorized.write_text((folder / "viewer.pub").read_text())
    host_key = folder / "state" / "host_key"
    served = start_serve(
        ["--url", lab.url, "--ssh", "127.0.0.1:0", "--host-key", str(host_key), "--authorized-keys", str(authorized)],
        expect=["ssh"],
    )
    try:
        yield SshSetup(served, folder, viewer, stranger, authorized, host_key)
    finally:
        served.stop()
