"""The one filter input of the console: hidden until `/`, docked at the bottom of its screen."""

from __future__ import annotations

from textual.widgets import Input


class FilterBox(Input):
    """Tiles, findings or map lines matching what is typed; the screen decides what matches.

    `open()` shows it with the cursor in it, `close()` hides it (and `clear=True` empties it);
    the screen listens to `Input.Changed` / `Input.Submitted` as for any input.
    """

    DEFAULT_CSS = """
    FilterBox { dock: bottom; display: none; height: 3; }
    FilterBox.-shown { display: block; }
    """

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")

    @property
    def needle(self) -> str:
        """What to look for: the text typed, trimmed, lower-case."""
        return self.value.strip().lower()

    def open(self, value: str | None = None) -> None:
        if value is not None:
            self.value = value
        self.add_class("-shown")
        self.focus()

    def close(self, *, clear: bool = False) -> None:
        if clear:
            self.value = ""
        self.remove_class("-shown")
