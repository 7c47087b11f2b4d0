"""The app's commands: triage (star, read, tags, mark all read), undo and
redo, links, the clipboard and export. Each writes through ``Desk`` at once
and goes on the undo history (``undo``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from textual import work

from paperdesk.atomic import write_atomic
from paperdesk.errors import BadInput
from paperdesk.library import LibraryError
from paperdesk.model import Paper
from paperdesk.query import QueryError
from paperdesk.tui.screens.confirm import ConfirmScreen
from paperdesk.tui.screens.export_dialog import ExportDialog, ExportFailed, ExportRequest
from paperdesk.tui.screens.tag_editor import TagEditor
from paperdesk.tui.undo import History, UndoStep
from paperdesk.tui.upkeep import Upkeep


class Commands(Upkeep):
    """The user's commands (see the module)."""

    history: History

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
        self.history.remember(step)

    # --- the selection (the list's v, V, *): triage keys act on every paper picked ---

    def _on_selection(self) -> None:
        self._update_status()

    def _bulk(self, kind: str, tags: tuple[list[str], list[str]] | None = None) -> bool:
        """Act on the selection, if there is one (False: there is none). A flag key
        sets the flag on every picked paper, or clears it when all have it."""
        ids = self.paper_list.selected_ids
        if not ids:
            return False
        self._run_bulk(kind, ids, tags)
        return True

    @work(thread=True, exclusive=True, group="bulk")
    def _run_bulk(self, kind: str, ids: list[str], tags) -> None:
        from paperdesk.steps import VERBS, Step, act

        try:
            changes = []
            if tags is not None:
                added, removed = tags
                parts = []
                if added:
                    parts.append(act(self.desk, "tag", ids, tags=added))
                if removed:
                    parts.append(act(self.desk, "untag", ids, tags=removed))
                changes = [c for part in parts for c in part.changes]
                summary = ", ".join([f"+{t}" for t in added] + [f"-{t}" for t in removed])
                step = Step(f"tags {summary}", tuple(changes))
            else:
                papers = self.desk.get_many(ids)
                value = not all(getattr(p, kind) for p in papers)
                step = act(self.desk, kind, ids, value)
                step = Step(VERBS[(kind, value)][0], step.changes)  # "star", as z says it
        except LibraryError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=10)
            return
        self.call_from_thread(self._after_bulk, step, len(ids))

    def _after_bulk(self, step, picked: int) -> None:
        desk = self.desk
        if not step.empty:
            self._remember(
                UndoStep(step.label, lambda: step.undo(desk), lambda: step.redo(desk), step.ids)
            )
        self._refresh_written(list(step.ids))
        changed = len(step.ids)
        self.notify(
            f"{step.label[0].upper()}{step.label[1:]}: {changed:,} of the {picked:,} selected"
            if not step.empty
            else f"Nothing to change on the {picked:,} selected",
            timeout=4,
        )

    def _refresh_written(self, ids: list[str]) -> None:
        """After a write to many papers: a few are read again, many repaint afresh."""
        if len(ids) <= 2000:
            self._after_write(ids)
            return
        self._after_write([])
        self.paper_list.invalidate()
        self._show_current()

    def action_toggle_star(self) -> None:
        if self._bulk("starred"):
            return
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

    def action_not_for_me(self) -> None:
        """ "Not for me" (which also marks read), or taken back; undo restores
        the read mark it made."""
        if self._bulk("dismissed"):
            return
        paper = self._current_or_warn()
        if paper is None:
            return
        value = not paper.dismissed
        marked_read: list[str] = []

        def apply() -> list[str]:
            changed, read = self.desk.set_dismissed([paper.id], value)
            if value:
                marked_read[:] = read
            return changed

        def revert() -> list[str]:
            changed, _read = self.desk.set_dismissed([paper.id], not value)
            if value and marked_read:
                self.desk.set_read(marked_read, False)
            return changed

        self._write("not for me" if value else "take back not for me", apply, revert, paper.title)

    def action_mute_reason(self) -> None:
        """Mute what raises the current paper's interest the most: from now on it
        raises no paper (the model learns again; z takes the mute back)."""
        paper = self._current_or_warn()
        if paper is None:
            return
        raising = [name for name, value in self.desk.why(paper) if value > 0]
        if not raising:
            self.notify("Nothing raises this paper's interest to mute", timeout=3)
            return
        name = raising[0]
        before = self.desk.muted()

        def apply() -> list[str]:
            self.desk.set_muted(before | {name})
            self.retrain_interest()
            return [paper.id]

        def revert() -> list[str]:
            self.desk.set_muted(before)
            self.retrain_interest()
            return [paper.id]

        self._write(f"mute {name!r}", apply, revert, paper.title)
        self.notify(f"Muted {name!r}: it no longer raises any paper's interest", timeout=4)

    def action_toggle_read(self) -> None:
        if self._bulk("read"):
            return
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
        if self.paper_list.selected:
            self._edit_selection_tags()
            return
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
            added = set(self._tags_taken(sorted(set(tags) - before)))
            removed = before - set(tags)
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

    def _tags_taken(self, tags: list[str]) -> list[str]:
        """The typed tags the library takes; each refused one (over 64 characters)
        named in a message, the rest saved."""
        from paperdesk.model import check_tag

        taken = []
        for tag in tags:
            try:
                taken.append(check_tag(tag))
            except ValueError as error:
                self.notify(f"Tag not added: {error}", severity="warning", timeout=8)
        return taken

    def _edit_selection_tags(self) -> None:
        """t on a selection: the editor starts from the tags every picked paper
        has; what is added goes on all of them, what is taken out off all."""
        ids = self.paper_list.selected_ids
        try:
            papers = self.desk.get_many(ids)
            known = [tag for tag, _count in self.desk.tag_counts()]
        except LibraryError as error:
            self.notify(str(error), severity="error")
            return
        common = sorted(set.intersection(*(set(p.tags) for p in papers))) if papers else []

        def save(tags: list[str] | None) -> None:
            if tags is None:
                return
            added = self._tags_taken(sorted(set(tags) - set(common)))
            removed = sorted(set(common) - set(tags))
            if added or removed:
                self._run_bulk("tags", ids, (added, removed))

        title = f"{len(ids):,} selected papers"
        self.push_screen(TagEditor(title, tuple(common), known), save)

    def action_save_search(self) -> None:
        """+: save the search in the bar under a name (it joins the left pane)."""
        query = self.query_text.strip()
        if not query:
            self.notify("Type a search first (/), then + saves it.", timeout=3)
            return

        def save(name: str | None) -> None:
            if name is None:
                return
            try:
                existed = " ".join(name.split()) in self.saved
                changed = self.desk.save_search(name, query)
            except (BadInput, LibraryError) as error:
                self.notify(str(error), severity="error", timeout=6)
                return
            verb = "unchanged" if not changed else "replaced" if existed else "saved"
            self.notify(f"Search {verb}: {' '.join(name.split())}", timeout=3)
            self.refresh_side()

        from paperdesk.tui.screens.name_prompt import NamePrompt

        self.push_screen(NamePrompt("Save this search", query, query[:30]), save)

    def action_write_note(self) -> None:
        """The note editor for the paper under the cursor."""
        paper = self._current_or_warn()
        if paper is None:
            return
        try:
            before = self.desk.note(paper.id)
        except LibraryError as error:
            self.notify(str(error), severity="error")
            return
        saved = [before]  # the text as last saved, for each undo step

        def save(text: str) -> bool:
            old, new = saved[0], text

            def apply() -> list[str]:
                return [paper.id] if self.desk.set_note(paper.id, new) else []

            def revert() -> list[str]:
                self.desk.set_note(paper.id, old)
                return [paper.id]

            done = len(self.history.undoable)
            self._write("note", apply, revert, paper.title)
            if len(self.history.undoable) == done:
                return False  # unchanged, or the library refused it (said)
            saved[0] = new
            return True

        def leave(text: str | None) -> None:
            if text is not None and save(text):
                self.notify("Note saved" if text.strip() else "Note deleted", timeout=2)

        from paperdesk.tui.screens.note_editor import NoteEditor

        self.push_screen(NoteEditor(paper.title, before, save), leave)

    def action_undo(self) -> None:
        self._step(undo=True)

    def action_redo(self) -> None:
        self._step(undo=False)

    def _step(self, undo: bool) -> None:
        """Undo (or redo) the newest step: say what and on which paper, and show
        that paper when it is in the list."""
        verb = "Undid" if undo else "Redid"
        taken = self.history.take(undo)
        if taken is None:
            self.notify("Nothing to undo." if undo else "Nothing to redo.", timeout=2)
            return
        step, action = taken
        try:
            changed = list(action()) if action is not None else []
        except LibraryError as error:
            self.notify(str(error), severity="error")
            return
        self.history.done(step, undo)
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

    # --- fetching ---------------------------------------------------------------------------------

    def action_fetch(self) -> None:
        """Fetch what config.toml's [fetch] names, in a worker: keys stay live."""
        wanted = self.settings.fetch
        if not wanted.hf and not wanted.arxiv:
            self.notify("Nothing to fetch: config.toml's [fetch] turns every source off", timeout=6)
            return
        if any(w.group == "fetch" and w.is_running for w in self.workers):
            self.notify("A fetch is already running", timeout=3)
            return
        self.notify("Fetching new papers…", timeout=3)
        self._fetch()

    @work(thread=True, exclusive=True, group="fetch")
    def _fetch(self) -> None:
        from paperdesk.fetch import FetchError, check_categories

        wanted = self.settings.fetch

        def step(label: str) -> None:
            self.call_from_thread(self.notify, f"Fetching {label}…", timeout=2)

        reports = []
        try:
            if wanted.hf:
                reports += self.desk.fetch_hf(endpoint=wanted.hf_endpoint or None, progress=step)
            if wanted.arxiv:
                categories = check_categories(
                    [c for v in wanted.arxiv for c in v.replace("+", " ").split()]
                )
                step("arXiv " + " ".join(categories))
                reports.append(self.desk.fetch_arxiv(categories, base=wanted.arxiv_rss or None))
        except (FetchError, ValueError) as error:
            self.call_from_thread(
                self.notify, f"Fetch failed: {error}", severity="error", timeout=10
            )
        except LibraryError as error:
            self.call_from_thread(self.notify, str(error), severity="error", timeout=10)
        if reports:
            self.call_from_thread(self._fetched, reports)

    def _fetched(self, reports: list) -> None:
        new = sum(r.stats.new for r in reports if r.stats)
        updated = sum(r.stats.updated for r in reports if r.stats)
        where = ", ".join(
            f"{r.path}: {r.stats.new} new" for r in reports if r.stats and r.stats.papers
        )
        if new or updated:
            self.notify(
                f"Fetched {new:,} new paper{'s' if new != 1 else ''}, {updated:,} updated"
                + (f" ({where})" if where else ""),
                timeout=8,
            )
        else:
            self.notify("Fetched: nothing new", timeout=4)
        try:
            self._known_seq = self.desk.max_seq()
        except LibraryError:
            pass
        self.reload()
        self.refresh_side()
        self.sync_index()

    # --- links, clipboard, export ---------------------------------------------------------------

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
