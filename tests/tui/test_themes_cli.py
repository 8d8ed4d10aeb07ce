"""Themes load from YAML and resolve by short name; the CLI rejects an unknown theme cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from promsoc.cli import main
from promsoc.tui import themes


def test_every_builtin_theme_loads() -> None:
    loaded = {t.name: t for t in themes.load_themes(themes.builtin_dir())}
    assert set(loaded) == {"promsoc-dark", "promsoc-light", "promsoc-high-contrast", "promsoc-16-colour"}
    assert loaded["promsoc-16-colour"].ansi
    assert not loaded["promsoc-light"].dark


def test_short_names_and_unknown_names() -> None:
    available = {"promsoc-dark", "promsoc-light", "promsoc-16-colour", "nord"}
    assert themes.resolve(None, available) == "promsoc-dark"
    assert themes.resolve("light", available) == "promsoc-light"
    assert themes.resolve("16-color", available) == "promsoc-16-colour"
    assert themes.resolve("nord", available) == "nord"
    with pytest.raises(themes.ThemeError, match="unknown theme 'neon'"):
        themes.resolve("neon", available)


def test_a_bad_theme_file_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nprimary: '#fff'\nshiny: true\n")
    with pytest.raises(themes.ThemeError, match=r"bad\.yaml: unknown key 'shiny'"):
        themes.load_themes(tmp_path)


def test_user_themes_override_and_extend(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("name: mine\nprimary: '#123456'\n")
    names = [t.name for t in themes.load_themes(themes.builtin_dir(), tmp_path)]
    assert "mine" in names and "promsoc-dark" in names


def test_cli_unknown_theme_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["tui", "--url", "http://127.0.0.1:9", "--theme", "neon"])
    assert code == 2
    assert "unknown theme 'neon'" in capsys.readouterr().err


def test_cli_bad_at_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tui", "--url", "http://127.0.0.1:9", "--at", "yesterday"]) == 2
    assert "--at" in capsys.readouterr().err
