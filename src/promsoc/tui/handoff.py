"""The hand-off key: the current screen as SVG plus a Markdown incident note, for the next shift."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from promsoc import units
from promsoc.detectors.results import DetectorResult, Status
from promsoc.tui.backend import DetectorInfo
from promsoc.tui.safe_text import clean
from promsoc.tui.time_cursor import Cursor, describe
from promsoc.tui.widgets import status

if TYPE_CHECKING:
    from promsoc.tui.app import ConsoleApp

DEFAULT_DIR = "promsoc-handoff"
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_FINDINGS = 50


def _code(value: str, limit: int = 200) -> str:
    """Inline code a hostile value cannot break out of (no backticks, newlines or escapes)."""
    return "`" + clean(value, limit).replace("`", "'") + "`"


def incident_note(
    results: list[DetectorResult],
    infos: dict[str, DetectorInfo],
    cursor: Cursor,
    now: float,
) -> str:
    """Markdown: when, which sources, and per detector its status, findings, query, next steps."""
    lines = ["# promsoc hand-off", ""]
    lines.append(f"- written: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(now))}")
    lines.append(f"- time cursor: {describe(cursor, now)}")
    sources = sorted({r.source for r in results})
    lines.append("- sources: " + (", ".join(_code(s, 60) for s in sources) or "none"))
    if not results:
        lines += ["", "Nothing firing at the time cursor."]
    for result in results:
        info = infos.get(result.detector)
        lines += [
            "",
            f"## {status.GLYPH[result.status]} {status.WORD[result.status]}: {_code(result.detector, 80)}",
        ]
        if info is not None:
            lines.append(f"{clean(info.title, 200)}")
            lines.append("")
            lines.append(
                f"- severity: {clean(result.severity, 20)}; MITRE ATT&CK: "
                + (", ".join(_code(m, 20) for m in info.mitre) or "—")
            )
        lines.append(f"- source: {_code(result.source, 60)}; category: {clean(result.category, 40)}")
        if result.error:
            lines.append(f"- error: {_code(result.error, 300)}")
        if result.findings:
            lines += ["", f"Findings ({result.found}):", ""]
            for finding in result.findings[:MAX_FINDINGS]:
                labels = ", ".join(f"{_code(k, 40)}={_code(v, 120)}" for k, v in sorted(finding.labels.items()))
                value = units.human(finding.value, info.unit if info else units.DEFAULT)
                lines.append(f"- value {value} ({finding.value:.6g}): {labels}")
            if result.found > MAX_FINDINGS:
                lines.append(f"- … {result.found - MAX_FINDINGS} more")
        if info is not None:
            lines += [
                "",
                "Query:",
                "",
                "```promql",
                info.query.strip().replace("```", "'''"),
                "```",
            ]
            if info.next_steps.strip():
                lines += ["", "Next steps:", "", info.next_steps.strip()]
    return "\n".join(lines) + "\n"


def chosen_results(app: ConsoleApp) -> list[DetectorResult]:
    """The detector on screen if one is open, else everything firing or failing."""
    from promsoc.tui.screens.detector import DetectorScreen

    screen = app.screen
    if isinstance(screen, DetectorScreen):
        result = screen.result
        return [result] if result is not None else []
    return [r for r in app.state.results.values() if r.status in (Status.FIRING, Status.ERROR)]


def write_private(path: Path, text: str) -> None:
    """Write `text` as UTF-8 to `path`, readable by its owner only (0600), all or nothing.

    Hand-offs hold cluster details. A lone surrogate (a label of JSON "\\ud800") cannot be
    UTF-8: it becomes U+FFFD. The text goes to a temporary file renamed into place, so a failure
    never leaves a 0-byte or half file.
    """
    data = _SURROGATE.sub("\ufffd", text).encode("utf-8")
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def save_handoff(app: ConsoleApp) -> None:
    """Render on the event loop (the screenshot needs the compositor), write files in a thread."""
    now = app.clock()
    folder = Path(app.handoff_dir or DEFAULT_DIR).expanduser()
    stem = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    results = chosen_results(app)
    if len(results) == 1:
        stem += "-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in results[0].detector)[:60]
    svg = app.export_screenshot(title=f"promsoc {describe(app.cursor, now)}")
    note = incident_note(results, app.state.detectors, app.cursor, now)

    def write() -> None:
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_private(folder / f"{stem}.svg", svg)
            write_private(folder / f"{stem}.md", note)
        except Exception as exc:  # never a crash of the console: say it, and carry on
            reason = clean(f"{type(exc).__name__}: {exc}" if not isinstance(exc, OSError) else str(exc), 200)
            app.call_from_thread(app.notify, f"hand-off not saved: {reason}", severity="error", markup=False)
            return
        saved = f"hand-off saved: {folder / stem}.md and .svg"
        app.call_from_thread(app.notify, saved, markup=False)

    app.run_worker(write, thread=True, group="handoff")
