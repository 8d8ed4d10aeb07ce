"""Every status has a glyph and a word besides its colour: readable in 16 colours and NO_COLOR."""

from __future__ import annotations

from promsoc.detectors.results import LOOK, Status

GLYPH = {status: glyph for status, (glyph, _) in LOOK.items()}
WORD = {status: word for status, (_, word) in LOOK.items()}
PENDING = ("…", "WAITING")
STALE = ("⌛", "STALE")
SLOW = ("⧗", "slow")  # the query ran past its budget: followed by the time it took
RECORDED = ("◆", "recorded")  # read the recording rules' series (promsoc rules export --recording)
EVERY = ("↻", "every")  # evaluated less often than the refresh (detectors.cadence): followed by how often
PARTIAL = ("◐", "partial")  # the server answered with warnings (a Thanos/Mimir partial response)


def css_class(status: Status | None) -> str:
    """The tile's class: -firing, -ok, -no_data, -error, or -pending before the first result."""
    return f"-{status.value}" if status is not None else "-pending"
