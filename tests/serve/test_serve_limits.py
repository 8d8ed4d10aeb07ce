"""`promsoc serve` with its limits set in the config file: session cap, idle timeout, open bind with a secret."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from promsoc.lab import Lab
from tests.serve.conftest import SshSetup, keygen, start_serve
from tests.serve.ptyclient import PtyClient


def test_max_sessions_and_idle_timeout_from_config(lab: Lab, tmp_path: Path) -> None:
    viewer = keygen(tmp_path / "viewer")
    (tmp_path / "authorized_keys").write_text((tmp_path / "viewer.pub").read_text())
    config = tmp_path / "config.yaml"
    config.write_text(
        "serve:\n  ssh:\n    authorized_keys: authorized_keys\n    host_key: host_key\n"
        "    idle_timeout: 6s\n    max_sessions: 1\n"
    )
    served = start_serve(["--config", str(config), "--url", lab.url, "--ssh", "127.0.0.1:0"], expect=["ssh"])
    setup = SshSetup(served, tmp_path, viewer, viewer, tmp_path / "authorized_keys", tmp_path / "host_key")
    first = PtyClient(setup.ssh("-tt"), 100, 30)
    try:
        first.wait_for("LIVE", timeout=20)
        second = subprocess.run(setup.ssh("-tt"), capture_output=True, text=True, timeout=30,
                                stdin=subprocess.DEVNULL)  # fmt: skip
        assert second.returncode == 1
        assert "1 viewers are connected already" in second.stdout + second.stderr
        assert served.wait_log(r"ended=too many sessions")
        started = time.monotonic()
        assert first.wait_exit(20) == 0  # nobody types: closed after the idle timeout
        assert time.monotonic() - started < 15
        assert b"session closed after 6 s without a key" in bytes(first.raw)
        assert served.wait_log(r"ssh session user=soc .*ended=idle")
    finally:
        first.close()
        assert served.stop() == 0


def test_open_bind_with_a_password_starts_and_asks_for_it(tmp_path: Path) -> None:
    secret = tmp_path / "web-password"
    secret.write_text("correct horse battery\n")
    config = tmp_path / "config.yaml"
    config.write_text("serve:\n  web:\n    listen: 0.0.0.0:0\n    password_file: web-password\n")
    served = start_serve(["--config", str(config), "--url", "http://127.0.0.1:9"], expect=["web"])
    try:
        port = served.ports["web"]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ws", timeout=10)
        assert refused.value.code == 401
        assert 'Basic realm="promsoc"' in refused.value.headers.get("WWW-Authenticate", "")
        assert served.wait_log(r"web listening on .*\(password/token\)")
    finally:
        assert served.stop() == 0
    assert "correct horse" not in "".join(served.log)


def test_sigterm_ends_every_session_and_exits_0(lab: Lab, tmp_path: Path) -> None:
    viewer = keygen(tmp_path / "viewer")
    (tmp_path / "authorized_keys").write_text((tmp_path / "viewer.pub").read_text())
    served = start_serve(
        ["--url", lab.url, "--ssh", "127.0.0.1:0", "--web", "127.0.0.1:0", "--host-key", str(tmp_path / "hk"),
         "--authorized-keys", str(tmp_path / "authorized_keys")],
        expect=["ssh", "web"],
    )  # fmt: skip
    setup = SshSetup(served, tmp_path, viewer, viewer, tmp_path / "authorized_keys", tmp_path / "hk")
    client = PtyClient(setup.ssh("-tt"), 100, 30)
    try:
        client.wait_for("LIVE", timeout=30)
        assert served.stop() == 0
        client.wait_exit(15)  # the viewer's connection is closed, not left hanging
        assert "Traceback" not in "".join(served.log)
    finally:
        client.close()


def test_port_in_use_and_unreadable_keys_are_exit_2(tmp_path: Path) -> None:
    keys = tmp_path / "authorized_keys"
    keys.write_text("")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for extra, message in (
            (["--ssh", f"127.0.0.1:{port}", "--authorized-keys", str(keys)], "cannot listen for SSH"),
            (["--web", f"127.0.0.1:{port}"], "cannot listen for the web console"),
            (["--ssh", "127.0.0.1:0", "--authorized-keys", str(tmp_path / "gone")], "cannot read the authorized keys"),
        ):
            done = subprocess.run(
                [sys.executable, "-m", "promsoc", "serve", "--url", "http://127.0.0.1:9",
                 "--host-key", str(tmp_path / "hk"), *extra],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            assert done.returncode == 2, done.stderr
            assert message in done.stderr and "Traceback" not in done.stderr
