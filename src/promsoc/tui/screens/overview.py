"""The overview: a tile per detector, grouped by category (and source), re-flowing to any width."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.events import Resize
from textual.widgets import Footer, Input, Static

from promsoc.tui.safe_text import clean
from promsoc.tui.screens.base import ConsoleScreen
from promsoc.tui.state import TileKey
from promsoc.tui.widgets import status
from promsoc.tui.widgets.filter_box import FilterBox
from promsoc.tui.widgets.tile import DetectorTile, top_finding

TILE_WIDTH = 28
TILE_HEIGHT = 5
REPAINT_PER_FRAME = 4
"""Tiles repainted per frame when many changed at once (new sparklines land for every tile):
a tile costs Textual about 2-3 ms to draw, so a key pressed meanwhile waits for at most this
many, not for all of them (issue 15)."""


class TileGrid(Container):
    """A grid whose column count follows its width, so tiles re-flow from 80x24 to a wall;
    in the compact layout, one line per detector."""

    def __init__(self, title: Static) -> None:
        super().__init__(classes="tile-grid")
        self.title = title

    def on_resize(self, event: Resize) -> None:
        self.reflow()

    def reflow(self) -> None:
        compact = self.screen.has_class("-compact")
        self.styles.grid_size_columns = 1 if compact else max(1, self.size.width // TILE_WIDTH)


def tiles_fit(groups: list[int], width: int, height: int) -> bool:
    """Whether tile groups of these sizes fit the screen (a title line plus rows of tiles each)."""
    columns = max(1, (width - 2) // TILE_WIDTH)
    needed = sum(1 + -(-count // columns) * TILE_HEIGHT for count in groups if count)
    return needed <= height - 2  # the header and the footer


def grid_tiles(grid: TileGrid) -> list[DetectorTile]:
    """A grid's tiles in their order on screen (no DOM query: selector matching costs)."""
    return [child for child in grid.children if isinstance(child, DetectorTile)]


def tile_id(key: TileKey) -> str:
    """A DOM id from names that may hold anything: hex keeps it valid and unique."""
    return "tile-" + f"{key.source}\x00{key.detector}".encode().hex()


class OverviewScreen(ConsoleScreen):
    """Tiles render what the state holds; Enter on a tile opens the detector view."""

    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("c", "toggle_compact", "Compact/tiles"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("right", "move(1)", "Next tile", show=False),
        Binding("left", "move(-1)", "Previous tile", show=False),
        Binding("down,j", "move_row(1)", "Tile below", show=False),
        Binding("up,k", "move_row(-1)", "Tile above", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield self.make_header()
        state = self.console.state
        several = len(state.sources) > 1
        tiles: list[DetectorTile] = []
        grids: list[TileGrid] = []
        with VerticalScroll(id="tiles"):
            for source, category, keys in state.groups():
                name = f"{source} · {category}" if several else category
                title = Static(Text(clean(name, 60).upper()), classes="group-title")
                yield title
                with TileGrid(title) as grid:
                    grids.append(grid)
                    for key in keys:
                        info = state.detectors.get(key.detector)
                        tiles.append(DetectorTile(key, info.title if info else key.detector, id=tile_id(key),
                                                  unit=info.unit if info else "none",
                                                  severity=info.severity if info else ""))  # fmt: skip
                        yield tiles[-1]
        self._tiles, self._grids = tiles, grids
        self._by_key = {tile.key: tile for tile in tiles}
        self._index = {tile: index for index, tile in enumerate(tiles)}  # the order of state.keys()
        self._filter_box = FilterBox(placeholder="filter tiles: detector, status, label…", id="filter")
        yield self._filter_box
        yield Footer()

    def __init__(self) -> None:
        super().__init__()
        self._to_repaint = {}
        self._repaint_due = False  # a _repaint_some waits for the next frame
        # what compose made (a recompose makes them anew): DOM queries (selector matching over
        # every widget) were a third of the time a poll's results took on the UI thread
        self._tiles = []
        self._grids = []
        self._by_key = {}
        self._index = {}
        self._filtered = False  # a filter has hidden tiles since it was last cleared
        self._filter_box = FilterBox()

    compact_choice: bool | None = None
    """The user's layout (c); None: compact exactly when the tiles do not fit the screen."""

    def on_resize(self, event: Resize) -> None:
        self._choose_layout()

    def _choose_layout(self) -> None:
        wanted = self.compact_choice
        if wanted is None:
            groups = [len(keys) for _s, _c, keys in self.console.state.groups()]
            wanted = not tiles_fit(groups, self.size.width, self.size.height)
        if wanted != self.has_class("-compact"):
            self.set_class(wanted, "-compact")
            for tile in self.query(DetectorTile):
                tile.set_compact(wanted)
            for grid in self.query(TileGrid):
                grid.reflow()

    def action_toggle_compact(self) -> None:
        self.compact_choice = not self.has_class("-compact")
        self._choose_layout()
        focused = self.focused
        if isinstance(focused, DetectorTile):
            focused.scroll_visible()

    def on_mount(self) -> None:
        self._choose_layout()
        self.state_changed([])
        tiles = list(self.query(DetectorTile))
        if tiles:
            tiles[0].focus()

    def state_changed(self, keys: list[TileKey]) -> None:
        """Show the news of these tiles (every tile: `keys` empty). Only what changed is worked
        on: with twenty sources' 340 tiles, a source's results or sparklines change 17 of them,
        and each of the 40 messages a cycle re-sorting every group and re-filtering every tile
        was most of the screen's time."""
        super().state_changed(keys)
        state = self.console.state
        now = self.console.clock()
        by_key = self._by_key
        if keys and not all(key in by_key for key in keys):
            self.call_after_refresh(self.recompose)
            return
        tiles = self._tiles if not keys else sorted({by_key[key] for key in keys}, key=self._index.__getitem__)
        stale_of: dict[str, str | None] = {}
        moved: set[TileGrid] = set()
        for tile in tiles:
            source = tile.key.source
            if source not in stale_of:
                health = state.health.get(source)
                stale_of[source] = None
                if health is not None and health.stale(now, self.console.interval_of(source)):
                    stale_of[source] = health.error or "no successful poll for several cycles"
            firing = tile.firing()
            if tile.show(state.results.get(tile.key), state.histories.get(tile.key), stale_of[source]):
                self._to_repaint[tile] = None
            if tile.firing() != firing and isinstance(tile.parent, TileGrid):
                moved.add(tile.parent)
        self._firing_first(self._grids if not keys else [g for g in self._grids if g in moved])
        if self._filter_box.needle or self._filtered:  # no filter, none before: every tile is shown
            self._apply_filter()
        if not self._repaint_due:
            self._repaint_some()

    def on_screen_resume(self) -> None:
        """The next frame's `_repaint_some` went to the screen then on top (`call_after_refresh`);
        one dismissed before its frame would leave tiles unpainted: start anew."""
        self._repaint_due = False
        super().on_screen_resume()

    _tiles: list[DetectorTile]
    _grids: list[TileGrid]
    _by_key: dict[TileKey, DetectorTile]
    _index: dict[DetectorTile, int]
    _to_repaint: dict[DetectorTile, None]
    """Tiles whose look changed and that are not repainted yet, in the order they changed."""

    def _repaint_some(self) -> None:
        """Repaint the next REPAINT_PER_FRAME changed tiles, those in view first; the rest after
        the next frame is drawn (keys pressed meanwhile are handled between the frames)."""
        self._repaint_due = False
        view = self.region
        tiles = sorted(self._to_repaint, key=lambda t: not (t.display and t.region.overlaps(view)))
        for tile in tiles[:REPAINT_PER_FRAME]:
            del self._to_repaint[tile]
            if tile.is_attached:  # not one a recompose removed
                tile.repaint()
        if self._to_repaint:
            self._repaint_due = True
            self.call_after_refresh(self._repaint_some)

    def _firing_first(self, grids: list[TileGrid]) -> None:
        """Within each of these groups, firing tiles first (then pack order), in both layouts."""
        index = self._index
        for grid in grids:
            tiles = grid_tiles(grid)
            wanted = sorted(tiles, key=lambda t: (not t.firing(), index.get(t, 1 << 30)))
            if wanted != tiles:
                for position, tile in enumerate(wanted):
                    grid.move_child(tile, before=position)

    @on(DetectorTile.Opened)
    def open_detector(self, event: DetectorTile.Opened) -> None:
        self.console.open_detector(event.key)

    def action_filter(self) -> None:
        self.query_one(FilterBox).open()

    def action_clear_filter(self) -> None:
        self.query_one(FilterBox).close(clear=True)
        self._apply_filter()
        self.action_move(0)

    @on(Input.Changed, "#filter")
    def _filter_changed(self) -> None:
        self._apply_filter()

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.action_move(0)

    def _apply_filter(self) -> None:
        needle = self._filter_box.needle
        self._filtered = bool(needle)
        for grid in self._grids:
            shown = 0
            for tile in grid_tiles(grid):
                match = not needle or needle in self._haystack(tile)
                tile.display = match
                shown += match
            grid.display = shown > 0
            grid.title.display = shown > 0

    @staticmethod
    def _haystack(tile: DetectorTile) -> str:
        result = tile.result
        parts = [tile.key.detector, tile.key.source, str(tile.border_title or "")]
        if result is not None:
            parts += [status.WORD[result.status], result.category, top_finding(result, tile.unit, tile.worst()).plain]
        return " ".join(parts).lower()

    def tiles_in_view(self, source: str) -> set[str]:
        """Detectors of `source` whose tile is shown and at least partly within the screen."""
        view = self.region
        return {
            tile.key.detector
            for tile in self._tiles
            if tile.key.source == source and tile.display and tile.region.overlaps(view)
        }

    def _visible_tiles(self) -> list[DetectorTile]:
        return [t for t in self.query(DetectorTile) if t.display]

    def action_move(self, delta: int) -> None:
        tiles = self._visible_tiles()
        if not tiles:
            return
        focused = self.focused
        index = tiles.index(focused) if isinstance(focused, DetectorTile) and focused in tiles else 0
        target = tiles[max(0, min(len(tiles) - 1, index + delta))]
        target.focus()
        target.scroll_visible()

    def action_move_row(self, delta: int) -> None:
        focused = self.focused
        parent = focused.parent if isinstance(focused, DetectorTile) else None
        columns = parent.styles.grid_size_columns if isinstance(parent, TileGrid) else 1
        self.action_move(delta * max(1, columns))
