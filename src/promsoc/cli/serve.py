"""`promsoc serve`: the console for SSH clients and browsers, every viewer sharing one evaluation."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from promsoc.cli.common import CliError, add_source_options


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve the console over SSH and/or in a browser (viewers share one evaluation)",
        description="Serve the console to SSH clients and/or browsers. Every viewer gets their own "
        "console; all of them share one evaluation of the sources.",
    )
    add_source_options(parser)
    parser.add_argument("--ssh", metavar="HOST:PORT", help="listen for SSH clients (e.g. 0.0.0.0:2222)")
    parser.add_argument("--web", metavar="HOST:PORT",
                        help="serve the console to browsers (e.g. 127.0.0.1:8080; other addresses need "
                        "serve.web password or token)")  # fmt: skip
    parser.add_argument("--host-key", metavar="FILE", help="SSH host key (created with mode 0600 if absent)")
    parser.add_argument("--authorized-keys", metavar="FILE",
                        help="OpenSSH authorized_keys file: the viewers' keys (required with --ssh)")  # fmt: skip
    parser.add_argument("--theme", metavar="NAME", help="console theme for every viewer")
    parser.set_defaults(handler=run)


def split_address(text: str, option: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise CliError(f"{option}: {text!r} is not HOST:PORT (e.g. 127.0.0.1:8080)")
    return host.strip("[]") or "0.0.0.0", int(port)  # noqa: S104 - an empty host means every address


def run(args: argparse.Namespace) -> int:
    from promsoc.config import ConfigError, load_settings
    from promsoc.serve.run import ServeError, run_serve

    try:
        settings = load_settings(args.config, args.url, args.source)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    try:
        return run_serve(settings, build_options(args, settings))
    except ServeError as exc:
        raise CliError(str(exc)) from None


def build_options(args: argparse.Namespace, settings: Any) -> Any:
    from promsoc.config import locations
    from promsoc.serve.run import ServeOptions
    from promsoc.serve.ssh import SshOptions
    from promsoc.serve.web import WebOptions

    serve = getattr(settings, "serve", None)
    ssh_conf = getattr(serve, "ssh", None)
    web_conf = getattr(serve, "web", None)
    ssh = web = None
    ssh_listen = args.ssh or getattr(ssh_conf, "listen", None)
    if ssh_listen:
        keys = args.authorized_keys or getattr(ssh_conf, "authorized_keys", None)
        if not keys:
            raise CliError("--ssh needs --authorized-keys FILE (or serve.ssh.authorized_keys): the viewers' keys")
        host_key = args.host_key or getattr(ssh_conf, "host_key", None)
        ssh = SshOptions(
            *split_address(str(ssh_listen), "--ssh"),
            host_key=Path(host_key).expanduser() if host_key else locations.state_dir() / "ssh_host_ed25519_key",
            authorized_keys=Path(keys).expanduser(),
            idle_timeout=float(getattr(ssh_conf, "idle_timeout", 900.0)),
            max_sessions=int(getattr(ssh_conf, "max_sessions", 10)),
        )
    web_listen = args.web or getattr(web_conf, "listen", None)
    if web_listen:
        password = getattr(web_conf, "password", None)
        token = getattr(web_conf, "token", None)
        web = WebOptions(
            *split_address(str(web_listen), "--web"),
            password=password.reveal() if password is not None else None,
            token=token.reveal() if token is not None else None,
            max_sessions=int(getattr(web_conf, "max_sessions", 20)),
        )
    return ServeOptions(ssh=ssh, web=web, theme=args.theme)
