"""The views the console imports only when first shown: plotext and their widgets stay out of
the console's startup (tests/unit/test_cli_imports.py)."""

from __future__ import annotations

from textual.screen import Screen


def falco_screen() -> Screen[None]:
    """The Falco view, imported when first shown: plotext stays out of the console's startup."""
    from promsoc.tui.screens.falco import FalcoScreen

    return FalcoScreen()


def timeline_screen() -> Screen[None]:
    """The timeline view, imported when first shown."""
    from promsoc.tui.screens.timeline import TimelineScreen

    return TimelineScreen()


def topology_screen() -> Screen[None]:
    """The topology time machine, imported when first shown."""
    from promsoc.tui.screens.topology import TopologyScreen

    return TopologyScreen()


def alerts_screen() -> Screen[None]:
    """Alertmanager's alerts and silences, imported when first shown."""
    from promsoc.tui.screens.alerts import AlertsScreen

    return AlertsScreen()
