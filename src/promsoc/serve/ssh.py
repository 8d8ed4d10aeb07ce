"""The console over SSH: key authentication, one console per session, nothing else.

A client that authenticates with a key listed in the OpenSSH authorized_keys file gets a console on
a terminal of its own size. There is no shell and no command: a command given by the client is
refused with a message. Port forwarding, agent and X11 forwarding, SCP and SFTP are all refused.
`q` ends that viewer's session only. Each session ends with one log line: user, key fingerprint,
remote address, start, end and why it ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncssh

from promsoc.serve.session import CRASHED, ServedConsole, ViewerTerminal, run_console
from promsoc.serve.terminal import Terminal
from promsoc.times import format_rfc3339
from promsoc.tui.safe_text import clean

log = logging.getLogger("promsoc.serve")

ConsoleFactory = Callable[[Terminal, ViewerTerminal], ServedConsole]
COMMAND_REFUSED = "promsoc: this server shows the console only; commands are not run. Connect without one.\r\n"
NEEDS_TERMINAL = "promsoc: the console needs a terminal: connect with `ssh -t`.\r\n"


class ServeError(Exception):
    """A server that cannot start (unreadable key file, port in use): exit code 2."""


@dataclass(frozen=True)
class SshOptions:
    host: str
    port: int
    host_key: Path
    authorized_keys: Path
    idle_timeout: float = 900.0  # seconds without a key from the viewer; 0 = never
    max_sessions: int = 10


def stamp(when: float) -> str:
    return format_rfc3339(when)


def load_host_key(path: Path) -> asyncssh.SSHKey:
    """The server's host key, created (ed25519, mode 0600) if the file does not exist yet."""
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = asyncssh.generate_private_key("ssh-ed25519")
            data = key.export_private_key()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            log.info("created SSH host key %s (%s)", path, key.get_fingerprint())
            return key
        except OSError as exc:
            raise ServeError(f"cannot create the SSH host key {path}: {exc.strerror or exc}") from None
    try:
        return asyncssh.read_private_key(path)
    except (OSError, asyncssh.KeyImportError, ValueError) as exc:
        raise ServeError(f"cannot read the SSH host key {path}: {exc}") from None


class AuthorizedKeys:
    """The authorized_keys file, re-read when it changes: adding a viewer needs no restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: float | None = None
        self._keys = self._read()

    def _read(self) -> asyncssh.SSHAuthorizedKeys:
        try:
            mtime = self.path.stat().st_mtime
            text = self.path.read_text(encoding="utf-8")
            entries = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
            # no keys yet (a fresh install) lets nobody in, and is no error
            keys = asyncssh.import_authorized_keys(text) if entries else asyncssh.SSHAuthorizedKeys()
        except (OSError, ValueError, UnicodeDecodeError, asyncssh.KeyImportError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ServeError(f"cannot read the authorized keys file {self.path}: {reason}") from None
        self._mtime = mtime
        return keys

    def current(self) -> asyncssh.SSHAuthorizedKeys:
        with contextlib.suppress(OSError):
            if self.path.stat().st_mtime != self._mtime:
                try:
                    self._keys = self._read()
                except ServeError as exc:  # keep the last good list; say why once per change
                    log.warning("%s; still using the previous list", exc)
                    self._mtime = self.path.stat().st_mtime
        return self._keys


class Gate:
    """Counts live sessions against the maximum."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0

    def enter(self) -> bool:
        if self.limit and self.open >= self.limit:
            return False
        self.open += 1
        return True

    def leave(self) -> None:
        self.open -= 1


class _Connection(asyncssh.SSHServer):
    """One client connection: public-key auth only; forwarding requests keep asyncssh's refusal."""

    def __init__(self, server: SshServer) -> None:
        self.server = server
        self.user = ""
        self.peer = "?"
        self.fingerprint = ""
        self.offered: list[str] = []

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.peer_host = str(peer[0])
        self.peer = f"{peer[0]}:{peer[1]}"

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.fingerprint and self.user:
            offered = ",".join(self.offered) or "none"
            log.info("ssh refused user=%s from=%s keys=%s", clean(self.user, 64), self.peer, offered)

    def begin_auth(self, username: str) -> bool:
        self.user = username
        return True

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        fingerprint = key.get_fingerprint("sha256")
        if self.server.authorized.current().validate(key, self.peer_host, self.peer_host) is None:
            if fingerprint not in self.offered and len(self.offered) < 8:
                self.offered.append(fingerprint)
            return False
        self.fingerprint = fingerprint
        return True

    def session_requested(self) -> asyncssh.SSHServerSession[str]:
        return _Session(self)


class _Session(asyncssh.SSHServerSession[str]):
    """One session channel: a pty and a shell request start a console; anything else is refused."""

    def __init__(self, conn: _Connection) -> None:
        self.conn = conn
        self.server = conn.server
        self.chan: asyncssh.SSHServerChannel[str] | None = None
        self.term = ""
        self.size = (80, 24)
        self.command: str | None = None
        self.terminal: Terminal | None = None
        self.app: ServedConsole | None = None
        self.task: asyncio.Task[None] | None = None
        self.last_input = time.monotonic()
        self.ended = ""

    def connection_made(self, chan: asyncssh.SSHServerChannel[str]) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: object) -> bool:
        self.term = term_type
        self.size = (term_size[0] or 80, term_size[1] or 24)
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self.command = command  # accepted only so the refusal can be said; it never runs
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False  # sftp and every other subsystem

    def session_started(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"ssh session {self.conn.peer}")

    def data_received(self, data: str, datatype: asyncssh.DataType) -> None:
        self.last_input = time.monotonic()
        if self.terminal is not None:
            self.terminal.feed(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width or self.size[0], height or self.size[1])
        if self.terminal is not None:
            self.terminal.resize(*self.size)

    def eof_received(self) -> bool:
        """The client will send nothing more: a console ends; a refusal still gets its message out."""
        if self.app is not None:
            self._hang_up("eof")
        return True  # keep our side open until we close it

    def connection_lost(self, exc: Exception | None) -> None:
        self._hang_up("disconnected")

    def _hang_up(self, why: str) -> None:
        self.ended = self.ended or why
        if self.terminal is not None:
            self.terminal.hang_up()
        if self.app is not None:  # also while it is still starting: it then ends as soon as it can
            self.app.exit()

    def _write(self, data: str) -> None:
        chan = self.chan
        if chan is not None and not chan.is_closing():
            with contextlib.suppress(OSError, asyncssh.Error):
                chan.write(data)

    async def _run(self) -> None:
        chan = self.chan
        assert chan is not None
        started = time.time()
        status = 1
        try:
            status = await self._serve(chan)
        finally:
            log.info(
                "ssh session user=%s key=%s from=%s start=%s end=%s ended=%s",
                clean(self.conn.user, 64), self.conn.fingerprint, self.conn.peer,
                stamp(started), stamp(time.time()), self.ended or "quit",
            )  # fmt: skip
            with contextlib.suppress(OSError, asyncssh.Error):
                chan.exit(status)

    async def _serve(self, chan: asyncssh.SSHServerChannel[str]) -> int:
        if self.command is not None:
            return self._refuse("command refused", COMMAND_REFUSED)
        if not self.term:
            return self._refuse("no terminal", NEEDS_TERMINAL)
        if not self.server.gate.enter():
            limit = self.server.gate.limit
            return self._refuse("too many sessions", f"promsoc: {limit} viewers are connected already; try later.\r\n")
        try:
            env = chan.get_environment()
            viewer = ViewerTerminal(self.term, env.get("COLORTERM", ""), "NO_COLOR" in env)
            self.terminal = Terminal(self._write, *self.size)
            self.app = self.server.console_factory(self.terminal, viewer)
            if chan.is_closing():  # the client left while the console was being made
                self.ended = self.ended or "disconnected"
                return 0
            idle = asyncio.get_running_loop().create_task(self._watch_idle())
            try:
                failed = await run_console(self.app)
            finally:
                idle.cancel()
            if failed and not self.ended:
                self.ended = "error"
                self._write(CRASHED)
            if self.ended == "idle":
                self._write(f"promsoc: session closed after {self.server.options.idle_timeout:g} s without a key.\r\n")
            return 0
        finally:
            self.server.gate.leave()

    def _refuse(self, why: str, message: str) -> int:
        self.ended = why
        chan = self.chan
        if chan is not None and not chan.is_closing():
            with contextlib.suppress(OSError, asyncssh.Error):
                chan.write_stderr(message)
        return 1

    async def _watch_idle(self) -> None:
        limit = self.server.options.idle_timeout
        if limit <= 0:
            return
        while True:
            left = self.last_input + limit - time.monotonic()
            if left <= 0:
                self.ended = "idle"
                if self.app is not None:
                    self.app.exit()
                return
            await asyncio.sleep(left)


class SshServer:
    """The listening SSH server; every session's console comes from `console_factory`."""

    def __init__(self, options: SshOptions, console_factory: ConsoleFactory) -> None:
        self.options = options
        self.console_factory = console_factory
        self.gate = Gate(options.max_sessions)
        self.authorized = AuthorizedKeys(options.authorized_keys)
        self.host_key = load_host_key(options.host_key)
        self._acceptor: asyncssh.SSHAcceptor | None = None

    async def start(self) -> None:
        try:
            self._acceptor = await asyncssh.create_server(
                lambda: _Connection(self),
                self.options.host,
                self.options.port,
                server_host_keys=[self.host_key],
                agent_forwarding=False,
                x11_forwarding=False,
                allow_scp=False,
                line_editor=False,
                keepalive_interval=30,
                login_timeout=30,
                encoding="utf-8",
                errors="replace",  # a client's invalid UTF-8 becomes U+FFFD, not a dropped session
            )
        except OSError as exc:
            where = f"{self.options.host}:{self.options.port}"
            raise ServeError(f"cannot listen for SSH on {where}: {exc.strerror or exc}") from None
        log.info("ssh listening on %s", self.address)

    @property
    def address(self) -> str:
        if self._acceptor is None:
            return f"{self.options.host}:{self.options.port}"
        host, port = self._acceptor.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    async def close(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
