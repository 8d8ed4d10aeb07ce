"""The time cursor's steps, bounds, words and typed times (pure, no terminal)."""

from __future__ import annotations

from promsoc.tui.time_cursor import Cursor, describe, format_ago

NOW = 1_795_843_920.0  # 2026-11-28 05:32:00 UTC


def test_back_from_live_starts_at_now_minus_step() -> None:
    assert Cursor().back(NOW).at == NOW - 300


def test_forward_reaching_now_returns_to_live() -> None:
    cursor = Cursor().back(NOW).back(NOW)
    assert cursor.forward(NOW).at == NOW - 300
    assert cursor.forward(NOW).forward(NOW).live


def test_back_then_forward_is_live_even_after_the_clock_moved() -> None:
    assert Cursor().back(NOW).forward(NOW + 20).live


def test_steps_change_and_stop_at_the_ends() -> None:
    cursor = Cursor()
    assert [cursor.step_name, cursor.coarser().step_name] == ["5m", "1h"]
    assert cursor.finer().step_name == "5m"
    assert cursor.coarser().coarser().coarser().coarser().step_name == "1w"
    assert cursor.coarser().coarser().back(NOW).at == NOW - 86400


def test_describe_reads_like_the_issue() -> None:
    assert describe(Cursor(), NOW) == "LIVE"
    assert describe(Cursor(at=NOW - 7200), NOW) == "AS OF 2026-11-28 03:32 UTC (−2h)"
    assert format_ago(90061) == "−1d 1h"


def test_jump_into_the_future_is_live() -> None:
    assert Cursor().jump(NOW + 10, NOW).live
