"""The rewriter that lets sources sharing a Prometheus ask once (`prom.group_by`)."""

from __future__ import annotations

import pytest

from promsoc.prom.fanin import Group, groups, regex_quote
from promsoc.prom.group_by import Unsplittable, split_plan
from promsoc.prom.settings import Source
from tests.unit.promql_corpus import constant_vector, pack_queries


@pytest.mark.parametrize(
    ("promql", "rewritten", "keeps"),
    [
        ("rate(x[5m]) > 1", "rate(x[5m]) > 1", True),
        ("sum(rate(x[5m]))", "sum by (cluster)(rate(x[5m]))", False),
        ("sum by (ns) (x)", "sum by (ns, cluster) (x)", False),
        ("sum by (ns, cluster) (x)", "sum by (ns, cluster) (x)", True),
        ("count(x) by (a,)", "count(x) by (a,cluster)", False),
        ("sum without (pod) (x)", "sum without (pod) (x)", True),
        ("topk(5, x)", "topk by (cluster)(5, x)", True),
        ("bottomk by (ns) (1, sum by (ns, pod) (x))",
         "bottomk by (ns, cluster) (1, sum by (ns, pod, cluster) (x))", False),
        ("quantile(0.9, x)", "quantile by (cluster)(0.9, x)", False),
        ('count_values("v", x)', 'count_values by (cluster)("v", x)', False),
        ("a * on (pod) group_left (owner) b", "a * on (pod, cluster) group_left (owner) b", True),
        ("a > on () group_left () quantile by () (0.5, a)",
         "a > on (cluster) group_left () quantile by (cluster) (0.5, a)", True),
        ("sum(a) / sum(b)", "sum by (cluster)(a) / sum by (cluster)(b)", False),
        ("a and on (priority) label_replace(vector(1), \"priority\", \"x\", \"\", \"\")",
         "a and on (priority) label_replace(vector(1), \"priority\", \"x\", \"\", \"\")", True),
        ("max_over_time((sum by (ns) (x))[1h:5m] offset 5m)",
         "max_over_time((sum by (ns, cluster) (x))[1h:5m] offset 5m)", False),
        ("histogram_quantile(0.9, sum by (le) (rate(h[5m])))",
         "histogram_quantile(0.9, sum by (le, cluster) (rate(h[5m])))", False),
        ("x @ end() - x offset -5m", "x @ end() - x offset -5m", True),
        ("time() - max(x)", "time() - max by (cluster)(x)", False),
        # `or on`: a right side's series is dropped only by a left one of the same cluster
        ("a or on (pod) b", "a or on (pod, cluster) b", True),
        # the label dropped (a block recorded by it, read back): kept in the merged query
        ('label_replace(x, "cluster", "", "", "")', 'label_replace(x, "cluster", "", "", ".+")', False),
        ('label_replace(sum by (ns, cluster) (x), "cluster", "", "", "") * on (ns) y',
         'label_replace(sum by (ns, cluster) (x), "cluster", "", "", ".+") * on (ns, cluster) y', False),
    ],
)  # fmt: skip
def test_every_vector_keeps_the_label(promql: str, rewritten: str, keeps: bool) -> None:
    plan = split_plan(promql, "cluster")
    assert plan.promql == rewritten
    assert plan.keeps is keeps


def test_an_or_of_tagged_parts_keeps_the_label_per_part() -> None:
    promql = 'label_replace(x > 1, "d", "a", "", "") or label_replace(sum(y), "d", "b", "", "")'
    plan = split_plan(promql, "cluster")
    assert plan.promql == (
        'label_replace(x > 1, "d", "a", "", "") or label_replace(sum by (cluster)(y), "d", "b", "", "")'
    )
    assert plan.keep({"d": "a", "cluster": "c"}) is True
    assert plan.keep({"d": "b", "cluster": "c"}) is False
    assert plan.keep({"d": "other"}) is None


@pytest.mark.parametrize(
    "promql",
    [
        "absent(x)",
        "absent_over_time(x[5m])",
        "x or vector(0)",
        "vector(1)",
        "scalar(sum(x))",
        "day_of_week()",
        "1 + 1",
        'label_replace(x, "cluster", "y", "", "")',
        'label_join(x, "cluster", ",", "a", "b")',
        "sum without (cluster) (x)",
        "a / ignoring (cluster) b",
        "a or ignoring (cluster) b",
        'label_replace(x, "cluster", "", "", "(.*)")',
        "limitk(2, x)",
        'count_values("cluster", x)',
        "x or sum(y)",
        "rate(x[5m]) / sum(y)",
        "a * on (pod) group_left (cluster) b",
        "x and on () vector(1) or vector(2)",
        "vector(1) and on () x",
        "some_function(x)",
        "sum(x",
        "x{a=\"b\"} ) (",
        "'just a string'",
    ],
)
def test_what_cannot_be_proven_splittable_is_asked_per_source(promql: str) -> None:
    with pytest.raises(Unsplittable):
        split_plan(promql, "cluster")


def test_every_pack_query_splits_save_constant_lines() -> None:
    """Every query the built-in packs ask splits; a `vector(<n>)` threshold line (which the
    range cache answers without asking) is the only exception."""
    unsplit = []
    corpus = pack_queries()
    assert len(corpus) > 200
    for name, promql in corpus.items():
        try:
            split_plan(promql, "cluster")
        except Unsplittable:
            if not constant_vector(promql):
                unsplit.append(name)
    assert unsplit == []


def source(name: str, selector: str, url: str = "http://prom:9090", **kwargs: object) -> Source:
    return Source(name=name, url=url, selector=selector, **kwargs)  # type: ignore[arg-type]


def test_sources_differing_by_one_label_value_are_grouped() -> None:
    found = groups([
        source("a", 'cluster="c1",env="prod"'), source("b", '{env="prod", cluster="c-2"}'),
        source("c", 'cluster="c3",env="stage"'), source("d", 'cluster="c4"', url="http://other:9090"),
        source("e", 'cluster="c5",env="prod"', coalesce=False), source("f", 'cluster=~"c6"'),
        source("g", 'cluster="c7",env="prod"', timeout=30.0),
    ])  # fmt: skip
    assert found == [Group("cluster", {"a": "c1", "b": "c-2"}, 'env="prod"')]
    assert found[0].selector(["b", "a"]) == 'cluster=~"c-2|c1",env="prod"'


def test_values_are_matched_literally() -> None:
    assert regex_quote('a.b|c*(d)\\e$') == 'a\\.b\\|c\\*\\(d\\)\\\\e\\$'
    group = Group("cluster", {"a": 'x"y', "b": "p.q"}, "")
    assert group.selector(["a", "b"]) == 'cluster=~"p\\\\.q|x\\"y"'
