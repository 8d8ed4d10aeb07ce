"""Hypothesis fuzzing of the two parsers that read what others wrote: the config loader and the
Prometheus answer parser. Whatever the input, the only exceptions are the project's typed ones
(ConfigError; PromError), never a KeyError, a RecursionError or a crash. Bounded to run in
well under a minute on CI (max_examples, no per-example deadline on a shared machine)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promsoc.config import ConfigError, load_file
from promsoc.prom.errors import MalformedResponse, PromError, Redactor
from promsoc.prom.parse import http_error, instant_result, range_result, string_list, success_data

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CONFIG_KEYS = [
    "sources", "name", "url", "selector", "params", "headers", "auth", "token", "token_env", "token_file",
    "username", "password", "password_env", "password_file", "tls", "ca_file", "cert_file", "key_file",
    "insecure_skip_verify", "timeout", "refresh", "max_concurrency", "max_response_bytes", "detectors",
    "enabled", "severity", "packs_dir", "theme", "kiosk", "rotate_seconds", "views", "handoff_dir",
    "alertmanager", "allow_silence", "author", "window", "lookback", "remember",
]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["10s", "5m", ".inf", "1e400", "http://[::1", "http://127.0.0.1:99999", "${HOME}",
                     "${UNSET_PROMSOC_FUZZ}", "https://u:p@h/x", "\x00", "prod", "dark"]),
)  # fmt: skip
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(CONFIG_KEYS), st.text(max_size=10)), children, max_size=5),
    ),
    max_leaves=25,
)


def load_text(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        path.chmod(0o600)
        try:
            load_file(path)
        except ConfigError as exc:
            assert str(exc).startswith(str(path)), str(exc)  # names the file


@FUZZ
@given(st.fixed_dictionaries({"sources": st.lists(documents, max_size=3)}, optional={
    k: documents for k in ("detectors", "theme", "kiosk", "handoff_dir", "alertmanager", "packs_dir")}))
def test_the_config_loader_raises_only_config_errors_on_structured_input(doc: dict[str, Any]) -> None:
    load_text(yaml.safe_dump(doc, allow_unicode=True))


@FUZZ
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_the_config_loader_raises_only_config_errors_on_any_text(text: str | bytes) -> None:
    load_text(text)


REDACT = Redactor(["secret-token-xyz"])


def response(status: int = 200, location: str | None = None) -> httpx.Response:
    headers = {b"Location": location.encode("utf-8", "surrogatepass")} if location is not None else {}
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", "http://prom.example:9090/x"))


def malformed(detail: str) -> PromError:
    return MalformedResponse(detail, source="fuzz")


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
point = st.one_of(
    st.tuples(st.floats(), st.sampled_from(["1", "NaN", "+Inf", "-Inf", "1e400", "x", ""]) | st.text(max_size=5)),
    json_values,
)
series = st.fixed_dictionaries(
    {"metric": st.one_of(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3), json_values)},
    optional={"value": point, "values": st.one_of(st.lists(point, max_size=4), json_values),
              "histogram": json_values},
)  # fmt: skip
datas = st.one_of(
    json_values,
    st.fixed_dictionaries({
        "resultType": st.sampled_from(["vector", "matrix", "scalar", "string", "teapot"]) | json_values,
        "result": st.one_of(st.lists(series, max_size=4), point, json_values),
    }),
)  # fmt: skip
envelopes = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"status": st.sampled_from(["success", "error"]) | json_values},
        optional={"data": datas, "warnings": json_values, "error": json_values, "errorType": json_values},
    ),
)


def encode(value: Any) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@FUZZ
@given(st.one_of(envelopes.map(encode), st.binary(max_size=200)), st.sampled_from([200, 200, 301, 400, 401, 500, 503]),
       st.one_of(st.none(), st.text(max_size=40)))  # fmt: skip
def test_the_answer_parser_raises_only_prom_errors(body: bytes, status: int, location: str | None) -> None:
    try:
        data, warnings = success_data(response(status, location), body, REDACT, "prom.example:9090", "fuzz")
    except PromError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(warnings, list)
    for parse in (instant_result, range_result):
        try:
            parsed = parse(data, warnings, malformed)
        except PromError:
            continue
        values = [s.value for s in getattr(parsed, "samples", [])]
        values += [v for s in getattr(parsed, "series", []) for _, v in s.points]
        assert all(isinstance(v, float) for v in values)
    with contextlib.suppress(PromError):
        assert all(isinstance(item, str) for item in string_list(data, malformed))


@FUZZ
@given(st.binary(max_size=300), st.integers(min_value=300, max_value=599), st.one_of(st.none(), st.text(max_size=60)))
def test_error_answers_are_one_line_typed_errors(body: bytes, status: int, location: str | None) -> None:
    error = http_error(response(status, location), body, REDACT, "prom.example:9090", "fuzz")
    assert isinstance(error, PromError) and "\n" not in str(error)
