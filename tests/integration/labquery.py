"""A tiny synchronous PromQL helper for lab tests (independent of promsoc's own client)."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any


def query(url: str, expr: str, at: float | None = None) -> list[dict[str, Any]]:
    """Instant query; returns the result vector (raises on any API error)."""
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    data = urllib.parse.urlencode(params).encode()
    with urllib.request.urlopen(f"{url}/api/v1/query", data=data, timeout=30) as resp:
        body = json.load(resp)
    assert body["status"] == "success", body
    result = body["data"]["result"]
    return result if isinstance(result, list) else [{"metric": {}, "value": result}]


def scalar(url: str, expr: str, at: float | None = None) -> float | None:
    result = query(url, expr, at)
    return float(result[0]["value"][1]) if result else None
