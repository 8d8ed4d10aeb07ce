"""Fixtures of the lab tests beyond the one-cluster `lab` (tests/conftest.py)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from promsoc.detectors.packs import load_detectors
from promsoc.detectors.rules import export_by, export_recording
from promsoc.lab import Lab, LabOptions

CLUSTER_WITHOUT_MARKERS = "cluster-3"


@pytest.fixture(scope="session")
def clusters_lab() -> Iterator[Lab]:
    """Three clusters behind one Prometheus, as `promsoc demo --clusters 3` builds them (2 days of
    topology, 1 of traffic, the opening attack going on in cluster-1 now); its Prometheus evaluates
    the rules exported `--by cluster` (every 10 s here, not 1m) and sends their alerts to the lab's
    Alertmanager, as the demo does. It evaluates the recording rules exported `--recording --by
    cluster` too (every 10 s), as `promsoc demo --clusters 3 --recording-rules` does, except that
    cluster-3's markers are never recorded (`CLUSTER_WITHOUT_MARKERS`: a cluster whose recorded
    blocks promsoc must not read, so its source keeps the raw queries)."""
    cache = os.environ.get("PROMSOC_LAB_CACHE")
    rules = export_by(load_detectors(), by="cluster").text.replace("interval: 1m", "interval: 10s")
    recording = export_recording(load_detectors(), by="cluster").replace("interval: 1m", "interval: 10s")
    recording = re.sub(r"expr: group by \(cluster\) \((promsoc:[a-z_:]+)\)",
                       rf'expr: group by (cluster) (\1{{cluster!="{CLUSTER_WITHOUT_MARKERS}"}})', recording)
    options = LabOptions(clusters=3, history_days=2.0, traffic_days=1.0, fine_hours=1.0,
                         scrape_interval="5s", cache_dir=Path(cache) if cache else None, alert_rules=rules,
                         recording_rules=recording, alertmanager=True)  # fmt: skip
    with Lab(options) as running:
        yield running
