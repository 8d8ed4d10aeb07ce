"""The whole document -> `Settings`: top-level keys, `detectors:` and `kiosk:` (sources in sources.py)."""

from __future__ import annotations

from pathlib import Path

import yaml

from promsoc.config import locations
from promsoc.config.model import Kiosk, Serve, ServeSsh, ServeWeb, Settings, file_keys, placed_keys
from promsoc.config.reader import Reader
from promsoc.config.sources import Entries, SourceParser
from promsoc.detectors.packs import DetectorOverride, builtin_detectors, merge, user_detectors
from promsoc.detectors.params import check_param
from promsoc.detectors.spec import DETECTOR_ID, SEVERITIES, Detector, SpecError

TOP_KEYS = file_keys(Settings)
DETECTOR_KEYS = file_keys(DetectorOverride)
KIOSK_KEYS = file_keys(Kiosk)
SERVE_KEYS = file_keys(Serve)
SERVE_SSH_KEYS = file_keys(ServeSsh)
SERVE_WEB_KEYS = file_keys(ServeWeb)
(PACKS_DIR,) = placed_keys(Settings, "detectors")
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
        serve = self.serve(top["serve"][1]) if "serve" in top else Serve()
        return Settings(
            sources=sources,
            serve=serve,
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
        """Each override, checked against the detector it names (built-in packs and packs_dir)."""
        entries = self.r.mapping(node, "detectors")
        packs_dir = default_packs_dir()
        if PACKS_DIR in entries:
            key_node, value_node = entries[PACKS_DIR]
            packs_dir = self.path(value_node, f"detectors.{PACKS_DIR}", must_read=False)
            if not packs_dir.is_dir():
                raise self.r.error(value_node, f"detectors.{PACKS_DIR}", f"{packs_dir} is not a directory")
        out: dict[str, DetectorOverride] = {}
        known: dict[str, Detector] | None = None
        for ident, (key_node, value_node) in entries.items():
            if ident == PACKS_DIR:
                continue
            key = f"detectors.{ident}"
            if not DETECTOR_ID.match(ident):
                raise self.r.error(key_node, key, "detector ids are lower-case words joined by '-'")
            out[ident] = self.detector(value_node, key, key_node.start_mark.line + 1)
            known = self.known_detectors(entries, packs_dir) if known is None else known
            if ident not in known:
                names = ", ".join(sorted(known))
                raise self.r.error(key_node, key, f"no such detector; known: {names}")
            self.check_params(known[ident], value_node, key)
        return out, packs_dir

    def known_detectors(self, entries: Entries, packs_dir: Path | None) -> dict[str, Detector]:
        """Every detector an override may name: the built-in packs, then the user's."""
        try:
            detectors = builtin_detectors()
            if packs_dir is not None:
                detectors = merge(detectors, user_detectors(packs_dir))
        except SpecError as exc:
            node = entries[PACKS_DIR][1] if PACKS_DIR in entries else None
            raise self.r.error(node, f"detectors.{PACKS_DIR}", str(exc)) from None
        return {det.id: det for det in detectors}

    def check_params(self, detector: Detector, node: yaml.Node, key: str) -> None:
        """Each param names one of the detector's, with a value of that param's kind."""
        entries = self.r.mapping(node, key, DETECTOR_KEYS)
        if "params" not in entries:
            return
        for name, (name_node, value_node) in self.r.mapping(entries["params"][1], f"{key}.params").items():
            where = f"{key}.params.{name}"
            if name not in detector.params:
                known = ", ".join(sorted(detector.params)) or "none"
                raise self.r.error(name_node, where, f"unknown param (known: {known})")
            try:
                check_param(self.r.scalar(value_node, where).value, detector.params[name])
            except ValueError as exc:
                raise self.r.error(value_node, where, str(exc)) from None

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
        rotate = self.seconds(entries, "kiosk", "rotate_seconds", Kiosk, default.rotate_seconds)
        views = (
            self.r.text_list(entries["views"][1], "kiosk.views")
            if "views" in entries
            else default.views
        )
        return Kiosk(rotate_seconds=rotate, views=views)


    def serve(self, node: yaml.Node) -> Serve:
        entries = self.r.mapping(node, "serve", SERVE_KEYS)
        ssh = self.serve_ssh(entries["ssh"][1]) if "ssh" in entries else ServeSsh()
        web = self.serve_web(entries["web"][1]) if "web" in entries else ServeWeb()
        return Serve(ssh=ssh, web=web)

    def serve_ssh(self, node: yaml.Node) -> ServeSsh:
        key = "serve.ssh"
        entries = self.r.mapping(node, key, SERVE_SSH_KEYS)
        default = ServeSsh()
        idle = default.idle_timeout
        if "idle_timeout" in entries:
            idle_node = entries["idle_timeout"][1]
            zero = self.r.scalar(idle_node, f"{key}.idle_timeout").value in (0, "0")
            idle = 0.0 if zero else self.seconds(entries, key, "idle_timeout", ServeSsh, idle)
        return ServeSsh(
            listen=self.listen(entries, key),
            host_key=(
                self.path(entries["host_key"][1], f"{key}.host_key", must_read=False)
                if "host_key" in entries
                else default.host_key
            ),
            authorized_keys=(
                self.path(entries["authorized_keys"][1], f"{key}.authorized_keys")
                if "authorized_keys" in entries
                else None
            ),
            idle_timeout=idle,
            max_sessions=self.count(entries, key, "max_sessions", ServeSsh, default.max_sessions),
        )

    def serve_web(self, node: yaml.Node) -> ServeWeb:
        key = "serve.web"
        entries = self.r.mapping(node, key, SERVE_WEB_KEYS)
        password, password_file = self.secret(entries, key, "password")
        token, token_file = self.secret(entries, key, "token")
        return ServeWeb(
            listen=self.listen(entries, key),
            password=password,
            password_file=password_file,
            token=token,
            token_file=token_file,
            max_sessions=self.count(entries, key, "max_sessions", ServeWeb, ServeWeb().max_sessions),
        )

    def listen(self, entries: dict[str, tuple[yaml.Node, yaml.Node]], key: str) -> str | None:
        if "listen" not in entries:
            return None
        node = entries["listen"][1]
        text = str(self.r.text(node, f"{key}.listen").value)
        host, sep, port = text.rpartition(":")
        if not port.isdigit() or int(port) > 65535 or (sep and not host):
            raise self.r.error(node, f"{key}.listen", f"expected HOST:PORT or PORT (e.g. 127.0.0.1:8080), got {text!r}")
        return text


def default_packs_dir() -> Path | None:
    """The XDG packs folder, when the user has made one."""
    folder = locations.packs_dir()
    return folder if folder.is_dir() else None


def parse_settings(reader: Reader, path: Path, *, others_can_read: bool) -> Settings:
    """Validate the document in `reader` into Settings (ConfigError on the first mistake)."""
    return _Parser(reader, path, others_can_read).settings(path)


__all__ = ["DETECTOR_KEYS", "KIOSK_KEYS", "PACKS_DIR", "TOP_KEYS", "default_packs_dir", "parse_settings"]
