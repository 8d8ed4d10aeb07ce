"""The simulator's loopback /metrics endpoint that the lab's Prometheus scrapes.

On Linux it is served from a forked process, so a busy parent (a test run, the console) can
never make a scrape time out: a failed scrape would mark every series stale at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.process import BaseProcess

from promsoc.lab.simulator import Simulator


class _Handler(BaseHTTPRequestHandler):
    server: MetricsServer

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/metrics":
            self.send_error(404, "only /metrics lives here")
            return
        body = self.server.simulator.exposition(time.time()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Scrapes are not news; keep the terminal (and the TUI) clean."""


def _serve_in_child(server: MetricsServer) -> None:  # pragma: no cover - runs in the child
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # die with the parent
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    server.serve_forever()


class MetricsServer(ThreadingHTTPServer):
    """Serves the simulator's current values on 127.0.0.1 (a child process, or a thread)."""

    daemon_threads = True

    def __init__(self, simulator: Simulator) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.simulator = simulator
        self._thread: threading.Thread | None = None
        self._process: BaseProcess | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def handle_error(self, request: object, client_address: object) -> None:
        """A scrape Prometheus gave up on (its timeout, a loaded machine) is not news either.

        socketserver's default prints a traceback to stderr, which is where the demo's console draws.
        """
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def start(self) -> MetricsServer:
        if sys.platform.startswith("linux"):
            ctx = multiprocessing.get_context("fork")
            self._process = ctx.Process(target=_serve_in_child, args=(self,), daemon=True,
                                        name="promsoc-lab-metrics")
            self._process.start()
        else:
            self._thread = threading.Thread(target=self.serve_forever, name="promsoc-lab-metrics",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
            self._process = None
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()
