"""The config file's schema: which keys exist, their types, and the checks made at load time."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from promsoc import locations
from promsoc.config import (
    SEVERITIES,
    TLS,
    Auth,
    BasicAuth,
    BearerAuth,
    ConfigError,
    DetectorOverride,
    Kiosk,
    ParamValue,
    Secret,
    Settings,
    Source,
    _split_url,
    check_tls_files,
    is_secret_header,
)
from promsoc.config_yaml import Reader, Value
from promsoc.prom.selector import SelectorError, normalize_matchers

TOP_KEYS = frozenset({"sources", "detectors", "theme", "kiosk", "handoff_dir"})
SOURCE_KEYS = frozenset(
    {
        "name",
        "url",
        "auth",
        "headers",
        "tls",
        "timeout",
        "refresh",
        "params",
        "selector",
        "max_concurrency",
    }
)
AUTH_KEYS = frozenset(
    {"token", "token_env", "token_file", "username", "password", "password_env", "password_file"}
)
TLS_KEYS = frozenset({"ca_file", "cert_file", "key_file", "insecure_skip_verify"})
DETECTOR_KEYS = frozenset({"enabled", "severity", "params"})
KIOSK_KEYS = frozenset({"rotate_seconds", "views"})
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DETECTOR_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Parser:
    """One pass over one file; collects warnings as it goes."""

    def __init__(self, reader: Reader, path: Path, others_can_read: bool) -> None:
        self.r = reader
        self.base = path.parent
        self.others_can_read = others_can_read
        self.mode = oct(os.stat(path).st_mode & 0o777) if path.exists() else "?"
        self.warnings: list[str] = []

    def inline_secret(self, value: Value, hint: str) -> None:
        """Warn once per inline secret if the file is readable by group or others."""
        if self.others_can_read and not value.from_env:
            self.warnings.append(
                f"{self.r.path}:{value.line}: {value.key}: inline secret in a file that "
                f"group/others can read (mode {self.mode}); {hint}, or chmod 600 {self.r.path}"
            )

    def path(self, node: yaml.Node, key: str, *, must_read: bool = True) -> Path:
        """A file path (`~` expanded, relative to the config file); checked readable if asked."""
        raw = Path(str(self.r.text(node, key).value)).expanduser()
        full = raw if raw.is_absolute() else self.base / raw
        if must_read:
            try:
                with open(full, "rb") as handle:
                    handle.read(1)
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
                raise self.r.error(node, key, f"cannot read {full}: {reason}") from None
        return full

    def settings(self, path: Path) -> Settings:
        top = self.r.mapping(self.r.root, "", TOP_KEYS)
        sources: list[Source] = []
        if "sources" in top:
            for key, node in self.r.sequence(top["sources"][1], "sources"):
                sources.append(self.source(node, key))
            self.unique_names(sources, top["sources"][1])
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
        return Settings(
            sources=tuple(sources),
            detectors=overrides,
            packs_dir=packs_dir,
            theme=theme,
            kiosk=kiosk,
            handoff_dir=handoff,
            config_path=path,
            warnings=tuple(self.warnings),
        )

    def unique_names(self, sources: list[Source], node: yaml.Node) -> None:
        seen: set[str] = set()
        for index, source in enumerate(sources):
            if source.name in seen:
                item = node.value[index] if isinstance(node, yaml.SequenceNode) else node
                raise self.r.error(
                    item, f"sources[{index}].name", f"duplicate source name {source.name!r}"
                )
            seen.add(source.name)

    def source(self, node: yaml.Node, key: str) -> Source:
        entries = self.r.mapping(node, key, SOURCE_KEYS)
        for required in ("name", "url"):
            if required not in entries:
                raise self.r.error(
                    node, f"{key}.{required}", "missing (every source needs a name and a url)"
                )
        name_node = entries["name"][1]
        name = str(self.r.text(name_node, f"{key}.name").value)
        if not _NAME.match(name):
            raise self.r.error(name_node, f"{key}.name", "use letters, digits, '.', '_' or '-'")
        url_node = entries["url"][1]
        url_value = self.r.text(url_node, f"{key}.url")
        url, userinfo = _split_url(str(url_value.value))
        if url is None:
            raise self.r.error(
                url_node, f"{key}.url", "expected an http:// or https:// URL with a host"
            )
        auth = self.auth(entries["auth"][1], f"{key}.auth") if "auth" in entries else None
        if userinfo:
            if auth is not None:
                raise self.r.error(
                    url_node, f"{key}.url", "credentials both in the URL and under auth:"
                )
            auth = BasicAuth(
                username=userinfo[0], password=Secret(userinfo[1]) if userinfo[1] else None
            )
            if userinfo[1]:
                self.inline_secret(url_value, "use auth.username with auth.password_env")
        options: dict[str, object] = {}
        if "headers" in entries:
            headers = self.r.text_map(entries["headers"][1], f"{key}.headers")
            for header, value in headers.items():
                if is_secret_header(header):
                    self.inline_secret(value, "use ${ENV} in the value")
            options["headers"] = {h: str(v.value) for h, v in headers.items()}
        if "params" in entries:
            params = self.r.text_map(entries["params"][1], f"{key}.params")
            options["params"] = {p: str(v.value) for p, v in params.items()}
        if "tls" in entries:
            options["tls"] = self.tls(entries["tls"][1], f"{key}.tls")
        for field_name in ("timeout", "refresh"):
            if field_name in entries:
                options[field_name] = self.r.seconds(entries[field_name][1], f"{key}.{field_name}")
        if "max_concurrency" in entries:
            options["max_concurrency"] = self.r.integer(
                entries["max_concurrency"][1], f"{key}.max_concurrency"
            )
        if "selector" in entries:
            sel_node = entries["selector"][1]
            raw = str(self.r.text(sel_node, f"{key}.selector", empty_ok=True).value)
            try:
                options["selector"] = normalize_matchers(raw)
            except SelectorError as exc:
                raise self.r.error(sel_node, f"{key}.selector", str(exc)) from None
        return Source(name=name, url=url, auth=auth, **options)  # type: ignore[arg-type]

    def secret(
        self, entries: dict[str, tuple[yaml.Node, yaml.Node]], key: str, word: str
    ) -> tuple[Secret | None, Path | None]:
        """Exactly one of `word`, `word_env`, `word_file`: (Secret or None, file or None)."""
        given = [k for k in (word, f"{word}_env", f"{word}_file") if k in entries]
        if len(given) > 1:
            raise self.r.error(
                entries[given[1]][0], f"{key}.{given[1]}", f"give only one of {', '.join(given)}"
            )
        if not given:
            return None, None
        chosen = given[0]
        node = entries[chosen][1]
        child = f"{key}.{chosen}"
        if chosen.endswith("_file"):
            return None, self.path(node, child)
        if chosen.endswith("_env"):
            env_name = str(self.r.text(node, child).value)
            if not _ENV_NAME.match(env_name):
                raise self.r.error(node, child, "expected the name of an environment variable")
            value = os.environ.get(env_name)
            if not value:
                raise self.r.error(
                    node, child, f"environment variable {env_name} is not set or empty"
                )
            return Secret(value), None
        secret_value = self.r.text(node, child, secret=True)
        self.inline_secret(secret_value, f"use {word}_env or {word}_file")
        return Secret(str(secret_value.value)), None

    def auth(self, node: yaml.Node, key: str) -> Auth | None:
        entries = self.r.mapping(node, key, AUTH_KEYS)
        if not entries:
            return None
        token, token_file = self.secret(entries, key, "token")
        password, password_file = self.secret(entries, key, "password")
        has_bearer = token is not None or token_file is not None
        if has_bearer and ("username" in entries or password or password_file):
            raise self.r.error(
                node, key, "choose bearer (token*) or basic (username + password*), not both"
            )
        if has_bearer:
            return BearerAuth(token=token, token_file=token_file)
        if "username" not in entries:
            raise self.r.error(
                node, f"{key}.username", "basic auth needs a username (or use token_env/token_file)"
            )
        username = str(self.r.text(entries["username"][1], f"{key}.username").value)
        return BasicAuth(username=username, password=password, password_file=password_file)

    def tls(self, node: yaml.Node, key: str) -> TLS:
        entries = self.r.mapping(node, key, TLS_KEYS)
        files = {
            name: self.path(entries[name][1], f"{key}.{name}")
            for name in ("ca_file", "cert_file", "key_file")
            if name in entries
        }
        if ("cert_file" in files) != ("key_file" in files):
            missing = "key_file" if "cert_file" in files else "cert_file"
            raise self.r.error(node, f"{key}.{missing}", "mTLS needs both cert_file and key_file")
        skip = (
            self.r.boolean(entries["insecure_skip_verify"][1], f"{key}.insecure_skip_verify")
            if "insecure_skip_verify" in entries
            else False
        )
        if skip:
            line = entries["insecure_skip_verify"][1].start_mark.line + 1
            self.warnings.append(
                f"{self.r.path}:{line}: {key}.insecure_skip_verify: server certificates are not "
                "checked: anyone in the path can read the queries and forge the answers"
            )
        tls = TLS(insecure_skip_verify=skip, **files)
        problem = check_tls_files(tls)
        if problem:
            name = (
                "ca_file"
                if "ca_file" in files and check_tls_files(TLS(ca_file=files["ca_file"]))
                else "cert_file"
            )
            raise self.r.error(entries[name][1], f"{key}.{name}", problem)
        return tls

    def detectors(self, node: yaml.Node) -> tuple[dict[str, DetectorOverride], Path | None]:
        out: dict[str, DetectorOverride] = {}
        packs_dir = default_packs_dir()
        for ident, (key_node, value_node) in self.r.mapping(node, "detectors").items():
            key = f"detectors.{ident}"
            if ident == "packs_dir":
                packs_dir = self.path(value_node, key, must_read=False)
                if not packs_dir.is_dir():
                    raise self.r.error(value_node, key, f"{packs_dir} is not a directory")
                continue
            if not _DETECTOR_ID.match(ident):
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
        params: dict[str, ParamValue] = {}
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
        rotate = (
            self.r.seconds(entries["rotate_seconds"][1], "kiosk.rotate_seconds")
            if "rotate_seconds" in entries
            else 30.0
        )
        views = self.r.text_list(entries["views"][1], "kiosk.views") if "views" in entries else ()
        return Kiosk(rotate_seconds=rotate, views=views)


def default_packs_dir() -> Path | None:
    """The XDG packs folder, when the user has made one."""
    folder = locations.packs_dir()
    return folder if folder.is_dir() else None


def parse_settings(reader: Reader, path: Path, *, others_can_read: bool) -> Settings:
    """Validate the document in `reader` into Settings (ConfigError on the first mistake)."""
    return _Parser(reader, path, others_can_read).settings(path)


__all__ = ["ConfigError", "parse_settings"]
