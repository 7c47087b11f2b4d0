"""The left pane: all papers, then three sections that fold: the listing days
(newest first, "Nov 11 · 42/69" unread of all), the saved searches (keys 1-9,
unread/total) and the tags (with their counts). Choosing an entry filters
the list; choosing a section's heading folds or unfolds it; D, V and # jump to
the days, the saved searches and the tags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from paperdesk.model import visible
from paperdesk.tui.bindings import bindings

ALL_PAPERS = "\x00all"
SECTIONS = ("days", "saved", "tags")
TITLES = {"days": "Days", "saved": "Saved searches", "tags": "Tags"}
# The pane's width: the longest entry it shows in full at 120 columns.
PANE_WIDTH = 26


@dataclass(frozen=True)
class Day:
    """A listing day (or an undated file) with its counts."""

    day: str  # YYYY-MM-DD, "" for an undated file
    file: str
    total: int
    unread: int

    @property
    def key(self) -> str:
        return f"{self.day}\x1f{self.file}"

    @property
    def label(self) -> str:
        if not self.day:
            return self.file.rsplit("/", 1)[-1]
        shown = date.fromisoformat(self.day)
        this_year = shown.year == date.today().year
        return shown.strftime("%b %d" if this_year else "%b %d %Y").replace(" 0", " ")


def _line(name: str, count: str, width: int) -> Text:
    """``name`` left and ``count`` right in ``width`` cells (the name cut with …)."""
    room = max(1, width - len(count) - 1)
    shown = visible(name)
    if len(shown) > room:
        shown = shown[: room - 1] + "…"
    line = Text(shown)
    line.append(" " * (width - len(shown) - len(count)))
    line.append(count, style="dim")
    return line


class TagPanel(OptionList):
    """The left pane (see the module)."""

    BINDINGS = bindings("pane")  # paperdesk.keys: the table of every key

    class Chosen(Message):
        """A tag was chosen (None for all papers)."""

        def __init__(self, tag: str | None) -> None:
            self.tag = tag
            super().__init__()

    class DayChosen(Message):
        def __init__(self, day: Day) -> None:
            self.day = day
            super().__init__()

    class SavedChosen(Message):
        def __init__(self, name: str) -> None:
            self.name = name
            super().__init__()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.folded: set[str] = set()
        self._data: tuple = ([], 0, None, [], {}, None)

    def set_tags(
        self,
        counts: list[tuple[str, int]],
        total: int,
        active: str | None,
        days: list[Day] | None = None,
        saved: dict[str, tuple[int, int] | None] | None = None,
        active_day: Day | None = None,
    ) -> None:
        """Fill the pane: tags with counts, listing days, saved searches with
        (total, unread) counts (None while they are being counted)."""
        self._data = (counts, total, active, days or [], saved or {}, active_day)
        width = max(12, (self.scrollable_content_region.width or PANE_WIDTH) - 1)
        options: list[Option] = [Option(_line("All papers", f"{total:,}", width), id=ALL_PAPERS)]
        for section in SECTIONS:
            entries = self._entries(section, width)
            if not entries:
                continue
            mark = "▸" if section in self.folded else "▾"
            heading = Text(f"{mark} {TITLES[section]}", style="bold")
            options.append(Option(heading, id=f"\x00section:{section}"))
            if section not in self.folded:
                options.extend(entries)
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        self.clear_options()
        self.add_options(options)
        if active_day is not None and not active:
            wanted = f"\x00day:{active_day.key}"
        else:
            wanted = f"\x00tag:{active}" if active else highlighted or ALL_PAPERS
        ids = [option.id for option in options]
        self.highlighted = ids.index(wanted) if wanted in ids else 0

    def _entries(self, section: str, width: int) -> list[Option]:
        counts, _total, _active, days, saved, _day = self._data
        if section == "days":
            return [
                Option(_line(d.label, f"{d.unread:,}/{d.total:,}", width), id=f"\x00day:{d.key}")
                for d in days
            ]
        if section == "saved":
            found = []
            for number, (name, numbers) in enumerate(saved.items(), start=1):
                shown = f"{number} {name}" if number <= 9 else f"  {name}"
                count = "…" if numbers is None else f"{numbers[1]:,}/{numbers[0]:,}"
                found.append(Option(_line(shown, count, width), id=f"\x00saved:{name}"))
            return found
        # Text, not markup: a tag is the user's text, "[b]" and all.
        return [Option(_line(tag, f"{n:,}", width), id=f"\x00tag:{tag}") for tag, n in counts]

    def action_jump(self, section: str) -> None:
        """The cursor to a section's heading (unfolded)."""
        self.folded.discard(section)
        self.set_tags(*self._data)
        ids = [option.id for option in self.options]
        heading = f"\x00section:{section}"
        if heading in ids:
            self.highlighted = ids.index(heading)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = event.option.id or ""
        if chosen == ALL_PAPERS:
            self.post_message(self.Chosen(None))
        elif chosen.startswith("\x00section:"):
            section = chosen.split(":", 1)[1]
            self.folded ^= {section}
            self.set_tags(*self._data)
            ids = [option.id for option in self.options]
            self.highlighted = ids.index(chosen)
        elif chosen.startswith("\x00day:"):
            key = chosen.split(":", 1)[1]
            days = self._data[3]
            found = next((d for d in days if d.key == key), None)
            if found is not None:
                self.post_message(self.DayChosen(found))
        elif chosen.startswith("\x00saved:"):
            self.post_message(self.SavedChosen(chosen.split(":", 1)[1]))
        elif chosen.startswith("\x00tag:"):
            self.post_message(self.Chosen(chosen.split(":", 1)[1]))

    def on_resize(self) -> None:
        if self.option_count:
            self.set_tags(*self._data)
