"""Shared fixtures: one real lab (Prometheus + simulated cluster) for the whole test session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from promsoc.lab import Lab, LabOptions

REQUIRED_TOOLS = {"prometheus": "prometheus", "promtool": "prometheus", "openssl": "openssl",
                  "ssh": "openssh-client", "ssh-keygen": "openssh-client", "sftp": "openssh-client",
                  "chromium": "chromium"}


def pytest_sessionstart(session: pytest.Session) -> None:
    """The suite runs against real servers: a missing tool is an error, never a silent skip."""
    missing = sorted({pkg for tool, pkg in REQUIRED_TOOLS.items() if shutil.which(tool) is None})
    if missing and not os.environ.get("PROMSOC_PROMETHEUS_BIN"):
        raise pytest.UsageError(
            "the tests need " + ", ".join(REQUIRED_TOOLS) + " on PATH: "
            "apt-get install --no-install-recommends " + " ".join(missing)
        )
    from promsoc.lab.alertmanager import AlertmanagerNotFound, find_alertmanager

    try:
        find_alertmanager()
    except AlertmanagerNotFound as exc:
        raise pytest.UsageError(f"the tests need Alertmanager: {exc}") from None


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A running lab with live incident repeats off, so "now" is quiet and the history is fixed.

    The history cache is shared between runs (PROMSOC_LAB_CACHE or the user cache dir), so only
    the first run of the day pays for the backfill.
    """
    cache = os.environ.get("PROMSOC_LAB_CACHE")
    options = LabOptions(live_incidents=False, scrape_interval="5s",
                         cache_dir=Path(cache) if cache else None)
    with Lab(options) as running:
        yield running
