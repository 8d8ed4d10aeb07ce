"""Screens the console hosts by mode: the Falco view, and the topology screen when present."""

from __future__ import annotations

import importlib

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from promsoc.tui.screens.base import ConsoleScreen


def falco_screen() -> Screen[None]:
    from promsoc.tui.screens.falco import FalcoScreen

    return FalcoScreen()


class TopologyMissing(ConsoleScreen):
    """Fills the topology slot when that screen is absent, so kiosk rotation never breaks."""

    def compose(self) -> ComposeResult:
        yield self.make_header()
        yield Static(Text("The topology view is not available in this build."), classes="screen-title")
        yield Footer()


def topology_screen() -> Screen[None]:
    """The topology screen (owned by the topology module), or a placeholder when it is absent."""
    try:
        module = importlib.import_module("promsoc.tui.screens.topology")
    except ImportError:
        return TopologyMissing()
    factory = getattr(module, "TopologyScreen", None)
    if factory is None:
        return TopologyMissing()
    screen: Screen[None] = factory()
    return screen
