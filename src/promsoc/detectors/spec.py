"""Detector definitions: the YAML schema, `{{ param }}` templating and rendered PromQL."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from promsoc import units
from promsoc.detectors import requirements
from promsoc.detectors.params import ParamValue, check_param
from promsoc.promql import bands, falco
from promsoc.promql.fragments import PODS_PER_NODE, increase_new, pod_workload

SEVERITIES = ("info", "low", "medium", "high", "critical")

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# `{{ increase_new(SELECTOR) }}`: a counter's increase over {{ window }}, counting series born in
# it (see fragments.increase_new). The selector may hold placeholders of its own.
_FUNCTIONS: dict[str, Callable[[str], str]] = {"increase_new": increase_new}
_CALL = re.compile(r"\{\{\s*(" + "|".join(_FUNCTIONS) + r")\((.*?)\)\s*\}\}", re.DOTALL)
DETECTOR_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
"""A detector id: lower-case words joined by dashes (also the key of its config entry)."""
_MITRE = re.compile(r"^T\d{4}(\.\d{3})?$")


class SpecError(Exception):
    """A detector definition or override is invalid; the message names where and what."""


def shared_macros() -> dict[str, str]:
    """Macros every pack, built-in or user, may reference."""
    return {"pod_workload": pod_workload(), "pods_per_node": PODS_PER_NODE, **falco.macros()}


def render(template: str, values: Mapping[str, object], where: str) -> str:
    """Replace `{{ name }}` placeholders; macros may hold placeholders of their own."""
    text = template
    for _round in range(6):
        for match in _PLACEHOLDER.finditer(text):
            if match.group(1) not in values:
                raise SpecError(f"{where}: unknown placeholder {{{{ {match.group(1)} }}}}")
        text = _PLACEHOLDER.sub(lambda m: _format(values[m.group(1)]), text)
        text = _CALL.sub(lambda m: _call(m, where), text)
        if not _PLACEHOLDER.search(text) and not _CALL.search(text):
            return " ".join(text.split())
    raise SpecError(f"{where}: placeholders nest too deeply")


def _call(match: re.Match[str], where: str) -> str:
    try:
        return _FUNCTIONS[match.group(1)](" ".join(match.group(2).split()))
    except ValueError as exc:
        raise SpecError(f"{where}: {match.group(1)}: {exc}") from None


def _format(value: object) -> str:
    if isinstance(value, bool):
        raise SpecError(f"parameter value {value!r} is a boolean, not a number or a string")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


@dataclass(frozen=True)
class Detector:
    """One detector: what it catches, why, what to do, its PromQL and the band its chart draws."""

    id: str
    title: str
    category: str
    severity: str
    mitre: tuple[str, ...]
    description: str
    runbook: str
    query_template: str
    params: Mapping[str, ParamValue]
    requires: tuple[requirements.Requirement, ...]
    signal_template: str | None = None
    band_spec: Mapping[str, Any] | None = None
    macros: Mapping[str, str] = field(default_factory=dict)
    pack: str = "builtin"
    enabled: bool = True
    for_: str = "0m"
    unit: str = units.DEFAULT
    """What the query's value measures (promsoc.units): how every screen prints it."""
    # Rendered at construction (see build()); a bad template fails at load, not at 3 a.m.
    query: str = ""
    signal: str | None = None
    band: bands.BandQueries | None = None

    @property
    def required_families(self) -> tuple[str, ...]:
        """Every metric family named in `requires`, flattened."""
        return tuple(dict.fromkeys(name for req in self.requires for name in req.families))

    @property
    def required_selectors(self) -> tuple[str, ...]:
        """Every `name{labels}` selector in `requires` (label values it must see)."""
        return tuple(dict.fromkeys(sel for req in self.requires for sel in req.selectors))

    def with_overrides(
        self,
        enabled: bool | None = None,
        severity: str | None = None,
        params: Mapping[str, object] | None = None,
    ) -> Detector:
        """A copy with the user's settings; unknown params or wrong types are errors."""
        new_params = dict(self.params)
        for name, value in (params or {}).items():
            if name not in self.params:
                known = ", ".join(sorted(self.params)) or "none"
                raise SpecError(f"detector {self.id}: unknown param {name!r} (known: {known})")
            new_params[name] = _check_param(self.id, name, value, self.params[name])
        if severity is not None and severity not in SEVERITIES:
            raise SpecError(
                f"detector {self.id}: severity {severity!r} is not one of {', '.join(SEVERITIES)}"
            )
        return build(
            replace(
                self,
                enabled=self.enabled if enabled is None else enabled,
                severity=severity or self.severity,
                params=new_params,
            )
        )


def _check_param(detector: str, name: str, value: object, default: ParamValue) -> ParamValue:
    try:
        return check_param(value, default)
    except ValueError as exc:
        raise SpecError(f"detector {detector}: param {name}: {exc}") from None


_BANDS: dict[str, Callable[..., bands.BandQueries]] = {
    "time": bands.time_band,
    "seasonal": bands.seasonal_band,
    "group_quantile": bands.group_quantile_band,
    "group_zscore": bands.group_zscore_band,
    "group_median_ratio": bands.group_median_ratio_band,
    "group_mad": bands.group_mad_band,
    "group_loo": bands.group_loo_band,
}
_NUMERIC_BAND_ARGS = {"k", "ratio", "floor", "low", "high", "value", "lower", "min_ratio"}


def _number(text: str, where: str) -> float:
    """A band argument: a number, or a product such as `7 * 86400`."""
    result = 1.0
    try:
        for factor in text.split("*"):
            result *= float(factor)
    except ValueError:
        raise SpecError(f"{where}: must be a number, got {text!r}") from None
    return result


def _build_band(det: Detector, signal: str | None, values: Mapping[str, object]) -> bands.BandQueries:
    spec = dict(det.band_spec or {})
    where = f"detector {det.id}: band"
    kind = spec.pop("kind", None)
    args: dict[str, Any] = {}
    for key, raw in spec.items():
        if isinstance(raw, list):
            args[key] = tuple(render(str(v), values, where) for v in raw)
        elif key in _NUMERIC_BAND_ARGS:
            args[key] = _number(render(str(raw), values, where), f"{where}: {key}")
        else:
            args[key] = render(str(raw), values, where)
    try:
        if kind == "threshold":
            return bands.threshold_band(**args)
        if kind not in _BANDS:
            kinds = ", ".join(["threshold", *_BANDS])
            raise SpecError(f"{where}: kind {kind!r} is not one of {kinds}")
        if signal is None:
            raise SpecError(f"{where}: a {kind} band needs a signal")
        return _BANDS[kind](signal, **args)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{where}: {exc}") from None


def build(det: Detector) -> Detector:
    """Render the detector's templates with its params and macros."""
    values: dict[str, object] = {**shared_macros(), **det.macros, **det.params}
    where = f"detector {det.id}"
    signal = None
    if det.signal_template:
        signal = render(det.signal_template, values, f"{where}: signal")
    band = _build_band(det, signal, values) if det.band_spec else None
    if signal is not None:
        values["signal"] = f"({signal})"
    if band is not None:
        values["upper"] = band.upper
        values["lower"] = band.lower or ""
        values["above_band"] = bands.above(signal, band) if signal else ""
    query = render(det.query_template, values, f"{where}: query")
    return replace(det, query=query, signal=signal, band=band)


def _text(raw: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{where}: {key!r} must be a non-empty string")
    return value.strip()


_KNOWN_KEYS = {
    "id", "title", "category", "severity", "mitre", "description", "runbook", "query",
    "params", "requires", "signal", "band", "for", "unit",
}


def parse_detector(
    raw: object, where: str, pack: str, macros: Mapping[str, str]
) -> Detector:
    """One detector mapping from a pack file -> a rendered Detector."""
    if not isinstance(raw, Mapping):
        raise SpecError(f"{where}: each detector must be a mapping")
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    det_id = raw.get("id")
    if not isinstance(det_id, str) or not DETECTOR_ID.match(det_id):
        raise SpecError(f"{where}: 'id' must be lower-case letters, digits and dashes")
    where = f"{where} ({det_id})"
    if unknown:
        raise SpecError(f"{where}: unknown key {unknown[0]!r}")
    severity = _text(raw, "severity", where)
    if severity not in SEVERITIES:
        raise SpecError(f"{where}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    mitre = raw.get("mitre", [])
    if isinstance(mitre, str):
        mitre = [mitre]
    if not isinstance(mitre, list) or not all(
        isinstance(m, str) and _MITRE.match(m) for m in mitre
    ):
        raise SpecError(f"{where}: 'mitre' must list ATT&CK technique ids like T1110 or T1552.007")
    params = raw.get("params") or {}
    if not isinstance(params, Mapping):
        raise SpecError(f"{where}: 'params' must be a mapping of name -> number or string")
    checked = {str(k): _check_param(det_id, str(k), v, v if isinstance(v, str | int | float) else 0)
               for k, v in params.items()}
    try:
        requires = requirements.parse(raw.get("requires"), where)
    except requirements.RequirementError as exc:
        raise SpecError(str(exc)) from None
    band = raw.get("band")
    if band is not None and not isinstance(band, Mapping):
        raise SpecError(f"{where}: 'band' must be a mapping with a 'kind'")
    signal = raw.get("signal")
    unit = raw.get("unit", units.DEFAULT)
    if not isinstance(unit, str) or not units.known(unit):
        raise SpecError(f"{where}: unit {unit!r} is not one of {', '.join(units.UNITS)}")
    det = Detector(
        id=det_id,
        title=_text(raw, "title", where),
        category=_text(raw, "category", where),
        severity=severity,
        mitre=tuple(mitre),
        description=_text(raw, "description", where),
        runbook=_text(raw, "runbook", where),
        query_template=_text(raw, "query", where),
        params=checked,
        requires=requires,
        signal_template=signal if isinstance(signal, str) and signal.strip() else None,
        band_spec=band,
        macros=macros,
        pack=pack,
        for_=str(raw.get("for", "0m")),
        unit=unit,
    )
    return build(det)
