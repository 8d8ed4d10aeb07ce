"""A console that fails ends that viewer's session with a message, never a traceback, and no one else's."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from promsoc.serve.session import ServedConsole, ViewerTerminal
from promsoc.serve.ssh import SshOptions, SshServer
from promsoc.serve.terminal import Terminal
from tests.serve.conftest import keygen
from tests.serve.ptyclient import PtyClient
from tests.tui.fakes import FakeBackend


class Broken(ServedConsole):
    def on_mount(self) -> None:
        raise RuntimeError("a bug in a screen")


async def test_a_failing_console_ends_only_its_session(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    viewer = keygen(tmp_path / "viewer")
    (tmp_path / "authorized_keys").write_text((tmp_path / "viewer.pub").read_text())
    made: list[str] = []

    def factory(terminal: Terminal, who: ViewerTerminal) -> ServedConsole:
        made.append("x")
        kind = Broken if len(made) == 1 else ServedConsole
        return kind(terminal, FakeBackend(), viewer=who, interval=60.0)

    options = SshOptions("127.0.0.1", 0, tmp_path / "host_key", tmp_path / "authorized_keys")
    server = SshServer(options, factory)
    await server.start()
    port = server.address.rsplit(":", 1)[1]
    argv = [
        "ssh", "-tt", "-p", port, "-i", str(viewer), "-F", "/dev/null", "-o", "IdentitiesOnly=yes",
        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR", "soc@127.0.0.1",
    ]  # fmt: skip
    caplog.set_level(logging.INFO, logger="promsoc.serve")
    broken, healthy = PtyClient(argv, 100, 30), None
    try:
        assert await asyncio.to_thread(broken.wait_exit, 30) == 0
        said = bytes(broken.raw).decode("utf-8", "replace")
        assert "stopped on an internal error" in said
        assert "Traceback" not in said and "RuntimeError" not in said
        healthy = PtyClient(argv, 100, 30)
        await asyncio.to_thread(lambda: healthy.wait_for("LIVE", timeout=30))  # the server goes on serving
        assert any("ended=error" in record.getMessage() for record in caplog.records)
        healthy.send("q")
        assert await asyncio.to_thread(healthy.wait_exit, 15) == 0
    finally:
        broken.close()
        if healthy is not None:
            healthy.close()
        await server.close()
