"""`promsoc scan` output: 80 columns, glyph + word, hostile label values inert, exit codes."""

from __future__ import annotations

from promsoc.cli.scan import exit_code, render_table, to_json
from promsoc.detectors.results import DetectorResult, Finding, Status


def _result(detector: str, status: Status, source: str = "prod", **kw: object) -> DetectorResult:
    return DetectorResult(source=source, detector=detector, title=detector, category="c",
                          severity="high", status=status, evaluated_at=0.0, **kw)  # type: ignore[arg-type]


HOSTILE = {"pod": "\x1b]52;c;ZXZpbA==\x07evil\x1b[31m", "path": "/\u202egnp.exe", "x": "A" * 10_000,
           "markup": "[@click=app.quit]boom[/]"}


def test_table_fits_80_columns_and_reads_without_colour() -> None:
    results = [
        _result("ingress-response-size-anomaly", Status.FIRING,
                findings=[Finding(HOSTILE, 1e9), Finding({"a": "b"}, 2.0)]),
        _result("cert-expiry-certmanager", Status.NO_DATA,
                missing=("certmanager_certificate_expiration_timestamp_seconds",)),
        _result("falco-blind", Status.ERROR, error="source prod: connection refused"),
        _result("ingress-sqli", Status.OK),
    ]
    text = render_table(results, 0.0)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert lines[2].startswith("▲ FIRING  ingress-response-size-anomaly")
    assert lines[3].startswith("          └ ")
    assert any(line.startswith("○ NO DATA cert-expiry-certmanager") for line in lines)
    assert any(line.startswith("✗ ERROR   falco-blind") for line in lines)
    assert any(line.startswith("✓ OK      ingress-sqli") for line in lines)


def test_exit_codes_follow_the_contract() -> None:
    ok, firing = _result("a", Status.OK), _result("b", Status.FIRING)
    blind, broken = _result("c", Status.NO_DATA), _result("d", Status.ERROR)
    assert exit_code([ok, blind]) == 0
    assert exit_code([ok, firing]) == 1
    assert exit_code([ok, broken]) == 3
    assert exit_code([firing, broken]) == 1
    down = [_result("a", Status.ERROR, source="dr"), _result("b", Status.ERROR, source="dr")]
    assert exit_code([firing, *down]) == 3  # a whole source unreachable outranks findings


def test_json_keeps_labels_verbatim() -> None:
    doc = to_json([_result("x", Status.FIRING, findings=[Finding(HOSTILE, 1.5)])], 0.0)
    assert doc["evaluated_at"] == "1970-01-01T00:00:00Z"
    assert doc["results"][0]["findings"] == [{"labels": HOSTILE, "value": 1.5}]
    assert doc["results"][0]["missing"] == []


def test_notes_explain_a_blind_spot_and_an_ok_that_saw_nothing() -> None:
    classes = "ingress-nginx reports status classes (2xx/4xx/5xx, --report-status-classes), not codes"
    results = [
        _result("ingress-fingerprinting", Status.NO_DATA, note=classes + "\x1b[31m",
                missing=('nginx_ingress_controller_requests{status=~"[1-5][0-9][0-9]"}',)),
        _result("ingress-created", Status.OK, note="no Ingress objects seen, or the ingress collector is off"),
        _result("ingress-sqli", Status.OK),
    ]
    lines = render_table(results, 0.0).splitlines()
    assert all(len(line) <= 80 and "\x1b" not in line for line in lines)
    blind = lines.index(next(line for line in lines if line.startswith("○ NO DATA ingress-fingerprinting")))
    assert lines[blind + 1].startswith("          └ missing nginx_ingress_controller_requests{status=~")
    assert lines[blind + 2].startswith("          └ ingress-nginx reports status classes (2xx/4xx/5xx")
    ok = lines.index(next(line for line in lines if line.startswith("✓ OK      ingress-created")))
    assert lines[ok + 1] == "          └ no Ingress objects seen, or the ingress collector is off"
    assert lines[ok + 2].startswith("✓ OK      ingress-sqli")
    doc = to_json(results, 0.0)["results"]
    assert [r["note"] for r in doc] == [classes + "\x1b[31m", results[1].note, None]
    assert doc[0]["missing"] == ['nginx_ingress_controller_requests{status=~"[1-5][0-9][0-9]"}']

def test_table_prints_values_with_units_and_json_names_the_unit() -> None:
    results = [
        _result("pod-egress-outlier", Status.FIRING, findings=[Finding({"pod": "p"}, 4.9e6)]),
        _result("ingress-bruteforce", Status.FIRING, findings=[Finding({"path": "/login"}, 0.62)]),
        _result("cert-expiry-certmanager", Status.FIRING, findings=[Finding({"name": "c"}, 3 * 86400.0)]),
    ]
    unit_of = {"pod-egress-outlier": "bytes_per_second", "ingress-bruteforce": "ratio",
               "cert-expiry-certmanager": "seconds_until_expiry"}
    lines = render_table(results, 0.0, unit_of).splitlines()
    rows = [line for line in lines if line.startswith("▲ FIRING")]
    assert [row.split("high", 1)[1].strip() for row in rows] == [
        "1 finding: 4.9 MB/s", "1 finding: 62 %", "1 finding: expires in 3 d"]
    doc = to_json(results, 0.0, unit_of)
    assert [(r["unit"], r["findings"][0]["value"]) for r in doc["results"]] == [
        ("bytes_per_second", 4.9e6), ("ratio", 0.62), ("seconds_until_expiry", 259200.0)]
    assert to_json(results[:1], 0.0)["results"][0]["unit"] == "none"
