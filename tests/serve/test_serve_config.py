"""The `serve:` section of the config: typed, located errors, secrets from env or file and never shown."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from promsoc.cli.common import CliError
from promsoc.cli.serve import build_options, split_address
from promsoc.config import ConfigError, load_file

FULL = """
serve:
  ssh:
    listen: 0.0.0.0:2222
    host_key: keys/host
    authorized_keys: viewers
    idle_timeout: 2m
    max_sessions: 3
  web:
    listen: 0.0.0.0:8443
    password_env: S12_WEB_PASSWORD
    token_file: web-token
"""


def args(**given: object) -> argparse.Namespace:
    base: dict[str, object] = {"ssh": None, "web": None, "host_key": None, "authorized_keys": None, "theme": None}
    return argparse.Namespace(**{**base, **given})


def test_full_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S12_WEB_PASSWORD", "hunter2-from-env")
    (tmp_path / "viewers").write_text("")
    (tmp_path / "web-token").write_text("wall-token-from-file\n")
    config = tmp_path / "config.yaml"
    config.write_text(FULL)
    config.chmod(0o600)
    settings = load_file(config)
    ssh = settings.serve.ssh
    assert ssh.host_key == tmp_path / "keys" / "host" and ssh.authorized_keys == tmp_path / "viewers"
    assert (ssh.idle_timeout, ssh.max_sessions, ssh.listen) == (120.0, 3, "0.0.0.0:2222")
    assert "hunter2-from-env" not in repr(settings)
    options = build_options(args(), settings)
    assert options.ssh is not None and options.web is not None
    assert (options.ssh.host, options.ssh.port, options.ssh.idle_timeout) == ("0.0.0.0", 2222, 120.0)
    assert options.web.password == "hunter2-from-env" and options.web.token == "wall-token-from-file"
    assert "hunter2" not in repr(options) and "wall-token" not in repr(options)
    # the command line wins over the file
    cli = build_options(args(ssh="127.0.0.1:0", web="127.0.0.1:0", authorized_keys=str(tmp_path / "other")), settings)
    assert cli.ssh is not None and cli.web is not None
    assert (cli.ssh.port, cli.ssh.authorized_keys, cli.web.host) == (0, tmp_path / "other", "127.0.0.1")


@pytest.mark.parametrize(("text", "where"), [
    ("serve:\n  ssh:\n    listen: \"localhost\"\n", ":3: serve.ssh.listen: expected HOST:PORT"),
    ("serve:\n  web:\n    pasword_env: X\n", ":3: serve.web.pasword_env"),
    ("serve:\n  ssh:\n    max_sessions: 0\n", ":3: serve.ssh.max_sessions: must be at least 1"),
    ("serve:\n  ssh:\n    authorized_keys: /nonexistent/keys\n", ":3: serve.ssh.authorized_keys: cannot read"),
    ("serve:\n  web:\n    password_env: S12_UNSET_VARIABLE\n", ":3: serve.web.password_env: environment variable"),
])  # fmt: skip
def test_mistakes_name_file_line_and_key(tmp_path: Path, text: str, where: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_file(config)
    assert where in str(caught.value)
    assert str(caught.value).startswith(str(config))


def test_ssh_needs_authorized_keys_and_secret_files_must_be_readable(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("serve:\n  web:\n    token_file: token\n")
    token = tmp_path / "token"
    token.write_text("")
    settings = load_file(config)
    with pytest.raises(CliError, match="needs --authorized-keys"):
        build_options(args(ssh="127.0.0.1:0"), settings)
    with pytest.raises(CliError, match="is empty"):
        build_options(args(web="127.0.0.1:0"), settings)


@pytest.mark.parametrize(("text", "expected"), [
    ("8080", ("127.0.0.1", 8080)),
    ("127.0.0.1:0", ("127.0.0.1", 0)),
    ("0.0.0.0:2222", ("0.0.0.0", 2222)),
    ("[::1]:8080", ("::1", 8080)),
])  # fmt: skip
def test_listen_addresses_default_to_loopback(text: str, expected: tuple[str, int]) -> None:
    assert split_address(text, "--web") == expected


@pytest.mark.parametrize("text", [":8080", "host:", "host:port", "127.0.0.1:70000", ""])
def test_bad_listen_addresses_are_usage_errors(text: str) -> None:
    with pytest.raises(CliError, match="is not HOST:PORT"):
        split_address(text, "--web")
