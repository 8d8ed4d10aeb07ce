"""The source selector reaches every vector selector and nothing else."""

from __future__ import annotations

import base64

import httpx
import pytest

from promsoc.prom import PromClient
from promsoc.prom.selector import SelectorError, inject_matchers, normalize_matchers, tokenize
from promsoc.prom.settings import Source

C = 'cluster="prod-eu"'

CASES = [
    ("up", 'up{cluster="prod-eu"}'),
    ('up{job="api"}', 'up{job="api",cluster="prod-eu"}'),
    ("up{}", 'up{cluster="prod-eu"}'),
    ('up{job="api",}', 'up{job="api",cluster="prod-eu"}'),
    ('{__name__=~"kube_.*"}', '{__name__=~"kube_.*",cluster="prod-eu"}'),
    ('up { job = "a" }', 'up { job = "a",cluster="prod-eu" }'),
    # functions, aggregations, grouping lists and durations stay as they are
    (
        'sum by (ns, pod) (rate(cpu_seconds_total{image!=""}[5m]))',
        'sum by (ns, pod) (rate(cpu_seconds_total{image!="",cluster="prod-eu"}[5m]))',
    ),
    (
        "sum(rate(x[5m])) without (instance)",
        'sum(rate(x{cluster="prod-eu"}[5m])) without (instance)',
    ),
    (
        "max_over_time(deriv(a[1h])[1d:5m])",
        'max_over_time(deriv(a{cluster="prod-eu"}[1h])[1d:5m])',
    ),
    ("a offset 1h", 'a{cluster="prod-eu"} offset 1h'),
    ("a offset -5m", 'a{cluster="prod-eu"} offset -5m'),
    ("a @ start()", 'a{cluster="prod-eu"} @ start()'),
    ("a @ 1700000000", 'a{cluster="prod-eu"} @ 1700000000'),
    (
        "a / on (pod) group_left (node) b",
        'a{cluster="prod-eu"} / on (pod) group_left (node) b{cluster="prod-eu"}',
    ),
    (
        "a * ignoring (code) group_right b",
        'a{cluster="prod-eu"} * ignoring (code) group_right b{cluster="prod-eu"}',
    ),
    (
        "a and b or c unless d",
        'a{cluster="prod-eu"} and b{cluster="prod-eu"} '
        'or c{cluster="prod-eu"} unless d{cluster="prod-eu"}',
    ),
    ("a > bool 0.5", 'a{cluster="prod-eu"} > bool 0.5'),
    ("a > 1e-3 * Inf - NaN", 'a{cluster="prod-eu"} > 1e-3 * Inf - NaN'),
    ("0x1F + 2.5e+3", "0x1F + 2.5e+3"),
    ("vector(1) + time()", "vector(1) + time()"),
    # strings, comments and escapes are never touched
    (
        'label_replace(up, "dst", "$1 up{x}", "src", "(.*)")',
        'label_replace(up{cluster="prod-eu"}, "dst", "$1 up{x}", "src", "(.*)")',
    ),
    ("up # up{x} and rate(y[5m])\n", 'up{cluster="prod-eu"} # up{x} and rate(y[5m])\n'),
    ('a{path="/login\\"}"}', 'a{path="/login\\"}",cluster="prod-eu"}'),
    ("a{x=`raw}`}", 'a{x=`raw}`,cluster="prod-eu"}'),
    ("a{x='single'}", "a{x='single',cluster=\"prod-eu\"}"),
    ('count_values("value", up)', 'count_values("value", up{cluster="prod-eu"})'),
    ("topk(3, a)", 'topk(3, a{cluster="prod-eu"})'),
    ("quantile(0.99, a) by (job)", 'quantile(0.99, a{cluster="prod-eu"}) by (job)'),
    ("sum without (i) (a)", 'sum without (i) (a{cluster="prod-eu"})'),
    ("sum", 'sum{cluster="prod-eu"}'),  # a metric that happens to be called "sum"
    ("node:cpu:rate5m", 'node:cpu:rate5m{cluster="prod-eu"}'),
    ("-a", '-a{cluster="prod-eu"}'),
    # PromQL 3 `or` inside braces: every alternative is scoped
    ('{job="a" or job="b"}', '{job="a",cluster="prod-eu" or job="b",cluster="prod-eu"}'),
    ('a{or="x"}', 'a{or="x",cluster="prod-eu"}'),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_inject(query: str, expected: str) -> None:
    assert inject_matchers(query, C) == expected


def test_several_matchers_and_braces_in_selector() -> None:
    assert (
        inject_matchers("up", '{cluster="a", env=~"prod|stage"}')
        == 'up{cluster="a",env=~"prod|stage"}'
    )


def test_empty_selector_leaves_query_alone() -> None:
    assert inject_matchers("sum(up)", "") == "sum(up)"
    assert inject_matchers("sum(up)", "{}") == "sum(up)"


@pytest.mark.parametrize(
    "bad", ["cluster", "cluster=prod", 'cluster="a" env="b"', '1x="a"', "{{}}", 'a=="b"']
)
def test_bad_selectors_are_refused(bad: str) -> None:
    with pytest.raises(SelectorError):
        normalize_matchers(bad)


@pytest.mark.parametrize("bad", ['up{a="b"', "rate(up[5m)", "up ~ 1"])
def test_unbalanced_queries_raise(bad: str) -> None:
    with pytest.raises(SelectorError):
        inject_matchers(bad, C)


def test_tokenize_round_trips() -> None:
    query = 'sum by (a) (rate(x{y=~"z\\"q"}[5m] offset 1h)) # c\n> bool 1e3'
    assert "".join(token.text for token in tokenize(query)) == query


async def test_client_scopes_queries_it_sends() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "success", "data": []})

    source = Source("s", "http://alice:pw%21@h:9090", selector=C, params={"dedup": "true"})
    async with PromClient(source, transport=httpx.MockTransport(handler)) as prom:
        assert prom.scope("sum(up)") == 'sum(up{cluster="prod-eu"})'
        await prom.series(["up", "down"])
        await prom.labels()
        await prom.label_values("job")
    series = seen[0].url.params
    assert series.get_list("match[]") == ['up{cluster="prod-eu"}', 'down{cluster="prod-eu"}']
    assert series["dedup"] == "true"
    assert seen[1].url.params.get_list("match[]") == ['{cluster="prod-eu"}']
    assert seen[2].url.path == "/api/v1/label/job/values"
    # userinfo in the URL becomes basic auth and never stays in the URL
    assert seen[0].url.userinfo == b""
    assert seen[0].headers["Authorization"] == "Basic " + base64.b64encode(b"alice:pw!").decode()
