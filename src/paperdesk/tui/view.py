"""What the app shows: the view (all, unread or starred papers, a tag, a
search, the sorts), the list loaded for it, the paper under the cursor, the
status line, and where the user was when the app last closed.

Loading runs in a thread worker; everything it touches on screen is applied
back on the event loop. The layers above add the upkeep (``upkeep``) and the
commands (``commands``); ``app`` builds the app from them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App
from textual.markup import escape
from textual.widgets import Input, Static
from textual.worker import get_current_worker

from paperdesk import query as q
from paperdesk.atomic import write_atomic
from paperdesk.desk import Desk
from paperdesk.errors import SearchCancelled
from paperdesk.library import Filter, LibraryError
from paperdesk.model import Paper
from paperdesk.query import QueryError
from paperdesk.query import parse as parse_query
from paperdesk.settings import Settings
from paperdesk.sorts import LIST_SORTS, SEARCH_SORTS
from paperdesk.tui.widgets.paper_list import PaperList
from paperdesk.tui.widgets.preview import Preview
from paperdesk.tui.widgets.tag_panel import Day, TagPanel

SEARCH_DEBOUNCE_S = 0.12
# A ``keep`` no paper has: the list starts at its first row.
TOP = "\x00top"
FIRST_ROWS = 200  # listed first when the app opens, before the whole list
VIEWS = ("all", "unread", "starred")
UI_STATE_NAME = "ui-state.json"


class ViewState(App[None]):
    """The view and its list (see the module)."""

    desk: Desk
    settings: Settings
    query_text: str
    view: str
    tag: str | None
    list_sort: str
    search_sort: str
    terms: frozenset[tuple[str, str]]
    total: int
    unread: int
    starred: int
    loaded: bool
    query_problem: str | None
    query_hint: tuple[str, str] | None  # (the whole hint, its short form)
    suggestion: str | None
    learning: str | None
    day: Day | None  # the listing day shown (the per-day inbox), or None
    days: list[Day]  # every listing day, newest first (from the last count)
    saved: dict[str, str]  # the saved searches, name to query
    _visit: str | None
    _visit_since: float | None
    _clock: Callable[[], float]
    _first_rows: bool
    _counted: bool

    if TYPE_CHECKING:  # the upkeep and the commands, in the layers above

        def _start_side(self) -> None: ...
        def _settle_memory(self) -> None: ...
        def refresh_side(self) -> object: ...
        def retrain_interest(self) -> object: ...
        def _mark_read_after_viewing(self, paper_id: str) -> None: ...

    @property
    def paper_list(self) -> PaperList:
        return self.query_one("#papers", PaperList)

    @property
    def preview(self) -> Preview:
        return self.query_one("#preview", Preview)

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
            time.sleep(debounce)
            if worker.is_cancelled:
                return
        problem = None
        suggestion = None
        hint = None
        terms: frozenset[tuple[str, str]] = frozenset()
        try:
            if self.query_text.strip():
                tree = parse_query(self.query_text)  # a problem is reported against what was typed
                scored = q.has_scored_words(tree)
                # A query that only filters (upvotes:>=5, is:starred) keeps the list's order.
                sort = self.search_sort if scored else self.list_sort
                composed = self._composed_query(typing=self._typing)
                results = self.desk.search_ids(
                    composed,
                    sort=sort if sort in SEARCH_SORTS else "relevance",
                    # typing on cancels this worker: the search stops at its next term
                    cancelled=lambda: worker.is_cancelled,
                )
                ids, terms = results.ids, results.terms
                suggestion = _typed_part(results.suggestion, composed)
                finished = _finished_words(self.query_text, self._typing)
                # The whole hint where the status line has room for it, else its short form.
                pairs = zip(q.hints(finished), q.hints(finished, short=True), strict=True)
                hint = next(pairs, None)
                if not scored and sort not in SEARCH_SORTS:  # by title or date added
                    wanted = set(ids)
                    ids = [pid for pid in self.desk.ids(sort=sort) if pid in wanted]
            elif self.day is not None:  # one listing day, in its page order
                ids = self.desk.day_ids(self.day.day, self.day.file)
                flt = Filter(
                    starred=True if self.view == "starred" else None,
                    read=False if self.view == "unread" else None,
                    tag=self.tag,
                )
                if flt != Filter():
                    wanted = set(self.desk.ids(flt))
                    ids = [pid for pid in ids if pid in wanted]
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
        except SearchCancelled:
            return  # a newer search (the next letter typed) took its place
        except LibraryError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            self.call_from_thread(self._start_side)
            return
        if worker.is_cancelled:
            return
        self.call_from_thread(self._apply_ids, ids, terms, keep, problem, suggestion, hint)

    def _apply_first_rows(self, ids: list[str]) -> None:
        """The first screenful while the whole list loads; the full list keeps the
        cursor where the user has moved it meanwhile."""
        if self.loaded or self.paper_list.ids:
            return
        self._first_rows = True
        self.paper_list.set_ids(ids)
        self._update_status()
        self._start_side()

    def _apply_ids(self, ids, terms, keep, problem, suggestion, hint=None) -> None:
        self.query_problem = problem
        self.query_hint = hint
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
        if self.day is not None and not self.query_text.strip():
            parts.append(f"day: {self.day.label} (page order)")
        else:
            parts.append(f"sort: {self._sort_in_force()}")
        if self.learning:
            parts.append(self.learning)
        picked = len(self.paper_list.selected)
        if picked:
            keymap = self.settings.keymap
            acting = " ".join(keymap.first(n) for n in ("star", "read", "not_for_me", "tags"))
            parts.insert(
                0, f"[b]{picked:,} selected[/b] ({escape(acting)} act on them, Esc clears)"
            )
        text = "  ·  ".join(parts)

        def first(label: str, message: str, brief: str = "") -> str:
            # A message before the counts, cut to what leaves them room on one line
            # (its brief form instead, when it has one that fits).
            room = max(20, self.size.width - len(text) - 14)
            if len(message) > room and brief:
                message = brief
            if len(message) > room:
                message = message[: room - 1] + "…"
            return f"[b]{label}:[/b] {escape(message)}  ·  " + text

        if self.query_problem:
            text = first("query", self.query_problem)
        else:
            if self.suggestion:
                text = f"did you mean [b]{escape(self.suggestion)}[/b]? (ctrl+y)  ·  " + text
            if self.query_hint:
                text = first("hint", *self.query_hint)
        self.query_one("#status", Static).update(text)

    def _sort_in_force(self) -> str:
        if not self.query_text.strip():
            return self.list_sort
        return self.search_sort if _ranks(self.query_text) else self.list_sort

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

    def _current_or_warn(self) -> Paper | None:
        paper = self.paper_list.current
        if paper is None:
            self.notify("No paper selected.", severity="warning")
        return paper

    # --- moving and filtering ------------------------------------------------------------------

    def action_next_unread(self) -> None:
        """The next unread paper below; past the last one, the first from the top."""
        self._unread_step(1)

    def action_previous_unread(self) -> None:
        """The previous unread paper above; past the first, the last from the bottom."""
        self._unread_step(-1)

    def _unread_step(self, direction: int) -> None:
        papers = self.paper_list
        count = len(papers.ids)
        for step in range(1, count):
            index = (papers.cursor + direction * step) % count
            paper = papers.paper(index)
            if paper is not None and not paper.read:
                if direction > 0 and index < papers.cursor:
                    self.notify("No unread paper below: back to the first from the top.",
                                timeout=3)  # fmt: skip
                elif direction < 0 and index > papers.cursor:
                    self.notify("No unread paper above: on to the last from the bottom.",
                                timeout=3)  # fmt: skip
                papers.cursor = index
                return
        self.notify("No other unread paper.", timeout=2)

    def _focus_now(self, widget) -> None:
        # Widget.focus() waits for the next loop turn; keys typed in the same
        # burst ("/grokking") would still go to the old widget. Focus at once.
        self.screen.set_focus(widget)

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
            self.day = None
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
        self.day = None
        self.reload()
        self._focus_now(self.paper_list)

    # --- the per-day inbox and saved searches ----------------------------------------

    @on(TagPanel.DayChosen)
    def _on_day_chosen(self, event: TagPanel.DayChosen) -> None:
        self.show_day(event.day)

    def show_day(self, day: Day) -> None:
        """One listing day's papers in their page order (the search is cleared)."""
        self.day, self.tag = day, None
        search = self.query_one("#search", Input)
        with search.prevent(Input.Changed):
            search.value = ""
        self.query_text = ""
        self.notify(f"{day.label}: {day.unread:,} unread of {day.total:,}", timeout=3)
        self.reload(keep=TOP)  # a day starts at the top of its page
        self.refresh_side()
        self._focus_now(self.paper_list)

    def action_next_day(self, step: int) -> None:
        """] and [: the next (older) or previous (newer) day with unread papers."""
        days = self.days
        if not days:
            self.notify("No listing days yet: import or fetch a day's papers.", timeout=3)
            return
        keys = [d.key for d in days]
        if self.day is not None and self.day.key in keys:
            at = keys.index(self.day.key)
        else:  # no day shown: ] starts from the newest, [ from the oldest
            at = -1 if step > 0 else len(days)
        for index in range(at + step, len(days) if step > 0 else -1, step):
            if days[index].unread:
                self.show_day(days[index])
                return
        where = "older" if step > 0 else "newer"
        self.notify(f"No {where} day has unread papers.", timeout=3)

    @on(TagPanel.SavedChosen)
    def _on_saved_chosen(self, event: TagPanel.SavedChosen) -> None:
        self.open_saved(event.name)

    def action_open_saved(self, number: int) -> None:
        """1-9: the saved searches in the left pane's order."""
        names = list(self.saved)
        if not 1 <= number <= len(names):
            self.notify(
                f"No saved search {number}: save one with + on a search, or "
                "`paperdesk saved add NAME QUERY`.",
                timeout=4,
            )
            return
        self.open_saved(names[number - 1])

    def open_saved(self, name: str) -> None:
        query = self.saved.get(name)
        if query is None:
            return
        self.day, self.tag = None, None
        search = self.query_one("#search", Input)
        with search.prevent(Input.Changed):
            search.value = query
        self.query_text = query
        self.notify(f"Saved search {name}: {query}", timeout=3)
        self.reload(keep=TOP)
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
        if sort == "interest" and not self.desk.model_path.exists():
            # The first time: learn (in a worker), or say how many more decisions it needs.
            self.retrain_interest()
        self.reload()

    def action_toggle_tags_pane(self) -> None:
        self.toggle_class("-tags-hidden")

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


@lru_cache(maxsize=64)
def _ranks(query: str) -> bool:
    """Whether a query ranks by relevance (it has words), parsed once per text:
    the status line asks after every key."""
    try:
        return q.has_scored_words(parse_query(query))
    except QueryError:
        return True


def _finished_words(text: str, typing: bool) -> str:
    """The query without the word still being typed (no space after it yet):
    "and" on the way to "android" gets no hint."""
    if typing and text and not text[-1].isspace():
        return text[: len(text) - len(text.split()[-1])]
    return text


def _typed_part(suggestion: str | None, composed: str) -> str | None:
    """A did-you-mean for the composed query ``(typed) is:unread ...`` as the
    user's own query: what stands between the first parentheses."""
    if not suggestion or not composed.startswith("("):
        return suggestion
    tail = composed[composed.rindex(")") + 1 :]
    if not suggestion.startswith("(") or not suggestion.endswith(")" + tail):
        return None
    return suggestion[1 : len(suggestion) - len(tail) - 1]
