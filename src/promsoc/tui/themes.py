"""Themes as YAML files (built-in `themes/` plus the user's folder) loaded as Textual themes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml
from textual.theme import Theme

from promsoc.config import locations

DEFAULT_THEME = "promsoc-dark"
_FIELDS = {f.name for f in dataclasses.fields(Theme)}
# Short names a user types after --theme, mapped to the registered names.
ALIASES = {
    "dark": "promsoc-dark",
    "light": "promsoc-light",
    "high-contrast": "promsoc-high-contrast",
    "16-colour": "promsoc-16-colour",
    "16-color": "promsoc-16-colour",
}


class ThemeError(ValueError):
    """A theme file that cannot be used; the message names the file and the key."""


def builtin_dir() -> Path:
    """themes/ inside the wheel (force-included), else at the root of a source checkout."""
    package = Path(__file__).resolve().parents[1] / "themes"
    return package if package.is_dir() else Path(__file__).resolve().parents[3] / "themes"


def user_dir() -> Path:
    return locations.themes_dir()


def load_theme(path: Path) -> Theme:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ThemeError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise ThemeError(f"{path}: a theme is a mapping of Theme fields")
    unknown = sorted(set(data) - _FIELDS)
    if unknown:
        raise ThemeError(f"{path}: unknown key {unknown[0]!r}")
    if "name" not in data or "primary" not in data:
        raise ThemeError(f"{path}: `name` and `primary` are required")
    try:
        return Theme(**data)
    except (TypeError, ValueError) as exc:
        raise ThemeError(f"{path}: {exc}") from None


def load_themes(*folders: Path) -> list[Theme]:
    """Every *.yaml theme in the folders, later folders overriding earlier ones by name."""
    found: dict[str, Theme] = {}
    for folder in folders or (builtin_dir(), user_dir()):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            theme = load_theme(path)
            found[theme.name] = theme
    return list(found.values())


def resolve(name: str | None, available: set[str]) -> str:
    """A user's theme name (short alias or full) -> a registered name; unknown is an error."""
    if not name:
        return DEFAULT_THEME
    full = ALIASES.get(name, name)
    if full not in available:
        choices = ", ".join(sorted(set(ALIASES) | {n for n in available if n.startswith("promsoc")}))
        raise ThemeError(f"unknown theme {name!r}; choose one of: {choices}")
    return full
