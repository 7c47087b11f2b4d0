"""Write one paper's note: Markdown in a text area, saved with ctrl+s and on
leaving with Escape (a typed note is never dropped), or written in the user's
own editor (ctrl+e) and taken back."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea

from paperdesk.editor import EditorError, edit


def _language() -> str | None:
    """Markdown highlighting where its grammar is installed (tree-sitter-markdown)."""
    try:
        from textual._tree_sitter import get_language
    except ImportError:  # another textual: plain text, still a note
        return None
    return "markdown" if get_language("markdown") is not None else None


class NoteEditor(ModalScreen[str | None]):
    """Returns the note's text when the user leaves (None: nothing to save)."""

    BINDINGS = [
        Binding("escape", "leave", "Save and close", priority=True),
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+e", "external", "Edit in $EDITOR", priority=True),
    ]

    def __init__(self, title: str, text: str, save: Callable[[str], bool]) -> None:
        super().__init__()
        self.paper_title = title
        self.text = text
        self._save_text = save  # writes the note (True if it changed)
        self._saved = text

    def compose(self) -> ComposeResult:
        with Vertical(id="note-dialog", classes="dialog"):
            yield Label("Note", classes="dialog-title")
            yield Label(self.paper_title, id="note-paper", classes="dim")
            area = TextArea(
                self.text,
                language=_language(),
                soft_wrap=True,
                show_line_numbers=False,
                tab_behavior="indent",
                id="note-text",
            )
            yield area
            yield Label(
                "Markdown · ctrl+s saves · Esc saves and closes · ctrl+e opens $EDITOR",
                classes="dim",
                id="note-help",
            )

    def on_mount(self) -> None:
        area = self.query_one("#note-text", TextArea)
        area.move_cursor(area.document.end)
        self.set_focus(area)

    @property
    def value(self) -> str:
        return self.query_one("#note-text", TextArea).text

    def action_save(self) -> None:
        if self.value != self._saved and self._save_text(self.value):
            self._saved = self.value
            self.notify("Note saved", timeout=2)

    def action_leave(self) -> None:
        if self.is_current:
            self.dismiss(self.value if self.value != self._saved else None)

    def action_external(self) -> None:
        """The note in $VISUAL or $EDITOR, the app suspended meanwhile."""
        try:
            with self.app.suspend():
                text = edit(self.value)
        except EditorError as error:
            self.notify(str(error), severity="error", timeout=8)
            return
        except Exception as error:  # noqa: BLE001 - no terminal to hand over (a test, a pipe)
            self.notify(f"cannot open an editor here: {error}", severity="error", timeout=8)
            return
        self.query_one("#note-text", TextArea).load_text(text.rstrip("\n"))
        self.action_save()
