"""Every key binding, grouped where it applies."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from paperdesk.keys import shown


def key_name(key: str) -> str:
    """A binding's keys as the user types them ("question_mark" -> "?")."""
    return shown(k for k in key.split(",") if k)


def bindings_table(sections: list[tuple[str, list[Binding]]]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("what")
    for title, bindings in sections:
        table.add_row(f"[u]{title}[/u]", "")
        for binding in bindings:
            table.add_row(key_name(binding.key), binding.description)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Label("paperdesk keys", classes="dialog-title")
            yield Static(bindings_table(self.sections), id="help-table")
            yield Label("Esc, q or ? closes · Ctrl+P lists every action", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)
