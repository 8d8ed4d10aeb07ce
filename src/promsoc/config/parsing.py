"""The whole document -> `Settings`: top-level keys, `detectors:` and `kiosk:` (sources in sources.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from promsoc.config import locations
from promsoc.config.model import Kiosk, Settings, file_keys
from promsoc.config.reader import Reader
from promsoc.config.sources import SourceParser
from promsoc.detectors.packs import DetectorOverride
from promsoc.detectors.spec import DETECTOR_ID, SEVERITIES

TOP_KEYS = file_keys(Settings)
DETECTOR_KEYS = file_keys(DetectorOverride)
KIOSK_KEYS = file_keys(Kiosk)
PACKS_DIR = "packs_dir"
"""The one key under `detectors:` that is not a detector id (it fills Settings.packs_dir)."""


class _Parser(SourceParser):
    """One pass over one file; collects warnings as it goes."""

    def settings(self, path: Path) -> Settings:
        top = self.r.mapping(self.r.root, "", TOP_KEYS)
        sources = self.sources(top["sources"][1]) if "sources" in top else ()
        overrides: dict[str, DetectorOverride] = {}
        packs_dir = default_packs_dir()
        if "detectors" in top:
            overrides, packs_dir = self.detectors(top["detectors"][1])
        theme = str(self.r.text(top["theme"][1], "theme").value) if "theme" in top else None
        kiosk = self.kiosk(top["kiosk"][1]) if "kiosk" in top else Kiosk()
        handoff = (
            self.path(top["handoff_dir"][1], "handoff_dir", must_read=False)
            if "handoff_dir" in top
            else locations.handoff_dir()
        )
        alertmanager = (
            self.alertmanager(top["alertmanager"][1], "alertmanager", "alertmanager") if "alertmanager" in top else None
        )
        return Settings(
            sources=sources,
            alertmanager=alertmanager,
            source_alertmanagers=dict(self.source_alertmanagers),
            detectors=overrides,
            packs_dir=packs_dir,
            theme=theme,
            kiosk=kiosk,
            handoff_dir=handoff,
            config_path=path,
            warnings=tuple(self.warnings),
        )

    def detectors(self, node: yaml.Node) -> tuple[dict[str, DetectorOverride], Path | None]:
        out: dict[str, DetectorOverride] = {}
        packs_dir = default_packs_dir()
        for ident, (key_node, value_node) in self.r.mapping(node, "detectors").items():
            key = f"detectors.{ident}"
            if ident == PACKS_DIR:
                packs_dir = self.path(value_node, key, must_read=False)
                if not packs_dir.is_dir():
                    raise self.r.error(value_node, key, f"{packs_dir} is not a directory")
                continue
            if not DETECTOR_ID.match(ident):
                raise self.r.error(key_node, key, "detector ids are lower-case words joined by '-'")
            out[ident] = self.detector(value_node, key, key_node.start_mark.line + 1)
        return out, packs_dir

    def detector(self, node: yaml.Node, key: str, line: int) -> DetectorOverride:
        entries = self.r.mapping(node, key, DETECTOR_KEYS)
        enabled = (
            self.r.boolean(entries["enabled"][1], f"{key}.enabled")
            if "enabled" in entries
            else True
        )
        severity = None
        if "severity" in entries:
            sev_node = entries["severity"][1]
            severity = str(self.r.text(sev_node, f"{key}.severity").value)
            if severity not in SEVERITIES:
                raise self.r.error(
                    sev_node, f"{key}.severity", f"expected one of {', '.join(SEVERITIES)}"
                )
        params: dict[str, str | int | float | bool] = {}
        if "params" in entries:
            for pname, (_, pnode) in self.r.mapping(entries["params"][1], f"{key}.params").items():
                value = self.r.scalar(pnode, f"{key}.params.{pname}").value
                if value is None:
                    raise self.r.error(pnode, f"{key}.params.{pname}", "must have a value")
                params[pname] = value
        return DetectorOverride(
            enabled=enabled,
            severity=severity,
            params=params,
            file=self.r.path,
            line=line,
        )

    def kiosk(self, node: yaml.Node) -> Kiosk:
        entries = self.r.mapping(node, "kiosk", KIOSK_KEYS)
        default = Kiosk()
        rotate = (
            self.r.seconds(entries["rotate_seconds"][1], "kiosk.rotate_seconds")
            if "rotate_seconds" in entries
            else default.rotate_seconds
        )
        views = (
            self.r.text_list(entries["views"][1], "kiosk.views")
            if "views" in entries
            else default.views
        )
        return Kiosk(rotate_seconds=rotate, views=views)


def default_packs_dir() -> Path | None:
    """The XDG packs folder, when the user has made one."""
    folder = locations.packs_dir()
    return folder if folder.is_dir() else None


def parse_settings(reader: Reader, path: Path, *, others_can_read: bool) -> Settings:
    """Validate the document in `reader` into Settings (ConfigError on the first mistake)."""
    return _Parser(reader, path, others_can_read).settings(path)


__all__ = ["DETECTOR_KEYS", "KIOSK_KEYS", "PACKS_DIR", "TOP_KEYS", "default_packs_dir", "parse_settings"]
