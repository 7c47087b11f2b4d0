"""The library file: opening it, refusing what must not be written, writing.

SQLite in WAL mode with a busy timeout, so the app and the CLI can both write.
Every write is one short ``BEGIN IMMEDIATE`` transaction (``_write``), taken
under a shared lock that a restore waits on, and only after checking that the
files are still the library's. A damaged file is never written again (the
refusal is left beside it for every process); an emptied or missing file
where a library was is refused, never replaced by a new empty library; a
library on a read-only file system is read as it is.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

try:  # POSIX: writers announce themselves to `paperdesk restore`
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from paperdesk.errors import LibraryDamaged, LibraryError, damaged_message
from paperdesk.library.schema import (
    READABLE_VERSIONS,
    SCHEMA_VERSION,
    build_indexes,
    migrate,
    missing_indexes,
)

BUSY_TIMEOUT_S = 10.0
JOURNAL_NAME = "decisions.jsonl"
# An import commits every this many entries (about 50 ms of work), so a
# decision never waits long for the write lock.
# Beside the library once it is found damaged: every process then refuses to
# write to it, not only the one that found the damage, until a restore.
REFUSAL_SUFFIX = ".damaged"
# Held shared by every write transaction (and by the open app); a restore takes
# it exclusively, so it never moves a library that something is writing.
IN_USE_SUFFIX = ".in-use"
# Rows per statement when a list of IDs is passed to SQLite.
_CHUNK = 500


class LibraryFile:
    """The connection and the write transaction of a ``Library`` (see the module)."""

    path: Path
    journal_path: Path
    journal_problem: str | None
    write_refusal: str | None
    last_write_seq: int | None
    _anew: bool
    _announce: bool
    _create: bool
    _read_only: bool
    _conn: sqlite3.Connection | None
    _lock: threading.RLock
    _identity: tuple[int, int | None] | None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    @property
    def refusal_path(self) -> Path:
        return self.path.with_name(self.path.name + REFUSAL_SUFFIX)

    def _was_a_library(self) -> str | None:
        """What shows that this data directory held a library (its decision
        journal, its backups), or None for a directory never used."""
        try:
            if self.journal_path.stat().st_size > 0:
                return f"its decision journal {self.journal_path.name} is there"
        except OSError:
            pass
        backups = self.path.parent / "backups"
        if backups.is_dir() and any(backups.glob("library-*.sqlite3")):
            return "its backups are there"
        return None

    def _refuse_to_adopt(self, what: str) -> None:
        """A library file that is gone or empty where a library was: report it
        like damage, never start a new empty library over it."""
        evidence = None if self._anew else self._was_a_library()
        if evidence is None:
            return
        message = (
            f"the library file {self.path} {what}, but this data directory held a library "
            f"({evidence}). Nothing was written. `paperdesk restore` brings back the newest "
            "backup with every decision since; to start a new library instead, move "
            f"{self.journal_path.name} and backups/ out of {self.path.parent}"
        )
        raise LibraryDamaged(message)

    def _open(self) -> sqlite3.Connection:
        if not self._read_only and self.write_refusal is None:
            try:
                self.write_refusal = self.refusal_path.read_text(encoding="utf-8").strip() or None
            except OSError:
                pass
        if not self.path.exists():
            if not self._create:
                raise LibraryError(f"no library at {self.path}")
            self._refuse_to_adopt("is missing")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise LibraryError(
                    f"cannot create the data directory {self.path.parent}: "
                    f"{error.strerror or error}"
                ) from None
        try:
            conn = sqlite3.connect(
                self.path.resolve().as_uri() + "?mode=ro" if self._read_only else self.path,
                uri=self._read_only,
                timeout=BUSY_TIMEOUT_S,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0 and not self._read_only:
                self._check_new(conn)
            if self._read_only:
                if version not in READABLE_VERSIONS:
                    raise LibraryError(
                        f"{self.path} has library schema {version}, not {SCHEMA_VERSION}"
                    )
                return conn
            if version > SCHEMA_VERSION:
                raise LibraryError(
                    f"the library {self.path} was written by a newer paperdesk "
                    f"(schema {version}); upgrade paperdesk to open it"
                )
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            # A 64 MB page cache: large imports touch many index pages at once.
            conn.execute("PRAGMA cache_size = -65536")
            if version < SCHEMA_VERSION:
                self._migrate(conn)
            elif missing := missing_indexes(conn):
                # An import that builds them at its end was killed first.
                build_indexes(conn, missing)
        except sqlite3.DatabaseError as error:
            if not self._read_only and not _writable(self.path.parent):
                return self._open_where_nothing_can_be_written()
            if "unable to open" in str(error) or "disk I/O" in str(error):
                raise LibraryError(
                    f"cannot open the library {self.path} ({error}): is the disk full or "
                    "failing? The file itself was not touched"
                ) from None
            raise LibraryError(
                f"the library file {self.path} is damaged or not a paperdesk library "
                f"({error}); it was left untouched. `paperdesk restore` brings back a backup"
            ) from None
        return conn

    def _open_where_nothing_can_be_written(self) -> sqlite3.Connection:
        """A library on a read-only file system (or in a directory this user may
        not write): it is read as it is, and every write says why it cannot be."""
        self.write_refusal = (
            f"the library is in {self.path.parent}, where nothing can be written (a "
            "read-only file system or its permissions): paperdesk can read it, not change it"
        )
        try:
            # immutable: SQLite needs neither the -shm nor locks (nothing can change it).
            conn = sqlite3.connect(
                self.path.resolve().as_uri() + "?mode=ro&immutable=1",
                uri=True,
                isolation_level=None,
                check_same_thread=False,
            )
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise LibraryError(f"cannot read the library {self.path}: {error}") from None
        if version not in READABLE_VERSIONS:
            raise LibraryError(f"{self.path} has library schema {version}, not {SCHEMA_VERSION}")
        return conn

    def _check_new(self, conn: sqlite3.Connection) -> None:
        """A file without paperdesk's schema: new (then it becomes a library), or
        emptied where a library was, or another program's SQLite file (which
        is never written to)."""
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            conn.close()
            raise LibraryError(
                f"{self.path} is an SQLite file of another program, not a paperdesk library; "
                "it was left untouched. Point PAPERDESK_DATA_DIR elsewhere or move it away"
            )
        try:
            empty = self.path.stat().st_size == 0
        except OSError:
            empty = True
        if empty:
            try:
                self._refuse_to_adopt("is empty (0 bytes)")
            except LibraryDamaged:
                conn.close()
                raise

    def _migrate(self, conn: sqlite3.Connection) -> None:
        migrate(conn)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._identity = None

    def _inodes(self) -> tuple[int | None, int | None]:
        def inode(path: Path) -> int | None:
            try:
                return os.stat(path).st_ino
            except OSError:
                return None

        return inode(self.path), inode(Path(f"{self.path}-wal"))

    def check_files(self) -> None:
        """Refuse writes when the files this connection writes to are no longer the
        library's: the library was replaced, or its write-ahead log deleted. The
        app calls this as it polls; every write transaction does too."""
        if self.write_refusal:
            raise LibraryDamaged(self.write_refusal)
        if self._identity is None:
            return
        main, wal = self._inodes()
        known_main, known_wal = self._identity
        if main != known_main:
            self.write_refusal = (
                f"the library file {self.path} was replaced or removed while this paperdesk "
                "had it open (a restore?); nothing more is written through this window. "
                "Quit and start paperdesk again"
            )
        elif known_wal is not None and wal != known_wal:
            self.write_refusal = (
                f"the library's write-ahead log ({self.path.name}-wal) was deleted while "
                "paperdesk had it open: what is written now could be lost, so nothing more "
                f"is. Every decision is also in {self.journal_path.name}: quit, then run "
                "`paperdesk restore` to bring them all back"
            )
        if self.write_refusal:
            raise LibraryDamaged(self.write_refusal)

    @contextmanager
    def _announced(self) -> Iterator[None]:
        """Hold the in-use lock shared while writing, so a restore waits for no one
        and moves nothing mid-write."""
        if fcntl is None or self._read_only or not self._announce:
            yield
            return
        try:
            handle = open(self.path.with_name(self.path.name + IN_USE_SUFFIX), "a+b")  # noqa: SIM115
        except OSError:
            yield  # a read-only directory: SQLite reports why the write fails
            return
        try:
            deadline = time.monotonic() + BUSY_TIMEOUT_S
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise LibraryError(
                            "a restore of the library is under way; try again when it is done"
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            handle.close()

    def refuse_writes(self, reason: str) -> None:
        """From now on every write fails with this reason (the file was found
        damaged), in this process and in every other until a restore."""
        self.write_refusal = reason
        try:
            self.refusal_path.write_text(reason + "\n", encoding="utf-8")
        except OSError:
            pass  # a read-only directory: the refusal holds in this process

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once so no read-then-write race can happen."""
        with self._lock, self._announced():
            conn = self.conn  # opening reads a refusal another process left
            if self.write_refusal:
                raise LibraryDamaged(self.write_refusal)
            self.check_files()
            deadline = time.monotonic() + BUSY_TIMEOUT_S * 3
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error) or time.monotonic() > deadline:
                        raise self._explain(error) from None
                    time.sleep(0.05)
            if self._identity is None:
                main, wal = self._inodes()  # the -wal exists once a write has begun
                self._identity = (main, wal) if main is not None else None
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(error, sqlite3.DatabaseError):
                    raise self._explain(error) from None
                raise

    def _explain(self, error: sqlite3.DatabaseError, doing: str = "write") -> LibraryError:
        """A failure, said so that the user knows what to do. Nothing was changed."""
        text = str(error)
        where = f"cannot {doing} the library {self.path}"
        if "full" in text:
            return LibraryError(
                f"{where}: the disk is full. Nothing was changed; free some space and try again"
            )
        if "readonly" in text or "read-only" in text:
            return LibraryError(
                f"{where}: it is read-only. Check the permissions of {self.path.parent}"
            )
        if "locked" in text or "busy" in text:
            return LibraryError(f"the library is busy (another paperdesk is writing): {text}")
        if "malformed" in text or "not a database" in text or "corrupt" in text:
            message = damaged_message(self.path, text)
            self.refuse_writes(message)
            return LibraryDamaged(message)
        return LibraryError(f"{where}: {text}")

    def _journal(self, record: dict[str, object]) -> None:
        """Append one decision to the journal, durably; the library already has it."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        try:
            with open(self.journal_path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            self.journal_problem = None
        except OSError as error:
            # The decision is safe in the library; only its second copy is missing.
            self.journal_problem = f"cannot write {self.journal_path}: {error.strerror or error}"

    @contextmanager
    def _synchronous(self, level: str) -> Iterator[None]:
        self.conn.execute(f"PRAGMA synchronous = {level}")
        try:
            yield
        finally:
            self.conn.execute("PRAGMA synchronous = FULL")

    def _next_seq(self, conn: sqlite3.Connection) -> int:
        seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM papers").fetchone()[0]
        # The app compares it with the change counter it knew: a gap is another
        # process's write, which its own write must not hide.
        self.last_write_seq = seq
        return seq

    def _query(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self.conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.DatabaseError as error:
                raise self._explain(error, "read") from None


def chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _writable(directory: Path) -> bool:
    """Whether files can be made in a directory (os.access says yes to root on a
    read-only file system, so it is tried)."""
    try:
        probe = directory / f".paperdesk-probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
        return True
    except OSError:
        return False
