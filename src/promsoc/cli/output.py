"""What the headless commands write: JSON any parser reads, and output that fails politely.

JSON (`scan`, `topology`, `check --format json`):
- non-finite numbers are the strings "+Inf", "-Inf" and "NaN" (Prometheus's own spelling);
  `Infinity`/`NaN` are not JSON and most parsers refuse them
- every character that is not printable is written as a \\uXXXX escape: C0/C1 controls, DEL,
  bidirectional marks and overrides, zero-width and other format characters, unassigned and
  private-use code points, line/paragraph separators, and lone surrogates (a label value of
  "\\ud800" comes back as the same escape); the text a parser reads back is unchanged
- the whole document is built before the first byte is written, so a failure never leaves
  half a document

Writing: a reader that goes away (`promsoc scan | head -c 100`) ends the command quietly with
exit 141, as if by SIGPIPE; a full disk or another write error is one line on stderr and exit 74.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import sys
import unicodedata
from typing import Any, TextIO

EXIT_PIPE = 141
"""128 + SIGPIPE: what a shell reports for a writer whose reader left."""
EXIT_IO = 74
"""sysexits' EX_IOERR: the output could not be written (a full disk, a dead terminal)."""

_NON_FINITE = {math.inf: "+Inf", -math.inf: "-Inf"}
_CANDIDATE = re.compile(r"[^\n\x20-\x7e]")  # json.dumps escaped C0 in strings; \n is indentation
_UNSAFE = frozenset(("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))


class OutputError(Exception):
    """Writing the output failed; `exit_code` is EXIT_PIPE (reader gone) or EXIT_IO."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def finite(value: Any) -> Any:
    """`value` with every non-finite float (at any depth) spelled as "+Inf", "-Inf" or "NaN"."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else _NON_FINITE[value]
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if unicodedata.category(char) not in _UNSAFE:
        return char
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(document: Any, indent: int | None = 2) -> str:
    """The document as JSON text per the module's rules, ending with a newline."""
    text = json.dumps(finite(document), indent=indent, ensure_ascii=False, allow_nan=False)
    return _CANDIDATE.sub(_escape, text) + "\n"


def silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's last flush cannot fail again (no
    'Exception ignored' message at exit)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


def write(text: str, stream: TextIO | None = None) -> None:
    """Write and flush `text`; a closed pipe or a write error becomes an OutputError."""
    out = stream if stream is not None else sys.stdout
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        silence_stdout()
        raise OutputError("", EXIT_PIPE) from None
    except OSError as exc:
        silence_stdout()
        if exc.errno == errno.EPIPE:
            raise OutputError("", EXIT_PIPE) from None
        reason = exc.strerror or type(exc).__name__
        raise OutputError(f"cannot write the output: {reason}", EXIT_IO) from None


__all__ = ["EXIT_IO", "EXIT_PIPE", "OutputError", "finite", "json_text", "silence_stdout", "write"]
