"""The one time and duration parser (promsoc.times): what it reads, and the impossible times it refuses."""

from __future__ import annotations

import pytest

from promsoc.cli import main
from promsoc.times import TimeError, format_rfc3339, is_duration, parse_duration, parse_moment, parse_time

NOW = 1_795_835_520.0  # 2026-11-28T03:12:00Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T03:12:00Z", NOW),
        ("2026-11-28t03:12:00z", NOW),
        ("2026-11-28T04:12:00+01:00", NOW),
        ("2026-11-28T01:42:00-0130", NOW),
        ("2026-11-28T03:12:00.25Z", NOW + 0.25),
        ("2026-11-28 03:12", NOW),
        ("2026-11-28 03:12 UTC", NOW),
        ("2026-11-28", NOW - 3 * 3600 - 12 * 60),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),  # a leap day
        ("1795835520", NOW),
        ("1795835520.5", NOW + 0.5),
        (" 1795835520 ", NOW),
    ],
)
def test_times_it_reads(text: str, expected: float) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2026-02-30", "February 2026 has no day 30"),
        ("2025-02-29T00:00:00Z", "February 2025 has no day 29"),
        ("2026-13-01", "no month 13"),
        ("2026-11-28T25:61:61Z", "25:61:61 is not a time of day"),
        ("2026-11-28T24:00:00Z", "not a time of day"),
        ("2026-11-28T03:12:60Z", "not a time of day"),
        ("2026-11-28T03:12:00+99:99", "+99:99 is not a UTC offset"),
        ("2026-11-28T03:12:00+24:00", "not a UTC offset"),
        ("1_000", "neither RFC 3339"),
        ("1_795_835_520", "neither RFC 3339"),
        ("1e9", "neither RFC 3339"),
        ("nan", "neither RFC 3339"),
        ("inf", "neither RFC 3339"),
        ("-5", "neither RFC 3339"),
        ("", "neither RFC 3339"),
        ("1969-12-31T23:59:59Z", "outside 1970-2200"),
        ("2200-01-01T00:00:00Z", "outside 1970-2200"),
        ("9999-12-31T00:00:00Z", "outside 1970-2200"),
        ("99999999999", "outside 1970-2200"),
    ],
)
def test_impossible_times_are_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(TimeError, match=why.replace("+", r"\+")):
        parse_time(text)


IMPOSSIBLE = ["2026-02-30", "2026-11-28T25:61:61Z", "2026-11-28T03:12:00+99:99", "1_000", "2300-01-01"]


@pytest.mark.parametrize("text", IMPOSSIBLE)
@pytest.mark.parametrize("command", ["scan", "topology"])
def test_the_commands_refuse_them_as_usage_errors(
    command: str, text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--url", "http://127.0.0.1:9", "--at", text]) == 2
    err = capsys.readouterr().err
    assert err.startswith("promsoc: --at: ") and "Traceback" not in err


def test_moments_before_now() -> None:
    assert parse_moment("now", NOW) == NOW
    assert parse_moment("-2h", NOW) == NOW - 7200
    assert parse_moment("−1d3h", NOW) == NOW - 86400 - 10800  # the minus sign the console shows
    assert parse_moment("2026-11-28 03:12", NOW) == NOW
    for bad in ("-3h2h", "-8x", "soon", "-300y"):
        with pytest.raises(TimeError):
            parse_moment(bad, NOW)


def test_durations_are_prometheus_durations() -> None:
    assert parse_duration("1h30m") == 5400 and parse_duration("500ms") == 0.5 and parse_duration("4w") == 2419200
    for bad in ("30m1h", "1.5h", "5", "5 m", "", "1h1h", "-5m", "5M"):
        assert not is_duration(bad)
        with pytest.raises(TimeError):
            parse_duration(bad)
    assert parse_duration("1.5s", fractions=True) == 1.5  # settings such as a timeout
    assert is_duration("5m") and not is_duration("5m]) or vector(1")


def test_one_formatter_prints_rfc3339() -> None:
    assert format_rfc3339(NOW) == "2026-11-28T03:12:00Z"
    assert format_rfc3339(NOW + 0.1234, millis=True) == "2026-11-28T03:12:00.123Z"
    assert parse_time(format_rfc3339(NOW)) == NOW
