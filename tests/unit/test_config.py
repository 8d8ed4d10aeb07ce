"""Config loading: a fixture per kind of mistake, each naming file, line and key; the happy path."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from promsoc.config import ConfigError, load_file, load_settings, locations
from promsoc.config.parsing import (
    DETECTOR_KEYS,
    KIOSK_KEYS,
    PACKS_DIR,
    SERVE_KEYS,
    SERVE_SSH_KEYS,
    SERVE_WEB_KEYS,
    TOP_KEYS,
)
from promsoc.config.sources import ALERTMANAGER_KEYS, AUTH_KEYS, SOURCE_KEYS, TLS_KEYS
from promsoc.prom.settings import BasicAuth, BearerAuth, Secret

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "fixtures" / "bad_configs"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No real user config, no stray PROMSOC_* variables."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.delenv("PROMSOC_CONFIG", raising=False)
    for name in list(os.environ):
        if name.startswith("PROMSOC_TEST_"):
            monkeypatch.delenv(name)


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


BAD_CASES = [
    ("yaml_syntax.yaml", 5, None, "YAML syntax error"),
    ("unknown_key.yaml", 5, "sources[0].tls.ca_flie", "unknown key (did you mean 'ca_file'?)"),
    ("wrong_type.yaml", 4, "sources[0].max_concurrency", "expected a whole number, got str 'lots'"),
    (
        "missing_env.yaml",
        5,
        "sources[0].headers.X-Scope-OrgID",
        "environment variable PROMSOC_TEST_UNSET_TENANT is not set",
    ),
    ("unreadable_ca.yaml", 5, "sources[0].tls.ca_file", "cannot read"),
    ("invalid_ca.yaml", 5, "sources[0].tls.ca_file", "not a usable PEM"),
    (
        "missing_token_env.yaml",
        5,
        "sources[0].auth.token_env",
        "PROMSOC_TEST_UNSET_TOKEN is not set",
    ),
]


@pytest.mark.parametrize(("name", "line", "key", "message"), BAD_CASES)
def test_bad_config_names_file_line_and_key(
    name: str, line: int, key: str | None, message: str
) -> None:
    path = BAD / name
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), None, None)
    error = caught.value
    assert error.file == str(path) and error.line == line and error.key == key
    assert message in error.message
    prefix = f"{path}:{line}: " + (f"{key}: " if key else "")
    assert str(error).startswith(prefix)


def test_every_bad_fixture_is_covered() -> None:
    covered = {case[0] for case in BAD_CASES}
    assert {p.name for p in BAD.glob("*.yaml")} == covered


@pytest.mark.parametrize("name", ["unknown_key.yaml", "yaml_syntax.yaml", "missing_env.yaml"])
@pytest.mark.parametrize("command", ["tui", "scan", "check"])
def test_cli_exits_2_with_location_and_no_traceback(name: str, command: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("PROMSOC_TEST_UNSET_TENANT", None)
    proc = subprocess.run(
        [sys.executable, "-m", "promsoc", command, "--config", str(BAD / name)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"{BAD / name}:" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.fixture
def ca_pem(tmp_path: Path) -> Path:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=t"],
        cwd=tmp_path, check=True, capture_output=True,
    )  # fmt: skip
    return tmp_path / "ca.pem"


FULL = """
sources:
  - name: prod-eu
    url: https://thanos.example.com/prefix/
    selector: '{cluster="prod-eu", env=~"prod|stage"}'
    params: {partial_response: true, dedup: "false", max_source_resolution: 5m}
    headers:
      X-Scope-OrgID: ${PROMSOC_TEST_TENANT}
    auth:
      token_env: PROMSOC_TEST_TOKEN
    tls:
      ca_file: ca.pem
      cert_file: ca.pem
      key_file: ca.key
      insecure_skip_verify: false
    timeout: 2.5
    refresh: 1m
    max_concurrency: ${PROMSOC_TEST_CONCURRENCY}
  - name: edge
    url: http://edge:9090
    auth:
      username: promsoc
      password_file: secret.txt
detectors:
  packs_dir: packs
  ingress-bruteforce:
    enabled: false
    severity: critical
    params: {max_share: 0.5, window: 10m}
  falco-blind: {}
theme: high-contrast
kiosk:
  rotate_seconds: 45s
  views: [overview, falco]
handoff_dir: ~/handoff
"""


def test_full_config_loads_into_typed_settings(
    tmp_path: Path, ca_pem: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMSOC_TEST_TENANT", "team-blue")
    monkeypatch.setenv("PROMSOC_TEST_TOKEN", "tok-abcdef-123456")
    monkeypatch.setenv("PROMSOC_TEST_CONCURRENCY", "7")
    (tmp_path / "packs").mkdir()
    write(tmp_path / "secret.txt", "pw-from-file\n")
    path = write(tmp_path / "config.yaml", FULL, 0o644)
    settings = load_settings(str(path), None, None)
    prod, edge = settings.sources
    assert prod.url == "https://thanos.example.com/prefix"
    assert prod.selector == 'cluster="prod-eu",env=~"prod|stage"'
    assert prod.params == {
        "partial_response": "true",
        "dedup": "false",
        "max_source_resolution": "5m",
    }
    assert prod.headers == {"X-Scope-OrgID": "team-blue"}
    assert prod.auth == BearerAuth(token=Secret("tok-abcdef-123456"))
    assert prod.tls.ca_file == ca_pem and prod.tls.key_file == tmp_path / "ca.key"
    assert (prod.timeout, prod.refresh, prod.max_concurrency) == (2.5, 60.0, 7)
    assert edge.auth == BasicAuth("promsoc", password_file=tmp_path / "secret.txt")
    assert (edge.timeout, edge.refresh, edge.max_concurrency) == (10.0, 30.0, 20)
    override = settings.detectors["ingress-bruteforce"]
    assert (override.enabled, override.severity) == (False, "critical")
    assert override.params == {"max_share": 0.5, "window": "10m"}
    assert override.file == str(path) and override.line == 26
    assert settings.detectors["falco-blind"].enabled is True
    assert settings.packs_dir == tmp_path / "packs"
    assert settings.theme == "high-contrast"
    assert settings.kiosk.rotate_seconds == 45.0 and settings.kiosk.views == ("overview", "falco")
    assert settings.handoff_dir == Path("~/handoff").expanduser()
    assert settings.config_path == path
    # secrets came from env and files, not inline; but edge's password travels over plain http
    assert settings.warnings == (
        f"{path}:20: sources[1].url: a password would be sent unencrypted over http:// to edge; "
        "use https://",
    )
    assert "tok-abcdef-123456" not in repr(settings)


def test_example_config_loads_and_documents_every_key(tmp_path: Path) -> None:
    example = ROOT / "config.example.yaml"
    settings = load_settings(str(example), None, None)
    assert [s.name for s in settings.sources] == ["local"]
    assert settings.handoff_dir == locations.handoff_dir()
    text = example.read_text()
    for key in (
        TOP_KEYS | SOURCE_KEYS | AUTH_KEYS | TLS_KEYS | DETECTOR_KEYS | KIOSK_KEYS | ALERTMANAGER_KEYS | {PACKS_DIR}
        | SERVE_KEYS | SERVE_SSH_KEYS | SERVE_WEB_KEYS
    ):
        assert re.search(rf"#\s*{key}:", text), f"config.example.yaml does not explain {key!r}"


INLINE = """
sources:
  - name: a
    url: https://user:inline-pass-1234@prom.example
  - name: b
    url: https://prom.example
    auth: {token: inline-token-5678}
    headers: {Authorization: "Bearer inline-header-9999", X-Scope-OrgID: tenant}
"""


def test_inline_secrets_in_readable_file_warn_without_showing_them(tmp_path: Path) -> None:
    loose = load_file(write(tmp_path / "loose.yaml", INLINE, 0o644))
    assert len(loose.warnings) == 3
    assert loose.warnings[0].startswith(
        f"{tmp_path / 'loose.yaml'}:4: sources[0].url: inline secret"
    )
    assert any(":7: sources[1].auth.token:" in w for w in loose.warnings)
    assert any("sources[1].headers.Authorization" in w for w in loose.warnings)
    joined = " ".join(loose.warnings) + repr(loose)
    for secret in ("inline-pass-1234", "inline-token-5678", "inline-header-9999"):
        assert secret not in joined
    assert all("0o644" in w for w in loose.warnings)
    tight = load_file(write(tmp_path / "tight.yaml", INLINE, 0o600))
    assert tight.warnings == ()
    a = tight.sources[0]
    assert a.url == "https://prom.example" and isinstance(a.auth, BasicAuth)
    assert a.auth.password == Secret("inline-pass-1234")


def test_insecure_skip_verify_draws_a_warning(tmp_path: Path) -> None:
    text = "sources:\n  - name: a\n    url: https://x\n    tls: {insecure_skip_verify: true}\n"
    (warning,) = load_file(write(tmp_path / "c.yaml", text)).warnings
    assert warning.startswith(f"{tmp_path / 'c.yaml'}:4: sources[0].tls.insecure_skip_verify: ")


def test_env_expansion_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMSOC_TEST_HOST", "prom.internal")
    monkeypatch.setenv("PROMSOC_TEST_EMPTY", "")
    text = """
sources:
  - name: a
    url: http://${PROMSOC_TEST_HOST}:9090
    params: {x: "${PROMSOC_TEST_MISSING:-fallback}", y: "${PROMSOC_TEST_EMPTY:-used}", z: "$$HOME"}
"""
    (source,) = load_file(write(tmp_path / "c.yaml", text)).sources
    assert source.url == "http://prom.internal:9090"
    assert source.params == {"x": "fallback", "y": "used", "z": "$HOME"}


S = "sources:\n  - name: a\n    url: http://x\n"  # a valid source to add one key to
MISTAKES = [
    ("sources: {name: a}", 1, "sources", "expected a list"),
    ("sources:\n  - url: http://x", 2, "sources[0].name", "missing"),
    ("sources:\n  - name: a\n    url: ftp://x", 3, "sources[0].url", "http:// or https://"),
    ("sources:\n  - {name: a, url: 'http://x'}\n  - {name: a, url: 'http://y'}", 3,
     "sources[1].name", "duplicate"),
    (S + "    timeout: soon", 4, "sources[0].timeout", "duration"),
    (S + "    timeout: -1", 4, "sources[0].timeout", "greater than zero"),
    (S + "    max_concurrency: 0", 4, "sources[0].max_concurrency", "at least 1"),
    (S + "    selector: cluster=prod", 4, "sources[0].selector", "matcher"),
    (S + "    url: http://y", 4, "sources[0].url", "duplicate key"),
    (S + "    auth: {token: abcd, token_env: B}", 4, "sources[0].auth.token_env", "only one"),
    (S + "    auth: {password: abcd}", 4, "sources[0].auth.username", "needs a username"),
    (S + "    auth: {token: 12345678}", 4, "sources[0].auth.token", "quote it"),
    (S + "    tls: {insecure_skip_verify: yes please}", 4,
     "sources[0].tls.insecure_skip_verify", "true or false"),
    ("detectors:\n  Bad_ID: {}", 2, "detectors.Bad_ID", "lower-case"),
    ("detectors:\n  x-y: {severity: urgent}", 2, "detectors.x-y.severity", "one of info"),
    ("detectors:\n  x-y: {params: {a: [1, 2]}}", 2, "detectors.x-y.params.a", "single value"),
    ("detectors:\n  packs_dir: nowhere", 2, "detectors.packs_dir", "not a directory"),
    ("kiosk: {views: overview}", 1, "kiosk.views", "expected a list"),
    ("theme: 3", 1, "theme", "expected text"),
    ("themes: dark", 1, "themes", "did you mean 'theme'"),
    ("- just\n- a list", 1, None, "expected a mapping"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "key", "message"), MISTAKES)
def test_mistakes_are_located(
    tmp_path: Path, text: str, line: int, key: str | None, message: str
) -> None:
    path = write(tmp_path / "c.yaml", text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    assert (caught.value.line, caught.value.key) == (line, key), str(caught.value)
    assert message in caught.value.message
    assert "abcd" not in str(caught.value) and "12345678" not in str(caught.value)


def test_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def config(name: str) -> Path:
        return write(
            tmp_path / f"{name}.yaml", f"sources:\n  - name: {name}\n    url: http://{name}\n"
        )

    xdg = locations.config_file()
    xdg.parent.mkdir(parents=True)
    write(xdg, "sources:\n  - name: xdg\n    url: http://xdg\n")
    assert load_settings(None, None, None).sources[0].name == "xdg"
    monkeypatch.setenv("PROMSOC_CONFIG", str(config("env")))
    assert load_settings(None, None, None).sources[0].name == "env"
    assert load_settings(str(config("flag")), None, None).sources[0].name == "flag"


def test_no_config_and_no_url_says_how_to_start() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, None, None)
    text = str(caught.value)
    assert "promsoc demo" in text and "--url" in text and str(locations.config_file()) in text


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(str(tmp_path / "nope.yaml"), None, None)
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: config file not found"


def test_url_and_source_options(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.yaml",
        "sources:\n  - {name: eu, url: 'http://eu'}\n  - {name: us, url: 'http://us'}\n"
        "theme: light\n",
    )
    adhoc = load_settings(str(path), "http://prom.lab:9090/", None)
    assert [(s.name, s.url) for s in adhoc.sources] == [("prom.lab", "http://prom.lab:9090")]
    assert adhoc.theme == "light"  # the rest of the config still applies
    assert load_settings(None, "http://127.0.0.1:9090", "demo").sources[0].name == "demo"
    assert [s.name for s in load_settings(str(path), None, "us").sources] == ["us"]
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), None, "asia")
    assert "known sources: eu, us" in str(caught.value) and caught.value.key == "--source"
    with pytest.raises(ConfigError) as caught:
        load_settings(None, "prom.lab:9090", None)
    assert caught.value.key == "--url"


def test_empty_file_has_no_sources(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", "# nothing yet\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), None, None)
    assert caught.value.key == "sources"
    assert load_settings(str(path), None, None, require_sources=False).sources == ()


def test_xdg_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "c"))
    assert locations.config_file() == tmp_path / "c" / "promsoc" / "config.yaml"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/ignored")
    assert locations.config_dir() == Path.home() / ".config" / "promsoc"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert locations.handoff_dir() == Path.home() / ".local" / "state" / "promsoc" / "handoff"
