"""A crash of the console in a real pseudo-terminal: one inert line and a private report file,
exit 70, no traceback on the terminal (PROMSOC_DEBUG=1 keeps Textual's traceback).

The crash is forced the way a bug would cause one: `?` (help) runs an action that raises, with
a message holding terminal escapes as a hostile label value would."""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

import pytest

from promsoc.tui.crash import crash_line, write_report
from tests.integration.hostile_server import answering, vector
from tests.tui.pty_console import ALT_OFF, console_in_pty, env

HOSTILE = "\x1b]0;pwned\x07\x1b]52;c;c2VjcmV0\x07label \u202e value"
CRASHING = f"""
import sys
from promsoc.tui.app import ConsoleApp
def action_help(self):
    raise RuntimeError({HOSTILE!r})
ConsoleApp.action_help = action_help
from promsoc.cli import main
sys.exit(main(sys.argv[1:]))
"""


def crash_console(url: str, state: Path, *, debug: bool) -> tuple[bytes, int]:
    """Run the console in a 100x30 pty, press `?`, and return what it wrote and its status."""
    environment = {**env(), "XDG_STATE_HOME": str(state)}
    if debug:
        environment["PROMSOC_DEBUG"] = "1"
    argv = [sys.executable, "-c", CRASHING, "tui", "--url", url]
    output, _, status = console_in_pty(argv, lambda _pid, fd: os.write(fd, b"?"), environment)
    assert os.WIFEXITED(status)
    return output, os.WEXITSTATUS(status)


def after_the_console(output: bytes) -> str:
    """What stays on the terminal once the console left the alternate screen (but Textual's
    own mode resets: cursor shown, mouse and focus reporting off)."""
    tail = output[output.rindex(ALT_OFF) + len(ALT_OFF) :].decode("utf-8", "replace")
    return re.sub(r"\x1b\[\?[\d;]*[hl]", "", tail)


def test_a_crash_prints_one_inert_line_and_writes_a_private_report(tmp_path: Path) -> None:
    with answering(vector()) as url:
        output, status = crash_console(url, tmp_path, debug=False)
    assert status == 70
    tail = after_the_console(output)
    assert "Traceback" not in tail and "RuntimeError" in tail
    lines = [line for line in tail.replace("\r", "").split("\n") if line.strip()]
    assert len(lines) == 1, tail
    line = lines[0]
    assert line.startswith("promsoc: the console crashed: RuntimeError:") and "please report it" in line
    assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line
    folder = tmp_path / "promsoc" / "crashes"
    reports = list(folder.iterdir())
    assert len(reports) == 1 and str(reports[0]) in line
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(reports[0].stat().st_mode) == 0o600
    report = reports[0].read_text()
    assert "Traceback (most recent call last)" in report and "action_help" in report and "RuntimeError" in report
    assert url not in report  # no arguments: a --url may carry a password


def test_with_promsoc_debug_the_full_traceback_stays(tmp_path: Path) -> None:
    with answering(vector()) as url:
        output, status = crash_console(url, tmp_path, debug=True)
    assert status == 70
    text = output.decode("utf-8", "replace")
    assert "Traceback" in text and "action_help" in text
    assert "promsoc: the console crashed: RuntimeError" in after_the_console(output)


@pytest.mark.parametrize("writable", [True, False])
def test_the_line_says_where_the_report_is_or_why_it_is_not(tmp_path: Path, writable: bool) -> None:
    error = RuntimeError(HOSTILE)
    if writable:
        report: Path | OSError = write_report(error, tmp_path / "crashes")
    else:
        (tmp_path / "file").write_text("")
        try:
            report = write_report(error, tmp_path / "file" / "crashes")
        except OSError as exc:
            report = exc
    line = crash_line(error, report)
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    if writable:
        assert isinstance(report, Path) and f"the traceback is in {report}" in line
    else:
        assert isinstance(report, OSError) and "the traceback could not be written (NotADirectoryError" in line
