"""Detector packs: every contract id, templating, user packs and the config's overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from promsoc.detectors.packs import DetectorOverride, load_detectors, parse_pack
from promsoc.detectors.spec import SpecError, render

CONTRACT_IDS = [
    "apiserver-unauthorized", "apiserver-secrets-denied", "rbac-cluster-change",
    "ingress-created", "cert-expiry-apiserver-client", "cert-expiry-certmanager",
    "ingress-fingerprinting", "ingress-bruteforce", "ingress-sqli",
    "ingress-response-size-anomaly", "volume-inode-anomaly", "container-cpu-outlier",
    "pod-egress-outlier", "falco-rule-burst", "falco-critical-events", "falco-output-errors",
    "falco-blind",
]

USER_PACK = """
pack: mine
macros:
  api_5xx: 'sum by (job) (rate(http_requests_total{code=~"5.."}[{{ window }}]))'
detectors:
  - id: api-errors
    title: API errors
    category: app
    severity: low
    mitre: [T1190]
    description: Our API answering 5xx.
    runbook: Read the logs.
    params: {window: 5m, max_rate: 1}
    requires: [http_requests_total]
    signal: "{{ api_5xx }}"
    band: {kind: threshold, value: "{{ max_rate }}"}
    query: "{{ signal }} > {{ max_rate }}"
"""


def test_builtin_pack_holds_every_contract_detector_in_order() -> None:
    detectors = load_detectors()
    assert [d.id for d in detectors] == CONTRACT_IDS
    for det in detectors:
        assert det.mitre and det.runbook and det.description and det.title
        assert det.requires, f"{det.id} cannot tell ok from no_data"
        assert "{{" not in det.query and "}}" not in det.query
        assert det.severity in ("info", "low", "medium", "high", "critical")


def test_talk_queries_are_corrected() -> None:
    queries = {d.id: d.query for d in load_detectors()}
    assert "client" not in queries["apiserver-unauthorized"]
    assert 'authentication_attempts{result="failure"}' in queries["apiserver-unauthorized"]
    assert 'decision="denied"' in queries["apiserver-unauthorized"]
    assert "time() - (kube_ingress_created > 0)" in queries["ingress-created"]
    assert "certmanager_certificate_expiration_timestamp_seconds > 0" in queries[
        "cert-expiry-certmanager"
    ]
    for det_id in ("container-cpu-outlier", "pod-egress-outlier"):
        assert "kube_replicaset_owner" in queries[det_id]
        assert "stddev" not in queries[det_id]
    for name in ("falcosecurity_falco_rules_matches_total", "falco_events",
                 "falcosecurity_falcosidekick_falco_events_total", "priority_raw"):
        assert name in queries["falco-rule-burst"]


def test_params_change_values_without_rewriting_promql() -> None:
    det = next(d for d in load_detectors() if d.id == "ingress-bruteforce")
    tuned = det.with_overrides(params={"max_share": 0.5, "min_rps": 2})
    assert "> 0.3" in det.query and "> 0.1" in det.query
    assert "> 0.5" in tuned.query and "> 2" in tuned.query and "> 0.3" not in tuned.query
    assert tuned.band is not None and tuned.band.upper == "vector(0.5)"


@pytest.mark.parametrize(
    ("params", "severity", "message"),
    [
        ({"max_shar": 0.5}, None, "unknown param 'max_shar'"),
        ({"max_share": "lots"}, None, "expected a number"),
        ({"max_share": True}, None, "expected a number"),
        ({}, "urgent", "severity 'urgent'"),
    ],
)
def test_bad_overrides_are_refused(params: dict[str, object], severity: str | None, message: str) -> None:
    det = next(d for d in load_detectors() if d.id == "ingress-bruteforce")
    with pytest.raises(SpecError, match=message):
        det.with_overrides(severity=severity, params=params)


def test_config_overrides_disable_and_locate_errors() -> None:
    settings = {
        "ingress-sqli": DetectorOverride(enabled=False),
        "falco-blind": DetectorOverride(severity="critical", params={"remember": "12h"}),
    }
    detectors = load_detectors(settings=settings)
    assert "ingress-sqli" not in [d.id for d in detectors]
    blind = next(d for d in detectors if d.id == "falco-blind")
    assert blind.severity == "critical" and "[12h" in blind.query
    assert len(load_detectors(settings=settings, include_disabled=True)) == 17
    bad = {"no-such": DetectorOverride(file="/etc/promsoc.yaml", line=12)}
    with pytest.raises(SpecError, match=r"^/etc/promsoc.yaml:12: detectors.no-such: no such"):
        load_detectors(settings=bad)
    bad_param = {"ingress-sqli": DetectorOverride(params={"x": 1}, file="c.yaml", line=3)}
    with pytest.raises(SpecError, match=r"^c.yaml:3: detectors.ingress-sqli: unknown param 'x'"):
        load_detectors(settings=bad_param)


def test_user_packs_add_and_replace(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(USER_PACK)
    replaced = USER_PACK.replace("id: api-errors", "id: ingress-sqli")
    (tmp_path / "override.yml").write_text(replaced.replace("pack: mine", "pack: ours"))
    detectors = load_detectors(packs_dir=tmp_path)
    ids = [d.id for d in detectors]
    assert ids[-1] == "api-errors" and len(ids) == 18
    sqli = detectors[ids.index("ingress-sqli")]
    assert sqli.pack == "ours" and "http_requests_total" in sqli.query
    mine = detectors[-1]
    assert mine.unit == "none"  # undeclared: printed as a plain number
    assert mine.query == '(sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))) > 1'
    assert load_detectors(packs_dir=tmp_path, settings={"api-errors": DetectorOverride(
        params={"window": "10m"})})[-1].query.count("[10m]") == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("detectors: [\n  {id: x, title: [}\n", r"pack.yaml:\d+: invalid YAML"),
        ("detectors: {}\n", "a pack is a mapping with a 'detectors' list"),
        (USER_PACK.replace("{{ max_rate }}\"\n", "{{ max_ratio }}\"\n"), "unknown placeholder"),
        (USER_PACK.replace("mitre: [T1190]", "mitre: [lateral]"), "ATT&CK technique ids"),
        (USER_PACK.replace("severity: low", "severity: meh"), "severity 'meh'"),
        (USER_PACK.replace("kind: threshold", "kind: wobbly"), "kind 'wobbly'"),
        (USER_PACK.replace("    runbook: Read the logs.\n", ""), "'runbook' must be"),
        (USER_PACK.replace("    category: app\n", "    category: app\n    colour: red\n"),
         "unknown key 'colour'"),
        (USER_PACK.replace("    category: app\n", "    category: app\n    unit: furlongs\n"),
         r"\(api-errors\): unit 'furlongs' is not one of none, count"),
    ],
)
def test_bad_packs_name_the_file_and_the_mistake(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_pack(text, "pack.yaml")


def test_render_refuses_unknown_names_and_runaway_nesting() -> None:
    assert render("a {{ x }} b", {"x": 0.25}, "t") == "a 0.25 b"
    assert render("{{ y }}", {"y": "{{ x }}", "x": 3.0}, "t") == "3"
    with pytest.raises(SpecError, match="unknown placeholder"):
        render("{{ nope }}", {}, "t")
    with pytest.raises(SpecError, match="nest too deeply"):
        render("{{ a }}", {"a": "{{ a }}"}, "t")


def test_increase_new_function_macro_counts_born_series_on_known_targets_only() -> None:
    text = render(
        '{{ increase_new(logins_total{code=~"{{ codes }}"}) }}', {"codes": "401", "window": "10m"}, "t"
    )
    assert 'logins_total{code=~"401"} unless present_over_time(logins_total{code=~"401"}[1h] offset 10m)' in text
    assert "and on (job, instance) group by (job, instance) (logins_total offset 10m)" in text
    assert text.endswith('increase(logins_total{code=~"401"}[10m]))')
    with pytest.raises(SpecError, match=r"t: increase_new: selector '\{code=\"1\"\}' does not start"):
        render('{{ increase_new({code="1"}) }}', {"window": "5m"}, "t")


@pytest.mark.parametrize(
    ("requires", "error"),
    [
        ("[{metric: a, colour: red}]", "unknown key 'colour'"),
        ("[{metric: a, absent_ok_when: b}]", "absent_ok_when needs a 'note'"),
        ("['a{b=\"c\"'] ", "is not a metric name or selector"),
        ("[[]]", "is empty"),
        ("a", "must be a list"),
    ],
)
def test_bad_requires_entries_are_named(requires: str, error: str) -> None:
    text = USER_PACK.replace("requires: [http_requests_total]", f"requires: {requires}")
    with pytest.raises(SpecError, match=r"mine.yaml: detectors\[0\] \(api-errors\): .*" + re.escape(error)):
        parse_pack(text, "mine.yaml")


def test_requires_accepts_selectors_and_notes() -> None:
    text = USER_PACK.replace(
        "requires: [http_requests_total]",
        "requires: [{metric: 'http_requests_total{code=~\"5..\"}', why: no codes}, "
        "{metric: [x, y], absent_ok_when: z, note: nothing to see}]",
    )
    [det] = parse_pack(text, "mine.yaml")
    assert det.required_selectors == ('http_requests_total{code=~"5.."}',)
    assert det.required_families == ("http_requests_total", "x", "y", "z")
    assert det.requires[0].why == "no codes" and det.requires[1].note == "nothing to see"
