"""Automatic backups of the library, and bringing one back.

A backup is a whole copy of the library taken with SQLite's online backup API
(a consistent snapshot, even while the app or an import writes). paperdesk
takes one when the app starts and before every import or state import, but
only when the library changed since the newest backup; it keeps the newest
``KEEP``. Each copy is checked before it joins the rotation, so a damaged
library never pushes a good backup out.

A restore never deletes anything: the library it replaces is moved into the
backups directory, and the decisions that can still be read from it are merged
into the restored copy (the later decision wins), so a star made after the
newest backup survives too.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from paperdesk.errors import LibraryDamaged, LibraryError, damaged_message
from paperdesk.library import state
from paperdesk.library.files import IN_USE_SUFFIX, JOURNAL_NAME, REFUSAL_SUFFIX
from paperdesk.library.store import Library

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

KEEP = 8
_NAME = re.compile(r"^library-(\d{8}T\d{6}\d{3}Z)-([a-z-]+)\.sqlite3$")
_REPLACED = re.compile(r"^replaced-(\d{8}T\d{6}\d{3}Z)\.sqlite3$")


@dataclass(frozen=True)
class Backup:
    path: Path
    taken: datetime
    reason: str  # start, import, state-import, or replaced (the library a restore moved away)

    @property
    def name(self) -> str:
        return self.path.name

    def problem(self) -> str | None:
        """Why this backup cannot be restored, or None when it can (``check``)."""
        return check(self.path)

    def summary(self) -> Summary:
        return summarise(self.path)


@dataclass(frozen=True)
class Summary:
    papers: int
    read: int
    starred: int
    tagged: int


def _stamp(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp[:-4], "%Y%m%dT%H%M%S").replace(
        microsecond=int(stamp[-4:-1]) * 1000, tzinfo=UTC
    )


def list_backups(directory: Path) -> list[Backup]:
    """Every backup in the directory, newest first."""
    found: list[Backup] = []
    if not directory.is_dir():
        return found
    for path in directory.iterdir():
        if match := _NAME.match(path.name):
            found.append(Backup(path, _parse(match[1]), match[2]))
        elif match := _REPLACED.match(path.name):
            found.append(Backup(path, _parse(match[1]), "replaced"))
    return sorted(found, key=lambda b: b.taken, reverse=True)


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=10)


def _fingerprint(conn: sqlite3.Connection) -> tuple:
    """What changes whenever the library does: its identity, last change and size."""
    return (
        conn.execute("SELECT value FROM meta WHERE key = 'library_id'").fetchone()[0],
        conn.execute("SELECT coalesce(max(seq), 0), count(*) FROM papers").fetchone(),
        conn.execute("SELECT count(*) FROM tags").fetchone()[0],
    )


def check(path: Path) -> str | None:
    """None if the file is a readable, undamaged library; else what is wrong."""
    try:
        conn = _connect(path)
        try:
            rows = [row[0] for row in conn.execute("PRAGMA quick_check")]
            if rows != ["ok"]:
                lines = [
                    line.strip()
                    for row in rows
                    for line in row.splitlines()
                    if line.strip() and not line.startswith("***")
                ]
                more = f" and {len(lines) - 1} more problems" if len(lines) > 1 else ""
                return (lines[0] if lines else "quick_check failed") + more
            _fingerprint(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        return str(error)
    return None


def summarise(path: Path) -> Summary:
    conn = _connect(path)
    try:
        papers, read, starred = conn.execute(
            "SELECT count(*), coalesce(sum(read), 0), coalesce(sum(starred), 0) FROM papers"
        ).fetchone()
        tagged = conn.execute("SELECT count(DISTINCT paper_id) FROM tags").fetchone()[0]
    finally:
        conn.close()
    return Summary(papers, read, starred, tagged)


@dataclass(frozen=True)
class Lacking:
    """What a backup lacks that the library has now."""

    papers: int  # papers in the library that the backup does not have
    decisions: int  # decisions (read, star, each tag) about those papers
    sources: list[str]  # the files those papers came from, to import again


def compare(library_path: Path, backup_path: Path) -> Lacking | None:
    """What restoring this backup would leave out; None when the library cannot
    be read (missing or damaged: then there is nothing to compare with)."""
    if not library_path.exists() or check(library_path) is not None:
        return None
    conn = _connect(library_path)
    try:
        conn.execute("ATTACH DATABASE ? AS backup", (backup_path.resolve().as_uri() + "?mode=ro",))
        missing = "SELECT id FROM main.papers WHERE id NOT IN (SELECT id FROM backup.papers)"
        papers, decisions = conn.execute(
            f"SELECT count(*), coalesce(sum(read) + sum(starred), 0) FROM main.papers "
            f"WHERE id IN ({missing})"
        ).fetchone()
        decisions += conn.execute(
            f"SELECT count(*) FROM main.tags WHERE paper_id IN ({missing})"
        ).fetchone()[0]
        sources = [
            row[0]
            for row in conn.execute(
                f"SELECT DISTINCT file FROM main.sources WHERE paper_id IN ({missing}) "
                "ORDER BY file"
            )
        ]
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    return Lacking(papers, decisions, sources)


def take(library_path: Path, reason: str, directory: Path, keep: int = KEEP) -> Backup | None:
    """Back the library up unless the newest backup already holds exactly this state.

    Returns the new backup, or None when none was needed. Raises LibraryError
    when the library cannot be read or copied; the older backups are then kept.
    """
    if not library_path.exists():
        return None
    try:
        source = sqlite3.connect(library_path, timeout=10)
    except sqlite3.DatabaseError as error:  # pragma: no cover - connect is lazy in sqlite3
        raise LibraryError(f"cannot back up {library_path}: {error}") from None
    try:
        try:
            current = _fingerprint(source)
        except sqlite3.DatabaseError as error:
            raise LibraryDamaged(_damaged(library_path, str(error))) from None
        previous = next((b for b in list_backups(directory) if b.reason != "replaced"), None)
        if current[1][1] == 0 and previous is not None and _holds_papers(previous.path):
            # An empty library's copy would push a good backup out of the rotation.
            return None
        if previous is not None and _same(previous.path, current):
            # No copy needed, but the library is still checked: damage found now
            # stops the work that was about to write into it.
            problem = check(library_path)
            if problem:
                raise LibraryDamaged(_damaged(library_path, problem))
            return None
        directory.mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC)
        backup = Backup(directory / f"library-{_stamp(now)}-{reason}.sqlite3", now, reason)
        partial = backup.path.with_name(f".{backup.name}.partial")
        try:
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
                target.execute("PRAGMA journal_mode = DELETE")
            finally:
                target.close()
            problem = check(partial)
            if problem:
                raise LibraryDamaged(_damaged(library_path, problem))
            _fsync(partial)
            os.replace(partial, backup.path)
            _fsync_dir(directory)
        except (OSError, sqlite3.Error) as error:
            raise LibraryError(f"cannot write a backup into {directory}: {error}") from None
        finally:
            partial.unlink(missing_ok=True)
    finally:
        source.close()
    _rotate(directory, keep)
    return backup


def _holds_papers(path: Path) -> bool:
    try:
        return summarise(path).papers > 0
    except sqlite3.Error:
        return False


def _damaged(library_path: Path, problem: str) -> str:
    return damaged_message(library_path, problem)


def _same(path: Path, fingerprint: tuple) -> bool:
    try:
        conn = _connect(path)
        try:
            return _fingerprint(conn) == fingerprint
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False


def _rotate(directory: Path, keep: int) -> None:
    taken = [b for b in list_backups(directory) if b.reason != "replaced"]
    for old in taken[keep:]:
        old.path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - not every platform opens directories
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _use_lock_path(library_path: Path) -> Path:
    return library_path.with_name(library_path.name + IN_USE_SUFFIX)


class InUse:
    """A shared lock an open app holds on its library, so a restore can tell.

    A restore moves the library file away; an app still open on it would go on
    writing into the moved file. ``restore`` takes the lock exclusively and
    refuses while any app holds it.
    """

    def __init__(self, library_path: Path) -> None:
        self.path = _use_lock_path(library_path)
        self._handle: BinaryIO | None = None

    def acquire(self) -> None:
        if fcntl is None:  # pragma: no cover - not on this platform
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "a+b")  # noqa: SIM115 - held until release()
            fcntl.flock(self._handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            # Not being able to announce ourselves must never stop the app.
            self.release()

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


@contextlib.contextmanager
def _nobody_else(library_path: Path) -> Iterator[None]:
    if fcntl is None or not library_path.parent.exists():  # pragma: no cover
        yield
        return
    with open(_use_lock_path(library_path), "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LibraryError(
                "paperdesk is open on this library or writing to it (the app, or an import "
                "in another terminal?); let it finish or quit it, then run the restore again"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Restored:
    backup: Backup
    replaced: Path | None  # where the library that was replaced now is
    merged: int = 0  # papers whose newer decisions came back from the replaced library
    merge_problem: str | None = None  # why nothing could be merged from it, if so
    replayed: int = 0  # papers whose newer decisions came back from the journal
    journal_skipped: int = 0  # journal lines that could not be read


def restore(
    library_path: Path,
    backup: Backup,
    directory: Path,
    *,
    merge_newer: bool = True,
    before_swap: Callable[[], None] | None = None,
) -> Restored:
    """Put a backup in the library's place; the old library is moved aside, never deleted."""
    with _nobody_else(library_path):
        return _restore(library_path, backup, directory, merge_newer, before_swap)


def _restore(
    library_path: Path,
    backup: Backup,
    directory: Path,
    merge_newer: bool,
    before_swap: Callable[[], None] | None,
) -> Restored:
    problem = check(backup.path)
    if problem:
        raise LibraryError(f"the backup {backup.path} is damaged ({problem}); choose another")
    directory.mkdir(parents=True, exist_ok=True)
    incoming = library_path.with_name(f".{library_path.name}.restoring")
    try:
        source = _connect(backup.path)
        try:
            target = sqlite3.connect(incoming)
            try:
                source.backup(target)
            finally:
                target.close()
        finally:
            source.close()
        _fsync(incoming)
    except (OSError, sqlite3.Error) as error:
        incoming.unlink(missing_ok=True)
        raise LibraryError(f"cannot copy the backup {backup.path}: {error}") from None
    if before_swap:
        before_swap()
    replaced = _move_aside(library_path, directory)
    os.replace(incoming, library_path)
    # The library in place is a good copy: writing to it is allowed again.
    Path(f"{library_path}{REFUSAL_SUFFIX}").unlink(missing_ok=True)
    _fsync_dir(library_path.parent)
    result = Restored(backup, replaced)
    if merge_newer:
        with Library(library_path, announce=False) as library:
            if replaced is not None:
                result.merged, result.merge_problem = _merge_from(replaced, library)
            journal = library.journal_path
            if journal.exists():
                with open(journal, encoding="utf-8", errors="replace") as handle:
                    states, result.journal_skipped = state.replay(handle)
                changed = library.import_state(states)
                result.replayed = changed.updated
    return result


@dataclass
class Rebuilt:
    """A library rebuilt from the decision journal alone."""

    replaced: Path | None
    decisions: int  # papers with decisions, waiting for their papers
    journal_skipped: int


def _move_aside(library_path: Path, directory: Path) -> Path | None:
    """The library (if any) into the backups directory as replaced-*, never deleted."""
    if not library_path.exists():
        return None
    replaced = directory / f"replaced-{_stamp()}.sqlite3"
    # The WAL holds committed changes not yet in the main file: it moves with it.
    for suffix in ("", "-wal", "-shm"):
        side = Path(f"{library_path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{replaced}{suffix}"))
    return replaced


def restore_from_journal(library_path: Path, directory: Path) -> Rebuilt:
    """When no backup can be used: a new, empty library that holds every
    decision of the journal, kept until an import brings each paper back (as
    ``state import`` keeps them). The old library is moved aside, never deleted."""
    journal = library_path.with_name(JOURNAL_NAME)
    if not journal.exists():
        raise LibraryError(f"there is no decision journal ({journal}) to rebuild from")
    with open(journal, encoding="utf-8", errors="replace") as handle:
        lines = handle.readlines()
    states, skipped = state.replay(lines)
    saved = state.replay_saved(lines)
    with _nobody_else(library_path):
        directory.mkdir(parents=True, exist_ok=True)
        replaced = _move_aside(library_path, directory)
        Path(f"{library_path}{REFUSAL_SUFFIX}").unlink(missing_ok=True)
        with Library(library_path, announce=False, anew=True) as library:
            result = library.import_state(states)
            library.import_saved(saved)
    return Rebuilt(replaced, result.pending + result.updated, skipped)


def _merge_from(old: Path, library: Library) -> tuple[int, str | None]:
    """Merge what can be read of the replaced library's decisions into the restored one."""
    try:
        with Library(old, read_only=True) as damaged:
            states = damaged.states()
            saved = damaged.saved_searches(removed=True)
    except LibraryError:
        return 0, "it is damaged"
    except sqlite3.Error as error:
        return 0, str(error)
    library.import_saved(saved)
    return library.import_state(states).updated, None
