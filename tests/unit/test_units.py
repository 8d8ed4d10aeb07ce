"""Values printed for people: every unit a detector may declare, edge values included."""

from __future__ import annotations

import math

import pytest

from promsoc import units
from promsoc.detectors.packs import load_detectors


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.62, "ratio", "62 %"),
        (0.055, "ratio", "5.5 %"),
        (1.0, "ratio", "100 %"),
        (0.0, "ratio", "0 %"),
        (4_900_000, "bytes_per_second", "4.9 MB/s"),
        (262_144, "bytes_per_second", "262 kB/s"),
        (512, "bytes_per_second", "512 B/s"),
        (40e6, "bytes", "40 MB"),
        (3.124, "requests_per_second", "3.1 req/s"),
        (0.25, "requests_per_second", "0.25 req/s"),
        (1.9, "cores", "1.9 cores"),
        (1.0, "cores", "1 core"),
        (45, "events", "45 events"),
        (24.15, "events", "24 events"),
        (6.0, "requests", "6 requests"),
        (90_120, "count", "90k"),
        (3 * 86400, "seconds_until_expiry", "expires in 3 d"),
        (-2 * 3600, "seconds_until_expiry", "expired 2 h ago"),
        (87, "seconds_since_creation", "created 87 s ago"),
        (86.72, "seconds_since_creation", "created 87 s ago"),
        (600, "seconds", "10 min"),
        (3.14159, "none", "3.142"),
    ],
)
def test_human_prints_the_unit(value: float, unit: str, text: str) -> None:
    assert units.human(value, unit) == text


def test_si_prefixes_switch_at_the_rounded_boundary() -> None:
    assert units.si(999_999, "B") == "1 MB"
    assert units.si(999, "B") == "999 B"
    assert units.si(1_500_000_000, "B/s") == "1.5 GB/s"


def test_durations_use_whole_units_above_a_minute() -> None:
    assert [units.duration(s) for s in (5, 119, 120, 7199, 7200, 172_799, 172_800)] == [
        "5 s", "119 s", "2 min", "120 min", "2 h", "48 h", "2 d"]


def test_short_and_axis_forms_have_no_inner_spaces() -> None:
    assert units.short(0.62, "ratio") == "62%"
    assert units.short(4_900_000, "bytes_per_second") == "4.9MB/s"
    assert units.short(3 * 86400, "seconds_until_expiry") == "3d"
    assert units.short(-3600 * 5, "seconds_until_expiry") == "-5h"
    assert units.short(1.9, "cores") == "1.9c"
    assert units.axis(3.2, "requests_per_second") == "3.2/s"
    assert units.axis(0, "ratio") == "0%"


def test_nan_and_infinity_are_words_not_crashes() -> None:
    assert units.human(math.nan, "ratio") == "no value"
    assert units.human(math.inf, "bytes") == "∞"
    assert units.short(-math.inf, "cores") == "-∞"


def test_unknown_unit_prints_a_plain_number() -> None:
    assert units.human(12345.678, "parsecs") == "1.235e+04"
    assert not units.known("parsecs")
    assert units.meaning("parsecs") == "a plain number"


def test_direction_and_sign_of_units() -> None:
    assert units.non_negative("ratio") and units.non_negative("bytes_per_second")
    assert not units.non_negative("seconds_until_expiry")  # an expired certificate is negative
    assert units.lower_is_worse("seconds_until_expiry") and units.lower_is_worse("seconds_since_creation")
    assert not units.lower_is_worse("ratio")


def test_every_builtin_detector_declares_a_known_unit() -> None:
    declared = {det.id: det.unit for det in load_detectors()}
    assert all(units.known(u) and u != units.DEFAULT for u in declared.values()), declared
    assert declared["ingress-bruteforce"] == "ratio"
    assert declared["pod-egress-outlier"] == "bytes_per_second"
    assert declared["cert-expiry-certmanager"] == "seconds_until_expiry"
    assert declared["ingress-created"] == "seconds_since_creation"
