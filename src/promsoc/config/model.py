"""What promsoc was configured with: one frozen dataclass per section, a docstring per field.

The fields ARE the schema: `file_keys` derives the keys a section of the file may hold from
them (posting's settings and harlequin's config work the same way), so a key is declared
once. A field whose metadata has `"yaml": None` is filled in by the loader and is not a key;
`"yaml": "a.b"` says the key lives elsewhere in the file. A `Secret` field `x` also allows
`x_env` (the secret read from an environment variable). The connection settings of one
source (`Source`, `Auth`, `TLS`, `Secret`) live in `promsoc.prom.settings`, beside the client
that uses them; per-detector changes (`DetectorOverride`) beside the detectors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from promsoc.config import locations
from promsoc.config.reader import ConfigError
from promsoc.detectors.packs import DetectorOverride
from promsoc.prom.settings import Secret, Source

NOT_IN_FILE = {"yaml": None}
"""Field metadata: the loader fills this field in; it is not a key of the file."""


def bounds_of(section: type, name: str) -> tuple[float | None, float | None]:
    """A number field's declared (min, max): `field(metadata={"min": ..., "max": ...})`."""
    (item,) = (f for f in fields(section) if f.name == name)
    low, high = item.metadata.get("min"), item.metadata.get("max")
    return (None if low is None else float(low)), (None if high is None else float(high))


def placed_keys(section: type, parent: str) -> frozenset[str]:
    """Keys of `section`'s fields that the file holds under `parent` (metadata `"yaml": "parent.key"`)."""
    prefix = f"{parent}."
    placed = (str(item.metadata.get("yaml")) for item in fields(section))
    return frozenset(path.removeprefix(prefix) for path in placed if path.startswith(prefix))


def file_keys(*sections: type) -> frozenset[str]:
    """The keys a section of the file may hold, derived from its dataclass(es)."""
    keys: set[str] = set()
    for section in sections:
        for item in fields(section):
            if item.metadata.get("yaml", item.name) != item.name:
                continue
            keys.add(item.name)
            if "Secret" in str(item.type):
                keys.add(f"{item.name}_env")
    return frozenset(keys)


@dataclass(frozen=True)
class Kiosk:
    """Wall-display mode: the console rotates through views by itself."""

    rotate_seconds: float = field(default=30.0, metadata={"min": 1.0, "max": 86400.0})
    """Seconds each view stays on screen (1 s to 1 day)."""
    views: tuple[str, ...] = ()
    """View names in rotation order; empty means the console's default set."""


ALERTMANAGER_CONNECTION_KEYS = frozenset({"url", "auth", "tls", "timeout", "headers"})
"""The keys of a source's connection that an `alertmanager:` section takes, with the same meaning."""


def default_author() -> str:
    """Who a silence says made it, unless the config names someone: the login name."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "promsoc"


@dataclass(frozen=True)
class AlertmanagerSettings:
    """An Alertmanager to show beside the detectors: how to reach it and whether it may be written."""

    connection: Source = field(metadata={"yaml": "url, auth, tls, timeout, headers"})
    """url, auth, tls, timeout and headers, exactly as a source's (the same parser reads them)."""
    allow_silence: bool = False
    """Whether the console may create and expire silences (read-only unless true)."""
    author: str = field(default_factory=default_author)
    """The `createdBy` of silences made from the console (default: the login name)."""


def default_host_key() -> Path:
    return locations.state_dir() / "ssh_host_ed25519_key"


@dataclass(frozen=True)
class ServeSsh:
    """`promsoc serve --ssh`: who may connect, and for how long."""

    listen: str | None = None
    """HOST:PORT to listen on when `--ssh` is not given (e.g. `0.0.0.0:2222`)."""
    host_key: Path = field(default_factory=default_host_key)
    """The server's host key; created (ed25519, mode 0600) if the file does not exist."""
    authorized_keys: Path | None = None
    """OpenSSH authorized_keys file of the viewers' public keys (re-read when it changes)."""
    idle_timeout: float = field(default=900.0, metadata={"max": 604800.0})
    """Seconds without a key from the viewer before the session is closed (0: never; at most a week)."""
    max_sessions: int = field(default=10, metadata={"min": 1, "max": 1000})
    """SSH sessions at once; one more is told to try later."""


@dataclass(frozen=True)
class ServeWeb:
    """`promsoc serve --web`: anything but loopback needs a password or a token."""

    listen: str | None = None
    """HOST:PORT to listen on when `--web` is not given (default loopback only)."""
    password: Secret | None = None
    """The password a browser gives (Basic auth, any user name); from `password_env` or `password_file`."""
    password_file: Path | None = None
    """A file holding the password (read when the server starts)."""
    token: Secret | None = None
    """A token for wall screens (`/?kiosk=1&token=...`) and `Authorization: Bearer`; or `token_env`/`token_file`."""
    token_file: Path | None = None
    """A file holding the token (read when the server starts)."""
    max_sessions: int = field(default=20, metadata={"min": 1, "max": 1000})
    """Browser consoles at once."""


@dataclass(frozen=True)
class Serve:
    """`promsoc serve`: the console over SSH and in browsers."""

    ssh: ServeSsh = field(default_factory=ServeSsh)
    """The SSH server."""
    web: ServeWeb = field(default_factory=ServeWeb)
    """The web console."""


@dataclass(frozen=True)
class Settings:
    """Everything promsoc was configured with, after discovery, `--url` and `--source`."""

    sources: tuple[Source, ...] = ()
    """The sources to poll, in file order."""
    detectors: Mapping[str, DetectorOverride] = field(default_factory=dict)
    """Per-detector overrides by detector id."""
    packs_dir: Path | None = field(default=None, metadata={"yaml": "detectors.packs_dir"})
    """A folder of user detector packs (YAML), loaded beside the built-in ones."""
    theme: str | None = None
    """Theme name; None means the console's default."""
    kiosk: Kiosk = field(default_factory=Kiosk)
    """Kiosk (wall display) settings."""
    handoff_dir: Path = field(default_factory=locations.handoff_dir)
    """Where hand-off notes are written."""
    alertmanager: AlertmanagerSettings | None = None
    """The Alertmanager shown beside every source that has none of its own."""
    serve: Serve = field(default_factory=Serve)
    """`promsoc serve`'s SSH server and web console."""
    source_alertmanagers: Mapping[str, AlertmanagerSettings] = field(
        default_factory=dict, metadata={"yaml": "sources[].alertmanager"}
    )
    """Per source name: the Alertmanager that source's alerts go to (`alertmanager:` in its entry)."""
    config_path: Path | None = field(default=None, metadata=NOT_IN_FILE)
    """The file these settings came from (None: defaults or `--url` only)."""
    warnings: tuple[str, ...] = field(default=(), metadata=NOT_IN_FILE)
    """Non-fatal findings to show the user, e.g. inline secrets in a readable file."""

    def alertmanager_for(self, source: str | None) -> AlertmanagerSettings | None:
        """The source's own Alertmanager, else the global one, else None."""
        if source is not None and source in self.source_alertmanagers:
            return self.source_alertmanagers[source]
        return self.alertmanager

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


__all__ = [
    "ALERTMANAGER_CONNECTION_KEYS",
    "NOT_IN_FILE",
    "AlertmanagerSettings",
    "Kiosk",
    "Serve",
    "ServeSsh",
    "ServeWeb",
    "Settings",
    "bounds_of",
    "default_author",
    "file_keys",
    "placed_keys",
]
