"""Ask for a name (saving the current search): Enter saves, Escape cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class NamePrompt(ModalScreen[str | None]):
    """Returns the name typed, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, detail: str, value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="name-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Label(self.detail, classes="dim", id="name-detail")
            yield Input(value=self.value, placeholder="a name", id="name-input")
            yield Label("Enter saves · Esc cancels", classes="dim")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#name-input", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.is_current and event.value.strip():
            self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        if self.is_current:
            self.dismiss(None)
