"""Detector packs: the built-in YAML shipped as package data, user packs, config overrides."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from promsoc.detectors.spec import Detector, SpecError, parse_detector

BUILTIN_PACKAGE = "promsoc.detectors"
BUILTIN_DIR = "packs"


@dataclass(frozen=True)
class DetectorOverride:
    """A user's change to one detector: the config's `detectors: {id: ...}` entry."""

    enabled: bool = True
    """False turns the detector off for every source."""
    severity: str | None = None
    """Replaces the pack's severity: one of info, low, medium, high, critical."""
    params: Mapping[str, str | int | float | bool] = field(default_factory=dict)
    """Parameter overrides by name; each is checked against the parameter's declared kind."""
    file: str | None = field(default=None, metadata={"yaml": None})
    """The config file this came from, so an unknown id or param is reported..."""
    line: int | None = field(default=None, metadata={"yaml": None})
    """...at this line."""


def _where(det_id: str, wanted: DetectorOverride) -> str:
    """`file:line: detectors.<id>` when the config loader recorded where the entry is."""
    file, line = wanted.file, wanted.line
    prefix = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
    return f"{prefix}detectors.{det_id}"


def _line_of(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    return f":{mark.line + 1}" if mark is not None else ""


def parse_pack(text: str, origin: str) -> list[Detector]:
    """One pack file's text -> its detectors, in file order."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{origin}{_line_of(exc)}: invalid YAML: {problem}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("detectors"), list):
        raise SpecError(f"{origin}: a pack is a mapping with a 'detectors' list")
    unknown = sorted(set(data) - {"pack", "macros", "detectors"})
    if unknown:
        raise SpecError(f"{origin}: unknown key {unknown[0]!r} (known: pack, macros, detectors)")
    pack = str(data.get("pack") or Path(origin).stem)
    macros = data.get("macros") or {}
    if not isinstance(macros, Mapping) or not all(isinstance(v, str) for v in macros.values()):
        raise SpecError(f"{origin}: 'macros' must map names to PromQL strings")
    shared = {str(k): v for k, v in macros.items()}
    detectors = [
        parse_detector(raw, f"{origin}: detectors[{i}]", pack, shared)
        for i, raw in enumerate(data["detectors"])
    ]
    seen: set[str] = set()
    for det in detectors:
        if det.id in seen:
            raise SpecError(f"{origin}: detector id {det.id!r} appears twice")
        seen.add(det.id)
    return detectors


def builtin_detectors() -> list[Detector]:
    """Every built-in detector, in pack order (the contract's order)."""
    return list(_builtin_detectors())


@functools.cache
def _builtin_detectors() -> tuple[Detector, ...]:
    """Parsed once per process (the config checks overrides against them, then the CLI runs them)."""
    root = resources.files(BUILTIN_PACKAGE).joinpath(BUILTIN_DIR)
    files = sorted(
        (entry for entry in root.iterdir() if entry.name.endswith((".yaml", ".yml"))),
        key=lambda entry: entry.name,
    )
    detectors: list[Detector] = []
    for entry in files:
        detectors.extend(parse_pack(entry.read_text(encoding="utf-8"), f"builtin:{entry.name}"))
    return tuple(detectors)


def user_detectors(packs_dir: Path) -> list[Detector]:
    """Detectors from every *.yaml in a user's packs directory, sorted by file name."""
    if not packs_dir.is_dir():
        raise SpecError(f"detectors.packs_dir: {packs_dir} is not a directory")
    detectors: list[Detector] = []
    for path in sorted([*packs_dir.glob("*.yaml"), *packs_dir.glob("*.yml")]):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SpecError(f"{path}: cannot read: {exc.strerror}") from None
        detectors.extend(parse_pack(text, str(path)))
    return detectors


def merge(base: Iterable[Detector], extra: Iterable[Detector]) -> list[Detector]:
    """User detectors replace built-ins of the same id in place; new ids follow."""
    merged = {det.id: det for det in base}
    for det in extra:
        merged[det.id] = det
    return list(merged.values())


def apply_settings(
    detectors: Iterable[Detector], settings: Mapping[str, DetectorOverride]
) -> list[Detector]:
    """Apply the config's per-detector settings; naming an unknown detector is an error."""
    detectors = list(detectors)
    known = {det.id for det in detectors}
    for det_id, entry in settings.items():
        if det_id not in known:
            raise SpecError(
                f"{_where(det_id, entry)}: no such detector; known: {', '.join(sorted(known))}"
            )
    result = []
    for det in detectors:
        wanted = settings.get(det.id)
        if wanted is not None:
            try:
                det = det.with_overrides(wanted.enabled, wanted.severity, wanted.params)
            except SpecError as exc:
                detail = str(exc).removeprefix(f"detector {det.id}: ")
                raise SpecError(f"{_where(det.id, wanted)}: {detail}") from None
        result.append(det)
    return result


def load_detectors(
    packs_dir: Path | None = None,
    settings: Mapping[str, DetectorOverride] | None = None,
    include_disabled: bool = False,
) -> list[Detector]:
    """Built-ins, then user packs, then the user's settings; disabled ones left out by default."""
    detectors = builtin_detectors()
    if packs_dir is not None:
        detectors = merge(detectors, user_detectors(packs_dir))
    detectors = apply_settings(detectors, settings or {})
    return detectors if include_disabled else [det for det in detectors if det.enabled]
