"""Hostile and careless configs: bounded numbers, typed detector params, sane files and URLs,
header injection and credentials over plain http; each mistake is exit 2 with file:line:key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from promsoc.config import ConfigError, load_file, load_settings
from promsoc.config.reader import MAX_CONFIG_BYTES

ROOT = Path(__file__).resolve().parents[2]
S = "sources:\n  - name: a\n    url: http://127.0.0.1:9\n"  # a valid source to add one key to
INJECTION = "5m]) or vector(1) or rate(up[5m"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.delenv("PROMSOC_CONFIG", raising=False)


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    path.chmod(0o600)
    return path


def promsoc(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "promsoc", *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


BAD = [
    # numbers: finite, bounded (issue 15 item 7)
    (S + "    timeout: .inf", 4, "sources[0].timeout", "finite"),
    (S + "    timeout: .nan", 4, "sources[0].timeout", "finite"),
    (S + "    timeout: 99999999999y", 4, "sources[0].timeout", "at most 600 seconds"),
    (S + "    timeout: 11m", 4, "sources[0].timeout", "at most 600 seconds"),
    (S + "    refresh: 0.2", 4, "sources[0].refresh", "at least 1 seconds"),
    (S + "    refresh: 2d", 4, "sources[0].refresh", "at most 86400 seconds"),
    (S + "    max_concurrency: 100000000", 4, "sources[0].max_concurrency", "at most 256"),
    ("kiosk: {rotate_seconds: .inf}", 1, "kiosk.rotate_seconds", "finite"),
    ("serve: {web: {max_sessions: 1000000}}", 1, "serve.web.max_sessions", "at most 1000"),
    # detector params by the kind their default declares (issue 15 item 5)
    ("detectors:\n  falco-blind:\n    params:\n      window: '" + INJECTION + "'", 4,
     "detectors.falco-blind.params.window", "Prometheus duration"),
    ("detectors:\n  falco-blind:\n    params: {remember: 5x}", 3,
     "detectors.falco-blind.params.remember", "Prometheus duration"),
    ("detectors:\n  falco-blind:\n    params: {remember: 0s}", 3,
     "detectors.falco-blind.params.remember", "more than zero"),
    ("detectors:\n  volume-inode-anomaly:\n    params: {lookback: 99999999999y}", 3,
     "detectors.volume-inode-anomaly.params.lookback", "at most 10y"),
    ("detectors:\n  ingress-sqli:\n    params: {max_share: .nan}", 3,
     "detectors.ingress-sqli.params.max_share", "finite"),
    ("detectors:\n  ingress-sqli:\n    params: {max_share: -1}", 3,
     "detectors.ingress-sqli.params.max_share", "negative"),
    ("detectors:\n  ingress-sqli:\n    params: {max_share: 1.0e+400}", 3,
     "detectors.ingress-sqli.params.max_share", "finite"),
    ("detectors:\n  ingress-sqli:\n    params: {status: '5..\"} or vector(1) #'}", 3,
     "detectors.ingress-sqli.params.status", "label-value regex"),
    ("detectors:\n  ingress-sqli:\n    params: {status: '(5'}", 3,
     "detectors.ingress-sqli.params.status", "not a valid regex"),
    ("detectors:\n  ingress-sqli:\n    params: {status: '(?!200)'}", 3,
     "detectors.ingress-sqli.params.status", "look-around"),
    ("detectors:\n  ingress-sqli:\n    params: {window: 5}", 3,
     "detectors.ingress-sqli.params.window", "expected text"),
    ("detectors:\n  ingress-sqli:\n    params:\n      strict: true", 4,
     "detectors.ingress-sqli.params.strict", "unknown param (known: max_share"),
    ("detectors:\n  no-such-detector: {}", 2, "detectors.no-such-detector", "no such detector"),
    # URLs (issue 15 item 8)
    ("sources:\n  - name: a\n    url: http://[::1", 3, "sources[0].url", "not a valid URL"),
    ("sources:\n  - name: a\n    url: http://prom:99999", 3, "sources[0].url", "Port out of range"),
    ("sources:\n  - name: a\n    url: http://prom:0", 3, "sources[0].url", "port 0"),
    ("sources:\n  - name: a\n    url: 'http://pr om'", 3, "sources[0].url", "spaces or control"),
    ("alertmanager: {url: 'http://[::1'}", 1, "alertmanager.url", "not a valid URL"),
    # headers (issue 15 item 12)
    (S + '    headers: {X-Scope-OrgID: "t\\r\\nX-Evil: 1"}', 4, "sources[0].headers.X-Scope-OrgID",
     "CR, LF or NUL"),
    (S + '    headers: {"X Bad": v}', 4, "sources[0].headers.X Bad", "header name"),
    # how the sibling bands are applied (issue 10)
    (S + "    sibling_bands: auto", 4, "sources[0].sibling_bands", "expected local or promql, got 'auto'"),
    (S + "    sibling_bands: true", 4, "sources[0].sibling_bands", "expected text"),
    (S + "    sibling_band: promql", 4, "sources[0].sibling_band", "did you mean 'sibling_bands'"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "key", "message"), BAD)
def test_mistake_is_located(tmp_path: Path, text: str, line: int, key: str, message: str) -> None:
    path = write(tmp_path / "c.yaml", text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    error = caught.value
    assert (error.file, error.line, error.key) == (str(path), line, key), str(error)
    assert message in error.message


def test_injected_window_is_exit_2_and_never_reaches_rules_export(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", f"detectors:\n  falco-blind:\n    params: {{window: '{INJECTION}'}}\n")
    proc = promsoc("rules", "export", "--config", str(path))
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{path}:3: detectors.falco-blind.params.window: expected a Prometheus duration" in proc.stderr


def test_good_params_of_every_kind_load(tmp_path: Path) -> None:
    text = ("detectors:\n  ingress-sqli:\n    params: {window: 1h30m, max_share: 0.5, status: '5..|429'}\n"
            "  falco-blind: {params: {remember: 12h, max_drops: 3}}\n")
    settings = load_file(write(tmp_path / "c.yaml", text))
    assert settings.detectors["ingress-sqli"].params == {"window": "1h30m", "max_share": 0.5, "status": "5..|429"}


def test_sibling_bands_are_local_unless_the_source_says_promql(tmp_path: Path) -> None:
    text = S + "    sibling_bands: promql\n  - name: b\n    url: http://127.0.0.1:9\n"
    assert [s.sibling_bands for s in load_file(write(tmp_path / "c.yaml", text)).sources] == ["promql", "local"]


def test_a_bad_sibling_bands_is_exit_2_with_file_line_key(tmp_path: Path) -> None:
    path = write(tmp_path / "c.yaml", S + "    sibling_bands: PromQL\n")
    proc = promsoc("scan", "--config", str(path))
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert f"{path}:4: sources[0].sibling_bands: expected local or promql, got 'PromQL'" in proc.stderr


def test_env_supplied_header_with_a_line_break_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMSOC_TEST_TENANT", "t\r\nX-Evil: 1")
    monkeypatch.setenv("PROMSOC_TEST_TOKEN", "tok-secret-77\n")
    path = write(tmp_path / "c.yaml", S + "    headers: {X-Scope-OrgID: '${PROMSOC_TEST_TENANT}'}\n")
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    assert (caught.value.line, caught.value.key) == (4, "sources[0].headers.X-Scope-OrgID")
    path = write(tmp_path / "t.yaml", S + "    auth: {token_env: PROMSOC_TEST_TOKEN}\n")
    with pytest.raises(ConfigError) as caught:
        load_file(path)
    assert (caught.value.line, caught.value.key) == (4, "sources[0].auth.token_env")
    assert "tok-secret-77" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "auth", "warned"),
    [
        ("http://prom.example:9090", "auth: {token_env: PROMSOC_TEST_TOKEN}", "a bearer token"),
        ("http://10.0.0.7", "auth: {username: u, password_env: PROMSOC_TEST_TOKEN}", "a password"),
        ("http://prom.example", "headers: {Authorization: 'Bearer ${PROMSOC_TEST_TOKEN}'}",
         "the Authorization header"),
        ("https://prom.example", "auth: {token_env: PROMSOC_TEST_TOKEN}", None),
        ("http://127.0.0.1:9090", "auth: {token_env: PROMSOC_TEST_TOKEN}", None),
        ("http://localhost:9090", "auth: {token_env: PROMSOC_TEST_TOKEN}", None),
        ("http://[::1]:9090", "auth: {token_env: PROMSOC_TEST_TOKEN}", None),
        ("http://prom.example", "headers: {X-Scope-OrgID: tenant}", None),
    ],
)
def test_credentials_over_plain_http_to_another_host_warn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, auth: str, warned: str | None
) -> None:
    monkeypatch.setenv("PROMSOC_TEST_TOKEN", "tok-secret-88")
    path = write(tmp_path / "c.yaml", f"sources:\n  - name: a\n    url: {url}\n    {auth}\n")
    warnings = load_file(path).warnings
    if warned is None:
        assert warnings == ()
    else:
        (warning,) = warnings
        assert warning.startswith(f"{path}:3: sources[0].url: {warned} would be sent unencrypted")
        assert "tok-secret-88" not in warning


@pytest.mark.parametrize("command", ["scan", "tui"])
def test_cleartext_warning_reaches_stderr_without_the_secret(tmp_path: Path, command: str) -> None:
    path = write(tmp_path / "c.yaml", "sources:\n  - name: a\n    url: http://prom.invalid:9\n"
                 "    timeout: 1\n    auth: {token: tok-secret-99}\n")
    proc = promsoc(command, "--config", str(path))  # tui: stdout is no terminal, so it stops after
    assert "warning: " in proc.stderr and "a bearer token would be sent unencrypted" in proc.stderr
    assert "tok-secret-99" not in proc.stderr + proc.stdout


def test_big_files_and_devices_are_refused_unread(tmp_path: Path) -> None:
    big = write(tmp_path / "big.yaml", "# padding\n" * (MAX_CONFIG_BYTES // 10 + 1))
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        load_file(big)
    proc = promsoc("scan", "--config", "/dev/zero")  # an endless file: read at most 1 MiB
    assert proc.returncode == 2 and "/dev/zero: config file is larger than 1 MiB" in proc.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (S.encode() + b"    timeout: 5\x00\n", "c.yaml:4: contains a NUL character"),
        (S.encode() + b"    timeout: \xff\n", "c.yaml:4: not UTF-8 text"),
        (b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n", "c.yaml: YAML nested too deeply"),
        (S.encode() + b"    timeout: \x01\n", "c.yaml:4: character #x0001 is not allowed"),
    ],
    ids=["nul", "not-utf8", "deep", "control"],
)
def test_unreadable_yaml_is_exit_2_not_an_internal_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path / "c.yaml", content)
    proc = promsoc("scan", "--config", str(path))
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "internal error" not in proc.stderr


@pytest.mark.parametrize("url", ["http://[::1", "http://prom:99999", "ftp://prom"])
def test_malformed_url_option_is_exit_2(url: str) -> None:
    proc = promsoc("scan", "--url", url)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("promsoc: --url: ") and "internal error" not in proc.stderr


def test_url_option_too_is_checked_in_process() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, "http://[::1", None)
    assert caught.value.key == "--url"
