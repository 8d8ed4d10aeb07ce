"""A detector whose query ran past its budget says `slow` with the time it took; one answered
with warnings (a Thanos partial response) says `partial`; one that read the recording rules'
series says `recorded`: glyph and word, never colour alone."""

from __future__ import annotations

from dataclasses import replace

from promsoc.detectors.results import SLOW_AFTER, DetectorResult
from promsoc.tui.state import TileKey
from promsoc.tui.widgets.tile import DetectorTile
from tests.tui.conftest import make_app, settle
from tests.tui.fakes import FakeBackend


class SlowAndPartial(FakeBackend):
    async def evaluate(self, source: str, at: float) -> list[DetectorResult]:
        marked = {"ingress-bruteforce": {"latency": 12.34}, "ingress-fingerprinting": {"warnings": ("partial",)},
                  "cert-expiry-certmanager": {"recorded": True}}  # fmt: skip
        return [replace(r, **marked.get(r.detector, {})) for r in await super().evaluate(source, at)]  # type: ignore[arg-type]


async def test_slow_and_partial_results_are_marked_on_their_tiles_only() -> None:
    app = make_app(SlowAndPartial())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        text = {t.key.detector: t.render().plain.splitlines()[0] for t in app.screen.query(DetectorTile)}
        assert text["ingress-bruteforce"].startswith("▲ FIRING  ⧗ slow 12.3 s")
        assert "◐ partial" in text["ingress-fingerprinting"]
        assert "◆ recorded" in text["cert-expiry-certmanager"]
        marked = ("ingress-bruteforce", "ingress-fingerprinting", "cert-expiry-certmanager")
        others = [line for d, line in text.items() if d not in marked]
        assert not any(word in line for line in others for word in ("slow", "partial", "recorded"))
        result = app.state.results[TileKey("demo", "ingress-bruteforce")]
        assert result.slow and result.latency > SLOW_AFTER
