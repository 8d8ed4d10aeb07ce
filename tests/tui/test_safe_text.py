"""Hostile label values become inert, visible, bounded text."""

from __future__ import annotations

from rich.console import Console

from promsoc.tui.safe_text import clean, inert, labels_line
from tests.tui.fakes import HOSTILE


def rendered(text: object) -> str:
    console = Console(width=200, record=True, force_terminal=True, color_system=None)
    console.print(text)
    return console.export_text()


def test_escape_sequences_and_overrides_become_one_mark_each() -> None:
    out = clean(HOSTILE["ansi"], 500)
    assert "\x1b" not in out and "evil" not in out  # the OSC 8 target is gone with its sequence
    assert out == "?red??link?"
    assert clean(HOSTILE["rtl"]) == "?evil?.exe"
    assert clean("caf\u00e9 \u4e2d") == "caf\u00e9 \u4e2d"  # printable Unicode stays in the console


def test_long_values_are_bounded() -> None:
    out = clean(HOSTILE["long"], 120)
    assert len(out) == 120 and out.endswith("…")


def test_markup_is_literal_text() -> None:
    text = inert(HOSTILE["markup"])
    assert text.plain == HOSTILE["markup"]
    assert not text.spans
    assert "[@click=app.quit]" in rendered(text)


def test_labels_line_keeps_keys_and_values_inert() -> None:
    line = labels_line({"pod": HOSTILE["markup"], "namespace": "\x07bell"}, ("namespace", "pod"))
    assert line.plain.startswith("namespace=?bell pod=[@click=app.quit]")
