"""A small real HTTP server that answers every Prometheus API call with one fixed body.

A real Prometheus cannot be made to return lone surrogates, +Inf findings or C1 controls in a
label on demand; this one can, over a real socket.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def vector(*series: tuple[dict[str, str], str]) -> bytes:
    """An instant-vector envelope; label values may hold lone surrogates (escaped as JSON)."""
    result = [{"metric": labels, "value": [1764460800, value]} for labels, value in series]
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()


def matrix(*series: tuple[dict[str, str], list[tuple[float, str]]]) -> bytes:
    result = [{"metric": labels, "values": [[t, v] for t, v in points]} for labels, points in series]
    return json.dumps({"status": "success", "data": {"resultType": "matrix", "result": result}}).encode()


@contextmanager
def answering(
    instant: bytes, ranged: bytes | None = None, *, status: int = 200, content_type: str = "application/json"
) -> Iterator[str]:
    """Serve `instant` for /api/v1/query (and everything else), `ranged` for query_range, with
    `status` and `content_type` (an error answer, or a proxy's non-JSON page)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            body = ranged if ranged is not None and "query_range" in self.path else instant
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
