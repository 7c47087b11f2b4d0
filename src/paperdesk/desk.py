"""The operations the CLI and the app share: one object over the library and its index.

A ``Desk`` owns a ``Library`` (the source of truth) and opens the search index
only when something needs it. After every write it brings the index up to
date, so search never lags behind what the user did.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from paperdesk import paths, state
from paperdesk.importers import dailypapers
from paperdesk.model import Entry, Paper
from paperdesk.processes import die_with_parent
from paperdesk.store import (
    Counts,
    Filter,
    ImportStats,
    Library,
    LibraryDamaged,
    LibraryError,
    StateImport,
)

if TYPE_CHECKING:
    from paperdesk.backups import Backup, Lacking, Rebuilt, Restored, Summary
    from paperdesk.search import Hit, SearchIndex, SearchResults

Progress = Callable[[int, int], None]
# Dumps larger than this are parsed in pieces, in worker processes, while storing.
LARGE_DUMP_CHARS = 8_000_000
PIECES_IN_FLIGHT = 3
T = TypeVar("T")


def _parse_workers() -> int:
    # The store waits on SQLite much of the time: parsing on every core pays.
    return max(1, min(4, os.cpu_count() or 1))


class _InProcess:
    """The pool's interface, parsing in this process (when forking is not safe)."""

    def __enter__(self) -> _InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, func, *args) -> Future:
        future: Future = Future()
        future.set_result(func(*args))
        return future


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # read_dump says why


def _with_last(items: Iterator[T]) -> Iterator[tuple[T, bool]]:
    """Each item, and whether it is the last."""
    previous = next(items, _NOTHING)
    while previous is not _NOTHING:
        item = next(items, _NOTHING)
        yield previous, item is _NOTHING  # type: ignore[misc]
        previous = item


_NOTHING = object()


def _parse_pool():
    """Worker processes for parsing, forked: no re-import, no main-module guard needed.

    Forking a process that runs other threads (the app) is unsafe; there the
    pieces are parsed in this process instead, still one at a time.
    """
    if threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return _InProcess()
    return ProcessPoolExecutor(
        max_workers=_parse_workers(),
        mp_context=multiprocessing.get_context("fork"),
        # A kill -9 of the import must not leave workers holding its files and pipes.
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


StageProgress = Callable[[str, int, int], None]
STDIN_NAME = "(standard input)"
# A decision command indexes its own papers and up to this many others' changes.
DECISION_INDEX_SLACK = 200
# Standard input is read whole (it cannot be streamed twice); a bigger dump goes in a file.
MAX_STDIN_BYTES = 256 * 2**20


def _source_name(path: Path) -> str:
    """Where a paper was seen, as the user can find it again: the file's full path
    (two ``daily.txt`` from different folders stay apart)."""
    try:
        return str(path.resolve())
    except OSError:
        return str(path.absolute())


SAMPLE_NAME = "sample_dailypapers.txt"
SAMPLE_YEAR = 2025


@dataclass
class FileReport:
    """The outcome of importing one file."""

    path: Path
    stats: ImportStats | None = None
    warnings: list[str] = field(default_factory=list)
    rejected: str | None = None

    @property
    def summary(self) -> str:
        if self.rejected:
            return f"{self.path}: rejected: {self.rejected}"
        assert self.stats is not None
        s = self.stats
        return (
            f"{self.path}: {s.papers} papers: {s.new} new, {s.updated} updated, "
            f"{s.unchanged} unchanged, {len(self.warnings)} warnings"
        )


def _looks_like_journal(text: str) -> bool:
    """JSON lines, each an object with "at": a decision journal, not a state file."""
    first = text.lstrip()[:200]
    return first.startswith('{"at"') or first.startswith('{"state"')


class Desk:
    """The user's library and search index, opened lazily."""

    def __init__(
        self, data_dir: Path | None = None, *, create: bool = True, read_only: bool = False
    ) -> None:
        self.data_dir = data_dir or paths.data_dir()
        self.library = Library(
            self.data_dir / paths.library_path().name, create=create, read_only=read_only
        )
        self._index = None
        self.notices: list[str] = []
        # The CLI keeps the index in step after every write. The app turns this
        # off and syncs in a worker, so a key press never waits for Whoosh.
        self.auto_sync_index = True

    @property
    def index_path(self) -> Path:
        return self.data_dir / "index"

    @property
    def backups_path(self) -> Path:
        return self.data_dir / paths.backups_dir().name

    def backup(self, reason: str):  # -> paperdesk.backups.Backup | None
        """Back the library up if it changed since the newest backup."""
        from paperdesk import backups

        try:
            return backups.take(self.library.path, reason, self.backups_path)
        except LibraryDamaged as error:
            # A damaged library is left exactly as it is, for the restore to use.
            self.library.refuse_writes(str(error))
            raise

    # --- backups and restore ---------------------------------------------------------

    def backups(self) -> list[Backup]:
        """The library's backups, newest first."""
        from paperdesk import backups

        return backups.list_backups(self.backups_path)

    def compare_with_backup(self, backup: Backup) -> Lacking | None:
        """What the library has that ``backup`` lacks (None if it cannot be read)."""
        from paperdesk import backups

        return backups.compare(self.library.path, backup.path)

    def summary(self) -> Summary:
        """How many papers the library holds, and how many are starred, tagged, read."""
        from paperdesk import backups

        return backups.summarise(self.library.path)

    def restore(self, backup: Backup, merge_newer: bool = True) -> Restored:
        """Put ``backup`` in the library's place (see ``backups.restore``)."""
        from paperdesk import backups

        self.close()
        return backups.restore(
            self.library.path, backup, self.backups_path, merge_newer=merge_newer
        )

    def restore_from_journal(self) -> Rebuilt:
        """A new library holding only the decision journal's decisions."""
        from paperdesk import backups

        self.close()
        return backups.restore_from_journal(self.library.path, self.backups_path)

    # --- the search index ----------------------------------------------------------

    @property
    def index(self) -> SearchIndex:
        if self._index is None:
            # Whoosh is imported only when the index is first needed: commands
            # that never search (list, star, locate) start faster without it.
            from paperdesk.search import SearchIndex

            self._index = SearchIndex(self.index_path, self.library, notice=self.notices.append)
        return self._index

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        self.library.close()

    def __enter__(self) -> Desk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sync_index(self, progress: Progress | None = None, wait: float | None = None) -> None:
        """Bring the index up to date with the library (cheap when it already is)."""
        self.index.sync(progress=progress, wait=wait)

    def rebuild_index(self, progress: Progress | None = None) -> int:
        """Build the index afresh from the library; how many papers it holds."""
        return self.index.rebuild(progress=progress)

    def update_index(self, progress: Progress | None = None) -> int:
        """Apply the library's changes to the index; how many papers changed."""
        return self.index.sync(progress=progress)

    # --- importing -----------------------------------------------------------

    def import_file(
        self,
        path: Path,
        *,
        year: int | None = None,
        progress: StageProgress | None = None,
    ) -> FileReport:
        """Parse one dump and merge it into the library as one transaction.

        ``progress`` is called with a stage ("parsing", "storing"), done and total.
        """
        report = FileReport(path)
        try:
            if _file_size(path) > LARGE_DUMP_CHARS:
                # Read piece by piece: memory stays at a few pieces, whatever the size.
                note, pieces = dailypapers.stream_pages(path)
                if note:
                    report.warnings.append(note)
                return self._import_pieces(report, pieces, year, progress, _file_size(path))
            text, note = dailypapers.read_dump(path)
        except dailypapers.DumpRejected as error:
            report.rejected = str(error)
            return report
        return self._import_text(
            report, text, note, year, dailypapers.file_year(path), _source_name(path), progress
        )

    def import_text(
        self,
        data: bytes,
        *,
        year: int | None = None,
        progress: StageProgress | None = None,
        name: str = STDIN_NAME,
    ) -> FileReport:
        """Import a dump given as bytes (standard input): the same checks as a file."""
        report = FileReport(Path(name))
        if len(data) > MAX_STDIN_BYTES:
            report.rejected = (
                f"is larger than {MAX_STDIN_BYTES // 2**20} MB; save it to a file and import that"
            )
            return report
        try:
            text, note = dailypapers.read_bytes(data)
        except dailypapers.DumpRejected as error:
            report.rejected = str(error)
            return report
        return self._import_text(report, text, note, year, None, name, progress)

    def _import_text(
        self,
        report: FileReport,
        text: str,
        note: str | None,
        year: int | None,
        fallback_year: int | None,
        source: str,
        progress: StageProgress | None,
    ) -> FileReport:
        def stage(name: str) -> Progress | None:
            return (lambda done, total: progress(name, done, total)) if progress else None

        try:
            result = dailypapers.parse(
                text, year=year, fallback_year=fallback_year, progress=stage("parsing")
            )
            del text  # a large dump's text is not needed any more
            dailypapers.check_is_dump(result)
        except dailypapers.DumpRejected as error:
            report.rejected = str(error)
            return report
        if note:
            report.warnings.append(note)
        report.warnings.extend(str(w) for w in result.warnings)
        report.stats = self.library.import_entries(
            result.entries, source, progress=stage("storing")
        )
        return report

    def _import_pieces(
        self,
        report: FileReport,
        pieces: Iterator[tuple[int, str]],
        year: int | None,
        progress: StageProgress | None,
        total: int,
    ) -> FileReport:
        """A large dump: parsed piece by piece in worker processes while the pieces
        already parsed are stored, all in one transaction. Memory stays bounded by
        a few pieces' entries, and parsing overlaps with SQLite's work."""
        path = report.path
        fallback = dailypapers.file_year(path)
        summary = dailypapers.ParseResult()
        counts = {"entries": 0, "plausible": 0}
        upcoming = _with_last(pieces)

        def batches() -> Iterator[list[Entry]]:
            done = 0
            with _parse_pool() as pool:
                waiting: deque = deque()

                def submit(piece: tuple[int, str], last: bool) -> None:
                    future = pool.submit(dailypapers.parse_piece, piece, year, fallback, last)
                    waiting.append((future, len(piece[1])))

                for piece, last in itertools.islice(upcoming, PIECES_IN_FLIGHT):
                    submit(piece, last)
                while waiting:
                    future, size = waiting.popleft()
                    result = future.result()
                    for piece, last in itertools.islice(upcoming, 1):
                        submit(piece, last)
                    summary.warnings.extend(result.warnings)
                    summary.page_dates.extend(result.page_dates)
                    summary.has_structure |= result.has_structure
                    counts["entries"] += len(result.entries)
                    counts["plausible"] += dailypapers.plausible_entries(result.entries)
                    yield result.entries
                    done += size
                    if progress:
                        progress("importing", min(done, total), total)
            if progress:
                progress("importing", total, total)  # sizes were in characters, total in bytes

        def check() -> None:
            dailypapers.check_is_dump(
                summary, entries=counts["entries"], plausible=counts["plausible"]
            )

        try:
            report.stats = self.library.import_stream(batches(), _source_name(path), check=check)
        except dailypapers.DumpRejected as error:
            report.rejected = str(error)
            return report
        except BrokenProcessPool:
            report.rejected = (
                "the parser process stopped unexpectedly (out of memory?); nothing was imported"
            )
            return report
        report.warnings.extend(str(w) for w in summary.warnings)
        return report

    # --- reading -----------------------------------------------------------------

    @property
    def library_path(self) -> Path:
        return self.library.path

    def paper(self, id_or_prefix: str) -> Paper:
        """The paper with this ID, or the one paper whose ID starts so (UnknownPaper)."""
        return self.library.get(self.library.resolve_id(id_or_prefix))

    def get(self, paper_id: str) -> Paper:
        return self.library.get(paper_id)

    def get_many(self, ids: Sequence[str]) -> list[Paper]:
        return self.library.get_many(ids)

    def papers(
        self, filter: Filter | None = None, sort: str = "published", limit: int | None = None
    ) -> list[Paper]:
        """The papers a filter selects, in one of ``sorts.LIST_SORTS``."""
        return self.library.papers(filter, sort=sort, limit=limit)

    def ids(
        self, filter: Filter | None = None, sort: str = "published", limit: int | None = None
    ) -> list[str]:
        return self.library.ids(filter, sort, limit=limit)

    def count(self, filter: Filter | None = None) -> int:
        return self.library.count(filter)

    def counts(self) -> Counts:
        return self.library.counts()

    def tag_counts(self) -> list[tuple[str, int]]:
        return self.library.tag_counts()

    def max_seq(self) -> int:
        """The library's change sequence: it moves on with every write."""
        return self.library.max_seq()

    @property
    def last_write_seq(self) -> int:
        """The sequence of this process's own last write (the app's own changes)."""
        return self.library.last_write_seq

    def check_files(self) -> None:
        """LibraryError when the library's files were replaced or removed under us."""
        self.library.check_files()

    # --- searching ---------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int | None = 20,
        sort: str = "relevance",
        with_highlights: bool = True,
        suggest: bool = True,
    ) -> SearchResults:
        """Papers matching a query in the query language, ranked (``paperdesk.search``)."""
        return self.index.search(
            query, limit=limit, sort=sort, with_highlights=with_highlights, suggest=suggest
        )

    def search_ids(self, query: str, *, sort: str = "relevance") -> SearchResults:
        """Every match's ID in order, without loading the papers."""
        return self.index.search_ids(query, sort=sort)

    def similar(self, paper: Paper, limit: int = 10) -> list[Hit]:
        return self.index.similar(paper, limit=limit)

    # --- selections ------------------------------------------------------------

    def select(self, query: str | None = None) -> tuple[list[Paper], str]:
        """The starred papers, or every paper matching a query, with a title for them."""
        if query is None:
            return self.library.papers(Filter(starred=True)), "Starred papers"
        results = self.index.search(query, limit=None, with_highlights=False, suggest=False)
        return [hit.paper for hit in results.hits], f"Papers matching: {query}"

    # --- the user's state -------------------------------------------------------

    def import_sample(self) -> FileReport:
        """Import the small sample dump that ships with paperdesk."""
        from importlib.resources import as_file, files

        with as_file(files("paperdesk.data") / SAMPLE_NAME) as path:
            return self.import_file(Path(path), year=SAMPLE_YEAR)

    def resolve(self, ids: Sequence[str]) -> list[str]:
        return [self.library.resolve_id(pid) for pid in ids]

    def resolve_id(self, id_or_prefix: str) -> str:
        """The full ID of the one paper whose ID is or starts with this (UnknownPaper)."""
        return self.library.resolve_id(id_or_prefix)

    def ids_with_titles(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        """(ID, title) of the first papers whose ID starts with ``prefix`` (completion)."""
        return self.library.ids_with_titles(prefix, limit)

    def set_starred(self, ids: Sequence[str], starred: bool = True) -> list[str]:
        changed = self.library.set_starred(ids, starred)
        self._after_state_change(changed)
        return changed

    def set_read(self, ids: Sequence[str], read: bool = True) -> list[str]:
        changed = self.library.set_read(ids, read)
        self._after_state_change(changed)
        return changed

    def add_tags(self, paper_id: str, tags: Sequence[str]) -> tuple[str, ...]:
        result = self.library.add_tags(paper_id, tags)
        self._after_state_change([paper_id])
        return result

    def remove_tags(self, paper_id: str, tags: Sequence[str]) -> tuple[str, ...]:
        result = self.library.remove_tags(paper_id, tags)
        self._after_state_change([paper_id])
        return result

    # --- decisions as data ---------------------------------------------------------

    def export_state(self) -> dict:
        """Every read, star and tag decision, as a state file's JSON."""
        return state.document(self.library.states())

    def import_state(self, path: Path) -> StateImport:
        """Merge a state file into the library: the later decision wins, nothing is dropped."""
        try:
            text = path.read_bytes().decode("utf-8-sig")
            if path.name.endswith(".jsonl") or _looks_like_journal(text):
                # A decision journal (decisions.jsonl, from this machine or another).
                incoming, _skipped = state.replay(text.splitlines())
            else:
                incoming = state.from_document(json.loads(text))
        except OSError as error:
            raise LibraryError(f"cannot read {path}: {error.strerror or error}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise LibraryError(f"{path} is not a JSON state file: {error}") from None
        except state.StateFileError as error:
            raise LibraryError(f"{path}: {error}") from None
        result = self.library.import_state(incoming)
        self._after_state_change(result.changed_ids)
        return result

    def _after_state_change(self, changed: Sequence[str]) -> None:
        # The library is already safe; the index only follows it. Keep it in step
        # when it exists, and never let an index problem undo the user's action.
        if self.library.journal_problem:
            self.notices.append(f"decision journal not written ({self.library.journal_problem})")
        if not self.auto_sync_index:
            return
        if changed and (self._index is not None or self.index_path.exists()):
            from paperdesk.search.index import SEARCH_LOCK_WAIT_S, IndexBusy, IndexDeferred

            try:
                # A decision returns once it is saved: it may index itself and a
                # few others, never wait for another process's work or a rebuild.
                self.index.sync(
                    wait=SEARCH_LOCK_WAIT_S,
                    at_most=len(changed) + DECISION_INDEX_SLACK,
                )
            except IndexDeferred:
                pass  # the next search catches up (it says so if it takes long)
            except IndexBusy:
                self.notices.append(
                    "search index not updated yet: another paperdesk is busy with it "
                    "(it catches up on the next search)"
                )
            except Exception as error:  # noqa: BLE001 - the index is derived data
                self.notices.append(f"search index not updated ({error}); it will catch up")


__all__ = ["Desk", "FileReport", "LibraryError"]
