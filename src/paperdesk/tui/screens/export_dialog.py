"""Choose a selection, a format and a file, then export.

The dialog runs the export itself (through the function it is given), so a
failure keeps it open with the error and every choice as it was. It asks
before replacing a file that exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, RadioButton, RadioSet

from paperdesk.tui.screens.confirm import ConfirmScreen

FORMATS = [
    ("md", "Markdown"),
    ("bibtex", "BibTeX"),
    ("biblatex", "BibLaTeX (Unicode)"),
    ("csv", "CSV"),
    ("json", "JSON"),
]
EXTENSIONS = {"md": ".md", "bibtex": ".bib", "biblatex": ".bib", "csv": ".csv", "json": ".json"}
GROUPS = [("tag", "by tag"), ("date", "by month"), ("none", "one list")]


@dataclass(frozen=True)
class ExportRequest:
    fmt: str
    path: Path
    query: str | None  # None: the starred papers
    group_by: str = "tag"
    with_abstracts: bool = False


class ExportFailed(Exception):
    """An export that could not be written; the message says why."""


Exporter = Callable[[ExportRequest], int]  # writes the file; the number of papers


class ExportDialog(ModalScreen[tuple[ExportRequest, int] | None]):
    """Returns what was exported and how many papers, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, query: str | None, default_dir: Path, exporter: Exporter) -> None:
        super().__init__()
        self.query_text = query
        self.default_dir = default_dir
        self.exporter = exporter

    def compose(self) -> ComposeResult:
        with Vertical(id="export-dialog", classes="dialog"):
            yield Label("Export", classes="dialog-title")
            yield Label("Papers", classes="dim")
            with RadioSet(id="export-selection"):
                yield RadioButton("Starred papers", value=True, id="sel-starred")
                if self.query_text:
                    yield RadioButton(f"Current search: {self.query_text}", id="sel-query")
            with Horizontal(id="export-choices"):
                with Vertical():
                    yield Label("Format", classes="dim")
                    with RadioSet(id="export-format"):
                        for number, (fmt, name) in enumerate(FORMATS):
                            yield RadioButton(name, value=number == 0, id=f"fmt-{fmt}")
                with Vertical():
                    yield Label("Markdown sections", classes="dim md-only")
                    with RadioSet(id="export-group", classes="md-only"):
                        for number, (group, name) in enumerate(GROUPS):
                            yield RadioButton(name, value=number == 0, id=f"group-{group}")
                    yield Checkbox("With abstracts", id="export-abstracts", classes="md-only")
            yield Label("File", classes="dim")
            yield Input(
                value=str(self.default_dir / "paperdesk-starred.md"),
                id="export-path",
                select_on_focus=True,
            )
            yield Label("", id="export-error")
            with Horizontal(classes="buttons"):
                yield Button("Export", variant="primary", id="export")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#export-format", RadioSet).focus()

    def _pressed(self, radio_set: str, prefix: str, default: str) -> str:
        pressed = self.query_one(f"#{radio_set}", RadioSet).pressed_button
        return pressed.id.removeprefix(prefix) if pressed and pressed.id else default

    @property
    def fmt(self) -> str:
        return self._pressed("export-format", "fmt-", "md")

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        field = self.query_one("#export-path", Input)
        path = Path(field.value)
        if event.radio_set.id == "export-format":
            if path.suffix in EXTENSIONS.values() or not path.suffix:
                field.value = str(path.with_suffix(EXTENSIONS[self.fmt]))
            for widget in self.query(".md-only"):
                widget.disabled = self.fmt != "md"
        elif event.radio_set.id == "export-selection":
            stem = "paperdesk-search" if event.pressed.id == "sel-query" else "paperdesk-starred"
            field.value = str(path.with_name(stem + path.suffix))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "export":
            self._submit()
        else:
            self._done(None)

    @on(Input.Submitted, "#export-path")
    def _on_path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def _request(self) -> ExportRequest | None:
        value = self.query_one("#export-path", Input).value.strip()
        if not value:
            self._show_error("Give a file name to export to.")
            return None
        selection = self.query_one("#export-selection", RadioSet).pressed_button
        query = self.query_text if selection is not None and selection.id == "sel-query" else None
        return ExportRequest(
            self.fmt,
            Path(value).expanduser(),
            query,
            self._pressed("export-group", "group-", "tag"),
            self.query_one("#export-abstracts", Checkbox).value,
        )

    def _submit(self) -> None:
        request = self._request()
        if request is None:
            return
        path = request.path
        if path.is_dir():
            self._show_error(f"{path} is a directory: give a file name.")
            return
        if path.exists():
            name = dict(FORMATS)[request.fmt]
            odd = path.suffix != EXTENSIONS[request.fmt]
            question = f"{path} exists. Replace it with the {name} export?"
            if odd:
                question += f" (Its name does not end in {EXTENSIONS[request.fmt]}.)"

            def answer(yes: bool | None) -> None:
                if yes:
                    self._run(request)

            self.app.push_screen(ConfirmScreen(question), answer)
            return
        self._run(request)

    def _show_error(self, message: str) -> None:
        self.query_one("#export-error", Label).update(f"[b]Not exported:[/b] {escape(message)}")

    @work(thread=True, exclusive=True, group="export")
    def _run(self, request: ExportRequest) -> None:
        try:
            count = self.exporter(request)
        except ExportFailed as error:
            self.app.call_from_thread(self._show_error, str(error))
            return
        self.app.call_from_thread(self._done, (request, count))

    def _done(self, result: tuple[ExportRequest, int] | None) -> None:
        if self.is_current:  # dismissed once, whatever keys come meanwhile
            self.dismiss(result)

    def action_cancel(self) -> None:
        self._done(None)
