"""`alerts.SourceRule`: which alerts a source's selector keeps, and how it asks Prometheus for them
(the matchers are run against a real Prometheus in tests/integration/test_alerts_of_source.py)."""

from __future__ import annotations

from promsoc.alerts import SourceRule


def test_selectors_written_apart_that_keep_the_same_alerts_share_a_key() -> None:
    assert SourceRule('cluster="a"').key == SourceRule('{ cluster = "a" }').key == SourceRule("cluster='a'").key
    assert SourceRule('cluster="a"').key != SourceRule('cluster="b"').key
    assert SourceRule("").key == SourceRule("{}").key != SourceRule('cluster="a"').key
    assert SourceRule("not a selector").key != SourceRule("").key  # unreadable: its own board


def test_an_empty_label_value_is_a_missing_label_as_in_prometheus() -> None:
    rule = SourceRule('cluster="a"')
    assert rule.keeps({"alertname": "X"}) and rule.keeps({"cluster": ""}) and rule.keeps({"cluster": "a"})
    assert not rule.keeps({"cluster": "b"})
    assert SourceRule('cluster!="a"').keeps({"cluster": ""})


def test_the_matchers_asked_of_prometheus_also_match_a_missing_label() -> None:
    assert SourceRule('cluster="a.b"').promql == 'cluster=~"a\\\\.b|"'
    assert SourceRule('cluster=~"a|b"').promql == 'cluster=~"(?:a|b)|"'
    assert SourceRule('cluster!="a", env!=""').promql == 'cluster!="a"'
    assert SourceRule('cluster!~"a.*", env!~"x|"').promql == 'cluster!~"a.*"'  # `x|` matches ""
    assert SourceRule("").promql == SourceRule("not a selector").promql == ""  # keeps every alert
