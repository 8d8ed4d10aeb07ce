"""The CLI contract's way to settings: discover the file, read it, apply `--url` and `--source`."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

from promsoc.config import locations
from promsoc.config.model import AlertmanagerSettings, Settings
from promsoc.config.parsing import default_packs_dir, parse_settings
from promsoc.config.reader import ConfigError, Reader, read_config
from promsoc.prom.settings import Source, source_from_url

NO_CONFIG_HELP = (
    "no configuration found and no --url given.\n"
    "  Quick look:  promsoc --url http://localhost:9090\n"
    "  Config file: copy config.example.yaml to {path} (or pass --config PATH,\n"
    "               or set $PROMSOC_CONFIG) and list your sources there\n"
    "  Just trying: promsoc demo  (starts a built-in lab Prometheus with a simulated cluster)"
)


def load_settings(
    config_path: str | None,
    url: str | None,
    source: str | None,
    *,
    require_sources: bool = True,
    alertmanager: str | None = None,
) -> Settings:
    """The CLI contract: discover and load the config, apply `--url` and `--source`.

    `--url` replaces the config's sources with one ad-hoc source named after the URL's host
    (or `source`, when both are given). `--source NAME` keeps only that source; an unknown
    name is a ConfigError that lists the known ones. With no sources at all (and
    `require_sources`), the ConfigError says how to make a config or try `promsoc demo`.
    `alertmanager` (`--alertmanager URL`) replaces every configured Alertmanager with a
    read-only, no-auth one.
    """
    path = locations.find_config(config_path)
    settings = load_file(path) if path else Settings(packs_dir=default_packs_dir())
    if alertmanager:
        settings = replace(settings, alertmanager=adhoc_alertmanager(alertmanager), source_alertmanagers={})
    if url:
        return replace(settings, sources=(adhoc_source(url, name=source),))
    if source:
        return replace(settings, sources=(settings.source(source),))
    if require_sources and not settings.sources:
        if path is None:
            raise ConfigError(NO_CONFIG_HELP.format(path=locations.config_file()))
        raise ConfigError(
            "no sources configured; add at least one under sources:", file=str(path), key="sources"
        )
    return settings


def adhoc_source(url: str, name: str | None = None) -> Source:
    """A no-auth source for `--url`, named after the host unless `name` is given."""
    try:
        return source_from_url(url, name)
    except ValueError as exc:
        raise ConfigError(str(exc), key="--url") from None


def adhoc_alertmanager(url: str) -> AlertmanagerSettings:
    """A read-only, no-auth Alertmanager for `--alertmanager URL`."""
    try:
        connection = source_from_url(url, "alertmanager")
    except ValueError as exc:
        raise ConfigError(str(exc), key="--alertmanager") from None
    return AlertmanagerSettings(replace(connection, max_concurrency=4))


def load_file(path: Path) -> Settings:
    """Read, parse and validate one config file."""
    text = read_config(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0
    return parse_settings(Reader(str(path), text), path, others_can_read=bool(mode & 0o077))


__all__ = ["NO_CONFIG_HELP", "adhoc_alertmanager", "adhoc_source", "load_file", "load_settings"]
