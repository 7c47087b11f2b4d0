"""The triage app: paper list, preview and tags, every action one key.

Every action writes through to the library at once (a short SQLite write on
the event loop, so actions stay in order and nothing waits in a queue that a
crash could lose). Everything slower runs in thread workers: listing the
library, searching, updating the search index, bulk changes and export.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from paperdesk.atomic import write_atomic
from paperdesk.backups import InUse
from paperdesk.desk import Desk
from paperdesk.model import Paper
from paperdesk.query import QueryError
from paperdesk.query import parse as parse_query
from paperdesk.settings import Settings
from paperdesk.store import Filter, LibraryError
from paperdesk.tui.screens.confirm import ConfirmScreen
from paperdesk.tui.screens.export_dialog import ExportDialog, ExportRequest
from paperdesk.tui.screens.help import HelpScreen
from paperdesk.tui.screens.tag_editor import TagEditor
from paperdesk.tui.widgets.paper_list import PaperList
from paperdesk.tui.widgets.preview import Preview
from paperdesk.tui.widgets.tag_panel import TagPanel

LIST_SORTS = ("published", "upvotes", "title", "added")
SEARCH_SORTS = ("relevance", "published", "upvotes")
SEARCH_DEBOUNCE_S = 0.12
FIRST_ROWS = 200  # listed first when the app opens, before the whole list
SIDE_DELAY_S = 0.15  # counts and tags after a write
INDEX_DELAY_S = 0.8  # the search index after a burst of writes
NARROW_WIDTH = 110  # below this the panes stack: a list under ~50 columns loses its dates
EMPTY_MESSAGE = """\
[b]Your library is empty.[/b]

Import saved Hugging Face Daily Papers pages (save the page as text):

    [b]paperdesk import ~/Downloads/daily-papers-*.txt[/b]

or look around in a sample library first:

    [b]paperdesk demo[/b]

Press [b]q[/b] to quit, [b]?[/b] for help."""


@dataclass(frozen=True)
class UndoStep:
    """How to take back one triage action."""

    label: str
    revert: Callable[[], Iterable[str]]  # returns the IDs it changed


class PaperdeskApp(App[None]):
    """paperdesk's triage app over one library."""

    CSS_PATH = "app.tcss"
    TITLE = "paperdesk"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("s", "toggle_star", "Star"),
        Binding("r", "toggle_read", "Read"),
        Binding("t", "edit_tags", "Tags"),
        # A priority binding runs as the key arrives: letters typed in the same
        # burst ("/grokking") then already go to the search bar.
        Binding("slash", "focus_search", "Search", priority=True),
        Binding("n", "next_unread", "Next unread"),
        Binding("u", "toggle_unread_only", "Unread only"),
        Binding("f", "toggle_starred_only", "Starred only"),
        Binding("a", "show_all", "All papers", show=False),
        Binding("A", "mark_all_read", "Mark shown read", show=False),
        Binding("z,ctrl+z", "undo", "Undo"),
        Binding("o", "open_link", "Open link", show=False),
        Binding("y", "copy_title", "Copy title", show=False),
        Binding("Y", "copy_link", "Copy link", show=False),
        Binding("S", "cycle_sort", "Sort", show=False),
        Binding("e", "export", "Export"),
        Binding("T", "toggle_tags_pane", "Tags pane", show=False),
        Binding("tab", "focus_next", "Next pane", show=False),
        Binding("shift+tab", "focus_previous", "Previous pane", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        desk: Desk,
        settings: Settings | None = None,
        *,
        poll_interval: float | None = 2.0,
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
        self.only_unread = False
        self.only_starred = False
        self.tag: str | None = None
        self.list_sort = "published"
        self.search_sort = "relevance"
        self.terms: frozenset[tuple[str, str]] = frozenset()
        self.undo_stack: list[UndoStep] = []
        self._first_rows = False  # the list shows only the first screenful so far
        self._side_started = False  # counts, tags pane and index sync (see _start_side)
        self.total = 0
        self._counted = False
        self._memory_settled = False
        self.unread = 0
        self.starred = 0
        self.loaded = False
        self.query_problem: str | None = None
        self.suggestion: str | None = None
        self._shown: str | None = None
        self._known_seq: int | None = None
        self._pending: dict[str, tuple[Timer, Callable[[], object]]] = {}

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="/ search:  grokking   title:agent   tag:rl   is:unread   upvotes:>=10",
            id="search",
        )
        with Horizontal(id="main"):
            yield TagPanel(id="tags")
            papers = PaperList(self.desk.library.get_many, id="papers")
            papers.on_move = self._on_moved
            yield papers
            yield Preview(id="preview")
        yield Static(EMPTY_MESSAGE, id="empty")
        yield Static("Loading…", id="status")
        yield Footer()

    @property
    def paper_list(self) -> PaperList:
        return self.query_one("#papers", PaperList)

    @property
    def preview(self) -> Preview:
        return self.query_one("#preview", Preview)

    def on_mount(self) -> None:
        # Tell `paperdesk restore` that this library is open here.
        self._in_use = InUse(self.desk.library.path)
        self._in_use.acquire()
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.paper_list.focus()
        self._layout_for(self.size.width, self.size.height)
        self.reload()  # the counts, tags and index follow the first rows (_start_side)
        if self.poll_interval:
            self.set_interval(self.poll_interval, self._poll_tick)
        if self.banner:
            self.notify(self.banner, timeout=6)
        if self.backup_on_start:
            # After the first paint, so opening never waits for the copy.
            self.set_timer(1.0, self.take_backup)

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        self.set_class(width < NARROW_WIDTH, "-narrow")
        self.set_class(height < 20, "-short")

    # --- loading the list --------------------------------------------------------------

    def _composed_query(self) -> str:
        parts = [f"({self.query_text})"] if self.query_text.strip() else []
        if self.only_unread:
            parts.append("is:unread")
        if self.only_starred:
            parts.append("is:starred")
        if self.tag:
            parts.append(f"tag:{self.tag}")
        return " ".join(parts)

    def reload(self, keep: str | None = None, debounce: float = 0.0) -> None:
        """List the papers of the current view again (in a worker)."""
        self._load(keep if keep is not None else self.paper_list.current_id, debounce)

    @work(thread=True, exclusive=True, group="load")
    def _load(self, keep: str | None, debounce: float) -> None:
        worker = get_current_worker()
        if debounce:
            import time

            time.sleep(debounce)
            if worker.is_cancelled:
                return
        problem = None
        suggestion = None
        terms: frozenset[tuple[str, str]] = frozenset()
        try:
            if self.query_text.strip():
                parse_query(self.query_text)  # a problem is reported against what was typed
                results = self.desk.index.search_ids(
                    self.desk.library, self._composed_query(), sort=self.search_sort
                )
                ids, terms, suggestion = results.ids, results.terms, results.suggestion
            else:
                flt = Filter(
                    starred=True if self.only_starred else None,
                    read=False if self.only_unread else None,
                    tag=self.tag,
                )
                if not self.loaded:
                    # Opening: paint the first screenful at once, then list the rest
                    # (a million IDs take about a second).
                    first = self.desk.library.ids(flt, self.list_sort, limit=FIRST_ROWS)
                    if len(first) == FIRST_ROWS:
                        self.call_from_thread(self._apply_first_rows, first)
                ids = self.desk.library.ids(flt, self.list_sort)
        except QueryError as error:
            problem = str(error)
            ids = None
        except LibraryError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            self.call_from_thread(self._start_side)
            return
        if worker.is_cancelled:
            return
        self.call_from_thread(self._apply_ids, ids, terms, keep, problem, suggestion)

    def _apply_first_rows(self, ids: list[str]) -> None:
        """The first screenful while the whole list loads; the full list keeps the
        cursor where the user has moved it meanwhile."""
        if self.loaded or self.paper_list.ids:
            return
        self._first_rows = True
        self.paper_list.set_ids(ids)
        self._update_status()
        self._start_side()

    def _start_side(self) -> None:
        """Once, after the first rows are shown: the counts, the tags pane and the
        index sync. Started at once, they could take the library before the first
        screenful did (its queries take turns), and counting a million papers
        from a cold disk takes 2 s: the first paint waited 3.5 s."""
        if self._side_started:
            return
        self._side_started = True
        self.refresh_side()
        self.sync_index()

    def _apply_ids(self, ids, terms, keep, problem, suggestion) -> None:
        self.query_problem = problem
        self.suggestion = suggestion
        if keep is None and self._first_rows:
            keep = self.paper_list.current_id
        self._first_rows = False
        if ids is not None:
            self.terms = terms
            self.paper_list.set_ids(ids, keep)
            if not ids:
                self.preview.show(None)
        self.loaded = True
        self._update_empty()
        self._update_status()
        self._start_side()
        self._settle_memory()
        for notice in self._take_notices():
            self.notify(notice, severity="warning")

    def _take_notices(self) -> list[str]:
        notices, self.desk.notices[:] = list(self.desk.notices), []
        return notices

    def _update_empty(self) -> None:
        empty = self.loaded and self.total == 0 and not self.paper_list.ids and not self.query_text
        self.query_one("#empty").display = empty
        self.query_one("#main").display = not empty

    @work(thread=True, exclusive=True, group="side")
    def refresh_side(self) -> None:
        """Counts and the tags pane, read in a worker."""
        try:
            counts = self.desk.library.counts()
            tags = self.desk.library.tag_counts()
            seq = self.desk.library.max_seq()
        except LibraryError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            return
        self.call_from_thread(self._apply_side, counts, tags, seq)

    def _apply_side(self, counts, tags, seq) -> None:
        self.total, self.unread, self.starred = counts.total, counts.unread, counts.starred
        self._counted = True
        self._known_seq = seq
        self.query_one("#tags", TagPanel).set_tags(tags, counts.total, self.tag)
        self._update_empty()
        self._update_status()
        self._settle_memory()

    def _settle_memory(self) -> None:
        """Once the app has opened (list and counts loaded), move everything it
        holds out of the garbage collector's view: Python's full collections
        scanned every object the app had created (Textual's widgets and styles,
        the library, the index) and paused a key's repaint for 50-100 ms every
        twenty keys or so. Later collections scan only what comes after. Only
        where the process is the app's alone: frozen objects are never freed."""
        if self.freeze_gc and self.loaded and self._counted and not self._memory_settled:
            self._memory_settled = True
            gc.freeze()

    def _update_status(self) -> None:
        shown = "…" if self._first_rows else f"{len(self.paper_list.ids):,}"

        def count(n: int) -> str:
            return f"{n:,}" if self._counted else "…"  # the counts are read in a worker

        parts = [
            f"{shown} / {count(self.total)} papers",
            f"{count(self.unread)} unread",
            f"{count(self.starred)} starred",
        ]
        filters = [
            name
            for name, on_ in (("unread", self.only_unread), ("starred", self.only_starred))
            if on_
        ]
        if self.tag:
            filters.append(f"#{self.tag}")
        if filters:
            parts.append("filter: " + " ".join(filters))
        sort = self.search_sort if self.query_text.strip() else self.list_sort
        parts.append(f"sort: {sort}")
        text = "  ·  ".join(parts)
        if self.query_problem:
            text = f"[b]query:[/b] {self.query_problem}  ·  " + text
        elif self.suggestion:
            text = f"did you mean [b]{self.suggestion}[/b]?  ·  " + text
        self.query_one("#status", Static).update(text)

    # --- background upkeep ---------------------------------------------------------------

    @work(thread=True, exclusive=True, group="index")
    def sync_index(self) -> None:
        """Bring the search index up to date with the library.

        In a separate process by default: a Whoosh commit is a second or more of
        Python, and in a thread of the app it would hold the GIL while keys wait.
        """
        try:
            if self.index_in_subprocess:
                self._sync_index_in_subprocess()
            else:
                self.desk.sync_index()
        except Exception as error:  # noqa: BLE001 - the index is derived; the library is safe
            self.call_from_thread(
                self.notify, f"search index not updated: {error}", severity="warning"
            )
        notices = self._take_notices()
        for notice in notices:
            self.call_from_thread(self.notify, notice, severity="warning")

    def _sync_index_in_subprocess(self) -> None:
        env = dict(os.environ, PAPERDESK_DATA_DIR=str(self.desk.data_dir))
        result = subprocess.run(
            [sys.executable, "-m", "paperdesk", "index", "update"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        for line in result.stderr.splitlines():
            if line.startswith("paperdesk: "):
                self.desk.notices.append(line.removeprefix("paperdesk: "))

    @work(thread=True, exclusive=True, group="backup")
    def take_backup(self) -> None:
        """A backup of the library as it is when the app opens (if it changed)."""
        try:
            self.desk.backup("start")
        except LibraryError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=15)

    def _poll_tick(self) -> None:
        """Look for other processes' changes, unless our own write's count refresh
        is still to come: the library's change counter has moved for our own
        write, and taking it for another process's reloaded every visible row in
        the middle of the key's repaint (one key in thirteen took 115-140 ms).
        Nor before the first counts: they set the counter to compare with."""
        if self._counted and "side" not in self._pending:
            self.poll_external()

    @work(thread=True, exclusive=True, group="poll")
    def poll_external(self) -> None:
        """Notice changes made by another process (the CLI, another app).

        Every write (an import, a state change, a state import) stamps the rows
        it changes with a new change counter, and nothing deletes papers, so the
        counter alone tells: one index lookup, where counting a million papers
        took 5 ms warm and 0.3 s cold every 2 s, holding the library."""
        try:
            seq = self.desk.library.max_seq()
            if seq == self._known_seq:
                return
            total = self.desk.library.count()
        except LibraryError:
            return
        self.call_from_thread(self._external_change, seq, total)

    def _external_change(self, seq: int, total: int) -> None:
        self._known_seq = seq
        if total != self.total:
            self.reload()
        self.paper_list.invalidate()
        self._show_current()
        self.refresh_side()
        self.sync_index()

    # --- the selected paper -----------------------------------------------------------------

    def _on_moved(self, paper_id: str | None, _index: int) -> None:
        """The cursor moved: runs inside the key's handler, so the list, the preview
        and the row left behind repaint in one frame."""
        previous = self._shown
        if self.settings.mark_read_on_move and previous is not None and previous != paper_id:
            self._mark_read_after_viewing(previous)
        self._show_current()

    def _show_current(self) -> None:
        paper = self.paper_list.current
        self._shown = paper.id if paper else None
        self.preview.show(paper, self.terms)

    def _mark_read_after_viewing(self, paper_id: str) -> None:
        try:
            changed = self.desk.set_read([paper_id], True)
        except LibraryError as error:
            self.notify(str(error), severity="error")
            return
        if changed:
            self._after_write(changed)

    def _after_write(self, ids: Iterable[str]) -> None:
        """Show what was just written, then let the workers catch up."""
        fresh = self.desk.library.get_many(list(ids))
        for paper in fresh:
            self.paper_list.update_paper(paper)
        current = self.paper_list.current
        if current is not None and any(p.id == current.id for p in fresh):
            self.preview.show(current, self.terms)
        self._soon("side", SIDE_DELAY_S, self.refresh_side)
        self._soon("index", INDEX_DELAY_S, self.sync_index)

    def _soon(self, name: str, delay: float, callback: Callable[[], object]) -> None:
        """Run ``callback`` once ``delay`` seconds after the last request: a burst of
        key presses costs one count refresh and one index update, not one each."""
        pending = self._pending.pop(name, None)
        if pending is not None:
            pending[0].stop()

        def fire() -> None:
            self._pending.pop(name, None)
            callback()

        self._pending[name] = (self.set_timer(delay, fire), callback)

    def flush_pending(self) -> None:
        """Run delayed upkeep now instead of later (tests and scripts use this)."""
        for timer, callback in list(self._pending.values()):
            timer.stop()
            callback()
        self._pending.clear()

    def _current_or_warn(self) -> Paper | None:
        paper = self.paper_list.current
        if paper is None:
            self.notify("No paper selected.", severity="warning")
        return paper

    # --- triage actions -------------------------------------------------------------------------

    def _write(
        self, label: str, apply: Callable[[], list[str]], revert: Callable[[], Iterable[str]] | None
    ) -> None:
        try:
            changed = apply()
        except LibraryError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        if revert is not None and changed:
            self.undo_stack.append(UndoStep(label, revert))
            del self.undo_stack[:-100]
        self._after_write(changed)

    def action_toggle_star(self) -> None:
        paper = self._current_or_warn()
        if paper is None:
            return
        value = not paper.starred  # the opposite of what the user sees
        self._write(
            "star" if value else "unstar",
            lambda: self.desk.set_starred([paper.id], value),
            lambda: self.desk.set_starred([paper.id], not value),
        )

    def action_toggle_read(self) -> None:
        paper = self._current_or_warn()
        if paper is None:
            return
        value = not paper.read
        self._write(
            "mark read" if value else "mark unread",
            lambda: self.desk.set_read([paper.id], value),
            lambda: self.desk.set_read([paper.id], not value),
        )
        # Pressing r is a decision: do not mark it read again on the way out.
        self._shown = None if not value else self._shown

    def action_edit_tags(self) -> None:
        paper = self._current_or_warn()
        if paper is None:
            return
        try:
            paper = self.desk.library.get(paper.id)  # the tags as they are now
            known = [tag for tag, _count in self.desk.library.tag_counts()]
        except LibraryError as error:
            self.notify(str(error), severity="error")
            return

        def save(tags: list[str] | None) -> None:
            if tags is None:
                return
            before = set(paper.tags)
            added, removed = set(tags) - before, before - set(tags)
            if not added and not removed:
                return

            def apply() -> list[str]:
                # Only the difference is written: tags added meanwhile elsewhere stay.
                if added:
                    self.desk.add_tags(paper.id, sorted(added))
                if removed:
                    self.desk.remove_tags(paper.id, sorted(removed))
                return [paper.id]

            def revert() -> list[str]:
                if added:
                    self.desk.remove_tags(paper.id, sorted(added))
                if removed:
                    self.desk.add_tags(paper.id, sorted(removed))
                return [paper.id]

            self._write("tag", apply, revert)
            summary = ", ".join(
                [f"+{t}" for t in sorted(added)] + [f"-{t}" for t in sorted(removed)]
            )
            self.notify(f"Tags: {summary}", timeout=3)

        self.push_screen(TagEditor(paper.title, paper.tags, known), save)

    def action_undo(self) -> None:
        if not self.undo_stack:
            self.notify("Nothing to undo.", timeout=2)
            return
        step = self.undo_stack.pop()
        try:
            changed = list(step.revert())
        except LibraryError as error:
            self.notify(str(error), severity="error")
            return
        self._after_write(changed)
        self.notify(f"Undid {step.label}", timeout=2)

    def action_mark_all_read(self) -> None:
        ids = list(self.paper_list.ids)
        if not ids:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._mark_all_read(ids)

        self.push_screen(ConfirmScreen(f"Mark all {len(ids):,} shown papers as read?"), answer)

    @work(thread=True, exclusive=True, group="bulk")
    def _mark_all_read(self, ids: list[str]) -> None:
        try:
            changed = self.desk.set_read(ids, True)
        except LibraryError as error:
            self.call_from_thread(self.notify, str(error), severity="error")
            return
        self.call_from_thread(self._after_mark_all, changed)

    def _after_mark_all(self, changed: list[str]) -> None:
        if changed:
            self.undo_stack.append(
                UndoStep(f"mark {len(changed)} read", lambda: self.desk.set_read(changed, False))
            )
        self.paper_list.invalidate()
        self._show_current()
        self.refresh_side()
        self.sync_index()
        self.notify(f"Marked {len(changed):,} papers read", timeout=3)

    # --- moving and filtering ------------------------------------------------------------------

    def action_next_unread(self) -> None:
        papers = self.paper_list
        for index in range(papers.cursor + 1, len(papers.ids)):
            paper = papers.paper(index)
            if paper is not None and not paper.read:
                papers.cursor = index
                return
        self.notify("No more unread papers below.", timeout=2)

    def _focus_now(self, widget) -> None:
        # Widget.focus() waits for the next loop turn; keys typed in the same
        # burst ("/grokking") would still go to the old widget. Focus at once.
        self.screen.set_focus(widget)

    def action_focus_search(self) -> None:
        if isinstance(self.focused, Input):
            self.focused.insert_text_at_cursor("/")  # typing a "/" in any text field
        elif self.screen is self.screen_stack[0]:
            self._focus_now(self.query_one("#search", Input))

    @on(Input.Changed, "#search")
    def _on_search_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.reload(debounce=SEARCH_DEBOUNCE_S)

    @on(Input.Submitted, "#search")
    def _on_search_submitted(self, event: Input.Submitted) -> None:
        self.query_text = event.value
        self.reload()
        self._focus_now(self.paper_list)

    def on_key(self, event) -> None:
        if event.key != "escape" or self.screen is not self.screen_stack[0]:
            return
        search = self.query_one("#search", Input)
        if self.focused is search:
            event.stop()
            self._clear_search(search)
        elif not isinstance(self.focused, Input):
            # In the list, the preview or the tags pane, Escape backs out one
            # step: the kept search first, then the tag filter.
            if search.value or self.query_text:
                event.stop()
                self._clear_search(search)
            elif self.tag:
                event.stop()
                self.tag = None
                self.refresh_side()
                self.reload()

    def _clear_search(self, search: Input) -> None:
        search.value = ""
        self.query_text = ""
        self.reload()
        self._focus_now(self.paper_list)

    def action_toggle_unread_only(self) -> None:
        self.only_unread = not self.only_unread
        self.reload()

    def action_toggle_starred_only(self) -> None:
        self.only_starred = not self.only_starred
        self.reload()

    def action_show_all(self) -> None:
        self.only_unread = self.only_starred = False
        self.tag = None
        self.query_one("#search", Input).value = ""
        self.query_text = ""
        self.refresh_side()
        self.reload()

    @on(TagPanel.Chosen)
    def _on_tag_chosen(self, event: TagPanel.Chosen) -> None:
        self.tag = event.tag
        self.reload()
        self._focus_now(self.paper_list)

    def action_cycle_sort(self) -> None:
        if self.query_text.strip():
            self.search_sort = SEARCH_SORTS[
                (SEARCH_SORTS.index(self.search_sort) + 1) % len(SEARCH_SORTS)
            ]
            sort = self.search_sort
        else:
            self.list_sort = LIST_SORTS[(LIST_SORTS.index(self.list_sort) + 1) % len(LIST_SORTS)]
            sort = self.list_sort
        self.notify(f"Sorted by {sort}", timeout=2)
        self.reload()

    def action_toggle_tags_pane(self) -> None:
        self.toggle_class("-tags-hidden")

    # --- links, clipboard, export, help ----------------------------------------------------------

    def _current_link(self) -> tuple[Paper, str] | None:
        paper = self._current_or_warn()
        if paper is None:
            return None
        if not paper.links:
            self.notify("This paper has no link.", severity="warning", timeout=3)
            return None
        return paper, paper.links[0]

    def action_open_link(self) -> None:
        if (found := self._current_link()) is None:
            return
        paper, link = found
        self.open_url(link)
        more = f" ({len(paper.links) - 1} more in the preview)" if len(paper.links) > 1 else ""
        self.notify(f"Opening {link}{more}", timeout=3)

    def action_copy_title(self) -> None:
        paper = self._current_or_warn()
        if paper is not None:
            self.copy_to_clipboard(paper.title)
            self.notify("Copied the title", timeout=2)

    def action_copy_link(self) -> None:
        if (found := self._current_link()) is None:
            return
        self.copy_to_clipboard(found[1])
        self.notify(f"Copied {found[1]}", timeout=2)

    def action_export(self) -> None:
        query = self._composed_query() or None
        self.push_screen(ExportDialog(query, Path.home()), self._export)

    def _export(self, request: ExportRequest | None) -> None:
        if request is not None:
            self._run_export(request)

    @work(thread=True, exclusive=True, group="export")
    def _run_export(self, request: ExportRequest) -> None:
        from paperdesk import export as exporting

        try:
            papers, title = self.desk.select(request.query)
            document = exporting.render(papers, request.fmt, title=title)
            write_atomic(request.path, document)
        except (OSError, LibraryError, QueryError) as error:
            message = getattr(error, "strerror", None) or str(error)
            self.call_from_thread(
                self.notify, f"Export failed: {message}", severity="error", timeout=8
            )
            return
        count = f"{len(papers)} paper{'s' if len(papers) != 1 else ''}"
        self.call_from_thread(self.notify, f"Exported {count} to {request.path}", timeout=6)

    def help_sections(self):
        return [
            ("Triage", list(self.BINDINGS)),
            ("Paper list", PaperList.BINDINGS),
            (
                "Search bar",
                [
                    Binding("enter", "", "Keep the results and go to the list"),
                    Binding("escape", "", "Clear the search"),
                ],
            ),
            (
                "Paper list, preview and tags pane",
                [Binding("escape", "", "Clear the kept search, then the tag filter")],
            ),
            ("Everywhere", [Binding("ctrl+p", "", "Command palette: every action by name")]),
        ]

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            if binding.action in ("quit",):
                continue
            yield SystemCommand(
                binding.description,
                f"{binding.description} (key: {binding.key.split(',')[0]})",
                partial(self.run_action, binding.action),
            )

    def on_unmount(self) -> None:
        self._in_use.release()
        self.desk.close()


def make_app(desk: Desk | None = None, settings: Settings | None = None, **kwargs) -> PaperdeskApp:
    """The app over a library: shared by the CLI, the tests and the screenshot script."""
    if settings is None:
        from paperdesk.settings import load

        settings, problems = load()
        if problems:
            kwargs.setdefault("banner", "; ".join(problems))
    return PaperdeskApp(desk or Desk(), settings, **kwargs)
