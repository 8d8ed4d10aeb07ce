"""Shared fixtures: one real lab (Prometheus + simulated cluster) for the whole test session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from promsoc.lab import Lab, LabOptions

TESTS = Path(__file__).resolve().parent
# Tiers (pytest -m): each test is marked by where it lives and by the fixtures it uses, so a new
# test is in the right tier without remembering to mark it.
#   lab       a real Prometheus (the lab, or a server of its own): tests/integration, `lab` fixture
#   promtool  `promtool test/check rules` (the `promtool` fixture)
#   tui       the Textual console (tests/tui), also served over SSH and the web (tests/serve)
#   static    ruff, mypy, import-linter (tests/test_static_checks.py)
# `pytest -m "not lab"` is the quick loop; `pytest` (CI) runs every tier.
TIER_TOOLS = {"lab": ("prometheus", "promtool"), "promtool": ("promtool",)}
FIXTURE_TOOLS = {"ca_pem": ("openssl",), "pki": ("openssl",)}
DIRECTORY_TOOLS = {"serve": ("ssh", "ssh-keygen", "sftp", "chromium")}
PACKAGES = {"prometheus": "prometheus", "promtool": "prometheus", "openssl": "openssl",
            "ssh": "openssh-client", "ssh-keygen": "openssh-client", "sftp": "openssh-client",
            "chromium": "chromium"}


def _where(item: pytest.Item) -> tuple[str, ...]:
    return Path(str(item.path)).resolve().relative_to(TESTS).parts


def _tiers(item: pytest.Item) -> set[str]:
    fixtures = set(getattr(item, "fixturenames", ()))
    where = _where(item)
    tiers = set()
    if where[0] == "integration" or "lab" in fixtures:
        tiers.add("lab")
    if "promtool" in fixtures:
        tiers.add("promtool")
    if where[0] in ("tui", "serve"):
        tiers.add("tui")
    if where[-1] == "test_static_checks.py":
        tiers.add("static")
    return tiers


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for tier in sorted(_tiers(item)):
            item.add_marker(tier)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The selected tests run against real tools: a missing one is an error, never a skip."""
    needed: set[str] = set()
    for item in session.items:
        needed.update(t for mark in item.iter_markers() for t in TIER_TOOLS.get(mark.name, ()))
        for fixture in getattr(item, "fixturenames", ()):
            needed.update(FIXTURE_TOOLS.get(fixture, ()))
        needed.update(DIRECTORY_TOOLS.get(_where(item)[0], ()))
    if os.environ.get("PROMSOC_PROMETHEUS_BIN"):
        needed.discard("prometheus")
    missing = sorted(tool for tool in needed if shutil.which(tool) is None)
    if missing:
        packages = " ".join(sorted({PACKAGES[tool] for tool in missing}))
        raise pytest.UsageError(
            f"the selected tests need {', '.join(missing)} on PATH: "
            f"apt-get install --no-install-recommends {packages}"
        )
    if any(item.get_closest_marker("lab") for item in session.items):
        from promsoc.lab.alertmanager import AlertmanagerNotFound, find_alertmanager

        try:
            find_alertmanager()
        except AlertmanagerNotFound as exc:
            raise pytest.UsageError(f"the lab tests need Alertmanager: {exc}") from None


@pytest.fixture(scope="session")
def promtool() -> str:
    """The promtool binary (its presence is checked when the tests are collected)."""
    found = shutil.which("promtool")
    assert found, "promtool is not on PATH"
    return found


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
