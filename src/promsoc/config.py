"""YAML -> typed, validated, frozen settings; every error names the file, line and key.

Entry point for the CLI and the console: `load_settings(config_path, url, source)`.
`config.example.yaml` at the repository root documents every key; the dataclasses
below carry a docstring per field. Secrets are held in `Secret`, whose repr and str are
`***`, and the `Source` repr shows header names only.
"""

from __future__ import annotations

import os
import ssl
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from promsoc import locations
from promsoc.config_yaml import ConfigError, Reader, Scalar, Value
from promsoc.prom.selector import SelectorError, normalize_matchers

SEVERITIES = ("info", "low", "medium", "high", "critical")
_SECRET_HEADER_WORDS = (
    "authorization",
    "cookie",
    "token",
    "secret",
    "password",
    "api-key",
    "apikey",
)


class Secret:
    """A credential: `repr`/`str` are `***`; only `.reveal()` gives the value (to HTTP)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class BearerAuth:
    """`Authorization: Bearer <token>`, e.g. a Kubernetes service-account token or an API key."""

    token: Secret | None = None
    """The token, from `token_env` (or inline `token`, discouraged) at load time."""
    token_file: Path | None = None
    """A file holding the token, re-read for each request so rotated tokens are picked up."""


@dataclass(frozen=True)
class BasicAuth:
    """HTTP basic auth, as Prometheus's own `--web.config.file` or most reverse proxies offer."""

    username: str
    """The user name (not secret)."""
    password: Secret | None = None
    """The password, from `password_env` (or inline `password`, discouraged) at load time."""
    password_file: Path | None = None
    """A file holding the password, re-read for each request."""


Auth = BearerAuth | BasicAuth


@dataclass(frozen=True)
class TLS:
    """How to verify the server and, for mTLS, which client certificate to present."""

    ca_file: Path | None = None
    """PEM bundle of the CA(s) that signed the server certificate (default: the system store)."""
    cert_file: Path | None = None
    """PEM client certificate for mTLS (needs `key_file`)."""
    key_file: Path | None = None
    """PEM private key of `cert_file` (unencrypted)."""
    insecure_skip_verify: bool = False
    """Accept any server certificate: only for a lab; it defeats TLS against an attacker."""


@dataclass(frozen=True, repr=False)
class Source:
    """One Prometheus-compatible endpoint (Prometheus, Thanos, Mimir, VictoriaMetrics...)."""

    name: str
    """Short name shown on tiles and in `scan` output; unique among sources."""
    url: str
    """Base URL without userinfo and without a trailing slash (`/api/v1/...` is appended)."""
    auth: Auth | None = None
    """Bearer or basic credentials, or None."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra request headers, e.g. `X-Scope-OrgID` for a Mimir/Cortex tenant."""
    tls: TLS = field(default_factory=TLS)
    """Server verification and client certificate."""
    timeout: float = 10.0
    """Seconds one request may take, from connect to the last byte."""
    refresh: float = 30.0
    """Seconds between the end of one poll cycle and the start of the next."""
    params: Mapping[str, str] = field(default_factory=dict)
    """Extra query parameters on every API call, e.g. Thanos `partial_response`, `dedup`."""
    selector: str = ""
    """Label matchers added to every selector of every query, e.g. `cluster="prod-eu"`."""
    max_concurrency: int = 20
    """How many requests to this source may run at once (Prometheus's own default cap is 20)."""

    def secrets(self) -> tuple[str, ...]:
        """Every secret value this source knows at load time (for redaction)."""
        found: list[str] = []
        if isinstance(self.auth, BearerAuth) and self.auth.token:
            found.append(self.auth.token.reveal())
        if isinstance(self.auth, BasicAuth) and self.auth.password:
            found.append(self.auth.password.reveal())
        found.extend(value for name, value in self.headers.items() if is_secret_header(name))
        return tuple(found)

    @property
    def display_url(self) -> str:
        """The URL without any userinfo, safe to show."""
        parts = urlsplit(self.url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    def __repr__(self) -> str:
        auth = type(self.auth).__name__ if self.auth else None
        return (
            f"Source(name={self.name!r}, url={self.display_url!r}, auth={auth}, "
            f"headers={sorted(self.headers)!r}, selector={self.selector!r})"
        )


ParamValue = str | int | float | bool


@dataclass(frozen=True)
class DetectorOverride:
    """A user's change to one detector; ids and params are checked by the detector engine."""

    enabled: bool = True
    """False turns the detector off for every source."""
    severity: str | None = None
    """Replaces the pack's severity: one of info, low, medium, high, critical."""
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    """Threshold overrides by parameter name (plain values only)."""
    file: str | None = None
    """The config file this came from, so the engine can report an unknown id or param..."""
    line: int | None = None
    """...at this line."""


@dataclass(frozen=True)
class Kiosk:
    """Wall-display mode: the console rotates through views by itself."""

    rotate_seconds: float = 30.0
    """Seconds each view stays on screen."""
    views: tuple[str, ...] = ()
    """View names in rotation order; empty means the console's default set."""


@dataclass(frozen=True)
class Settings:
    """Everything promsoc was configured with, after discovery, `--url` and `--source`."""

    sources: tuple[Source, ...] = ()
    """The sources to poll, in file order."""
    detectors: Mapping[str, DetectorOverride] = field(default_factory=dict)
    """Per-detector overrides by detector id."""
    packs_dir: Path | None = None
    """A folder of user detector packs (YAML), loaded beside the built-in ones."""
    theme: str | None = None
    """Theme name; None means the console's default."""
    kiosk: Kiosk = field(default_factory=Kiosk)
    """Kiosk (wall display) settings."""
    handoff_dir: Path = field(default_factory=locations.handoff_dir)
    """Where hand-off notes are written."""
    config_path: Path | None = None
    """The file these settings came from (None: defaults or `--url` only)."""
    warnings: tuple[str, ...] = ()
    """Non-fatal findings to show the user, e.g. inline secrets in a readable file."""

    def source(self, name: str) -> Source:
        """The source called `name`; ConfigError listing the known names otherwise."""
        for candidate in self.sources:
            if candidate.name == name:
                return candidate
        known = ", ".join(s.name for s in self.sources) or "(none)"
        raise ConfigError(
            f"no source named {name!r}; known sources: {known}",
            file=str(self.config_path) if self.config_path else None,
            key="--source",
        )


def is_secret_header(name: str) -> bool:
    """Whether a header's value is a credential (Authorization, Cookie, *token*, *api-key*...)."""
    lower = name.lower()
    return any(word in lower for word in _SECRET_HEADER_WORDS)


NO_CONFIG_HELP = (
    "no configuration found and no --url given.\n"
    "  Quick look:  promsoc --url http://localhost:9090\n"
    "  Config file: copy config.example.yaml to {path} (or pass --config PATH,\n"
    "               or set $PROMSOC_CONFIG) and list your sources there\n"
    "  Just trying: promsoc demo  (starts a built-in lab Prometheus with a simulated cluster)"
)


def find_config(config_path: str | None) -> Path | None:
    """`--config`, then `$PROMSOC_CONFIG`, then the XDG file if it exists; else None."""
    if config_path:
        return Path(config_path).expanduser()
    env = os.environ.get(locations.CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    default = locations.config_file()
    return default if default.is_file() else None


def load_settings(
    config_path: str | None, url: str | None, source: str | None, *, require_sources: bool = True
) -> Settings:
    """The CLI contract: discover and load the config, apply `--url` and `--source`.

    `--url` replaces the config's sources with one ad-hoc source named after the URL's host
    (or `source`, when both are given). `--source NAME` keeps only that source; an unknown
    name is a ConfigError that lists the known ones. With no sources at all (and
    `require_sources`), the ConfigError says how to make a config or try `promsoc demo`.
    """
    path = find_config(config_path)
    if path:
        settings = load_file(path)
    else:
        from promsoc.config_schema import default_packs_dir

        settings = Settings(packs_dir=default_packs_dir())
    if url:
        adhoc = adhoc_source(url, name=source)
        return _replace_sources(settings, (adhoc,))
    if source:
        return _replace_sources(settings, (settings.source(source),))
    if require_sources and not settings.sources:
        if path is None:
            raise ConfigError(NO_CONFIG_HELP.format(path=locations.config_file()))
        raise ConfigError(
            "no sources configured; add at least one under sources:", file=str(path), key="sources"
        )
    return settings


def adhoc_source(url: str, name: str | None = None) -> Source:
    """A no-auth source for `--url`, named after the host unless `name` is given."""
    clean, _userinfo = _split_url(url)
    if clean is None:
        raise ConfigError(f"{url!r} is not an http(s) URL like http://localhost:9090", key="--url")
    host = urlsplit(clean).hostname or "adhoc"
    return Source(name=name or host, url=clean)


def _replace_sources(settings: Settings, sources: tuple[Source, ...]) -> Settings:
    from dataclasses import replace

    return replace(settings, sources=sources)


def _split_url(url: str) -> tuple[str | None, tuple[str, str] | None]:
    """(URL without userinfo and trailing slash, (user, password) or None); None if not http(s)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, None
    userinfo = None
    netloc = parts.netloc
    if "@" in netloc:
        creds, netloc = netloc.rsplit("@", 1)
        user, _, password = creds.partition(":")
        userinfo = (user, password)
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, "")), userinfo


def load_file(path: Path) -> Settings:
    """Parse and validate one config file (the loader lives in `promsoc.config_schema`)."""
    from promsoc.config_schema import parse_settings

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read config file: {exc.__class__.__name__}", file=str(path)
        ) from None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0
    return parse_settings(Reader(str(path), text), path, others_can_read=bool(mode & 0o077))


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


__all__ = [
    "SEVERITIES",
    "TLS",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "ConfigError",
    "DetectorOverride",
    "Kiosk",
    "ParamValue",
    "Scalar",
    "Secret",
    "SelectorError",
    "Settings",
    "Source",
    "Value",
    "adhoc_source",
    "check_tls_files",
    "find_config",
    "is_secret_header",
    "load_file",
    "load_settings",
    "normalize_matchers",
]
