"""The paper list: a virtual list that renders only the rows on screen.

It holds the ordered IDs of the current view (cheap even for a million
papers) and fetches the papers of the visible rows, plus a margin, by primary
key. Moving the cursor or scrolling touches only those rows, so a 100k-paper
library scrolls like a 100-paper one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from paperdesk.model import Paper, published_text, visible
from paperdesk.tui.bindings import bindings

Fetch = Callable[[Sequence[str]], list[Paper]]

CACHE_ROWS = 2000
DATE_WIDTH = 10
VOTES_WIDTH = 5
AUTHORS_WIDTH = 4


def _cell(text: str, width: int, style: Style, align: str = "left") -> Segment:
    """Text in exactly ``width`` terminal cells (wide characters count double)."""
    if width <= 0:
        return Segment("", style)
    if cell_len(text) > width:
        text = set_cell_size(text, width - 1) + "…"
    pad = " " * (width - cell_len(text))
    return Segment(pad + text if align == "right" else text + pad, style)


INTEREST_BARS = "▁▂▃▄▅▆▇█"


class PaperList(ScrollView, can_focus=True):
    """The papers of the current view, one row each."""

    COMPONENT_CLASSES = {
        "paper-list--cursor",
        "paper-list--unread",
        "paper-list--read",
        "paper-list--star",
        "paper-list--meta",
        "paper-list--tag",
        "paper-list--selected",
    }

    BINDINGS = bindings("list")  # paperdesk.keys: the table of every key

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    """Index of the selected row in ``ids``."""

    class Highlighted(Message):
        """The selected paper changed (``paper_id`` is None when the list is empty)."""

        def __init__(self, paper_id: str | None, index: int) -> None:
            self.paper_id = paper_id
            self.index = index
            super().__init__()

    def __init__(self, fetch: Fetch, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._fetch = fetch
        # Called at once when the cursor moves, instead of posting Highlighted: the
        # app then updates the preview in the same frame as the cursor, not one
        # frame (at least 17 ms) later.
        self.on_move: Callable[[str | None, int], None] | None = None
        self.ids: list[str] = []
        self._cache: OrderedDict[str, Paper] = OrderedDict()
        # The papers picked for the next triage key (v, V, *); only papers listed.
        self.selected: set[str] = set()
        self._anchor: str | None = None  # where V extends a range from
        self.on_select: Callable[[], None] | None = None

    # --- selection ---------------------------------------------------------------

    def toggle_selected(self) -> None:
        """Pick the paper under the cursor (or put it back) and move down."""
        pid = self.current_id
        if pid is None:
            return
        if pid in self.selected:
            self.selected.discard(pid)
        else:
            self.selected.add(pid)
            self._anchor = pid
        self.refresh_line(self.cursor)
        self.cursor += 1
        self._selection_changed()

    def select_range(self) -> None:
        """Pick every paper from the last one picked to the cursor."""
        if not self.ids:
            return
        start = self.ids.index(self._anchor) if self._anchor in self.ids else self.cursor
        low, high = sorted((start, self.cursor))
        self.selected.update(self.ids[low : high + 1])
        self._anchor = self.current_id
        self.refresh()
        self._selection_changed()

    def select_all(self) -> None:
        self.selected = set(self.ids)
        self.refresh()
        self._selection_changed()

    def clear_selection(self) -> bool:
        """Drop the selection; False when there was none."""
        if not self.selected:
            return False
        self.selected = set()
        self._anchor = None
        self.refresh()
        self._selection_changed()
        return True

    # The keys (v, V, *; see paperdesk.keys).
    action_toggle_selected = toggle_selected
    action_select_range = select_range
    action_select_all = select_all

    @property
    def selected_ids(self) -> list[str]:
        """The selection in list order."""
        if not self.selected:  # every triage key asks: no walk of a million IDs
            return []
        if len(self.selected) == len(self.ids):
            return list(self.ids)
        return [pid for pid in self.ids if pid in self.selected]

    def _selection_changed(self) -> None:
        if self.on_select is not None:
            self.on_select()

    # --- data --------------------------------------------------------------------

    def set_ids(self, ids: list[str], keep: str | None = None) -> None:
        """Show these papers; keep the cursor on ``keep`` when it is still listed."""
        self.ids = ids
        if self.selected:
            # Only what is listed stays picked: a key never acts on papers out of sight.
            kept = self.selected & set(ids)
            if kept != self.selected:
                self.selected = kept
                self._selection_changed()
        self.virtual_size = Size(self.size.width, len(ids))
        index = 0
        if keep is not None:
            try:
                index = ids.index(keep)
            except ValueError:
                index = 0
        self.cursor = index
        self.refresh()

    def invalidate(self, ids: Sequence[str] | None = None) -> None:
        """Forget cached papers (all, or these) so the next paint reads them afresh."""
        if ids is None:
            self._cache.clear()
        else:
            for pid in ids:
                self._cache.pop(pid, None)
        self.refresh()

    def update_paper(self, paper: Paper) -> None:
        self._cache[paper.id] = paper
        self.refresh()

    @property
    def current_id(self) -> str | None:
        return self.ids[self.cursor] if 0 <= self.cursor < len(self.ids) else None

    def paper(self, index: int) -> Paper | None:
        """The paper at a row, fetching the rows around it when it is not cached."""
        if not 0 <= index < len(self.ids):
            return None
        pid = self.ids[index]
        paper = self._cache.get(pid)
        if paper is None:
            height = max(self.size.height, 20)
            start = max(0, index - height)
            missing = [i for i in self.ids[start : index + 2 * height] if i not in self._cache]
            for fetched in self._fetch(missing):
                self._cache[fetched.id] = fetched
            while len(self._cache) > CACHE_ROWS:
                self._cache.popitem(last=False)
            paper = self._cache.get(pid)
        return paper

    @property
    def current(self) -> Paper | None:
        return self.paper(self.cursor)

    # --- cursor ------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.ids) - 1)) if self.ids else 0

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, force=True, immediate=True)
        if self.on_move is not None:
            self.on_move(self.current_id, new)
        else:
            self.post_message(self.Highlighted(self.current_id, new))

    def refresh_line(self, y: int) -> None:
        # ScrollView.refresh_line takes a content row; keep it in bounds.
        if 0 <= y < len(self.ids):
            super().refresh_line(y)

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.ids) - 1

    def action_page_down(self) -> None:
        self.cursor += max(1, self.size.height - 1)

    def action_page_up(self) -> None:
        self.cursor -= max(1, self.size.height - 1)

    def on_click(self, event) -> None:
        row = event.y + int(self.scroll_offset.y)
        if 0 <= row < len(self.ids):
            self.cursor = row

    # --- painting ------------------------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.ids))
        # A smaller list keeps its scroll offset: bring the cursor back into view.
        self.call_after_refresh(self._show_cursor)

    def _show_cursor(self) -> None:
        if self.ids:
            self.scroll_to_region(
                Region(0, self.cursor, 1, 1), animate=False, force=True, immediate=True
            )

    def render_line(self, y: int) -> Strip:
        index = y + int(self.scroll_offset.y)
        width = self.size.width
        base = self.rich_style
        paper = self.paper(index)
        if paper is None:
            return Strip.blank(width, base)
        row_style = self.get_component_rich_style(
            "paper-list--read" if paper.read else "paper-list--unread"
        )
        picked = paper.id in self.selected
        if picked:
            row_style += self.get_component_rich_style("paper-list--selected")
        if index == self.cursor:
            row_style += self.get_component_rich_style("paper-list--cursor")
        meta = row_style + self.get_component_rich_style("paper-list--meta", partial=True)
        star = row_style + self.get_component_rich_style("paper-list--star", partial=True)
        tag = row_style + self.get_component_rich_style("paper-list--tag", partial=True)
        marks = [
            Segment("★" if paper.starred else "✗" if paper.dismissed else " ", star),
            Segment("•" if not paper.read else " ", row_style),
            Segment("#" if paper.tags else " ", tag),
            Segment("✓" if picked else " ", star if picked else row_style),
        ]
        right: list[Segment] = [Segment(" ", row_style)]
        if width >= 50:
            right.append(
                _cell(
                    published_text(paper.published, paper.published_precision),
                    DATE_WIDTH,
                    meta,
                    "right",
                )
            )
        if width >= 40:
            right.append(
                _cell(
                    f"↑{paper.upvotes}" if paper.upvotes is not None else "",
                    VOTES_WIDTH + 1,
                    meta,
                    "right",
                )
            )
        if width >= 60:
            right.append(
                _cell(
                    f"{paper.authors}a" if paper.authors is not None else "",
                    AUTHORS_WIDTH + 1,
                    meta,
                    "right",
                )
            )
        if paper.interest is not None and width >= 40:
            # Your interest, as a bar of eight steps: ▁ hardly, █ surely.
            level = min(7, max(0, int(paper.interest * 8)))
            right.append(Segment(" " + INTEREST_BARS[level], star))
        right.append(Segment(" ", row_style))
        used = sum(s.cell_length for s in marks) + sum(s.cell_length for s in right)
        title = _cell(visible(paper.title), max(0, width - used), row_style)
        strip = Strip([*marks, title, *right])
        return strip.crop(0, width).extend_cell_length(width, row_style)
