"""Where promsoc keeps its files, following the XDG base directory spec (as posting does).

Every path promsoc reads or writes by default is computed here, and only here. Each function
reads the environment when called, so tests can point `$XDG_*` elsewhere. Per the spec, a
relative `$XDG_*` value is ignored.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "promsoc"
CONFIG_ENV = "PROMSOC_CONFIG"


def _base(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/promsoc` (default `~/.config/promsoc`): config, user themes and packs."""
    return _base("XDG_CONFIG_HOME", ".config") / APP


def config_file() -> Path:
    """The config file looked for when neither `--config` nor `$PROMSOC_CONFIG` is given."""
    return config_dir() / "config.yaml"


def themes_dir() -> Path:
    """User themes (YAML), beside the built-in ones."""
    return config_dir() / "themes"


def packs_dir() -> Path:
    """User detector packs, when the config does not name `detectors.packs_dir`."""
    return config_dir() / "packs"


def data_dir() -> Path:
    """`$XDG_DATA_HOME/promsoc` (default `~/.local/share/promsoc`)."""
    return _base("XDG_DATA_HOME", ".local/share") / APP


def state_dir() -> Path:
    """`$XDG_STATE_HOME/promsoc` (default `~/.local/state/promsoc`): history worth keeping."""
    return _base("XDG_STATE_HOME", ".local/state") / APP


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/promsoc` (default `~/.cache/promsoc`): anything safe to delete."""
    return _base("XDG_CACHE_HOME", ".cache") / APP


def find_config(config_path: str | None) -> Path | None:
    """`--config`, then `$PROMSOC_CONFIG`, then the XDG file if it exists; else None."""
    if config_path:
        return Path(config_path).expanduser()
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    default = config_file()
    return default if default.is_file() else None


def lab_cache_dir() -> Path:
    """The lab's simulated history, reused between demo runs."""
    return cache_dir() / "lab"


def handoff_dir() -> Path:
    """Where the console writes hand-off notes when the config names no `handoff_dir`."""
    return state_dir() / "handoff"


def silence_log() -> Path:
    """Every silence the console created or expired, one JSON line each (who, what, until)."""
    return state_dir() / "silences.log"


__all__ = [
    "CONFIG_ENV",
    "cache_dir",
    "config_dir",
    "config_file",
    "data_dir",
    "find_config",
    "handoff_dir",
    "lab_cache_dir",
    "packs_dir",
    "state_dir",
    "themes_dir",
]
