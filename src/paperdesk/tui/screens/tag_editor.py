"""Edit one paper's tags: type them separated by spaces, with completion."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label

from paperdesk.model import is_punctuation, normalise_tag


class TagSuggester(Suggester):
    """Completes the last word being typed from the tags already in use."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.tags = sorted(tags)

    async def get_suggestion(self, value: str) -> str | None:
        head, _, last = value.rpartition(" ")
        if not last:
            return None
        taken = set(head.split())
        for tag in self.tags:
            if tag.startswith(last.lower()) and tag != last and tag not in taken:
                return f"{head} {tag}".lstrip() if head else tag
        return None


class TagInput(Input):
    """The tags field. Keys that reach it after Enter (typed in the same burst:
    ``t x y Enter j s``) are not text for it: they go back to the app, to the
    list the editor is closing onto, in their order."""

    closed = False

    async def _on_key(self, event: events.Key) -> None:
        if self.closed:
            event.stop()
            event.prevent_default()
            self.app.post_message(events.Key(event.key, event.character))
            return
        if event.key == "enter":
            # Closed now, not when the submit binding runs: that comes after the
            # keys already queued behind this one, which would be typed here.
            self.closed = True
        await super()._on_key(event)

    async def action_submit(self) -> None:
        self.closed = True
        await super().action_submit()


def parse_tags(text: str, kept: tuple[str, ...] = ()) -> list[str]:
    """Tags from what the user typed: spaces or commas separate them, and so
    does a word of punctuation alone ("rl - theory"), unless it is a tag the
    paper already has (``kept``: saving the editor must not drop it)."""
    seen: list[str] = []
    for word in text.replace(",", " ").split():
        tag = normalise_tag(word)
        if tag and tag not in seen and (tag in kept or not is_punctuation(tag)):
            seen.append(tag)
    return seen


def completions(value: str, known: list[str]) -> list[str]:
    """The known tags the last word being typed can become, in order."""
    head, _, last = value.rpartition(" ")
    if not last:
        return []
    taken = set(head.split())
    return [tag for tag in sorted(known) if tag.startswith(last.lower()) and tag not in taken]


class TagEditor(ModalScreen[list[str] | None]):
    """Returns the new list of tags, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        # Priority: Tab would otherwise move the focus out of the field.
        Binding("tab", "complete", "Complete", priority=True, show=False),
    ]

    def __init__(self, title: str, tags: tuple[str, ...], known: list[str]) -> None:
        super().__init__()
        self.paper_title = title
        self.tags = tags
        self.known = known
        # Tab pressed again cycles: the word as typed, its matches, where we are.
        self._cycle: tuple[str, list[str], int] | None = None
        # Keys that arrive before the field has the focus (``t x y`` in a burst).
        self._early: list[events.Key] | None = []

    def on_key(self, event: events.Key) -> None:
        """Keys that reach the screen itself, not the field: they arrived while
        the editor was opening. Kept until it is there, then typed into it."""
        if event.key not in ("enter",) and not (event.is_printable and event.character):
            return
        if self._early is None and self.query_one("#tag-input", TagInput).has_focus:
            return  # it came through the field, which has had its say
        event.stop()
        event.prevent_default()
        if self._early is not None:
            self._early.append(event)
            return
        self._type(event)

    def _type(self, key: events.Key) -> bool:
        """A key typed into the field; False once Enter has closed the editor."""
        field = self.query_one("#tag-input", TagInput)
        if field.closed:
            self.app.post_message(events.Key(key.key, key.character))
            return False
        if key.key == "enter":
            field.closed = True
            self._save(field.value)
            return False
        if key.character:
            field.insert_text_at_cursor(key.character)
        return True

    def compose(self) -> ComposeResult:
        with Vertical(id="tag-dialog", classes="dialog"):
            yield Label("Tags", classes="dialog-title")
            yield Label(self.paper_title, id="tag-paper", classes="dim")
            yield TagInput(
                value=" ".join(self.tags),
                placeholder="tags separated by spaces",
                suggester=TagSuggester(self.known),
                id="tag-input",
                select_on_focus=False,  # typing adds to the tags, never replaces them
            )
            yield Label(
                "Enter saves · Tab completes (again: the next match) · → takes the suggestion"
                " · delete a word to remove it · Esc cancels",
                classes="dim",
                id="tag-help",
            )

    def on_mount(self) -> None:
        field = self.query_one("#tag-input", Input)
        if field.value:
            field.value += " "
        field.cursor_position = len(field.value)
        self.set_focus(field)
        early, self._early = self._early or [], None
        for key in early:  # typed before the editor was there: into the field, in order
            self._type(key)

    def action_complete(self) -> None:
        """Complete the last word from the known tags; Tab again: the next one."""
        field = self.query_one("#tag-input", Input)
        head, _, _ = field.value.rpartition(" ")
        if self._cycle is not None and field.value == self._cycle[0]:
            _value, matches, at = self._cycle
            at = (at + 1) % len(matches)
        else:
            matches = completions(field.value, self.known)
            if not matches:
                self.app.bell()
                return
            at = 0
        value = f"{head} {matches[at]}".lstrip()
        with field.prevent(Input.Changed):
            field.value = value
        field.cursor_position = len(value)
        self._cycle = (value, matches, at)

    def on_input_changed(self, event: Input.Changed) -> None:
        self._cycle = None  # typing starts a new completion

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._save(event.value)

    def _save(self, value: str) -> None:
        if self.is_current:  # a second Enter before the dialog closed saves nothing twice
            self.dismiss(parse_tags(value, self.tags))

    def action_cancel(self) -> None:
        if self.is_current:
            self.dismiss(None)
