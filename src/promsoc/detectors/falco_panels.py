"""Queries behind the console's Falco view, built from the same normalised Falco fragments."""

from __future__ import annotations

from promsoc.detectors import falco
from promsoc.detectors.fragments import increase_new

DROPS = "falcosecurity_scap_n_drops_total"
INSTANCE_INFO = "falcosecurity_evt_hostname_info"


def matches(window: str) -> str:
    """Events per (rule, priority) over `window`, once across Falco's metric generations."""
    return falco.matches(window)


def deliveries(status: str, window: str) -> str:
    """falcosidekick deliveries per destination with `status` (ok or error) over `window`."""
    return falco.outputs(status, window)


def dropped(window: str) -> str:
    """Kernel events Falco dropped over `window`, per instance: any drop blinds it."""
    return f"sum without () ({increase_new(DROPS, window)})"


def instances() -> str:
    """One series per Falco instance reporting now (its hostname info metric)."""
    return f"group by (hostname) ({INSTANCE_INFO})"
