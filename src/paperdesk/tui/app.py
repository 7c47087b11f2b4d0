"""The triage app: paper list, preview and tags, every action one key.

This module builds the app: the layout, the keys, help and the command
palette. What it shows is ``view``, what follows each action ``upkeep``, the
actions themselves ``commands`` (with ``undo``); each layer builds on the one
before.

Every action writes through to the library at once (a short SQLite write on
the event loop, so actions stay in order and nothing waits in a queue that a
crash could lose). Everything slower runs in thread workers: listing the
library, searching, updating the search index, bulk changes and export.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial

from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from paperdesk.desk import Desk
from paperdesk.keys import ACTIONS
from paperdesk.library.backups import InUse
from paperdesk.model import visible
from paperdesk.settings import Settings
from paperdesk.tui.bindings import bindings, in_force
from paperdesk.tui.commands import Commands
from paperdesk.tui.screens.help import HelpScreen, key_name
from paperdesk.tui.screens.note_editor import NoteEditor
from paperdesk.tui.undo import History
from paperdesk.tui.widgets.paper_list import PaperList
from paperdesk.tui.widgets.preview import Preview
from paperdesk.tui.widgets.tag_panel import TagPanel

NARROW_WIDTH = 110  # below this the panes stack: a list under ~50 columns loses its dates
EMPTY_MESSAGE = """\
[b]Your library is empty.[/b]

Import saved Hugging Face Daily Papers pages (save the page as text):

    [b]paperdesk import ~/Downloads/daily-papers-*.txt[/b]

or look around in a sample library first:

    [b]paperdesk demo[/b]

Press [b]q[/b] to quit, [b]?[/b] for help."""


class PaperdeskApp(Commands):
    """paperdesk's triage app over one library: the view (``view``), its upkeep
    (``upkeep``) and the commands (``commands``), laid out and bound to keys."""

    CSS_PATH = "app.tcss"
    TITLE = "paperdesk"
    ENABLE_COMMAND_PALETTE = True

    # Built from paperdesk.keys, the one table of actions and their default keys;
    # config.toml's [keys] apply through Textual's keymap (on_mount).
    BINDINGS = bindings("app")

    def __init__(
        self,
        desk: Desk,
        settings: Settings | None = None,
        *,
        poll_interval: float | None = 1.0,  # another process's changes show within 2 s
        banner: str | None = None,
        backup_on_start: bool = True,
        index_in_subprocess: bool = True,
        freeze_gc: bool = False,
    ) -> None:
        super().__init__()
        self.desk = desk
        desk.auto_sync_index = False
        self.settings = settings or Settings()
        self.poll_interval = poll_interval
        self.banner = banner
        self.backup_on_start = backup_on_start
        self.index_in_subprocess = index_in_subprocess
        # The process is the app's alone (the console script): see _settle_memory.
        self.freeze_gc = freeze_gc
        self.query_text = ""
        self.view = "all"  # all, unread or starred: what u, f and a switch between
        self.tag: str | None = None
        self.list_sort = "published"
        self.search_sort = "relevance"
        self.terms: frozenset[tuple[str, str]] = frozenset()
        self.history = History()
        # The paper being previewed, and since when (None: this visit is not to
        # count as reading it, as after r marked it unread).
        self._visit: str | None = None
        self._visit_since: float | None = None
        self._clock: Callable[[], float] = time.monotonic
        self._refusal_shown = False  # the library's files changed under us: said once
        self._missed_external = False  # another process wrote just before one of ours
        self._first_rows = False  # the list shows only the first screenful so far
        self._side_started = False  # counts, tags pane and index sync (see _start_side)
        self.total = 0
        self._counted = False
        self._memory_settled = False
        self.unread = 0
        self.starred = 0
        self.loaded = False
        self.query_problem: str | None = None
        self.query_hint: tuple[str, str] | None = None
        self.suggestion: str | None = None
        self.learning: str | None = None  # "learning your interest 40%", in the status line
        self.day = None
        self.days = []
        self.saved = {}
        self.saved_counts: dict[str, tuple[int, int]] = {}
        self._tags: list[tuple[str, int]] = []
        self._known_seq: int | None = None
        self._pending: dict[str, tuple[Timer, Callable[[], object]]] = {}
        self._sync_problem: str | None = None
        self.sync_on_quit = True

    def notify(self, message: str, *, markup: bool = False, **kwargs) -> None:
        """A notification whose text is literal: titles, tags, paths and errors
        carry "[" and control characters that must not be read as markup."""
        super().notify(visible(message), markup=markup, **kwargs)

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="/ search:  grokking   title:agent   tag:rl   is:unread   upvotes:>=10",
            id="search",
            select_on_focus=False,  # "/" then typing goes on from the query shown
        )
        with Horizontal(id="main"):
            yield TagPanel(id="tags")
            papers = PaperList(self.desk.get_many, id="papers")
            papers.on_move = self._on_moved
            papers.on_select = self._on_selection
            yield papers
            yield Preview(id="preview")
        yield Static(EMPTY_MESSAGE, id="empty")
        yield Static("Loading…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        # Tell `paperdesk restore` that this library is open here.
        self._in_use = InUse(self.desk.library_path)
        self._in_use.acquire()
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        if changed := self.settings.keymap.changed():
            self.set_keymap(changed)
        self.paper_list.focus()
        self._layout_for(self.size.width, self.size.height)
        keep = self._restore_ui_state()
        self.reload(keep=keep)  # the counts, tags and index follow the first rows (_start_side)
        if self.poll_interval:
            self.set_interval(self.poll_interval, self._poll_tick)
        if self.banner:
            self.notify(self.banner, timeout=6)
        if self.backup_on_start:
            # After the first paint, so opening never waits for the copy.
            self.set_timer(1.0, self.take_backup)
        self.start_sync()

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        self.set_class(width < NARROW_WIDTH, "-narrow")
        self.set_class(height < 20, "-short")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit_tags" and self.screen is not self.screen_stack[0]:
            return False  # a priority binding: not over the help or a dialog
        if action in ("focus_search", "edit_tags") and isinstance(self.focused, Input):
            # A "/" typed in a text field goes to it with the keys around it, in
            # order (run here, it jumped ahead of the keys still queued there).
            return False
        return True

    def on_key(self, event) -> None:
        if event.key != "escape" or self.screen is not self.screen_stack[0]:
            return
        search = self.query_one("#search", Input)
        if self.focused is search:
            event.stop()
            self._clear_search(search)
        elif not isinstance(self.focused, Input):
            # In the list, the preview or the tags pane, Escape backs out one
            # step: the selection, the kept search, then the tag filter.
            if self.paper_list.clear_selection():
                event.stop()
            elif search.value or self.query_text:
                event.stop()
                self._clear_search(search)
            elif self.tag or self.day is not None:
                event.stop()
                self.tag = None
                self.day = None
                self.refresh_side()
                self.reload()

    def help_sections(self):
        """Every key in force (the user's [keys] included), grouped where it applies."""
        keymap = self.settings.keymap
        saved = ", ".join(key_name(",".join(keymap.of(f"saved_{n}"))) for n in (1, 9))
        return [
            (
                "Triage",
                in_force(keymap, "app", skip=("saved_",))
                + [
                    Binding(
                        saved.replace(", ", "-"),
                        "",
                        "Open saved search 1 to 9 (the left pane's order)",
                    )
                ],  # fmt: skip
            ),
            ("Paper list", in_force(keymap, "list")),
            ("Preview (Tab to it)", in_force(keymap, "preview")),
            (
                "Search bar",
                [
                    Binding("enter", "", "Keep the results and go to the list"),
                    Binding("escape", "", "Clear the search"),
                    Binding("ctrl+y", "", "Search for the did-you-mean"),
                ],
            ),
            (
                "Tag editor",
                [
                    Binding("tab", "", "Complete the tag (again: the next match)"),
                    Binding("enter", "", "Save · Esc cancels"),
                ],
            ),
            ("Note editor (w)", NoteEditor.BINDINGS),
            (
                "List, preview, left pane",
                [
                    Binding(
                        "escape",
                        "",
                        "Let the selection go, then clear the kept search, "
                        "then the tag or day filter",
                    ),
                ],
            ),
            (
                "Left pane (Tab to it)",
                [
                    Binding("enter", "", "Filter by the entry; on a heading, fold it"),
                    *in_force(keymap, "pane"),
                ],
            ),
            ("Everywhere", [Binding("ctrl+p", "", "Command palette: every action by name")]),
        ]

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        keymap = self.settings.keymap
        for action in ACTIONS:
            if action.scope != "app" or action.name == "quit":
                continue
            if action.name.startswith("saved_"):
                continue  # the saved searches come by name, below
            key = keymap.first(action.name)
            yield SystemCommand(
                action.description,
                f"{action.description} (key: {key})" if key else action.description,
                partial(self.run_action, action.action),
            )
        for number, (name, query) in enumerate(self.saved.items(), start=1):
            shortcut = keymap.first(f"saved_{number}") if number <= 9 else ""
            key = f" (key: {shortcut})" if shortcut else ""
            yield SystemCommand(
                f"Saved search: {name}", f"{query}{key}", partial(self.open_saved, name)
            )

    def on_unmount(self) -> None:
        if self.loaded:
            self._save_ui_state()
        self._in_use.release()
        self.desk.close()
        if self.settings.sync.folder is not None and self.sync_on_quit:
            from paperdesk.sync import start_background

            start_background(self.desk.library_path.parent, self.settings.sync.folder)


def make_app(desk: Desk | None = None, settings: Settings | None = None, **kwargs) -> PaperdeskApp:
    """The app over a library: shared by the CLI, the tests and the screenshot script."""
    if settings is None:
        from paperdesk.settings import load

        settings, problems = load()
        if problems:
            kwargs.setdefault("banner", "; ".join(problems))
    return PaperdeskApp(desk or Desk(), settings, **kwargs)
