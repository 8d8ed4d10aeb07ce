"""A time older than the source keeps samples is warned about (stderr), from the server's own word."""

from __future__ import annotations

import time

from promsoc.lab import Lab
from promsoc.times import format_rfc3339
from tests.integration.hostile_server import answering, vector
from tests.integration.test_cli_hostile import promsoc

DAY = 86400.0


def test_scan_topology_and_timeline_warn_before_the_retention(lab: Lab) -> None:
    old = format_rfc3339(time.time() - 100 * DAY)  # the lab keeps 90 days
    for args in (["scan", "--at", old], ["topology", "--at", old], ["timeline", "--from", old, "--to", "-99d"]):
        proc = promsoc(*args, "--url", lab.url)
        err = proc.stderr.decode()
        assert proc.returncode in (0, 1, 4), err
        assert "is older than source" in err and "90 days' retention" in err, (args, err)


def test_no_warning_within_the_retention_or_when_the_server_does_not_say(lab: Lab) -> None:
    proc = promsoc("scan", "--at", format_rfc3339(lab.anchor), "--url", lab.url)
    assert "is older than source" not in proc.stderr.decode(), proc.stderr
    with answering(vector()) as url:  # answers every path with an empty vector: no runtime info
        proc = promsoc("scan", "--at", format_rfc3339(time.time() - 1000 * DAY), "--url", url)
    assert "is older than source" not in proc.stderr.decode(), proc.stderr
    assert proc.returncode == 4
