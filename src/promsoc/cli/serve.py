"""`promsoc serve`: the console for SSH clients and browsers, every viewer sharing one evaluation."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promsoc.cli.common import CliError, add_source_options, load_config, print_warnings

if TYPE_CHECKING:
    from promsoc.config import Secret, Settings
    from promsoc.serve.run import ServeOptions


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve the console over SSH and/or in a browser (viewers share one evaluation)",
        description="Serve the console to SSH clients and/or browsers. Every viewer gets their own "
        "console; all of them share one evaluation of the sources.",
    )
    add_source_options(parser)
    parser.add_argument("--ssh", metavar="HOST:PORT",
                        help="listen for SSH clients (e.g. 0.0.0.0:2222; a bare PORT is loopback only)")  # fmt: skip
    parser.add_argument("--web", metavar="HOST:PORT",
                        help="serve the console to browsers (e.g. 127.0.0.1:8080; other addresses need "
                        "serve.web password or token)")  # fmt: skip
    parser.add_argument("--host-key", metavar="FILE", help="SSH host key (created with mode 0600 if absent)")
    parser.add_argument("--authorized-keys", metavar="FILE",
                        help="OpenSSH authorized_keys file: the viewers' keys (required with --ssh)")  # fmt: skip
    parser.add_argument("--theme", metavar="NAME", help="console theme for every viewer")
    parser.set_defaults(handler=run)


def split_address(text: str, option: str) -> tuple[str, int]:
    """HOST:PORT, [IPv6]:PORT, or a bare PORT; no host means loopback (other machines need it said)."""
    host, sep, port = text.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535 or (sep and not host):
        raise CliError(f"{option}: {text!r} is not HOST:PORT or PORT (e.g. 127.0.0.1:8080, 0.0.0.0:2222)")
    return host.strip("[]") or "127.0.0.1", int(port)


def run(args: argparse.Namespace) -> int:
    from promsoc.serve.run import ServeError, run_serve

    settings = load_config(args)
    print_warnings(settings)
    try:
        return run_serve(settings, build_options(args, settings))
    except ServeError as exc:
        raise CliError(str(exc)) from None


def read_secret(secret: Secret | None, path: Path | None, key: str) -> str | None:
    """A password or token from the config (the env value) or its file; never echoed anywhere."""
    if secret is not None:
        return secret.reveal()
    if path is None:
        return None
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise CliError(f"{key}: cannot read {path}: {reason}") from None
    if not value:
        raise CliError(f"{key}: {path} is empty")
    return value


def build_options(args: argparse.Namespace, settings: Settings) -> ServeOptions:
    from promsoc.serve.run import ServeOptions
    from promsoc.serve.ssh import SshOptions
    from promsoc.serve.web import WebOptions

    conf = settings.serve
    ssh = web = None
    ssh_listen = args.ssh or conf.ssh.listen
    if ssh_listen:
        keys = Path(args.authorized_keys).expanduser() if args.authorized_keys else conf.ssh.authorized_keys
        if keys is None:
            raise CliError("--ssh needs --authorized-keys FILE (or serve.ssh.authorized_keys): the viewers' keys")
        ssh = SshOptions(
            *split_address(str(ssh_listen), "--ssh"),
            host_key=Path(args.host_key).expanduser() if args.host_key else conf.ssh.host_key,
            authorized_keys=keys,
            idle_timeout=conf.ssh.idle_timeout,
            max_sessions=conf.ssh.max_sessions,
        )
    web_listen = args.web or conf.web.listen
    if web_listen:
        web = WebOptions(
            *split_address(str(web_listen), "--web"),
            password=read_secret(conf.web.password, conf.web.password_file, "serve.web.password_file"),
            token=read_secret(conf.web.token, conf.web.token_file, "serve.web.token_file"),
            max_sessions=conf.web.max_sessions,
        )
    return ServeOptions(ssh=ssh, web=web, theme=args.theme)
