"""The app's upkeep: what follows the user's actions and other processes'.

The counts and the tags pane after a write, the search index (synced in a
child process, so a Whoosh commit never holds the keys), the backup taken
when the app opens, and the poll that notices another process's changes.
A burst of keys costs one refresh of each (``_soon``), not one per key.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Callable, Iterable

from textual import work
from textual.timer import Timer

from paperdesk.library import LibraryError
from paperdesk.tui.view import ViewState
from paperdesk.tui.widgets.tag_panel import Day, TagPanel

SIDE_DELAY_S = 0.15  # counts and tags after a write
INDEX_DELAY_S = 0.8  # the search index after a burst of writes
# A burst of decisions, then the interest model learns again (in a worker).
INTEREST_DELAY_S = 15.0


class Upkeep(ViewState):
    """The background upkeep of the view (see the module)."""

    _sync_problem: str | None  # the last sync problem said (set in the app)

    index_in_subprocess: bool
    freeze_gc: bool
    _side_started: bool
    _memory_settled: bool
    _missed_external: bool
    _refusal_shown: bool
    _tags: list[tuple[str, int]]
    saved_counts: dict[str, tuple[int, int]]
    _known_seq: int | None
    _pending: dict[str, tuple[Timer, Callable[[], object]]]

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
        self.load_interest()

    # --- interest -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="interest")
    def load_interest(self) -> None:
        """Read the saved interest model (its libraries take a second to load),
        then let the preview say why a paper scores as it does."""
        try:
            model = self.desk.interest_model()
        except Exception:  # noqa: BLE001 - without a model the preview says no why
            return
        if model is not None:
            self.call_from_thread(self._interest_ready)

    def _interest_ready(self) -> None:
        from paperdesk.interest import why_line

        self.preview.explain = lambda paper: why_line(self.desk.why(paper))
        self._show_current()

    @work(thread=True, exclusive=True, group="interest")
    def retrain_interest(self) -> None:
        """Learn the interest again after decisions (never on the key itself); a
        large library's rescoring shows its progress in the status line."""
        shown = -1

        def progress(done: int, total: int) -> None:
            nonlocal shown
            percent = done * 100 // max(total, 1)
            if percent != shown and done < total:
                shown = percent
                self.call_from_thread(self._learning, f"learning your interest {percent}%")

        self.call_from_thread(self._learning, "learning your interest…")
        try:
            line, model = self.desk.train_interest(progress)
        except Exception as error:  # noqa: BLE001 - the old scores stay
            self.call_from_thread(self._learning, None)
            self.call_from_thread(self.notify, f"interest not learned: {error}", severity="warning")
            return
        self.call_from_thread(self._retrained, line, model is not None)

    def _learning(self, text: str | None) -> None:
        self.learning = text
        self._update_status()

    def _retrained(self, line: str, learned: bool) -> None:
        self._learning(None)
        if learned:
            self._interest_ready()
            if self._sort_in_force() == "interest":
                self.reload(keep=self.paper_list.current_id)
            else:
                self.paper_list.invalidate()
        self.notify(line[0].upper() + line[1:], timeout=4)

    @work(thread=True, exclusive=True, group="side")
    def refresh_side(self) -> None:
        """Counts and the tags pane, read in a worker."""
        try:
            counts = self.desk.counts()
            tags = self.desk.tag_counts()
            seq = self.desk.max_seq()
            days = [Day(*row) for row in self.desk.days()]
            saved = self.desk.saved_searches()
        except LibraryError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            return
        self.call_from_thread(self._apply_side, counts, tags, seq, days, saved)
        if saved:
            self.count_saved(saved)

    @work(thread=True, exclusive=True, group="saved")
    def count_saved(self, saved: dict[str, str]) -> None:
        """The saved searches' unread and total counts (searches, in a worker: a
        key never waits for them)."""
        found: dict[str, tuple[int, int]] = {}
        for name, query in saved.items():
            try:
                found[name] = self.desk.search_counts(query)
            except Exception:  # noqa: BLE001 - a query this version cannot read: no count
                continue
        self.call_from_thread(self._apply_saved_counts, found)

    def _apply_saved_counts(self, found: dict[str, tuple[int, int]]) -> None:
        self.saved_counts = found
        self._fill_pane()

    def _fill_pane(self) -> None:
        counts = {name: self.saved_counts.get(name) for name in self.saved}
        self.query_one("#tags", TagPanel).set_tags(
            self._tags, self.total, self.tag, self.days, counts, self.day
        )

    def _day_progress(self, days: list[Day]) -> None:
        """When the day shown has just been finished, say so and offer the next."""
        if self.day is None:
            return
        now = next((d for d in days if d.key == self.day.key), None)
        before = self.day
        if now is None:
            return
        self.day = now
        if before.unread and not now.unread:
            older = [d for d in days[days.index(now) + 1 :] if d.unread]
            newer = [d for d in days[: days.index(now)] if d.unread]
            offer = (
                f"] for {older[0].label} ({older[0].unread:,} unread)"
                if older
                else f"[ for {newer[-1].label} ({newer[-1].unread:,} unread)"
                if newer
                else "every day is done"
            )
            self.notify(f"{now.label} is done: {offer}", timeout=6)

    def _apply_side(self, counts, tags, seq, days=None, saved=None) -> None:
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
        self._tags = tags
        if days is not None:
            self._day_progress(days)
            self.days = days
        if saved is not None:
            self.saved = saved
        self._fill_pane()
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

    # --- sync with the other machines ([sync] dir) ---------------------------------------

    def start_sync(self) -> None:
        """Sync on start and every few minutes, in a worker; on quit a detached
        child does it (``on_unmount``)."""
        folder = self.settings.sync.folder
        if folder is None:
            return
        self.set_timer(2.0, self.sync_now)
        self.set_interval(self.settings.sync.every_minutes * 60, self.sync_now)

    @work(thread=True, exclusive=True, group="sync")
    def sync_now(self) -> None:
        from paperdesk.sync import SyncError

        folder = self.settings.sync.folder
        if folder is None:
            return
        try:
            report = self.desk.sync(folder)
        except (SyncError, LibraryError) as error:
            self.call_from_thread(self._sync_failed, str(error))
            return
        self.call_from_thread(self._synced, report)

    def _sync_failed(self, message: str) -> None:
        if message != self._sync_problem:  # said once, not every few minutes
            self._sync_problem = message
            self.notify(f"Sync: {message}", severity="warning", timeout=10)

    def _synced(self, report) -> None:
        self._sync_problem = None
        for problem in report.damaged:
            self.notify(f"Sync: {problem}", severity="warning", timeout=8)
        if report.updated or report.saved:
            self.notify(
                f"Synced: {report.updated:,} paper{'s' if report.updated != 1 else ''} "
                "changed on your other machines",
                timeout=5,
            )
            self.paper_list.invalidate(report.changed_ids)
            self.reload()
            self.refresh_side()
            self.sync_index()

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
        if self.desk.model_path.exists():  # the user asked for a model once: keep it fresh
            self._soon("interest", INTEREST_DELAY_S, self.retrain_interest)

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
