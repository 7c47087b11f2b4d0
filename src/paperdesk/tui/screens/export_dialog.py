"""Choose a format, a file and a selection, then export."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet

FORMATS = [
    ("md", "Markdown"),
    ("bibtex", "BibTeX"),
    ("biblatex", "BibLaTeX (Unicode)"),
    ("csv", "CSV"),
    ("json", "JSON"),
]
EXTENSIONS = {"md": ".md", "bibtex": ".bib", "biblatex": ".bib", "csv": ".csv", "json": ".json"}


@dataclass(frozen=True)
class ExportRequest:
    fmt: str
    path: Path
    query: str | None  # None: the starred papers


class ExportDialog(ModalScreen[ExportRequest | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, query: str | None, default_dir: Path) -> None:
        super().__init__()
        self.query_text = query
        self.default_dir = default_dir

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Label("Export", classes="dialog-title")
            yield Label("Papers", classes="dim")
            with RadioSet(id="export-selection"):
                yield RadioButton("Starred papers", value=True, id="sel-starred")
                yield RadioButton(
                    f"Current search: {self.query_text}" if self.query_text else "Current search",
                    id="sel-query",
                    disabled=not self.query_text,
                )
            yield Label("Format", classes="dim")
            with RadioSet(id="export-format"):
                for number, (fmt, name) in enumerate(FORMATS):
                    yield RadioButton(name, value=number == 0, id=f"fmt-{fmt}")
            yield Label("File", classes="dim")
            yield Input(value=str(self.default_dir / "paperdesk-starred.md"), id="export-path")
            with Horizontal(classes="buttons"):
                yield Button("Export", variant="primary", id="export")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#export-format", RadioSet).focus()

    @property
    def fmt(self) -> str:
        pressed = self.query_one("#export-format", RadioSet).pressed_button
        return pressed.id.removeprefix("fmt-") if pressed and pressed.id else "md"

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        field = self.query_one("#export-path", Input)
        path = Path(field.value)
        if event.radio_set.id == "export-format":
            field.value = str(path.with_suffix(EXTENSIONS[self.fmt]))
        elif event.radio_set.id == "export-selection":
            stem = "paperdesk-search" if event.pressed.id == "sel-query" else "paperdesk-starred"
            field.value = str(path.with_name(stem + path.suffix))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export":
            self._submit()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def _submit(self) -> None:
        value = self.query_one("#export-path", Input).value.strip()
        if not value:
            self.notify("Give a file name to export to.", severity="warning")
            return
        selection = self.query_one("#export-selection", RadioSet).pressed_button
        query = self.query_text if selection is not None and selection.id == "sel-query" else None
        self.dismiss(ExportRequest(self.fmt, Path(value).expanduser(), query))

    def action_cancel(self) -> None:
        self.dismiss(None)
