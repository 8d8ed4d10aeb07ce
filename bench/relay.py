"""An HTTP relay to a Prometheus for the benchmarks: counts the query requests, can hold each answer."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
import urllib.error
import urllib.request

QUERY_HANDLERS = ("/api/v1/query", "/api/v1/query_range")


class Relay:
    """Relays every request to `upstream`; `count` is the query requests seen, `delay` holds each answer."""

    def __init__(self, upstream: str, delay: float = 0.0) -> None:
        relay = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._relay(None)

            def do_POST(self) -> None:
                self._relay(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _relay(self, body: bytes | None) -> None:
                if self.path.split("?")[0] in QUERY_HANDLERS:
                    with relay.lock:
                        relay.count += 1
                time.sleep(relay.delay)
                request = urllib.request.Request(  # noqa: S310 (http to the lab only)
                    upstream + self.path, data=body, method=self.command,
                    headers={"Content-Type": self.headers.get("Content-Type", "")},
                )  # fmt: skip
                try:
                    with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
                        status, payload = answer.status, answer.read()
                except urllib.error.HTTPError as exc:
                    status, payload = exc.code, exc.read()
                with contextlib.suppress(ConnectionError):  # the client gave up (or is stopping)
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return None

        self.delay = delay
        self.count = 0
        self.lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
