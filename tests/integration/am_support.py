"""A real Alertmanager for the tests: start one, post alerts through its API, wait for its state."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from promsoc.lab.alertmanager import AlertmanagerServer
from promsoc.prom.alertmanager import rfc3339

T = TypeVar("T")

# An alert labelled promsoc_inhibit="source" mutes the alerts labelled promsoc_inhibit="target".
INHIBIT: list[dict[str, object]] = [
    {"source_matchers": ['promsoc_inhibit="source"'], "target_matchers": ['promsoc_inhibit="target"']}
]


@contextmanager
def alertmanager() -> Iterator[AlertmanagerServer]:
    """A fresh Alertmanager (0.2 s to start), with one inhibit rule the tests can trigger."""
    with AlertmanagerServer(inhibit_rules=INHIBIT) as server:
        yield server


def api(url: str, path: str, body: Any = None, method: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}/api/v2{path}", data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as resp:
        raw = resp.read()
    return json.loads(raw) if raw.strip() else None


def post_alerts(url: str, *alerts: dict[str, str], started: float | None = None, **annotations: str) -> None:
    """Post alerts (each a label set) as Prometheus would, starting `started` (default: 10 min ago)."""
    since = rfc3339(started if started is not None else time.time() - 600)
    api(url, "/alerts", [{"labels": labels, "annotations": annotations, "startsAt": since} for labels in alerts])


def silence(url: str, matchers: dict[str, str], by: str = "tester", comment: str = "test") -> str:
    now = time.time()
    body = {
        "matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in matchers.items()],
        "startsAt": rfc3339(now), "endsAt": rfc3339(now + 3600), "createdBy": by, "comment": comment,
    }  # fmt: skip
    return str(api(url, "/silences", body)["silenceID"])


def wait_for(probe: Callable[[], T | None], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll `probe` until it returns something truthy (Alertmanager applies state asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def states(url: str) -> dict[str, str]:
    """alertname -> Alertmanager's state, as its API says."""
    return {a["labels"]["alertname"]: a["status"]["state"] for a in api(url, "/alerts")}
