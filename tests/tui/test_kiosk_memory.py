"""Kiosk: rotations and poll cycles reach a plateau of memory (tiles update in place)."""

from __future__ import annotations

import gc
import tracemalloc

from tests.tui.conftest import make_app, settle

ROUNDS = 10


async def test_rotations_and_polls_reach_a_memory_plateau() -> None:
    app = make_app(kiosk=True, rotate_every=3600)
    async with app.run_test(size=(120, 40)) as pilot:

        async def rounds(count: int) -> int:
            """Traced bytes after `count` full rotations, each with a poll cycle."""
            for _ in range(count):
                for _ in range(len(app.rotation)):
                    await app.rotate()
                    await pilot.pause()
                await settle(pilot)
            gc.collect()
            return tracemalloc.get_traced_memory()[0]

        await rounds(3)  # warm up: every screen built once
        tracemalloc.start()
        first = await rounds(ROUNDS)  # caches fill here
        second = await rounds(ROUNDS) - first  # and must not keep growing here
        tracemalloc.stop()
    assert second < max(first // 4, 300_000), (first, second)
