"""What a client needs to reach one source: its URL, credentials, TLS and limits.

These are the connection settings the config file's `sources:` entries are loaded into
(`promsoc.config` reads the file; this module knows nothing of files). Secrets are held in
`Secret`, whose repr and str are `***`, and the `Source` repr shows header names only.
Each field has a docstring: `config.example.yaml` documents the same keys for users. A number's
bounds are declared on its field (`metadata={"min": ..., "max": ...}`); the config enforces them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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


SIBLING_BANDS = ("local", "promql")
"""The values of a source's `sibling_bands` (the first is the default)."""


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
    timeout: float = field(default=10.0, metadata={"max": 600.0})
    """Seconds one request may take, from connect to the last byte (at most 10 minutes)."""
    refresh: float = field(default=30.0, metadata={"min": 1.0, "max": 86400.0})
    """Seconds between the end of one poll cycle and the start of the next (1 s to 1 day)."""
    params: Mapping[str, str] = field(default_factory=dict)
    """Extra query parameters on every API call, e.g. Thanos `partial_response`, `dedup`."""
    selector: str = ""
    """Label matchers added to every selector of every query, e.g. `cluster="prod-eu"`."""
    max_concurrency: int = field(default=20, metadata={"min": 1, "max": 256})
    """How many requests to this source may run at once (Prometheus's own default cap is 20)."""
    max_response_bytes: int = field(default=64 * 1024 * 1024, metadata={"min": 65536, "max": 1 << 30})
    """Bytes one answer may cost once decompressed (64 KiB to 1 GiB); over it, `response too large`."""
    coalesce: bool = True
    """Asked together with the other sources on the same server whose selectors differ only by
    one label's value (one request for all, split by that label: `prom.fanin`); false: alone."""
    sibling_bands: str = field(default="local", metadata={"choices": SIBLING_BANDS})
    """How a sibling detector's median band is applied where the source has no recording rules:
    `local` asks for its signal once (every pod's series) and promsoc applies the band (about
    0.65x the Prometheus CPU, ~240 kB compressed a scan at 5,000 pods; an answer over
    `max_response_bytes` falls back to the PromQL); `promql` sends the band as PromQL (the signal
    evaluated twice, only the outliers come back)."""

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


def is_secret_header(name: str) -> bool:
    """Whether a header's value is a credential (Authorization, Cookie, *token*, *api-key*...)."""
    lower = name.lower()
    return any(word in lower for word in _SECRET_HEADER_WORDS)


_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")


def split_url(url: str) -> tuple[str, tuple[str, str] | None]:
    """(URL without userinfo and trailing slash, (user, password) or None).

    ValueError, saying what is wrong, unless it is an http(s) URL with a host and a valid port.
    """
    text = url.strip()
    if _BAD_URL_CHARS.search(text):
        raise ValueError("a URL must not contain spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port  # ValueError when it is not a number from 0 to 65535
    except ValueError as exc:
        raise ValueError(f"not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL with a host")
    if port == 0:
        raise ValueError("port 0 is not a port to connect to")
    userinfo = None
    netloc = parts.netloc
    if "@" in netloc:
        creds, netloc = netloc.rsplit("@", 1)
        user, _, password = creds.partition(":")
        userinfo = (user, password)
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, "")), userinfo


def is_loopback(url: str) -> bool:
    """Whether the URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cleartext_credentials(source: Source) -> str | None:
    """What credential a source would send unencrypted to another host, or None.

    Plain `http://` to a host other than this one carries a bearer token, a password or a
    secret header (Authorization, *token*...) in the clear for anyone on the path.
    """
    if not source.url.startswith("http://") or is_loopback(source.url):
        return None
    if isinstance(source.auth, BearerAuth):
        return "a bearer token"
    if isinstance(source.auth, BasicAuth) and (source.auth.password or source.auth.password_file):
        return "a password"
    secret_headers = sorted(name for name in source.headers if is_secret_header(name))
    if secret_headers:
        return f"the {secret_headers[0]} header"
    return None


def source_from_url(url: str, name: str | None = None) -> Source:
    """A no-auth source for a bare URL, named after the host unless `name` is given.

    ValueError if `url` is not an http(s) URL with a host.
    """
    try:
        clean, _userinfo = split_url(url)
    except ValueError as exc:
        raise ValueError(f"{url!r}: {exc} (expected something like http://localhost:9090)") from None
    host = urlsplit(clean).hostname or "adhoc"
    return Source(name=name or host, url=clean)


__all__ = [
    "TLS",
    "Auth",
    "BasicAuth",
    "BearerAuth",
    "Secret",
    "Source",
    "cleartext_credentials",
    "is_loopback",
    "is_secret_header",
    "source_from_url",
    "split_url",
]
