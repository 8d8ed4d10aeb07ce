"""`promsoc serve --ssh` driven by OpenSSH's own client in a pseudo-terminal, on the lab."""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Iterator

import pytest

from tests.serve.conftest import SshSetup, keygen
from tests.serve.ptyclient import PtyClient

TILE = "ingress-sqli"  # short enough to be shown whole as a tile title and as a compact line
EVALUATED = "✓ OK"  # a tile shows a status only once the first evaluation has come in


@pytest.fixture
def clients() -> Iterator[list[PtyClient]]:
    opened: list[PtyClient] = []
    yield opened
    for client in opened:
        client.close()


def open_console(
    setup: SshSetup, clients: list[PtyClient], cols: int = 120, rows: int = 40, user: str = "soc"
) -> PtyClient:
    client = PtyClient([*setup.ssh("-tt", user=user)], cols, rows)
    clients.append(client)
    return client


def test_host_key_is_created_private(ssh_setup: SshSetup) -> None:
    mode = stat.S_IMODE(ssh_setup.host_key.stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert ssh_setup.served.wait_log(r"created SSH host key")


def test_tiles_appear_and_q_ends_only_that_session(ssh_setup: SshSetup, clients: list[PtyClient]) -> None:
    first = open_console(ssh_setup, clients, user="alice")
    second = open_console(ssh_setup, clients, user="bob")
    for client in (first, second):
        # a frame is written in pieces: wait for one that holds all three, not for the first "OK"
        client.wait_for(EVALUATED, "LIVE", TILE)
    first.send("q")
    assert first.wait_exit() == 0
    # The other viewer's console is still there and still answers keys.
    second.send("?")
    second.wait_for("Command palette (every action)")
    second.send("\x1b")
    second.wait_until(lambda lines: not any("Command palette (every action)" in line for line in lines))
    assert second.proc.poll() is None
    line = ssh_setup.served.wait_log(r"ssh session user=alice ")
    assert "key=SHA256:" in line and "from=127.0.0.1:" in line and "start=" in line and "end=" in line
    assert "ended=quit" in line
    second.send("q")
    assert second.wait_exit() == 0


def test_resize_reflows_the_tiles(ssh_setup: SshSetup, clients: list[PtyClient]) -> None:
    client = open_console(ssh_setup, clients, 120, 40)
    client.wait_for(TILE)

    def row_of(lines: list[str]) -> str:
        return next((line for line in lines if TILE in line), "")

    # 120x40: tiles side by side, so the tile's title row holds several boxes
    client.wait_until(lambda lines: row_of(lines).count("╭─") >= 3)
    client.resize(80, 24)
    # 80x24: the tiles no longer fit: one line per detector, with its status, no boxes
    client.wait_until(lambda lines: "✓ OK" in row_of(lines) and "╭" not in row_of(lines)
                      and all(len(line.rstrip()) <= 80 for line in lines))  # fmt: skip
    assert len(client.lines()) == 24
    client.send("q")
    assert client.wait_exit() == 0


def test_stranger_key_is_refused(ssh_setup: SshSetup) -> None:
    done = subprocess.run(ssh_setup.ssh(key=ssh_setup.stranger_key), capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 255
    assert "Permission denied (publickey)" in done.stderr
    stranger_fp = subprocess.run(["ssh-keygen", "-lf", str(ssh_setup.stranger_key) + ".pub"],
                                 capture_output=True, text=True, check=True).stdout.split()[1]  # fmt: skip
    assert ssh_setup.served.wait_log(r"ssh refused user=soc .*keys=.*" + stranger_fp.replace("+", r"\+"))


def test_remote_command_does_not_run(ssh_setup: SshSetup) -> None:
    marker = ssh_setup.folder / "pwned"
    done = subprocess.run([*ssh_setup.ssh(), f"touch {marker}"], capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 1
    assert "commands are not run" in done.stderr
    assert not marker.exists()
    assert ssh_setup.served.wait_log(r"ended=command refused")


def test_no_terminal_no_forwarding_no_sftp(ssh_setup: SshSetup) -> None:
    no_tty = subprocess.run([*ssh_setup.ssh("-T")], capture_output=True, text=True, timeout=30,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    assert no_tty.returncode == 1 and "needs a terminal" in no_tty.stderr
    forward = subprocess.run(
        [*ssh_setup.ssh("-N", "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9")],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert forward.returncode == 255 and "forwarding failed" in forward.stderr
    port = ssh_setup.served.ports["ssh"]
    sftp = subprocess.run(
        ["sftp", "-b", "/dev/null", "-P", str(port), "-i", str(ssh_setup.viewer_key), "-F", "/dev/null",
         "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", f"UserKnownHostsFile={ssh_setup.folder / 'known_hosts'}", "soc@127.0.0.1"],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert sftp.returncode != 0 and "subsystem request failed" in sftp.stderr


def test_a_key_added_to_the_file_gets_in_without_a_restart(ssh_setup: SshSetup) -> None:
    newcomer = keygen(ssh_setup.folder / "newcomer")

    def attempt() -> subprocess.CompletedProcess[str]:
        # a command: refused after authentication (exit 1), or authentication itself fails (255)
        return subprocess.run([*ssh_setup.ssh(key=newcomer), "true"], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)  # fmt: skip

    assert attempt().returncode == 255
    with ssh_setup.authorized_keys.open("a") as keys:
        keys.write((ssh_setup.folder / "newcomer.pub").read_text())
    admitted = attempt()
    assert admitted.returncode == 1 and "commands are not run" in admitted.stderr


def test_garbage_from_the_client_does_not_end_the_session(ssh_setup: SshSetup, clients: list[PtyClient]) -> None:
    client = open_console(ssh_setup, clients, 100, 30)
    client.wait_for(EVALUATED)
    client.send(b"\xff\xfe\xc3\x00\x1b[999;999;999M")  # invalid UTF-8, a NUL, a nonsense mouse report
    client.send("?")
    client.wait_for("Command palette (every action)")
    client.send("\x1b")
    client.wait_until(lambda lines: not any("Command palette (every action)" in line for line in lines))
    client.send("q")
    assert client.wait_exit() == 0
