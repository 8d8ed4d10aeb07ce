"""The `sources:` entries of the file -> `promsoc.prom.settings.Source`, checked at load time."""

from __future__ import annotations

import os
import re
import ssl
from dataclasses import fields
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from promsoc.config.model import (
    ALERTMANAGER_CONNECTION_KEYS,
    AlertmanagerSettings,
    Settings,
    bounds_of,
    file_keys,
    placed_keys,
)
from promsoc.config.reader import ConfigError, Reader, Value
from promsoc.prom.selector import SelectorError, normalize_matchers
from promsoc.prom.settings import (
    TLS,
    Auth,
    BasicAuth,
    BearerAuth,
    Secret,
    Source,
    cleartext_credentials,
    is_secret_header,
    split_url,
)

SOURCE_KEYS = file_keys(Source) | placed_keys(Settings, "sources[]")
ALERTMANAGER_KEYS = ALERTMANAGER_CONNECTION_KEYS | file_keys(AlertmanagerSettings)
AUTH_KEYS = file_keys(BearerAuth, BasicAuth)
TLS_KEYS = file_keys(TLS)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token
_HEADER_BREAK = re.compile(r"[\r\n\x00]")
Entries = dict[str, tuple[yaml.Node, yaml.Node]]


def check_tls_files(tls: TLS) -> str | None:
    """Load the TLS files into a throwaway context: a message if they are unusable, else None."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        if tls.ca_file:
            context.load_verify_locations(cafile=str(tls.ca_file))
        if tls.cert_file:
            context.load_cert_chain(str(tls.cert_file), str(tls.key_file) if tls.key_file else None)
    except ssl.SSLError as exc:
        return f"not a usable PEM certificate/key ({exc.reason or exc})"
    except OSError as exc:
        return f"cannot read ({exc.strerror or exc})"
    return None


class SourceParser:
    """One pass over one file's sources; collects warnings as it goes."""

    def __init__(self, reader: Reader, path: Path, others_can_read: bool) -> None:
        self.r = reader
        self.base = path.parent
        self.others_can_read = others_can_read
        self.mode = oct(os.stat(path).st_mode & 0o777) if path.exists() else "?"
        self.warnings: list[str] = []
        self.source_alertmanagers: dict[str, AlertmanagerSettings] = {}

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

    def sources(self, node: yaml.Node) -> tuple[Source, ...]:
        """Every entry of `sources:`, names unique."""
        sources = [self.source(item, key) for key, item in self.r.sequence(node, "sources")]
        seen: set[str] = set()
        for index, source in enumerate(sources):
            if source.name in seen:
                item = node.value[index] if isinstance(node, yaml.SequenceNode) else node
                raise self.r.error(
                    item, f"sources[{index}].name", f"duplicate source name {source.name!r}"
                )
            seen.add(source.name)
        return tuple(sources)

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
        url, userinfo = self.url(url_node, f"{key}.url", url_value)
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
        if "alertmanager" in entries:
            self.source_alertmanagers[name] = self.alertmanager(
                entries["alertmanager"][1], f"{key}.alertmanager", f"{name}/alertmanager"
            )
        default = Source(name=name, url=url)
        return self.cleartext_check(url_node, key, Source(
            name=name,
            url=url,
            auth=auth,
            headers=self.headers(entries, key) if "headers" in entries else default.headers,
            tls=self.tls(entries["tls"][1], f"{key}.tls") if "tls" in entries else default.tls,
            timeout=self.seconds(entries, key, "timeout", Source, default.timeout),
            refresh=self.seconds(entries, key, "refresh", Source, default.refresh),
            params=self.params(entries, key) if "params" in entries else default.params,
            selector=self.selector(entries, key) if "selector" in entries else default.selector,
            max_concurrency=self.count(entries, key, "max_concurrency", Source, default.max_concurrency),
            max_response_bytes=self.count(entries, key, "max_response_bytes", Source, default.max_response_bytes),
            coalesce=self.r.boolean(entries["coalesce"][1], f"{key}.coalesce") if "coalesce" in entries else True,
            sibling_bands=self.choice(entries, key, "sibling_bands", Source, default.sibling_bands),
        ))

    def url(self, node: yaml.Node, key: str, value: Value) -> tuple[str, tuple[str, str] | None]:
        """(URL without userinfo, userinfo): an http(s) URL with a host and a valid port."""
        try:
            return split_url(str(value.value))
        except ValueError as exc:
            raise self.r.error(node, key, str(exc)) from None

    def cleartext_check(self, url_node: yaml.Node, key: str, source: Source) -> Source:
        """Warn when a credential would cross the network unencrypted (http:// to another host)."""
        what = cleartext_credentials(source)
        if what:
            self.warnings.append(
                f"{self.r.path}:{url_node.start_mark.line + 1}: {key}.url: {what} would be sent "
                f"unencrypted over http:// to {urlsplit(source.url).hostname}; use https://"
            )
        return source

    def alertmanager(self, node: yaml.Node, key: str, name: str) -> AlertmanagerSettings:
        """An `alertmanager:` section: a source's connection keys plus allow_silence and author."""
        entries = self.r.mapping(node, key, ALERTMANAGER_KEYS)
        if "url" not in entries:
            raise self.r.error(node, f"{key}.url", "missing (an alertmanager needs a url)")
        url_node = entries["url"][1]
        url, userinfo = self.url(url_node, f"{key}.url", self.r.text(url_node, f"{key}.url"))
        if userinfo:
            raise self.r.error(url_node, f"{key}.url", "put credentials under auth:, not in the URL")
        default = AlertmanagerSettings(Source(name=name, url=url))
        connection = self.cleartext_check(url_node, key, Source(
            name=name,
            url=url,
            auth=self.auth(entries["auth"][1], f"{key}.auth") if "auth" in entries else None,
            headers=self.headers(entries, key) if "headers" in entries else {},
            tls=self.tls(entries["tls"][1], f"{key}.tls") if "tls" in entries else TLS(),
            timeout=self.seconds(entries, key, "timeout", Source, default.connection.timeout),
            max_concurrency=4,
        ))
        allow = (
            self.r.boolean(entries["allow_silence"][1], f"{key}.allow_silence")
            if "allow_silence" in entries
            else default.allow_silence
        )
        author = (
            str(self.r.text(entries["author"][1], f"{key}.author").value) if "author" in entries else default.author
        )
        return AlertmanagerSettings(connection, allow_silence=allow, author=author)

    def seconds(self, entries: Entries, key: str, name: str, section: type, default: float) -> float:
        """`name`'s duration within the bounds its field in `section` declares, else `default`."""
        if name not in entries:
            return default
        low, high = bounds_of(section, name)
        return self.r.seconds(entries[name][1], f"{key}.{name}", minimum=low, maximum=high)

    def choice(self, entries: Entries, key: str, name: str, section: type, default: str) -> str:
        """`name`'s value, one of the `choices` its field in `section` declares, else `default`."""
        if name not in entries:
            return default
        (item,) = (f for f in fields(section) if f.name == name)
        choices = tuple(item.metadata["choices"])
        node = entries[name][1]
        value = str(self.r.text(node, f"{key}.{name}").value)
        if value not in choices:
            raise self.r.error(node, f"{key}.{name}", f"expected {' or '.join(choices)}, got {value[:40]!r}")
        return value

    def count(self, entries: Entries, key: str, name: str, section: type, default: int) -> int:
        """`name`'s whole number within the bounds its field in `section` declares, else `default`."""
        if name not in entries:
            return default
        low, high = bounds_of(section, name)
        return self.r.integer(entries[name][1], f"{key}.{name}", minimum=low, maximum=high)

    def headers(self, entries: Entries, key: str) -> dict[str, str]:
        node = entries["headers"][1]
        headers = self.r.text_map(node, f"{key}.headers")
        for header, value in headers.items():
            where = f"{key}.headers.{header}"
            if not _HEADER_NAME.match(header):
                raise self.r.error(node, where, "a header name is letters, digits and !#$%&'*+-.^_`|~")
            if _HEADER_BREAK.search(str(value.value)):
                raise ConfigError(
                    "a header value must not contain CR, LF or NUL (it would split the request)",
                    file=self.r.path, line=value.line, key=where,
                )
            if is_secret_header(header):
                self.inline_secret(value, "use ${ENV} in the value")
        return {h: str(v.value) for h, v in headers.items()}

    def params(self, entries: Entries, key: str) -> dict[str, str]:
        params = self.r.text_map(entries["params"][1], f"{key}.params")
        return {p: str(v.value) for p, v in params.items()}

    def selector(self, entries: Entries, key: str) -> str:
        sel_node = entries["selector"][1]
        raw = str(self.r.text(sel_node, f"{key}.selector", empty_ok=True).value)
        try:
            return normalize_matchers(raw)
        except SelectorError as exc:
            raise self.r.error(sel_node, f"{key}.selector", str(exc)) from None

    def secret(self, entries: Entries, key: str, word: str) -> tuple[Secret | None, Path | None]:
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
        else:
            secret_value = self.r.text(node, child, secret=True)
            self.inline_secret(secret_value, f"use {word}_env or {word}_file")
            value = str(secret_value.value)
        if _HEADER_BREAK.search(value):  # the value itself is never shown
            raise self.r.error(node, child, "must not contain CR, LF or NUL (it goes into a header)")
        return Secret(value), None

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
        tls = TLS(
            ca_file=files.get("ca_file"),
            cert_file=files.get("cert_file"),
            key_file=files.get("key_file"),
            insecure_skip_verify=skip,
        )
        problem = check_tls_files(tls)
        if problem:
            name = (
                "ca_file"
                if "ca_file" in files and check_tls_files(TLS(ca_file=files["ca_file"]))
                else "cert_file"
            )
            raise self.r.error(entries[name][1], f"{key}.{name}", problem)
        return tls


__all__ = ["AUTH_KEYS", "SOURCE_KEYS", "TLS_KEYS", "SourceParser", "check_tls_files"]
