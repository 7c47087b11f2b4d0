"""The import pipeline: a dump (a file or standard input) into the library.

A dump is read (``dailypapers.read_dump``: its encoding, its size), parsed
(``dailypapers.parse``), checked to be a dump at all, and merged into the
library in commits (``Library.import_stream``). A dump larger than
LARGE_DUMP_CHARS is cut at page starts and parsed piece by piece in worker
processes while the pieces already parsed are stored: memory stays at a few
pieces whatever the size, and parsing overlaps with SQLite's work.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from paperdesk.importers import MAX_STDIN_BYTES, STDIN_NAME, dailypapers, formats
from paperdesk.model import Entry
from paperdesk.processes import die_with_parent

if TYPE_CHECKING:
    from paperdesk.library import ImportStats, Library

Progress = Callable[[int, int], None]
# Dumps larger than this are parsed in pieces, in worker processes, while storing.
LARGE_DUMP_CHARS = 8_000_000
PIECES_IN_FLIGHT = 3
# A file bringing more papers than the library holds, and at least this many,
# builds the library's sort indexes once at its end (Library.import_stream):
# below it, growing them costs less than building them again.
DEFER_INDEXES_FROM = 5_000
# A saved Daily Papers page holds about 1,700 bytes per paper (the shared
# samples and the generated dumps alike); a little more keeps the guess low.
BYTES_PER_PAPER = 2_048
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


def _source_name(path: Path) -> str:
    """Where a paper was seen, as the user can find it again: the file's full path
    (two ``daily.txt`` from different folders stay apart)."""
    try:
        return str(path.resolve())
    except OSError:
        return str(path.absolute())


@dataclass
class FileReport:
    """The outcome of importing one file."""

    path: Path
    stats: ImportStats | None = None
    warnings: list[str] = field(default_factory=list)
    rejected: str | None = None
    format: str = "dailypapers"

    @property
    def notes(self) -> list[str]:
        """What the import did beyond the summary: records merged, replacements skipped."""
        found = []
        if self.stats and self.stats.merged:
            n = self.stats.merged
            found.append(
                f"{n} record{'s' if n != 1 else ''} proved to be a paper already known: merged"
            )
        if self.stats and self.stats.skipped_updates:
            n = self.stats.skipped_updates
            found.append(
                f"{n} replacement{'s' if n != 1 else ''} (new versions) of papers not in the "
                "library skipped"
            )
        return found

    @property
    def summary(self) -> str:
        if self.rejected:
            return f"{self.path}: rejected: {self.rejected}"
        assert self.stats is not None
        s = self.stats
        warnings = len(self.warnings)
        return (
            f"{self.path}: {s.papers} paper{'' if s.papers == 1 else 's'}: {s.new} new, "
            f"{s.updated} updated, {s.unchanged} unchanged, "
            f"{warnings} warning{'' if warnings == 1 else 's'}"
        )


def _sniff(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return dailypapers.decode(handle.read(formats.SNIFF_CHARS))[0]
    except OSError:
        return ""  # read_dump says why


def import_file(
    library: Library,
    path: Path,
    *,
    year: int | None = None,
    progress: StageProgress | None = None,
    format: str | None = None,
) -> FileReport:
    """Parse one file of any format (told by its content unless ``format`` says)
    and merge it into the library.

    ``progress`` is called with a stage ("parsing", "storing"), done and total.
    """
    report = FileReport(path)
    try:
        large = _file_size(path) > LARGE_DUMP_CHARS
        if large and (format or formats.detect(_sniff(path))) == "dailypapers":
            # Read piece by piece: memory stays at a few pieces, whatever the size.
            note, pieces = dailypapers.stream_pages(path)
            if note:
                report.warnings.append(note)
            return _import_pieces(library, report, pieces, year, progress, _file_size(path))
        text, note = dailypapers.read_dump(path)
    except dailypapers.DumpRejected as error:
        report.rejected = str(error)
        return report
    return _import_text(
        library,
        report,
        text,
        note,
        year,
        dailypapers.file_year(path),
        _source_name(path),
        progress,
        format,
    )


def import_bytes(
    library: Library,
    data: bytes,
    *,
    year: int | None = None,
    progress: StageProgress | None = None,
    name: str = STDIN_NAME,
    format: str | None = None,
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
    return _import_text(library, report, text, note, year, None, name, progress, format)


def _import_text(
    library: Library,
    report: FileReport,
    text: str,
    note: str | None,
    year: int | None,
    fallback_year: int | None,
    source: str,
    progress: StageProgress | None,
    format: str | None = None,
) -> FileReport:
    def stage(name: str) -> Progress | None:
        return (lambda done, total: progress(name, done, total)) if progress else None

    try:
        if (format or formats.detect(text[: formats.SNIFF_CHARS])) != "dailypapers":
            report.format, result = formats.parse(text, format)
        else:
            result = dailypapers.parse(
                text, year=year, fallback_year=fallback_year, progress=stage("parsing")
            )
            dailypapers.check_is_dump(result)
        del text  # a large dump's text is not needed any more
    except dailypapers.DumpRejected as error:
        report.rejected = str(error)
        return report
    if note:
        report.warnings.append(note)
    report.warnings.extend(str(w) for w in result.warnings)
    report.stats = library.import_entries(
        result.entries,
        source,
        progress=stage("storing"),
        defer_indexes=_defer_indexes(library, len(result.entries)),
    )
    return report


def _defer_indexes(library: Library, papers: int) -> bool:
    """Whether an import of about ``papers`` should build the sort indexes at its
    end: a first import of a large collection, not a day added to a big library."""
    return papers >= DEFER_INDEXES_FROM and papers > library.count()


def _import_pieces(
    library: Library,
    report: FileReport,
    pieces: Iterator[tuple[int, str]],
    year: int | None,
    progress: StageProgress | None,
    total: int,
) -> FileReport:
    """A large dump: parsed piece by piece in worker processes while the pieces
    already parsed are stored, in commits. Memory stays bounded by
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
        dailypapers.check_is_dump(summary, entries=counts["entries"], plausible=counts["plausible"])

    try:
        report.stats = library.import_stream(
            batches(),
            _source_name(path),
            check=check,
            defer_indexes=_defer_indexes(library, total // BYTES_PER_PAPER),
        )
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
