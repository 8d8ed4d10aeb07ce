"""`promsoc serve` with three sources on one Prometheus (one per cluster, as on Thanos/Mimir):
the served console asks them together (`prom.fanin`), end to end, as a user runs it."""

from __future__ import annotations

import time
from pathlib import Path

from promsoc.cli.demo import sources_config
from promsoc.lab import Lab
from tests.integration.test_fanin_lab import api_requests
from tests.serve.conftest import Served, keygen, start_serve
from tests.serve.ptyclient import PtyClient

CLUSTERS = 3
QUIET = 4.0  # once every tile has its status, the cycle (its sparklines too) is over when Prometheus
SETTLE_WITHIN = 40.0  # has answered no request for this long; well within the next cycle (`refresh: 1m`)


def served_console(lab: Lab, folder: Path, *, coalesce: bool, refresh: str = "1m", clusters: int = CLUSTERS,
                   env: dict[str, str] | None = None) -> tuple[Served, list[str]]:  # fmt: skip
    """`promsoc serve --ssh` on a config of one source per cluster, and the ssh command of a viewer."""
    text = sources_config(lab.url, clusters).replace("    selector:", f"    refresh: {refresh}\n    selector:")
    if not coalesce:
        text = text.replace(f"    refresh: {refresh}\n", f"    refresh: {refresh}\n    coalesce: false\n")
    config = folder / f"sources-{coalesce}.yaml"
    config.write_text(text)
    viewer = keygen(folder / f"viewer-{coalesce}")
    (folder / f"authorized-{coalesce}").write_text((folder / f"viewer-{coalesce}.pub").read_text())
    served = start_serve(
        ["--config", str(config), "--ssh", "127.0.0.1:0", "--host-key", str(folder / f"host-{coalesce}"),
         "--authorized-keys", str(folder / f"authorized-{coalesce}")],
        expect=["ssh"], env=env,
    )  # fmt: skip
    ssh = [
        "ssh", "-tt", "-p", str(served.ports["ssh"]), "-i", str(viewer), "-o", "IdentitiesOnly=yes",
        "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR", "-F", "/dev/null", "soc@127.0.0.1",
    ]  # fmt: skip
    return served, ssh


def settled_requests(url: str) -> int:
    """Prometheus's API requests so far, once the count stays the same over two reads QUIET apart."""
    deadline = time.monotonic() + SETTLE_WITHIN
    last = api_requests(url)
    while True:
        time.sleep(QUIET)
        count = api_requests(url)
        if count == last:
            return count
        assert time.monotonic() < deadline, f"Prometheus still answering after {SETTLE_WITHIN} s: {last} -> {count}"
        last = count


def requests_of_one_cycle(lab: Lab, folder: Path, *, coalesce: bool) -> tuple[int, str]:
    """Prometheus's API requests for a viewer's first cycle of the overview (the next one is a
    minute later: `refresh: 1m`), and the screen."""
    served, ssh = served_console(lab, folder, coalesce=coalesce)
    before = api_requests(lab.url)
    client = PtyClient(ssh, 120, 40)
    try:
        client.wait_until(lambda lines: "LIVE" in lines[0] and "✓ OK" in "\n".join(lines)
                          and "WAITING" not in "\n".join(lines), timeout=60)  # fmt: skip
        asked = settled_requests(lab.url) - before
        screen = client.wait_for(*(f"cluster-{index}" for index in range(1, CLUSTERS + 1)))
        assert client.proc.poll() is None, screen
        client.send("q")
        assert client.wait_exit() == 0
        return asked, screen
    finally:
        client.close()
        assert served.stop() == 0, "".join(served.log)


def test_served_sources_of_one_prometheus_are_asked_together(clusters_lab: Lab, tmp_path: Path) -> None:
    """The same console, viewer and sources: asked together, Prometheus answers far fewer requests
    than with `coalesce: false` (each source alone), and the viewer sees every cluster's tiles."""
    together, screen = requests_of_one_cycle(clusters_lab, tmp_path, coalesce=True)
    for index in range(1, CLUSTERS + 1):
        assert f"cluster-{index}" in screen, screen
    apart, _ = requests_of_one_cycle(clusters_lab, tmp_path, coalesce=False)
    assert together > 0 and apart > 0
    # three sources asked as one: about a third (66 against 196 when written; the sparklines in
    # view are asked by their own source alone)
    print(f"requests of one cycle: together {together}, apart {apart}")
    assert together <= 0.5 * apart, (together, apart)
