"""The API's JSON envelope -> typed results, and HTTP statuses -> typed errors."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from promsoc.prom.errors import (
    AuthRefused,
    BadQuery,
    MalformedResponse,
    PromError,
    Redactor,
    ServerError,
)
from promsoc.prom.stream import STREAM_OVER, Convert, Read, Unusual, read_envelope
from promsoc.prom.types import InstantResult, RangeResult, RangeSeries, Sample
from promsoc.text import one_line

Malformed = Callable[[str], PromError]


def _body_text(body: bytes, redact: Redactor) -> str:
    """The error text of a response: Prometheus's `error` field, else the body's first 200 chars."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return redact(payload["error"])
    return redact(one_line(body[:4096].decode("utf-8", "replace"), 200))


def redirect_target(response: httpx.Response, redact: Redactor) -> str:
    """Where a 3xx pointed: scheme, host and path only (userinfo, query and fragment may hold secrets)."""
    location = response.headers.get("Location", "")
    try:
        parts = urlsplit(urljoin(str(response.request.url), location) if location else "")
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except (ValueError, RuntimeError):  # a malformed Location, or a response without its request
        return ""
    if not parts.scheme or not host:
        return ""
    return redact(one_line(f"{parts.scheme}://{host}{port}{parts.path}", 200))


def http_error(
    response: httpx.Response,
    body: bytes,
    redact: Redactor,
    host: str,
    source: str,
    *,
    attempts: int = 1,
    root: str = "the Prometheus root",
) -> PromError:
    """The typed error for a non-2xx response whose (capped, decompressed) body is `body`."""
    status = response.status_code
    reason = response.reason_phrase or ""
    text = _body_text(body, redact)
    if 300 <= status < 400:
        target = redirect_target(response, redact)
        where = f" to {target}" if target else " (no usable Location)"
        return ServerError(
            f"HTTP {status} {reason} from {host}: redirects{where}; promsoc does not follow redirects, "
            "so set the source's url to where it points",
            source=source,
            status=status,
        )
    if status in (401, 403):
        return AuthRefused(
            f"HTTP {status} {reason} from {host}; check the source's credentials",
            source=source,
            status=status,
        )
    if status in (400, 422):
        return BadQuery(text or f"HTTP {status} {reason}", source=source, status=status)
    tail = f" after {attempts} attempts" if attempts > 1 else ""
    hint = f" (is the URL {root}?)" if status == 404 else ""
    detail = f"HTTP {status} {reason} from {host}{tail}{hint}"
    return ServerError(f"{detail}: {text}" if text else detail, source=source, status=status)


def success_data(
    response: httpx.Response,
    body: bytes,
    redact: Redactor,
    host: str,
    source: str,
    *,
    convert: Convert | None = None,
    limit: int | None = None,
) -> tuple[Any, list[str]]:
    """(`data`, `warnings`) of a successful envelope whose body is `body`; a typed error for anything else.

    With `convert`, a body over STREAM_OVER bytes is read one series at a time (`prom.stream`):
    `data["result"]` is then a `Read` of the converted elements, at most `limit` of them.
    """
    if not 200 <= response.status_code < 300:
        raise http_error(response, body, redact, host, source)
    payload: Any = None
    if convert is not None and len(body) > STREAM_OVER:
        try:
            payload = read_envelope(body, convert, limit)
        except Unusual:
            payload = None  # parsed whole below, with the messages it always had
    if payload is None:
        try:
            payload = json.loads(body)
        except RecursionError:
            raise MalformedResponse(f"JSON from {host} is nested too deeply", source=source) from None
        except ValueError as exc:
            raise MalformedResponse(f"invalid JSON from {host}: {exc}", source=source) from None
    if not isinstance(payload, dict) or "status" not in payload:
        raise MalformedResponse(f"{host} did not answer with a Prometheus API envelope", source=source)
    if payload["status"] != "success":
        error = redact(str(payload.get("error", "unknown error")))
        if payload.get("errorType") in ("bad_data", "execution"):
            raise BadQuery(error, source=source)
        raise ServerError(f"{host}: {error}", source=source)
    if "data" not in payload:
        raise MalformedResponse(f"{host}: success without data", source=source)
    warnings = payload.get("warnings")
    return payload["data"], [str(w) for w in warnings] if isinstance(warnings, list) else []


def _value(point: Any) -> tuple[float, float]:
    """`[1700000000.5, "1.25"]` -> (1700000000.5, 1.25); NaN and ±Inf kept as floats."""
    stamp, text = point
    return float(stamp), float(text)


def _labels(series: dict[str, Any]) -> dict[str, str]:
    metric = series.get("metric", {})
    if not isinstance(metric, dict):
        raise TypeError("metric is not an object")
    return {str(k): str(v) for k, v in metric.items()}


def instant_sample(kind: str, series: Any) -> Sample | None:
    """One element of a vector (or of a matrix, at its last point; None without points)."""
    if kind == "matrix":
        points = series.get("values") or []
        if not points:
            return None
        stamp, value = _value(points[-1])
    elif "value" in series:
        stamp, value = _value(series["value"])
    else:  # native histogram: no float value to show
        stamp, value = float(series["histogram"][0]), math.nan
    return Sample(_labels(series), value, stamp)


def range_series(kind: str, item: Any) -> RangeSeries:
    """One element of a matrix."""
    if kind != "matrix":
        raise ValueError(f"resultType {kind!r}, expected matrix")
    return RangeSeries(_labels(item), [_value(point) for point in item.get("values") or []])


def _elements(kind: str, raw: Any, convert: Convert, limit: int | None) -> tuple[list[Any], int]:
    """The typed elements of `data.result` (at most `limit`) and how many were left out."""
    if isinstance(raw, Read):
        if raw.error is not None:
            raise raw.error
        return raw.items, raw.omitted
    items: list[Any] = []
    for index, element in enumerate(raw):
        if limit is not None and len(items) >= limit:
            return items, len(raw) - index
        item = convert(kind, element)
        if item is not None:
            items.append(item)
    return items, 0


def instant_result(data: Any, warnings: list[str], malformed: Malformed, limit: int | None = None) -> InstantResult:
    """`/api/v1/query` data -> InstantResult (at most `limit` samples; `omitted` counts the rest).

    A scalar becomes one sample with no labels; a string one sample with value NaN and the
    text in a `value` label; a matrix (range selector) one sample per series at its last point;
    a native-histogram-only series has value NaN.
    """
    omitted = 0
    try:
        kind = data["resultType"]
        raw = data["result"]
        samples: list[Sample]
        if kind in ("vector", "matrix"):
            samples, omitted = _elements(kind, raw, instant_sample, limit)
        elif kind == "scalar":
            stamp, value = _value(raw)
            samples = [Sample({}, value, stamp)]
        elif kind == "string":
            samples = [Sample({"value": str(raw[1])}, math.nan, float(raw[0]))]
        else:
            raise ValueError(f"unknown resultType {kind!r}")
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise malformed(f"query: unexpected data ({one_line(str(exc), 80)})") from None
    return InstantResult(kind, samples, _cut(warnings, omitted, limit), omitted=omitted)


def range_result(data: Any, warnings: list[str], malformed: Malformed, limit: int | None = None) -> RangeResult:
    """`/api/v1/query_range` data -> RangeResult (a matrix; histogram points are skipped; at most
    `limit` series, `omitted` counts the rest)."""
    try:
        if data["resultType"] != "matrix":
            raise ValueError(f"resultType {data['resultType']!r}, expected matrix")
        series, omitted = _elements("matrix", data["result"], range_series, limit)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise malformed(f"query_range: unexpected data ({one_line(str(exc), 80)})") from None
    return RangeResult(series, _cut(warnings, omitted, limit), omitted=omitted)


def _cut(warnings: list[str], omitted: int, limit: int | None) -> list[str]:
    if not omitted:
        return warnings
    return [*warnings, f"the answer held {omitted + (limit or 0):,} series; promsoc kept the first {limit:,}"]


def string_list(data: Any, malformed: Malformed) -> list[str]:  # warnings dropped
    """Label names or values: a JSON list of strings."""
    if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
        raise malformed("expected a list of strings")
    return list(data)


__all__ = [
    "http_error",
    "instant_result",
    "instant_sample",
    "range_result",
    "range_series",
    "string_list",
    "success_data",
]
