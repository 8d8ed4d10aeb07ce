"""Fixtures of the lab tests beyond the one-cluster `lab` (tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from promsoc.lab import Lab, LabOptions


@pytest.fixture(scope="session")
def clusters_lab() -> Iterator[Lab]:
    """Three clusters behind one Prometheus, as `promsoc demo --clusters 3` builds them (2 days of
    topology, 1 of traffic), without live repeats."""
    cache = os.environ.get("PROMSOC_LAB_CACHE")
    options = LabOptions(clusters=3, history_days=2.0, traffic_days=1.0, fine_hours=1.0, live_incidents=False,
                         scrape_interval="5s", cache_dir=Path(cache) if cache else None)  # fmt: skip
    with Lab(options) as running:
        yield running
