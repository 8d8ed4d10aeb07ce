"""Turn the simulator's history into TSDB blocks with promtool, in parallel, with a cache."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

from promsoc.config import locations
from promsoc.lab.launcher import Binaries, LabError
from promsoc.lab.series import stable_seed
from promsoc.lab.simulator import SimOptions, Simulator

CACHE_VERSION = "1"
MAX_GAP = 6 * 3600.0  # a cached history is reused while the gap to fill is at most this long


def _partition(sim: Simulator, parts: int, index: int) -> list:  # type: ignore[type-arg]
    return [s for s in sim.series if stable_seed(s.text) % parts == index]


def _run_part(sim: Simulator, parts: int, index: int, workdir: Path, promtool: Path,
              t_from: float, t_to: float) -> None:
    """Write one partition's samples and turn them into blocks (runs in a forked child)."""
    series = _partition(sim, parts, index)
    src = workdir / f"part{index}.om"
    with open(src, "w", encoding="utf-8", newline="\n") as out:
        sim.write_backfill(out, t_from, t_to, series)
        out.write("# EOF\n")
    blocks = workdir / f"blocks{index}"
    proc = subprocess.run(
        [str(promtool), "tsdb", "create-blocks-from", "openmetrics", "-q",
         "--max-block-duration=720h", str(src), str(blocks)],
        capture_output=True, text=True, check=False,
    )
    src.unlink(missing_ok=True)
    if proc.returncode != 0:
        (workdir / f"error{index}").write_text(proc.stderr[-2000:] or proc.stdout[-2000:])
    # Only this partition's counters: the rest of this child's copy is stale (the parent's state
    # before the fork), and would overwrite what the other partition's child advanced.
    state = sim.state()
    mine = {s.key: state[s.key] for s in series if s.key in state}
    (workdir / f"state{index}.json").write_text(json.dumps(mine))


def build_blocks(sim: Simulator, binaries: Binaries, data_dir: Path, t_from: float, t_to: float,
                 parts: int | None = None) -> None:
    """Backfill [t_from, t_to] into data_dir; counter state ends up in `sim` for live serving."""
    parts = parts or max(1, min(2, os.cpu_count() or 1))
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="promsoc-backfill-", dir=data_dir.parent) as tmp:
        work = Path(tmp)
        if parts > 1 and sys.platform.startswith("linux"):
            ctx = multiprocessing.get_context("fork")
            procs = [ctx.Process(target=_run_part, args=(sim, parts, i, work, binaries.promtool,
                                                         t_from, t_to)) for i in range(parts)]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
        else:
            parts = 1
            _run_part(sim, 1, 0, work, binaries.promtool, t_from, t_to)
        state = sim.state()
        for i in range(parts):
            err = work / f"error{i}"
            if err.exists():
                raise LabError(f"promtool could not backfill the lab's history: {err.read_text()}")
            state_file = work / f"state{i}.json"
            if not state_file.exists():
                raise LabError("a backfill worker died before finishing (out of memory or disk?)")
            state.update({k: (v[0], v[1]) for k, v in json.loads(state_file.read_text()).items()})
            blocks = work / f"blocks{i}"
            if blocks.exists():
                for block in blocks.iterdir():
                    shutil.move(str(block), data_dir / block.name)
        sim.load_state(state)


def default_cache_dir() -> Path:
    return locations.lab_cache_dir()


def _source_fingerprint() -> str:
    """Any change to the simulator's code invalidates cached histories."""
    here = Path(__file__).parent
    text = "".join(p.read_text() for p in sorted(here.glob("*.py")) if p.name != "launcher.py")
    return f"{stable_seed(text):08x}"


def _cache_key(options: SimOptions) -> str:
    history = asdict(replace(options, live_incidents=True))  # live repeats are not in the history
    options_hash = stable_seed(json.dumps(history, sort_keys=True))
    return f"v{CACHE_VERSION}-{_source_fingerprint()}-{options_hash:08x}"


class CacheMiss(Exception):
    """A cached history vanished or broke while being read (another run pruned it)."""


def _entries(cache_dir: Path, key: str) -> list[tuple[float, Path]]:
    """Complete cache entries for a key, newest first. Entries are immutable once renamed."""
    found = []
    for entry in cache_dir.glob(f"{key}-*"):
        try:
            anchor = float(json.loads((entry / "meta.json").read_text())["anchor"])
        except (OSError, ValueError, KeyError):
            continue
        found.append((anchor, entry))
    return sorted(found, reverse=True)


def restore(cache_dir: Path, options: SimOptions, now: float) -> tuple[float, Path] | None:
    """The newest cached history young enough to reuse: (its anchor, its directory), or None."""
    for anchor, entry in _entries(cache_dir, _cache_key(options)):
        if 0 <= now - anchor <= MAX_GAP and (entry / "blocks").is_dir():
            return anchor, entry
    return None


def load_cached(entry: Path, sim: Simulator, data_dir: Path) -> None:
    """Copy cached blocks into a fresh data dir and restore the counters they ended with."""
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        for block in (entry / "blocks").iterdir():
            shutil.copytree(block, data_dir / block.name)
        state = json.loads((entry / "state.json").read_text())
    except (OSError, ValueError) as exc:
        for block in data_dir.iterdir():
            shutil.rmtree(block, ignore_errors=True)
        raise CacheMiss(str(exc)) from None
    sim.load_state({k: (v[0], v[1]) for k, v in state.items()})


def save(cache_dir: Path, options: SimOptions, anchor: float, sim: Simulator, data_dir: Path) -> None:
    """Keep the freshly built blocks for the next start (best effort: a full disk is no error).

    Each entry is written aside and renamed into place under its own name, never rewritten, so
    a lab starting at the same moment in another process never reads half an entry.
    """
    key = _cache_key(options)
    entry = cache_dir / f"{key}-{int(anchor)}"
    tmp = cache_dir / f".{entry.name}.{os.getpid()}.{time.monotonic_ns()}"
    try:
        (tmp / "blocks").mkdir(parents=True)
        for block in data_dir.iterdir():
            if block.is_dir() and (block / "meta.json").exists():
                shutil.copytree(block, tmp / "blocks" / block.name)
        (tmp / "state.json").write_text(json.dumps(sim.state()))
        (tmp / "meta.json").write_text(json.dumps({"anchor": anchor, "options": asdict(options)}))
        tmp.rename(entry)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return
    _prune(cache_dir, keep=entry, now=anchor)


def _prune(cache_dir: Path, keep: Path, now: float) -> None:
    """Remove entries no start would reuse any more (too old, or another simulator version)."""
    for other in cache_dir.iterdir():
        if other.name.startswith("."):  # another run's entry being written, or one it abandoned
            if time.time() - other.stat().st_mtime > 86400:
                shutil.rmtree(other, ignore_errors=True)
            continue
        if other == keep:
            continue
        try:
            anchor = float(json.loads((other / "meta.json").read_text())["anchor"])
        except (OSError, ValueError, KeyError):
            anchor = 0.0
        if now - anchor > 2 * MAX_GAP:
            shutil.rmtree(other, ignore_errors=True)
