"""The engine's statuses, order and concurrency, against a scripted client (no server)."""

from __future__ import annotations

import asyncio

import pytest

from promsoc.detectors.batch import is_heavy, split
from promsoc.detectors.charts import chart_plan, reading_recorded
from promsoc.detectors.engine import evaluate, recorded_blocks
from promsoc.detectors.packs import load_detectors
from promsoc.detectors.results import Status
from promsoc.detectors.spec import Detector
from promsoc.prom.errors import BadQuery, Unreachable
from promsoc.prom.types import InstantResult, RangeResult, Sample
from promsoc.promql import recording
from promsoc.promql.batch import BATCH_LABEL, combine
from promsoc.promql.presence import LABEL, presence_query

DETECTORS = {d.id: d for d in load_detectors()}
NUMERIC_CODES = 'nginx_ingress_controller_requests{status=~"[1-5][0-9][0-9]"}'


class ScriptedClient:
    """Answers by query text; records how many queries were in flight at once."""

    def __init__(self, answers: dict[str, InstantResult | Exception], present: set[str]) -> None:
        self.answers = answers
        self.present = present
        self.in_flight = 0
        self.peak = 0
        self.queries: list[str] = []

    async def query_range(self, promql: str, start: float, end: float, step: float | str) -> RangeResult:
        raise AssertionError(f"no range query expected, got {promql!r}")

    async def query(self, promql: str, at: float | None = None) -> InstantResult:
        self.queries.append(promql)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        if promql.startswith("group by (__name__)"):
            samples = [
                Sample({LABEL: n} if "{" in n else {"__name__": n}, 1.0, at or 0)
                for n in sorted(self.present)
            ]
            return InstantResult("vector", samples)
        answer = self.answers.get(promql, InstantResult("vector", []))
        if isinstance(answer, Exception):
            raise answer
        return answer


def _vector(*samples: tuple[dict[str, str], float]) -> InstantResult:
    return InstantResult("vector", [Sample(labels, value, 0.0) for labels, value in samples])


async def test_statuses_order_and_concurrency() -> None:
    dets: list[Detector] = [DETECTORS[i] for i in (
        "ingress-bruteforce", "cert-expiry-certmanager", "ingress-sqli", "falco-blind",
        "apiserver-unauthorized",
    )]
    client = ScriptedClient(
        answers={
            dets[0].query: _vector(({"host": "a", "path": "/x"}, 0.4),
                                   ({"host": "b", "path": "/login"}, 0.9)),
            dets[3].query: BadQuery("parse error at char 3", source="lab"),
            dets[4].query: Unreachable("connection refused", source="lab"),
        },
        present={"nginx_ingress_controller_requests", NUMERIC_CODES, "kube_pod_info", "falco_events"},
    )
    results = await evaluate(dets, client, "lab", 1000.0, batch=False, recorded=False)
    assert [r.detector for r in results] == [d.id for d in dets]
    assert [r.status for r in results] == [
        Status.FIRING, Status.NO_DATA, Status.OK, Status.ERROR, Status.ERROR,
    ]
    assert results[0].findings[0].labels == {"host": "b", "path": "/login"}  # worst first
    assert results[1].missing == ("certmanager_certificate_expiration_timestamp_seconds",)
    assert results[3].error and "\n" not in results[3].error
    assert all(r.source == "lab" and r.evaluated_at == 1000.0 for r in results)
    assert client.peak == len(dets) + 1  # every query and the presence check in one wave
    assert sum(q.startswith("group by (__name__)") for q in client.queries) == 1

    # Reading recording rules where the source has them: falco-blind and the presence check can,
    # so they wait for the one small check of which recorded series exist (none here: raw).
    client.peak, client.queries = 0, []
    again = await evaluate(dets, client, "lab", 1000.0, batch=False)
    assert [(r.status, r.findings, r.recorded) for r in again] == [(r.status, r.findings, False) for r in results]
    assert client.peak == len(dets)  # the other four and the check of the recorded series
    first, second = client.queries[: len(dets)], client.queries[len(dets) :]
    assert sum(q.startswith(recording.MARKER) for q in first) == 1
    assert len(second) == 2 and dets[3].query in second
    assert sum(q.startswith("group by (__name__)") for q in second) == 1
    assert sum(q.startswith("group by (__name__)") for q in client.queries) == 1


async def test_any_of_requirements_and_disabled_detectors() -> None:
    blind = DETECTORS["falco-blind"]
    off = DETECTORS["ingress-sqli"].with_overrides(enabled=False)
    client = ScriptedClient({}, present={"kube_pod_info"})
    results = await evaluate([blind, off], client, "lab", 5.0, batch=False)
    assert [r.detector for r in results] == ["falco-blind"]
    assert results[0].status is Status.NO_DATA
    assert results[0].missing[0].startswith("falcosecurity_evt_hostname_info|")


async def test_presence_failure_is_an_error_not_ok() -> None:
    class Broken(ScriptedClient):
        async def query(self, promql: str, at: float | None = None) -> InstantResult:
            if promql.startswith("group by"):
                raise Unreachable("timed out", source="lab")
            return InstantResult("vector", [])

    results = await evaluate([DETECTORS["ingress-sqli"]], Broken({}, set()), "lab", 1.0,
                             batch=False)
    assert results[0].status is Status.ERROR and "timed out" in (results[0].error or "")


def test_presence_query_is_one_regex_over_names() -> None:
    assert presence_query(["b", "a", "b"]) == 'group by (__name__) ({__name__=~"a|b"})'


@pytest.mark.parametrize("det_id", ["container-cpu-outlier", "ingress-response-size-anomaly",
                                    "ingress-bruteforce", "volume-inode-anomaly"])
def test_chart_plan_narrows_to_one_finding(det_id: str) -> None:
    det = DETECTORS[det_id]
    labels = {"namespace": "media", "pod": "thumb-1", "workload_kind": "Deployment",
              "workload": "thumb", "host": 'x"}', "path": "/$1"}
    plan = chart_plan(det, labels)
    assert det.signal is not None and plan.signal.startswith(f"({det.signal}) and on (")
    assert plan.fired.startswith(f"({det.query}) and on (")
    assert plan.own is not None and det.band is not None and plan.own.kind == det.band.kind
    assert '"x\\"}"' in plan.signal and '"/$$1"' in plan.signal  # inert label values
    if det_id == "container-cpu-outlier":
        assert "on (namespace, workload, workload_kind) label_replace" in plan.own.upper
        assert '"thumb-1"' not in plan.own.upper  # the band is the workload's, not the pod's
    if det_id == "ingress-bruteforce":
        assert plan.threshold == "vector(0.3)"
    else:
        assert plan.threshold is None
    assert chart_plan(det).signal == det.signal


def test_chart_plan_names_its_context_bands_and_leaves_out_the_detectors_own_kind() -> None:
    by_kind = {d.band.kind: d for d in DETECTORS.values() if d.band is not None}
    assert [b.name for b in chart_plan(by_kind["time"]).extra] == ["seasonal band"]
    assert [b.name for b in chart_plan(by_kind["threshold"]).extra] == ["time band", "seasonal band"]
    assert chart_plan(by_kind["threshold"], context=False).extra == ()
    group = next(d for d in DETECTORS.values() if d.band is not None and d.band.by is not None)
    assert [b.name for b in chart_plan(group).extra] == ["time band", "seasonal band"]


def test_heavy_queries_go_alone() -> None:
    heavy = {d.id for d in DETECTORS.values() if is_heavy(d.query)}
    assert {"container-cpu-outlier", "pod-egress-outlier", "ingress-response-size-anomaly",
            "falco-blind"} <= heavy
    assert "ingress-bruteforce" not in heavy and "apiserver-unauthorized" not in heavy


def test_combine_and_split_round_trip() -> None:
    text = combine({"a": "up", "b": 'sum by (x) (y{z="1"})'})
    assert text == ('label_replace((up), "promsoc_detector", "a", "", "") or '
                    'label_replace((sum by (x) (y{z="1"})), "promsoc_detector", "b", "", "")')
    combined = _vector(({"x": "1", BATCH_LABEL: "b"}, 2.0), ({BATCH_LABEL: "a", "j": "p"}, 1.0))
    parts = split(combined, ["a", "b", "c"])
    assert [s.labels for s in parts["a"].samples] == [{"j": "p"}]
    assert [s.labels for s in parts["b"].samples] == [{"x": "1"}]
    assert parts["c"].samples == []


class BatchClient(ScriptedClient):
    """Refuses combined queries with `refusal`; answers single queries as scripted."""

    def __init__(self, refusal: Exception, *args: object) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.refusal = refusal

    async def query(self, promql: str, at: float | None = None) -> InstantResult:
        if BATCH_LABEL in promql:
            self.queries.append(promql)
            raise self.refusal
        return await super().query(promql, at)


async def test_a_refused_batch_falls_back_to_single_queries() -> None:
    dets = [DETECTORS["ingress-bruteforce"], DETECTORS["ingress-sqli"]]
    client = BatchClient(
        BadQuery("many-to-many matching not allowed", source="lab"),
        {dets[0].query: _vector(({"host": "a", "path": "/login"}, 0.7))},
        {"nginx_ingress_controller_requests", NUMERIC_CODES},
    )
    results = await evaluate(dets, client, "lab", 1.0)
    assert [r.status for r in results] == [Status.FIRING, Status.OK]
    assert sum(BATCH_LABEL in q for q in client.queries) == 1


async def test_an_unreachable_source_is_not_retried_per_detector() -> None:
    dets = [DETECTORS["ingress-bruteforce"], DETECTORS["ingress-sqli"]]
    client = BatchClient(Unreachable("connection refused", source="lab"), {}, set())
    results = await evaluate(dets, client, "lab", 1.0)
    assert {r.status for r in results} == {Status.ERROR}
    assert all("connection refused" in (r.error or "") for r in results)
    assert len(client.queries) == 1


@pytest.mark.parametrize(
    ("present", "missing", "note"),
    [
        ({"nginx_ingress_controller_requests", NUMERIC_CODES}, (), None),
        ({"nginx_ingress_controller_requests"}, (NUMERIC_CODES,), "--report-status-classes"),
        (set(), ("nginx_ingress_controller_requests",), None),
    ],
)
async def test_share_detectors_need_status_codes_not_classes(
    present: set[str], missing: tuple[str, ...], note: str | None
) -> None:
    dets = [DETECTORS[i] for i in ("ingress-fingerprinting", "ingress-bruteforce", "ingress-sqli")]
    results = await evaluate(dets, ScriptedClient({}, present), "lab", 1.0, batch=False)
    for result in results:
        assert result.status is (Status.NO_DATA if missing else Status.OK), result
        assert result.missing == missing
        assert (note is None and result.note is None) or (note and note in (result.note or ""))


@pytest.mark.parametrize(
    ("present", "status", "note"),
    [
        ({"kube_ingress_created", "kube_pod_info"}, Status.OK, None),
        ({"kube_pod_info"}, Status.OK, "no Ingress objects seen, or the ingress collector is off"),
        (set(), Status.NO_DATA, None),
    ],
)
async def test_no_ingress_objects_is_ok_with_a_note_not_a_blind_spot(
    present: set[str], status: Status, note: str | None
) -> None:
    det = DETECTORS["ingress-created"]
    [result] = await evaluate([det], ScriptedClient({}, present), "lab", 1.0, batch=False)
    assert result.status is status
    assert result.note == note
    assert result.missing == (() if status is Status.OK else ("kube_ingress_created",))


def test_presence_query_checks_selectors_by_a_label_of_their_own() -> None:
    query = presence_query(["a"], ['a{code=~"4.."}'])
    assert query == (
        'group by (__name__) ({__name__=~"a"}) or '
        'label_replace(group(a{code=~"4.."}), "promsoc_requirement", "a{code=~\\"4..\\"}", "", "")'
    )

async def test_findings_are_worst_first_in_the_units_direction() -> None:
    expiry, share = DETECTORS["cert-expiry-certmanager"], DETECTORS["ingress-sqli"]
    client = ScriptedClient({
        expiry.query: _vector(({"name": "later"}, 5 * 86400.0), ({"name": "sooner"}, 3600.0)),
        share.query: _vector(({"path": "/a"}, 0.4), ({"path": "/b"}, 0.9)),
    }, present={"certmanager_certificate_expiration_timestamp_seconds",
                "nginx_ingress_controller_requests"})
    by_id = {r.detector: r for r in await evaluate([expiry, share], client, "s", 0.0, batch=False)}
    assert [f.labels["name"] for f in by_id[expiry.id].findings] == ["sooner", "later"]
    assert [f.labels["path"] for f in by_id[share.id].findings] == ["/b", "/a"]


async def test_keep_holds_the_worst_findings_and_counts_the_rest() -> None:
    share = DETECTORS["ingress-sqli"]
    values = [(f"/p{i:02d}", 0.5 if 3 <= i <= 6 else i / 100) for i in range(20)]  # a tie across the cut
    client = ScriptedClient({share.query: _vector(*(({"path": p}, v) for p, v in values))},
                            present={"nginx_ingress_controller_requests"})  # fmt: skip
    whole = (await evaluate([share], client, "s", 0.0, batch=False))[0]
    capped = (await evaluate([share], client, "s", 0.0, batch=False, keep=5))[0]
    assert (len(whole.findings), whole.omitted, whole.found) == (20, 0, 20)
    assert (len(capped.findings), capped.omitted, capped.found) == (5, 15, 20)
    assert capped.findings == whole.findings[:5]  # the worst, ties in label order as uncapped
    assert [f.labels["path"] for f in capped.findings] == ["/p03", "/p04", "/p05", "/p06", "/p19"]
    assert capped.status is Status.FIRING


def test_a_chart_reads_each_recorded_block_over_what_its_query_reaches() -> None:
    """Bands are built on the whole signal and narrowed after, so their terms are spelled as the
    rules record them; each query reads only the blocks the source has had over its own reach."""
    det = DETECTORS["ingress-response-size-anomaly"]  # its own band is a 1h time band
    labels = {"namespace": "shop", "ingress": "web", "host": "shop.example", "path": "/"}
    plan = chart_plan(det, labels)
    assert plan.reaches == (0.0, 2 * 3600.0 + 60)  # the seasonal context band reads 2 h back
    blocks = recorded_blocks([det])
    assert plan.own is not None and det.band is not None
    assert all(term in plan.own.upper for term in det.band.terms)
    read = reading_recorded(plan, {0.0: blocks})  # had over the window, not 2 h before it
    assert read.own is not None and "promsoc:ingress_response_size_anomaly:band_mean" in read.own.upper
    assert "promsoc:ingress_response_size_anomaly:signal" in read.signal and "_bucket" not in read.signal
    assert "_bucket" not in read.fired
    assert read.extra == plan.extra  # the seasonal band's past is older than the recording: raw
    everywhere = reading_recorded(plan, {reach: blocks for reach in plan.reaches})
    assert "_bucket" not in everywhere.extra[0].upper and '"shop.example"' in everywhere.extra[0].upper
    assert reading_recorded(plan, {}) == plan  # a source without the rules: every query raw
    sibling = chart_plan(DETECTORS["container-cpu-outlier"], {"namespace": "a", "pod": "p-1"})
    read = reading_recorded(sibling, {reach: recorded_blocks([DETECTORS["container-cpu-outlier"]])
                                      for reach in sibling.reaches})  # fmt: skip
    for query in (read.signal, read.fired, *(b.upper for b in (read.own, *read.extra) if b is not None)):
        assert "kube_replicaset_owner" not in query and "promsoc:container_cpu_outlier:signal" in query
