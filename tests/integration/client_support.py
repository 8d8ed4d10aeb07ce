"""Real loopback servers for client tests: an openssl-made PKI, an auth proxy, fault servers."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import bcrypt

from promsoc.lab.launcher import PrometheusServer, free_port


@dataclass(frozen=True)
class PKI:
    """A CA, a server certificate for 127.0.0.1, a client certificate, and a rogue client."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path
    rogue_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(cwd: Path, name: str) -> None:
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=cwd,
    )  # fmt: skip


def _leaf(cwd: Path, name: str, ca: str, extensions: str) -> None:
    (cwd / f"{name}.ext").write_text(
        extensions + "\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}",
        cwd=cwd,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
        "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
        cwd=cwd,
    )  # fmt: skip


def make_pki(directory: Path) -> PKI:
    """Generate every certificate the TLS tests need with the openssl CLI."""
    _ca(directory, "ca")
    _ca(directory, "rogue-ca")
    _leaf(
        directory,
        "server",
        "ca",
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth",
    )
    _leaf(directory, "client", "ca", "extendedKeyUsage=clientAuth")
    _leaf(directory, "rogue", "rogue-ca", "extendedKeyUsage=clientAuth")
    d = directory
    return PKI(
        d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem", d / "client.key",
        d / "rogue.pem", d / "rogue.key",
    )  # fmt: skip


def bcrypt_hash(password: str) -> str:
    """The hash Prometheus's web config wants for basic_auth_users (cost 4: tests stay fast)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def wait_for_up(server: PrometheusServer, timeout: float = 30.0) -> None:
    """Block until a self-scraping plain-HTTP server has ingested its first `up` sample."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{server.url}/api/v1/query?query=up", timeout=2) as resp:
                if b'"__name__":"up"' in resp.read():
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise TimeoutError("Prometheus scraped nothing in time")


_SHARED: list[PrometheusServer] = []


def self_scraping_prometheus() -> PrometheusServer:
    """A plain Prometheus scraping itself every second (so `up` and friends exist).

    One server is shared by every client test module (starting one costs seconds); the
    launcher stops it at interpreter exit.
    """
    if _SHARED:
        return _SHARED[0]
    port = free_port()
    server = PrometheusServer(port=port, scrape_targets=[f"127.0.0.1:{port}"], scrape_interval="1s")
    server.start()
    wait_for_up(server)
    _SHARED[:] = [server]
    return server


@dataclass
class ProxyState:
    """What the proxy checks and what it saw."""

    upstream: str
    token: str | None = None
    tenant: str | None = None
    fail_first: int = 0
    fail_status: int = 503
    delay: float = 0.0
    methods: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _ProxyHandler(BaseHTTPRequestHandler):
    state: ProxyState

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        state = self.state
        with state.lock:
            state.methods.append(self.command)
            state.paths.append(self.path)
            state.in_flight += 1
            state.max_in_flight = max(state.max_in_flight, state.in_flight)
            failing = state.fail_first > 0
            if failing:
                state.fail_first -= 1
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if state.delay:
                time.sleep(state.delay)
            if failing:
                self._send(state.fail_status, b"upstream temporarily unavailable")
                return
            if (
                state.token is not None
                and self.headers.get("Authorization") != f"Bearer {state.token}"
            ):
                self._send(401, b"bad or missing bearer token")
                return
            if state.tenant is not None and self.headers.get("X-Scope-OrgID") != state.tenant:
                self._send(403, b"no such tenant")
                return
            request = urllib.request.Request(
                state.upstream + self.path, data=body, method=self.command
            )
            if body is not None:
                request.add_header("Content-Type", self.headers.get("Content-Type", ""))
            try:
                with urllib.request.urlopen(request, timeout=30) as resp:
                    self._send(resp.status, resp.read(), resp.headers.get("Content-Type", ""))
            except urllib.error.HTTPError as err:
                self._send(err.code, err.read(), err.headers.get("Content-Type", ""))
        finally:
            with state.lock:
                state.in_flight -= 1

    do_GET = _handle
    do_POST = _handle


@contextmanager
def proxy(state: ProxyState) -> Iterator[str]:
    """A loopback reverse proxy in front of `state.upstream`; yields its URL."""
    handler = type("Handler", (_ProxyHandler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def raw_server(reply: bytes | None) -> Iterator[tuple[str, list[int]]]:
    """Accepts connections; sends `reply` and closes, or (None) never answers. Yields URL, count."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    accepted: list[int] = []
    held: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            accepted.append(1)
            if reply is None:
                held.append(conn)  # never answer
                continue
            conn.settimeout(2)
            try:
                conn.recv(65536)
                conn.sendall(reply)
            finally:
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        listener.close()
