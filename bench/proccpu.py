"""CPU seconds a process has used, for the benchmarks that split a cycle's cost by process."""

from __future__ import annotations

import os
import time
from pathlib import Path


def cpu_seconds(pid: int | None) -> float:
    """User+system CPU seconds a process has used so far (Linux /proc; 0 elsewhere or if gone)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(pid: int | None, seconds: float) -> float:
    """A process's CPU seconds a second over `seconds` of waiting (Prometheus with no console:
    its scrapes and housekeeping, the baseline a benchmark subtracts)."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / seconds
