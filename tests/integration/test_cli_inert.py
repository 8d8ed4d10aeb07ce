"""Every path from a server to a terminal goes through the one sanitiser (`promsoc.text`).

A hostile Prometheus (or a proxy in front of it) puts escape sequences in the texts a command
prints: the `error` field of an error answer, the body of a non-JSON 5xx page, label values.
Each command and each output format is run against such a server over a real socket; not one
escape sequence, control or bidi character may reach the terminal (stdout or stderr).
`rules export` talks to no server, so it has no such path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from promsoc.config import load_settings
from promsoc.tui.app import ConsoleApp
from promsoc.tui.live_backend import LiveBackend
from promsoc.tui.state import TileKey
from tests.integration.hostile_server import answering, matrix, vector
from tests.integration.test_cli_hostile import promsoc
from tests.tui.conftest import settle

# Sets the window title (OSC 0), writes the clipboard (OSC 52), prints a hyperlink (OSC 8),
# moves the cursor and colours (CSI, 7-bit and 8-bit), rings the bell, and reverses the text.
PAYLOAD = (
    "boom \x1b]0;pwned-title\x07 \x1b]52;c;ZWNobyBwd25lZA==\x07 "
    "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\ \x1b[2J\x1b[31mred \x9b31m \x07 \u202eexe.txt"
)
RAW = ("\x1b", "\x07", "\x9b", "\x9d", "\u202e")
# What an escape sequence carries: gone with the sequence in a message. Label values are data:
# JSON keeps them (escaped as \u001b..., inert, read back unchanged by a parser) and a table
# may cut them where they hold a '/', so only RAW applies to them.
PAYLOADS = ("pwned-title", "ZWNobyBwd25lZA", "evil.example")

ANSWERS: dict[str, dict[str, Any]] = {
    # Prometheus's own error envelope with a hostile `error` text (a 4xx is not retried)
    "json-error": {
        "instant": json.dumps({"status": "error", "errorType": "bad_data", "error": PAYLOAD}).encode(),
        "status": 422,
    },
    # a proxy's error page: not JSON, the first 200 characters end up in the message
    "text-5xx": {"instant": PAYLOAD.encode(), "status": 503, "content_type": "text/plain"},
    # a success whose label values are hostile
    "labels": {
        "instant": vector(({"__name__": "kube_pod_info", "namespace": PAYLOAD, "pod": PAYLOAD, "node": PAYLOAD}, "1")),
        "ranged": matrix(({"namespace": PAYLOAD, "pod": PAYLOAD}, [(1764460800, "1"), (1764460860, "2")])),
    },
}

COMMANDS: dict[str, list[str]] = {
    "scan table": ["scan", "--format", "table"],
    "scan json": ["scan", "--format", "json"],
    "check text": ["check"],
    "topology table": ["topology", "--format", "table", "--view", "all"],
    "topology json": ["topology", "--format", "json"],
    "timeline table": ["timeline", "--format", "table", "--from", "-1h"],
    "timeline json": ["timeline", "--format", "json", "--from", "-1h"],
    "alerts table": ["alerts", "--format", "table"],
    "alerts json": ["alerts", "--format", "json"],
}


def served(answer: str) -> Any:
    spec = ANSWERS[answer]
    return answering(
        spec["instant"], spec.get("ranged"), status=spec.get("status", 200),
        content_type=spec.get("content_type", "application/json"),
    )  # fmt: skip


def read_note(folder: Path) -> str:
    notes = list(folder.glob("*.md"))
    assert notes, "no hand-off note was written"
    return notes[0].read_text()


def assert_inert(text: str, where: str, *, data: bool = False) -> None:
    for bad in RAW if data else RAW + PAYLOADS:
        assert bad not in text, f"{where}: {bad!r} reached the terminal:\n{text[:2000]}"


@pytest.mark.parametrize("answer", list(ANSWERS))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_no_server_text_reaches_the_terminal_raw(command: str, answer: str) -> None:
    with served(answer) as url:
        where = ["--alertmanager", url] if command.startswith("alerts") else ["--url", url]
        proc = promsoc(*COMMANDS[command], *where)
    out, err = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and proc.returncode != 70, err
    assert out or err, "the command said nothing"
    data = answer == "labels" or command.endswith("json")
    assert_inert(out, f"{command} stdout ({answer})", data=data)
    assert_inert(err, f"{command} stderr ({answer})", data=answer == "labels")


def test_topology_says_the_query_failed_without_the_servers_escapes() -> None:
    """The reported case: `promsoc topology` printed a query error's text raw."""
    with served("json-error") as url:
        proc = promsoc("topology", "--url", url)
    err = proc.stderr.decode()
    assert proc.returncode == 3
    assert "bad query" in err or "bad_data" in err or "boom" in err, err
    assert "boom ? ? ?click?" in err  # each escape sequence is one '?', the visible words stay


@pytest.mark.parametrize("answer", ["json-error", "text-5xx"])
async def test_the_console_and_its_hand_off_keep_server_text_inert(answer: str, tmp_path: Path) -> None:
    with served(answer) as url:
        app = ConsoleApp(LiveBackend(load_settings(None, url, "hostile")), poll=False, handoff_dir=str(tmp_path))
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            result = app.state.results[TileKey("hostile", "ingress-bruteforce")]
            assert result.error, result
            assert_inert(result.error, "the result's error")
            app.open_detector(TileKey("hostile", "ingress-bruteforce"))
            await settle(pilot)
            assert_inert(app.export_screenshot(), "the detector view")
            await pilot.press("H")
            await app.workers.wait_for_complete()
    note = read_note(tmp_path)
    assert "boom" in note, note  # the error is in the note, inert
    assert_inert(note, "the hand-off note")
