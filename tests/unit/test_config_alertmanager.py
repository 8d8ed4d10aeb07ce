"""`alertmanager:` in the config: a source's connection keys (same parser), global or per source."""

from __future__ import annotations

from pathlib import Path

import pytest

from promsoc.config import ConfigError, load_file, load_settings
from promsoc.prom.settings import BasicAuth, BearerAuth, Secret


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("PROMSOC_CONFIG", raising=False)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


CONFIG = """
alertmanager:
  url: https://am.example:9093/
  auth:
    token_env: PROMSOC_TEST_AM_TOKEN
  tls:
    insecure_skip_verify: false
  timeout: 4s
  headers: {X-Scope-OrgID: blue}
  allow_silence: true
  author: oncall-alice
sources:
  - name: eu
    url: http://prom-eu:9090
    alertmanager:
      url: http://am-eu:9093
      auth: {username: promsoc, password_env: PROMSOC_TEST_AM_PASSWORD}
  - name: us
    url: http://prom-us:9090
"""


def test_global_and_per_source_alertmanagers_read_like_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMSOC_TEST_AM_TOKEN", "am-token-123456")
    monkeypatch.setenv("PROMSOC_TEST_AM_PASSWORD", "am-pass-654321")
    settings = load_file(write(tmp_path / "c.yaml", CONFIG))
    glob = settings.alertmanager
    assert glob is not None
    assert glob.connection.url == "https://am.example:9093"
    assert glob.connection.auth == BearerAuth(token=Secret("am-token-123456"))
    assert glob.connection.timeout == 4.0 and glob.connection.headers == {"X-Scope-OrgID": "blue"}
    assert glob.allow_silence is True and glob.author == "oncall-alice"
    eu = settings.alertmanager_for("eu")
    assert eu is not None and eu.connection.url == "http://am-eu:9093"
    assert eu.connection.auth == BasicAuth("promsoc", Secret("am-pass-654321"))
    assert eu.allow_silence is False  # read-only unless the section says otherwise
    assert settings.alertmanager_for("us") is glob and settings.alertmanager_for(None) is glob
    assert "am-token-123456" not in repr(settings) and "am-pass-654321" not in repr(settings)


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        ("alertmanager:\n  url: http://am:9093\n  allow_silences: true\n", 3, "alertmanager.allow_silences",
         "unknown key (did you mean 'allow_silence'?)"),
        ("alertmanager:\n  timeout: 3s\n", 2, "alertmanager.url", "missing"),
        ("alertmanager:\n  url: ftp://am\n", 2, "alertmanager.url", "http:// or https://"),
        ("alertmanager:\n  url: http://am:9093\n  allow_silence: maybe\n", 3, "alertmanager.allow_silence",
         "true or false"),
        ("alertmanager:\n  url: http://am:9093\n  selector: 'a=\"b\"'\n", 3, "alertmanager.selector", "unknown key"),
        ("sources:\n  - name: a\n    url: http://p:9090\n    alertmanager:\n      url: http://am\n"
         "      tls: {ca_file: /nonexistent/ca.pem}\n", 6, "sources[0].alertmanager.tls.ca_file", "cannot read"),
    ],
)  # fmt: skip
def test_mistakes_name_file_line_and_key(tmp_path: Path, text: str, line: int, key: str, message: str) -> None:
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), None, None, require_sources=False)
    assert (caught.value.file, caught.value.line, caught.value.key) == (str(path), line, key)
    assert message in caught.value.message


def test_the_command_line_url_replaces_every_configured_alertmanager(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMSOC_TEST_AM_TOKEN", "am-token-123456")
    monkeypatch.setenv("PROMSOC_TEST_AM_PASSWORD", "am-pass-654321")
    path = write(tmp_path / "c.yaml", CONFIG)
    settings = load_settings(str(path), None, None, alertmanager="http://quick:9093")
    for name in ("eu", "us", None):
        chosen = settings.alertmanager_for(name)
        assert chosen is not None and chosen.connection.url == "http://quick:9093"
        assert chosen.connection.auth is None and chosen.allow_silence is False
    with pytest.raises(ConfigError) as caught:
        load_settings(None, None, None, require_sources=False, alertmanager="am:9093")
    assert caught.value.key == "--alertmanager"
