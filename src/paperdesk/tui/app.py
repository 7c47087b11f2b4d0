"""The triage app: paper list, preview and tags, every action one key.

Every action writes through to the library at once (a short SQLite write on
the event loop, so actions stay in order and nothing waits in a queue that a
crash could lose). Everything slower runs in thread workers: listing the
library, searching, updating the search index, bulk changes and export.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.markup import escape
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from paperdesk import query as q
from paperdesk.atomic import write_atomic
from paperdesk.backups import InUse
from paperdesk.desk import Desk
from paperdesk.model import Paper, visible
from paperdesk.query import QueryError
from paperdesk.query import parse as parse_query
from paperdesk.settings import Settings
from paperdesk.store import Filter, LibraryError
from paperdesk.tui.screens.confirm import ConfirmScreen
from paperdesk.tui.screens.export_dialog import ExportDialog, ExportFailed, ExportRequest
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
    """How to take back one triage action, and to do it again."""

    label: str
    revert: Callable[[], Iterable[str]]  # returns the IDs it changed
    redo: Callable[[], Iterable[str]] | None = None
    ids: tuple[str, ...] = ()  # the papers it is about
    title: str = ""  # the (first) paper's title, for the notification


VIEWS = ("all", "unread", "starred")
UI_STATE_NAME = "ui-state.json"


class PaperdeskApp(App[None]):
    """paperdesk's triage app over one library."""

    CSS_PATH = "app.tcss"
    TITLE = "paperdesk"
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("s", "toggle_star", "Star"),
        Binding("r", "toggle_read", "Read"),
        # Priority, like "/": the editor opens as the key arrives, so the keys
        # typed after it in the same burst are typed into it.
        Binding("t", "edit_tags", "Tags", priority=True),
        # A priority binding runs as the key arrives: letters typed in the same
        # burst ("/grokking") then already go to the search bar. In a text field
        # it stands aside (check_action), so a "/" is typed in order there.
        Binding("slash", "focus_search", "Search", priority=True),
        Binding("n", "next_unread", "Next unread"),
        Binding("u", "view('unread')", "Unread view"),
        Binding("f", "view('starred')", "Starred view", show=False),
        Binding("a", "view('all')", "All papers", show=False),
        Binding("A", "mark_all_read", "Mark shown read", show=False),
        Binding("z,ctrl+z", "undo", "Undo"),
        Binding("Z", "redo", "Redo", show=False),
        Binding("J", "scroll_preview(4)", "Preview down", show=False),
        Binding("K", "scroll_preview(-4)", "Preview up", show=False),
        Binding("ctrl+y", "accept_suggestion", "Accept did-you-mean", show=False),
        Binding("o", "open_link", "Open link", show=False),
        Binding("y", "copy_title", "Copy title", show=False),
        Binding("Y", "copy_link", "Copy link", show=False),
        Binding("S", "cycle_sort", "Sort", show=False),
        Binding("e", "export", "Export", show=False),
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
        self.view = "all"  # all, unread or starred: what u, f and a switch between
        self.tag: str | None = None
        self.list_sort = "published"
        self.search_sort = "relevance"
        self.terms: frozenset[tuple[str, str]] = frozenset()
        self.undo_stack: list[UndoStep] = []
        self.redo_stack: list[UndoStep] = []
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
        self.suggestion: str | None = None
        self._known_seq: int | None = None
        self._pending: dict[str, tuple[Timer, Callable[[], object]]] = {}

    def notify(self, message: str, *, markup: bool = False, **kwargs) -> None:  # type: ignore[override]
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
        self._in_use = InUse(self.desk.library_path)
        self._in_use.acquire()
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
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

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width, event.size.height)

    def _layout_for(self, width: int, height: int) -> None:
        self.set_class(width < NARROW_WIDTH, "-narrow")
        self.set_class(height < 20, "-short")

    # --- loading the list --------------------------------------------------------------

    def _composed_query(self, typing: bool = False) -> str:
        text = q.as_you_type(self.query_text) if typing else self.query_text
        parts = [f"({text})"] if text.strip() else []
        if self.view != "all":
            parts.append(f"is:{self.view}")
        if self.tag:
            parts.append(f"tag:{self.tag}")
        return " ".join(parts)

    @property
    def _typing(self) -> bool:
        """The search bar has focus: its last word is still being typed."""
        return self.focused is not None and self.focused.id == "search"

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
                tree = parse_query(self.query_text)  # a problem is reported against what was typed
                scored = q.has_scored_words(tree)
                # A query that only filters (upvotes:>=5, is:starred) keeps the list's order.
                sort = self.search_sort if scored else self.list_sort
                composed = self._composed_query(typing=self._typing)
                results = self.desk.search_ids(
                    composed, sort=sort if sort in SEARCH_SORTS else "relevance"
                )
                ids, terms = results.ids, results.terms
                suggestion = _typed_part(results.suggestion, composed)
                if not scored and sort not in SEARCH_SORTS:  # by title or date added
                    wanted = set(ids)
                    ids = [pid for pid in self.desk.ids(sort=sort) if pid in wanted]
            else:
                flt = Filter(
                    starred=True if self.view == "starred" else None,
                    read=False if self.view == "unread" else None,
                    tag=self.tag,
                )
                if not self.loaded:
                    # Opening: paint the first screenful at once, then list the rest
                    # (a million IDs take about a second).
                    first = self.desk.ids(flt, self.list_sort, limit=FIRST_ROWS)
                    if len(first) == FIRST_ROWS:
                        self.call_from_thread(self._apply_first_rows, first)
                ids = self.desk.ids(flt, self.list_sort)
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
            counts = self.desk.counts()
            tags = self.desk.tag_counts()
            seq = self.desk.max_seq()
        except LibraryError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            return
        self.call_from_thread(self._apply_side, counts, tags, seq)

    def _apply_side(self, counts, tags, seq) -> None:
        external = self._missed_external or (self._known_seq is not None and seq > self._known_seq)
        grew = self._counted and counts.total != self.total
        self.total, self.unread, self.starred = counts.total, counts.unread, counts.starred
        self._counted = True
        self._known_seq = seq
        self._missed_external = False
        if external:  # another process's change that our own write's refresh found
            if grew:
                self.reload()
            self.paper_list.invalidate()
            self._show_current()
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
        if self.view != "all":
            parts.append(f"view: {self.view} only")
        if self.tag:
            parts.append(f"tag: {self.tag}")
        parts.append(f"sort: {self._sort_in_force()}")
        text = "  ·  ".join(parts)
        if self.query_problem:
            # The problem first, cut to what leaves the counts room on one line.
            room = max(20, self.size.width - len(text) - 14)
            problem = self.query_problem
            if len(problem) > room:
                problem = problem[: room - 1] + "…"
            text = f"[b]query:[/b] {escape(problem)}  ·  " + text
        elif self.suggestion:
            text = f"did you mean [b]{escape(self.suggestion)}[/b]? (ctrl+y)  ·  " + text
        self.query_one("#status", Static).update(text)

    def _sort_in_force(self) -> str:
        if not self.query_text.strip():
            return self.list_sort
        return self.search_sort if _ranks(self.query_text) else self.list_sort

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
        except OSError as error:  # a read-only or full disk: the app reads on regardless
            message = f"no start backup taken: {error.strerror or error}"
            self.call_from_thread(self.notify, message, severity="warning", timeout=10)

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
            self.desk.check_files()
        except LibraryError as error:
            if not self._refusal_shown:
                self._refusal_shown = True
                self.call_from_thread(self.notify, str(error), severity="error", timeout=30)
            return
        try:
            seq = self.desk.max_seq()
            if seq == self._known_seq:
                return
            total = self.desk.count()
        except LibraryError:
            return
        self.call_from_thread(self._external_change, seq, total)

    def _external_change(self, seq: int, total: int) -> None:
        self._known_seq = seq
        if self._counted and total > self.total:
            arrived = total - self.total
            self.notify(f"{arrived:,} new paper{'s' if arrived != 1 else ''}", timeout=4)
        if total != self.total:
            self.reload()
        self.paper_list.invalidate()
        self._show_current()
        self.refresh_side()
        self.sync_index()

    # --- the selected paper -----------------------------------------------------------------

    def _on_moved(self, paper_id: str | None, _index: int) -> None:
        """The cursor moved: runs inside the key's handler, so the list, the preview
        and the row left behind repaint in one frame.

        The paper left behind counts as read only if it stayed the previewed
        paper for ``read_after_seconds``: papers passed over in a burst of keys,
        or while the search bar has focus (each keystroke moves the results),
        are not read. Such a mark goes on the undo stack like any action."""
        if paper_id != self._visit:
            left, since = self._visit, self._visit_since
            if (
                left is not None
                and since is not None
                and self.settings.reads_on_move
                and not self._typing
                and self._clock() - since >= self.settings.read_after_seconds
            ):
                self._mark_read_after_viewing(left)
            self._visit = paper_id
            self._visit_since = self._clock()
        self._show_current()

    def _show_current(self) -> None:
        paper = self.paper_list.current
        if paper is None or paper.id != self._visit:
            self._visit = paper.id if paper else None
            self._visit_since = self._clock()
        self.preview.show(paper, self.terms)

    def _mark_read_after_viewing(self, paper_id: str) -> None:
        try:
            paper = self.desk.get(paper_id)
            if paper.read:
                return
            changed = self.desk.set_read([paper_id], True)
        except LibraryError as error:
            self.notify(str(error), severity="error")
            return
        if changed:
            self._remember(
                UndoStep(
                    "automatic read mark",
                    lambda: self.desk.set_read(changed, False),
                    lambda: self.desk.set_read(changed, True),
                    tuple(changed),
                    paper.title,
                )
            )
            self._after_write(changed)

    def _after_write(self, ids: Iterable[str]) -> None:
        """Show what was just written, then let the workers catch up."""
        own = self.desk.last_write_seq
        if own is not None and self._known_seq is not None:
            if own > self._known_seq + 1:
                # Another process wrote since we last looked: our own write must not
                # hide it (the poll waits for our count refresh, which would take the
                # counter as ours).
                self._missed_external = True
            self._known_seq = max(own, self._known_seq)
        fresh = self.desk.get_many(list(ids))
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
        self,
        label: str,
        apply: Callable[[], list[str]],
        revert: Callable[[], Iterable[str]] | None,
        title: str = "",
    ) -> None:
        try:
            changed = apply()
        except LibraryError as error:
            self.notify(str(error), severity="error", timeout=10)
            return
        if revert is not None and changed:
            self._remember(UndoStep(label, revert, apply, tuple(changed), title))
        self._after_write(changed)

    def _remember(self, step: UndoStep) -> None:
        """A new action: undoable, and what was undone can no longer be redone."""
        self.undo_stack.append(step)
        del self.undo_stack[:-100]
        self.redo_stack.clear()

    def action_toggle_star(self) -> None:
        paper = self._current_or_warn()
        if paper is None:
            return
        value = not paper.starred  # the opposite of what the user sees
        self._write(
            "star" if value else "unstar",
            lambda: self.desk.set_starred([paper.id], value),
            lambda: self.desk.set_starred([paper.id], not value),
            paper.title,
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
            paper.title,
        )
        if not value and paper.id == self._visit:
            # Marking unread is a decision: this visit no longer reads the paper,
            # whatever reloads or other terminals' changes come meanwhile.
            self._visit_since = None

    def action_edit_tags(self) -> None:
        paper = self._current_or_warn()
        if paper is None:
            return
        try:
            paper = self.desk.get(paper.id)  # the tags as they are now
            known = [tag for tag, _count in self.desk.tag_counts()]
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

            self._write("tag", apply, revert, paper.title)
            summary = ", ".join(
                [f"+{t}" for t in sorted(added)] + [f"-{t}" for t in sorted(removed)]
            )
            self.notify(f"Tags: {summary}", timeout=3)

        self.push_screen(TagEditor(paper.title, paper.tags, known), save)

    def action_undo(self) -> None:
        self._step(self.undo_stack, self.redo_stack, "Undid", "Nothing to undo.")

    def action_redo(self) -> None:
        self._step(self.redo_stack, self.undo_stack, "Redid", "Nothing to redo.")

    def _step(self, source: list[UndoStep], target: list[UndoStep], verb: str, empty: str):
        """Undo (or redo) the newest step: say what and on which paper, and show
        that paper when it is in the list."""
        if not source:
            self.notify(empty, timeout=2)
            return
        step = source.pop()
        action = step.revert if verb == "Undid" else step.redo
        try:
            changed = list(action()) if action is not None else []
        except LibraryError as error:
            self.notify(str(error), severity="error")
            return
        target.append(step)
        self._after_write(changed or step.ids)
        about = step.title or ""
        if len(step.ids) > 1:
            about = f"{len(step.ids):,} papers"
        elif step.ids and step.ids[0] in self.paper_list.ids:
            self.paper_list.cursor = self.paper_list.ids.index(step.ids[0])
        self.notify(f"{verb} {step.label}: {about}" if about else f"{verb} {step.label}", timeout=4)

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
            self._remember(
                UndoStep(
                    "mark all read",
                    lambda: self.desk.set_read(changed, False),
                    lambda: self.desk.set_read(changed, True),
                    tuple(changed),
                )
            )
        self.paper_list.invalidate()
        self._show_current()
        self.refresh_side()
        self.sync_index()
        self.notify(f"Marked {len(changed):,} papers read", timeout=3)

    # --- moving and filtering ------------------------------------------------------------------

    def action_next_unread(self) -> None:
        """The next unread paper below; past the last one, the first from the top."""
        papers = self.paper_list
        count = len(papers.ids)
        for step in range(1, count):
            index = (papers.cursor + step) % count
            paper = papers.paper(index)
            if paper is not None and not paper.read:
                if index < papers.cursor:
                    self.notify("No unread paper below: back to the first from the top.",
                                timeout=3)  # fmt: skip
                papers.cursor = index
                return
        self.notify("No other unread paper.", timeout=2)

    def _focus_now(self, widget) -> None:
        # Widget.focus() waits for the next loop turn; keys typed in the same
        # burst ("/grokking") would still go to the old widget. Focus at once.
        self.screen.set_focus(widget)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "edit_tags" and self.screen is not self.screen_stack[0]:
            return False  # a priority binding: not over the help or a dialog
        if action in ("focus_search", "edit_tags") and isinstance(self.focused, Input):
            # A "/" typed in a text field goes to it with the keys around it, in
            # order (run here, it jumped ahead of the keys still queued there).
            return False
        return True

    def action_focus_search(self) -> None:
        if self.screen is self.screen_stack[0]:
            self._focus_now(self.query_one("#search", Input))

    @on(Input.Changed, "#search")
    def _on_search_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.reload(debounce=SEARCH_DEBOUNCE_S)

    @on(Input.Submitted, "#search")
    def _on_search_submitted(self, event: Input.Submitted) -> None:
        self.query_text = event.value
        self._focus_now(self.paper_list)  # first: the query is then read as ended
        self.reload()

    def action_accept_suggestion(self) -> None:
        """Search for the did-you-mean instead of what was typed."""
        if not self.suggestion:
            self.notify("No suggestion to accept.", timeout=2)
            return
        search = self.query_one("#search", Input)
        with search.prevent(Input.Changed):
            search.value = self.suggestion
        self.query_text = self.suggestion
        self.notify(f"Searching for {self.suggestion}", timeout=2)
        self.reload()

    def action_scroll_preview(self, lines: int) -> None:
        """Scroll the preview from the list, keeping the focus where it is."""
        self.preview.scroll_relative(y=lines, animate=False)

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
        keep = self.paper_list.current_id  # the paper the user was on stays selected
        with search.prevent(Input.Changed):
            search.value = ""
        self.query_text = ""
        self._focus_now(self.paper_list)
        self.reload(keep=keep)

    def action_view(self, view: str) -> None:
        """u, f and a: the unread papers, the starred papers, or all of them.
        Pressing u or f again goes back to all papers. a also clears the search
        and the tag filter."""
        if view == "all":
            self.tag = None
            search = self.query_one("#search", Input)
            with search.prevent(Input.Changed):
                search.value = ""
            self.query_text = ""
            self.refresh_side()
        self.view = "all" if view == self.view else view
        self.notify(f"Showing {'all papers' if self.view == 'all' else self.view + ' papers'}",
                    timeout=2)  # fmt: skip
        self.reload()

    @on(TagPanel.Chosen)
    def _on_tag_chosen(self, event: TagPanel.Chosen) -> None:
        self.tag = event.tag
        self.reload()
        self._focus_now(self.paper_list)

    def action_cycle_sort(self) -> None:
        if self.query_text.strip() and self._sort_in_force() == self.search_sort:
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
        return paper, link_for(paper)

    def action_open_link(self) -> None:
        if (found := self._current_link()) is None:
            return
        paper, link = found
        more = f" ({len(paper.links) - 1} more in the preview)" if len(paper.links) > 1 else ""
        self._open_in_browser(link, more)

    @work(thread=True, exclusive=True, group="browser")
    def _open_in_browser(self, link: str, more: str) -> None:
        if open_in_browser(link):
            self.call_from_thread(self.notify, f"Opened {link}{more}", timeout=3)
            return
        self.call_from_thread(self.copy_to_clipboard, link)
        self.call_from_thread(
            self.notify,
            f"No browser could be started here; copied the link instead: {link}",
            severity="warning",
            timeout=6,
        )

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
        self.push_screen(ExportDialog(query, Path.home(), self._write_export), self._exported)

    def _write_export(self, request: ExportRequest) -> int:
        """Write one export (in the dialog's worker); the number of papers."""
        from paperdesk import export as exporting

        try:
            papers, title = self.desk.select(request.query)
            document = exporting.render(
                papers,
                request.fmt,
                title=title,
                group_by=request.group_by,
                with_abstracts=request.with_abstracts,
            )
            write_atomic(request.path, document)
        except OSError as error:
            raise ExportFailed(f"cannot write {request.path}: {error.strerror or error}") from None
        except (LibraryError, QueryError) as error:
            raise ExportFailed(str(error)) from None
        return len(papers)

    def _exported(self, result: tuple[ExportRequest, int] | None) -> None:
        if result is not None:
            request, count = result
            papers = f"{count} paper{'s' if count != 1 else ''}"
            self.notify(f"Exported {papers} to {request.path}", timeout=6)

    def help_sections(self):
        return [
            ("Triage", list(self.BINDINGS)),
            ("Paper list", PaperList.BINDINGS),
            ("Preview (Tab to it)", Preview.BINDINGS),
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

    # --- where the user was, kept between runs --------------------------------------------------

    @property
    def _ui_state_path(self) -> Path:
        return self.desk.data_dir / UI_STATE_NAME

    def _restore_ui_state(self) -> str | None:
        """The view, tag filter and sorts of the last run; the paper to select."""
        try:
            data = json.loads(self._ui_state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        if data.get("view") in VIEWS:
            self.view = data["view"]
        if isinstance(data.get("tag"), str) and data["tag"]:
            self.tag = data["tag"]
        if data.get("list_sort") in LIST_SORTS:
            self.list_sort = data["list_sort"]
        if data.get("search_sort") in SEARCH_SORTS:
            self.search_sort = data["search_sort"]
        paper = data.get("paper")
        return paper if isinstance(paper, str) else None  # a paper gone is simply not found

    def _save_ui_state(self) -> None:
        state = {
            "view": self.view,
            "tag": self.tag,
            "list_sort": self.list_sort,
            "search_sort": self.search_sort,
            "paper": self._visit,  # the previewed paper (the widgets are gone by now)
        }
        try:
            self.desk.data_dir.mkdir(parents=True, exist_ok=True)
            write_atomic(self._ui_state_path, json.dumps(state, indent=2) + "\n")
        except OSError:
            pass  # where the user was is a convenience; never a reason to fail quitting

    def on_unmount(self) -> None:
        if self.loaded:
            self._save_ui_state()
        self._in_use.release()
        self.desk.close()


@lru_cache(maxsize=64)
def _ranks(query: str) -> bool:
    """Whether a query ranks by relevance (it has words), parsed once per text:
    the status line asks after every key."""
    try:
        return q.has_scored_words(parse_query(query))
    except QueryError:
        return True


def _typed_part(suggestion: str | None, composed: str) -> str | None:
    """A did-you-mean for the composed query ``(typed) is:unread ...`` as the
    user's own query: what stands between the first parentheses."""
    if not suggestion or not composed.startswith("("):
        return suggestion
    tail = composed[composed.rindex(")") + 1 :]
    if not suggestion.startswith("(") or not suggestion.endswith(")" + tail):
        return None
    return suggestion[1 : len(suggestion) - len(tail) - 1]


def link_for(paper: Paper) -> str:
    """Where ``o`` goes: the paper's first link, else its arXiv abstract page
    when an arXiv ID is known, else an arXiv search for its title."""
    if paper.links:
        for link in paper.links:
            if "arxiv.org/abs/" in link or "huggingface.co/papers/" in link:
                return link
        return paper.links[0]
    from urllib.parse import quote_plus

    title = quote_plus(" ".join(paper.title.split()))
    return f"https://arxiv.org/search/?searchtype=title&query={title}"


def open_in_browser(url: str) -> bool:
    """Open a URL in a graphical browser; False when none can be started here
    (no display: a text browser would take over the app's terminal)."""
    import webbrowser

    graphical = (
        sys.platform in ("darwin", "win32")
        or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        or bool(os.environ.get("BROWSER"))
    )
    if not graphical:
        return False
    try:
        return webbrowser.open(url, new=2)
    except webbrowser.Error:
        return False


def make_app(desk: Desk | None = None, settings: Settings | None = None, **kwargs) -> PaperdeskApp:
    """The app over a library: shared by the CLI, the tests and the screenshot script."""
    if settings is None:
        from paperdesk.settings import load

        settings, problems = load()
        if problems:
            kwargs.setdefault("banner", "; ".join(problems))
    return PaperdeskApp(desk or Desk(), settings, **kwargs)
