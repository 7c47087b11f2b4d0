"""The tags pane: every tag with its count; choosing one filters the list."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from paperdesk.model import visible

ALL_PAPERS = "\x00all"


class TagPanel(OptionList):
    """Tags with counts; the first entry shows every paper."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    class Chosen(Message):
        """A tag was chosen (None for all papers)."""

        def __init__(self, tag: str | None) -> None:
            self.tag = tag
            super().__init__()

    def set_tags(self, counts: list[tuple[str, int]], total: int, active: str | None) -> None:
        options = [Option(f"All papers  {total}", id=ALL_PAPERS)]
        # Text, not markup: a tag is the user's text, "[b]" and all.
        options.extend(Option(Text(f"{visible(tag)}  {count}"), id=tag) for tag, count in counts)
        highlighted = self.highlighted_option.id if self.highlighted_option else None
        self.clear_options()
        self.add_options(options)
        wanted = active or highlighted or ALL_PAPERS
        ids = [option.id for option in options]
        self.highlighted = ids.index(wanted) if wanted in ids else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = event.option.id
        self.post_message(self.Chosen(None if chosen == ALL_PAPERS else chosen))
