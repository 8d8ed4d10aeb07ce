"""A virtual list of topology lines: draws only what is visible, so 5,000 pods scroll freely."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from promsoc.topology.render import Line

_MARK_CLASS = {
    "+": "topology-view--added",
    "-": "topology-view--removed",
    "~": "topology-view--moved",
    "!": "topology-view--alert",
}


class TopologyView(ScrollView, can_focus=True):
    """Lines are inert ASCII already (promsoc.text.safe): plain segments out, never markup."""

    DEFAULT_CSS = """
    TopologyView { height: 1fr; scrollbar-size-vertical: 1; }
    TopologyView > .topology-view--cursor { background: $accent 35%; text-style: bold; }
    TopologyView:blur > .topology-view--cursor { background: $accent 15%; text-style: none; }
    TopologyView > .topology-view--added { color: $success; }
    TopologyView > .topology-view--removed { color: $error; }
    TopologyView > .topology-view--moved { color: $warning; }
    TopologyView > .topology-view--alert { color: $error; text-style: bold; }
    TopologyView > .topology-view--heading { color: $primary; text-style: bold; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "topology-view--cursor",
        "topology-view--added",
        "topology-view--removed",
        "topology-view--moved",
        "topology-view--alert",
        "topology-view--heading",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Details"),
    ]

    cursor: reactive[int] = reactive(0, init=False)

    class Highlighted(Message):
        """The cursor moved onto `line`."""

        def __init__(self, line: Line) -> None:
            super().__init__()
            self.line = line

    class Selected(Message):
        """The user asked for the details of `line` (Enter or a click)."""

        def __init__(self, line: Line) -> None:
            super().__init__()
            self.line = line

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Line] = []
        self._focused = False
        self._refocus = False

    # A layout pass can hide the view for a moment (Textual 8.2.8, while a mode's first map loads:
    # the whole screen laid out empty); hiding blurs it and focus lands on the details pane, so the
    # map's keys stopped answering. The view takes back the focus it had when it shows again.
    def on_focus(self) -> None:
        self._focused = True

    def on_blur(self) -> None:
        self._focused = False

    def on_hide(self) -> None:
        self._refocus = self._focused  # the Blur that hiding posted is not handled yet

    def on_show(self) -> None:
        if self._refocus:
            self._refocus = False
            self.focus()

    def set_lines(self, lines: list[Line]) -> None:
        """Replace the content; the cursor stays on the same object when it is still there."""
        current = self.current
        self.lines = lines
        width = max((len(line.text) for line in lines), default=0)
        self.virtual_size = Size(width, len(lines))
        target = 0
        if current is not None and current.ref:
            target = next(
                (i for i, line in enumerate(lines) if (line.kind, line.ref) == (current.kind, current.ref)),
                min(self.cursor, max(len(lines) - 1, 0)),
            )
        self.set_reactive(TopologyView.cursor, target)
        self._reveal()
        self.refresh()

    @property
    def current(self) -> Line | None:
        return self.lines[self.cursor] if 0 <= self.cursor < len(self.lines) else None

    def find(self, kind: str, ref: str) -> int | None:
        return next((i for i, line in enumerate(self.lines) if line.kind == kind and line.ref == ref), None)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self.lines):
            return Strip.blank(width, base)
        line = self.lines[index]
        style = base
        if line.mark in _MARK_CLASS:
            style += self.get_component_rich_style(_MARK_CLASS[line.mark])
        elif line.kind in ("namespace", "node") and not line.text.startswith("  |"):
            style += self.get_component_rich_style("topology-view--heading")
        if index == self.cursor:
            style += self.get_component_rich_style("topology-view--cursor")
        strip = Strip([Segment(line.text, style)], len(line.text))
        fill = style if index == self.cursor else base
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, fill or Style())

    def watch_cursor(self, old: int, new: int) -> None:
        self._reveal()
        self.refresh()
        line = self.current
        if line is not None:
            self.post_message(self.Highlighted(line))

    def _reveal(self) -> None:
        if self.lines:
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, x_axis=False)

    def action_move(self, delta: int) -> None:
        if self.lines:
            self.cursor = max(0, min(len(self.lines) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, index: int) -> None:
        if self.lines:
            self.cursor = index % len(self.lines)

    def action_select(self) -> None:
        line = self.current
        if line is not None:
            self.post_message(self.Selected(line))

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self.lines):
            self.cursor = index
            self.action_select()
