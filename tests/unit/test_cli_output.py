"""JSON any parser reads: non-finite numbers as strings, non-printables escaped, nothing lost."""

from __future__ import annotations

import json
import math

from promsoc.cli.output import finite, json_text


def test_non_finite_numbers_are_prometheus_strings_at_any_depth() -> None:
    doc = {"a": [1.5, math.inf, (-math.inf, math.nan)], "b": {"c": math.nan}, "n": None, "i": 3}
    assert finite(doc) == {"a": [1.5, "+Inf", ["-Inf", "NaN"]], "b": {"c": "NaN"}, "n": None, "i": 3}
    text = json_text(doc)
    assert "Infinity" not in text and "NaN" in text
    assert json.loads(text)["a"][1] == "+Inf"


def test_every_non_printable_is_escaped_and_reads_back_unchanged() -> None:
    hostile = "x\x00\x1b]52;c;AAAA\x07\x7f\x85\x9b\u200b\u200d\u202e\u2066\u2028\ufeff\ue000\U000f0000\ud800-\udfff"
    text = json_text({hostile: [hostile]}, indent=None)
    assert text.isascii() and text.endswith("\n")
    assert json.loads(text) == {hostile: [hostile]}
    assert "\\udb80\\udc00" in text  # a non-BMP private-use character as its surrogate pair
    text.encode("utf-8")  # no lone surrogate left to crash the writer


def test_printable_text_stays_readable() -> None:
    text = json_text({"pod": "café-☕-名前", "path": "/login?x=1"})
    assert "café-☕-名前" in text and "\\u" not in text
