"""A crash of the console: one inert line on the terminal, the traceback in a private file.

Textual answers an unexpected exception by printing a rich traceback, with the local variables
of every frame (a label value, a URL), on the terminal after it leaves the alternate screen. The
user gets one line instead: what failed, where the full traceback was written (a file of mode
0600 in a 0700 folder under the state directory) and a request to report it. With
PROMSOC_DEBUG=1 Textual's traceback is printed as before. The exit status stays 70.
"""

from __future__ import annotations

import io
import os
import platform
import sys
import time
import traceback
from pathlib import Path

from rich.console import Console

from promsoc import __version__
from promsoc.config import locations
from promsoc.text import one_line

DEBUG_ENV = "PROMSOC_DEBUG"


def debugging() -> bool:
    return bool(os.environ.get(DEBUG_ENV))


def quiet_console() -> Console:
    """Where Textual's own traceback goes unless debugging: a buffer nobody prints."""
    return Console(file=io.StringIO(), markup=False, highlight=False)


def crash_dir() -> Path:
    """`$XDG_STATE_HOME/promsoc/crashes` (default `~/.local/state/promsoc/crashes`)."""
    return locations.state_dir() / "crashes"


def write_report(error: BaseException, folder: Path | None = None) -> Path:
    """The traceback of `error`, with the versions, in a new file of mode 0600; OSError if not.
    No arguments and no local variables: the file is meant to be sent with a bug report."""
    folder = folder or crash_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = folder / f"console-{stamp}-{os.getpid()}.txt"
    header = (
        f"promsoc {__version__} console crash at {stamp}\n"
        f"python {platform.python_version()} on {platform.platform()}\n"
        "arguments left out (a --url may carry a password)\n\n"
    )
    report = header + "".join(traceback.format_exception(error))
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", errors="backslashreplace") as out:
        out.write(report)
    return path


def crash_line(error: BaseException, report: Path | OSError) -> str:
    """The one line the user sees: what failed, where its traceback is, and please report it."""
    if isinstance(report, Path):
        where = f"the traceback is in {report}"
    else:
        where = f"the traceback could not be written ({type(report).__name__}: {report.strerror or report})"
    what = one_line(f"{type(error).__name__}: {error}", 200)
    return one_line(f"promsoc: the console crashed: {what}; {where}; please report it", 600)


def report_crash(error: BaseException) -> None:
    """Write the report and print the one line (to stderr, after the terminal was restored)."""
    try:
        report: Path | OSError = write_report(error)
    except OSError as exc:
        report = exc
    print(crash_line(error, report), file=sys.stderr)


__all__ = ["crash_dir", "crash_line", "debugging", "quiet_console", "report_crash", "write_report"]
