"""The library: papers and the user's state of them, the source of truth.

SQLite in WAL mode with a busy timeout, so the app and the CLI can both write.
Every write is one short ``BEGIN IMMEDIATE`` transaction that touches only the
columns it means to change: a state change never writes back a stale copy of
a paper, and an import never touches read, starred or tags.

Each write stamps the rows it changed with a new value of ``seq`` (a change
sequence). The search index remembers the last ``seq`` it applied and catches
up from there, which keeps it in step with writes made by any process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

try:  # POSIX: writers announce themselves to `paperdesk restore`
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from paperdesk.errors import BadInput, LibraryDamaged, LibraryError, UnknownPaper
from paperdesk.model import (
    ID_LENGTH,
    MIN_ID_PREFIX,
    Entry,
    Paper,
    Source,
    check_tag,
    id_of_normalised,
    normalise_tag,
    normalise_title,
)
from paperdesk.sorts import LIST_SORTS, checked
from paperdesk.state import Flag, PaperState, clamp_future, merge, now_stamp, paper_from_json

SCHEMA_VERSION = 4
# Versions whose files a read-only handle can read (3 and 4 only changed indexes).
READABLE_VERSIONS = (2, 3, 4)
BUSY_TIMEOUT_S = 10.0
_CHUNK = 500
JOURNAL_NAME = "decisions.jsonl"
# An import commits every this many entries (about 50 ms of work), so a
# decision never waits long for the write lock.
IMPORT_COMMIT_ENTRIES = 500
# Beside the library once it is found damaged: every process then refuses to
# write to it, not only the one that found the damage, until a restore.
REFUSAL_SUFFIX = ".damaged"
# Held shared by every write transaction (and by the open app); a restore takes
# it exclusively, so it never moves a library that something is writing.
IN_USE_SUFFIX = ".in-use"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS papers (
    id TEXT PRIMARY KEY,
    norm_title TEXT NOT NULL,
    title TEXT NOT NULL,
    abstract TEXT NOT NULL DEFAULT '',
    authors INTEGER,
    organization TEXT,
    published TEXT,
    published_raw TEXT,
    upvotes INTEGER,
    links TEXT NOT NULL DEFAULT '[]',
    read INTEGER NOT NULL DEFAULT 0,
    starred INTEGER NOT NULL DEFAULT 0,
    read_at TEXT,
    starred_at TEXT,
    first_seen TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS papers_seq ON papers(seq);
CREATE INDEX IF NOT EXISTS papers_published ON papers(published);
CREATE INDEX IF NOT EXISTS papers_upvotes ON papers(upvotes);
CREATE INDEX IF NOT EXISTS papers_unread ON papers(read) WHERE read = 0;
CREATE INDEX IF NOT EXISTS papers_starred ON papers(starred) WHERE starred = 1;
-- Covering indexes in the list's sort orders: the app's list of a million IDs
-- (and the unread/starred filters and counts) reads one of these, not the
-- table with its abstracts (1M papers: 4.6 s -> about 1 s).
CREATE INDEX IF NOT EXISTS papers_by_published
    ON papers(published IS NULL, published DESC, norm_title, id, read, starred);
CREATE INDEX IF NOT EXISTS papers_by_upvotes
    ON papers(upvotes IS NULL, upvotes DESC, published DESC, norm_title, id, read, starred);
-- (Version 4: the title and added orders too. 1M papers by title took 3.6 s warm
-- and 44 s from a cold disk, reading the table for each ID.)
CREATE INDEX IF NOT EXISTS papers_by_title ON papers(norm_title, id, read, starred);
CREATE INDEX IF NOT EXISTS papers_by_added ON papers(first_seen, id, read, starred);
CREATE TABLE IF NOT EXISTS tags (
    paper_id TEXT NOT NULL REFERENCES papers(id),
    tag TEXT NOT NULL,
    added_at TEXT,
    PRIMARY KEY (paper_id, tag)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_tag ON tags(tag);
CREATE TABLE IF NOT EXISTS tag_removals (
    paper_id TEXT NOT NULL REFERENCES papers(id),
    tag TEXT NOT NULL,
    removed_at TEXT,
    PRIMARY KEY (paper_id, tag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending_state (
    paper_id TEXT PRIMARY KEY,
    state TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    paper_id TEXT NOT NULL REFERENCES papers(id),
    file TEXT NOT NULL,
    page_date TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (paper_id, file, page_date)
) WITHOUT ROWID;
"""

# The SQL order of each of paperdesk.sorts.LIST_SORTS.
ORDER_BY = {
    "published": "p.published IS NULL, p.published DESC, p.norm_title",
    "upvotes": "p.upvotes IS NULL, p.upvotes DESC, p.published DESC, p.norm_title",
    "title": "p.norm_title",
    "added": "p.first_seen DESC, p.rowid DESC",
}

_SELECT = """
SELECT p.id, p.title, p.abstract, p.authors, p.organization, p.published,
       p.published_raw, p.upvotes, p.links, p.read, p.starred, p.first_seen,
       (SELECT group_concat(tag, char(31)) FROM
            (SELECT tag FROM tags WHERE paper_id = p.id ORDER BY tag)) AS tags,
       (SELECT json_group_array(json_array(file, page_date)) FROM
            (SELECT file, page_date FROM sources WHERE paper_id = p.id
             ORDER BY page_date, file)) AS sources
FROM papers AS p
"""


@dataclass(frozen=True)
class Filter:
    """Which papers a listing shows."""

    starred: bool | None = None
    read: bool | None = None
    tag: str | None = None
    tags: tuple[str, ...] = ()  # every one of these too

    def where(self) -> tuple[str, list[object]]:
        clauses: list[str] = []
        params: list[object] = []
        if self.starred is not None:
            clauses.append("p.starred = ?")
            params.append(int(self.starred))
        if self.read is not None:
            # "+": not through the partial index of unread papers (nearly all of
            # them, unsorted), so the sort order's covering index is scanned instead.
            clauses.append("+p.read = ?")
            params.append(int(self.read))
        for tag in dict.fromkeys(t for t in (self.tag, *self.tags) if t):
            clauses.append("p.id IN (SELECT paper_id FROM tags WHERE tag = ?)")
            params.append(normalise_tag(tag))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


@dataclass
class ImportStats:
    """What one import did to the library."""

    papers: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_ids: list[str] = field(default_factory=list)
    state_applied: int = 0  # new papers that got decisions kept for them (state import)


@dataclass
class StateImport:
    """What merging a state file did."""

    papers: int = 0
    updated: int = 0
    unchanged: int = 0
    pending: int = 0  # kept for papers the library does not have yet
    clamped: int = 0  # decisions stamped more than a day ahead, counted as made now
    changed_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Counts:
    total: int
    unread: int
    starred: int


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _row_to_paper(row: sqlite3.Row | tuple) -> Paper:
    (pid, title, abstract, authors, org, published, published_raw, upvotes, links, read,
     starred, first_seen, tags, sources) = row  # fmt: skip
    return Paper(
        pid,
        title,
        abstract,
        authors,
        org,
        date.fromisoformat(published) if published else None,
        published_raw,
        upvotes,
        () if links == "[]" else tuple(json.loads(links)),
        bool(read),
        bool(starred),
        tuple(tags.split("\x1f")) if tags else (),
        first_seen,
        _sources_of(sources or "[]"),
    )


@lru_cache(maxsize=4096)
def _sources_of(text: str) -> tuple[Source, ...]:
    """A paper's sources from their JSON. Papers of one page share it, so each
    distinct text is parsed once (a search reads 20 papers, a list many more)."""
    return tuple(Source(file, page_date or None) for file, page_date in json.loads(text))


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Library:
    """The user's library file. Thread-safe; one connection per instance."""

    def __init__(
        self,
        path: Path,
        *,
        create: bool = True,
        read_only: bool = False,
        announce: bool = True,
        anew: bool = False,
    ) -> None:
        self.path = path
        # A new library made on purpose where one was (a restore from the journal).
        self._anew = anew
        self._announce = announce  # False: the restore itself, which holds the lock
        self._create = create and not read_only
        self._read_only = read_only
        # Every decision is also appended to a small journal beside the library, so
        # a restore can bring back decisions made after the newest backup.
        self.journal_path = path.with_name(JOURNAL_NAME)
        self.journal_problem: str | None = None
        self.write_refusal: str | None = None
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        # The inodes of the library file and its write-ahead log this connection
        # writes to: if either changes under us (a restore moved the file, the
        # -wal was deleted), writing on would lose what is written.
        self._identity: tuple[int, int | None] | None = None
        self.last_write_seq: int | None = None

    # --- connection -------------------------------------------------------

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
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        try:
            if version == 1:
                # Version 2 keeps the time of every decision (read, star, each tag),
                # which merging state files needs. The old single stamp seeds them.
                for statement in (
                    "ALTER TABLE papers ADD COLUMN read_at TEXT",
                    "ALTER TABLE papers ADD COLUMN starred_at TEXT",
                    "ALTER TABLE tags ADD COLUMN added_at TEXT",
                    "UPDATE papers SET read_at = state_changed WHERE read = 1",
                    "UPDATE papers SET starred_at = state_changed WHERE starred = 1",
                    "UPDATE tags SET added_at = (SELECT state_changed FROM papers "
                    "WHERE papers.id = tags.paper_id)",
                ):
                    conn.execute(statement)
            if version < 4:  # replaced by covering indexes (papers_by_title, _added)
                conn.execute("DROP INDEX IF EXISTS papers_title")
                conn.execute("DROP INDEX IF EXISTS papers_first_seen")
            # executescript() would commit on its own; run the statements one by one.
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            # A library's identity lets derived data (the index) notice when the
            # file it was built from was replaced, by a restore for example.
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('library_id', ?)",
                (uuid.uuid4().hex,),
            )
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

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

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
            message = (
                f"the library {self.path} is damaged ({text}); it was left as it is and nothing "
                "more is written to it. `paperdesk restore` brings back the newest backup with "
                "every decision made since"
            )
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

    # --- reading ------------------------------------------------------------

    def _query(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        with self._lock:
            try:
                return self.conn.execute(sql, tuple(params)).fetchall()
            except sqlite3.DatabaseError as error:
                raise self._explain(error, "read") from None

    def resolve_id(self, prefix: str) -> str:
        """The full ID for an ID or a unique prefix of at least four characters."""
        wanted = prefix.strip().lower()
        if len(wanted) < MIN_ID_PREFIX:
            raise UnknownPaper(
                f"ID {prefix!r} is too short: give at least {MIN_ID_PREFIX} characters"
            )
        if len(wanted) > ID_LENGTH or not all(c in "0123456789abcdef" for c in wanted):
            raise UnknownPaper(f"no paper with ID {prefix!r}")
        rows = self._query(
            "SELECT id FROM papers WHERE id >= ? AND id < ? ORDER BY id LIMIT 3",
            (wanted, wanted + "g"),
        )
        if not rows:
            raise UnknownPaper(f"no paper with ID {prefix!r}")
        if len(rows) > 1:
            raise UnknownPaper(
                f"ID {prefix!r} is ambiguous: it starts "
                + ", ".join(row[0] for row in rows[:2])
                + (" and more" if len(rows) > 2 else "")
            )
        return rows[0][0]

    def get(self, paper_id: str) -> Paper:
        papers = self.get_many([paper_id])
        if not papers:
            raise UnknownPaper(f"no paper with ID {paper_id!r}")
        return papers[0]

    def get_many(self, ids: Sequence[str]) -> list[Paper]:
        """Papers by full ID, in the order given; unknown IDs are left out."""
        found: dict[str, Paper] = {}
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            for row in self._query(f"{_SELECT} WHERE p.id IN ({marks})", chunk):
                paper = _row_to_paper(row)
                found[paper.id] = paper
        return [found[pid] for pid in ids if pid in found]

    def papers(
        self,
        filter: Filter | None = None,
        sort: str = "published",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Paper]:
        where, params = (filter or Filter()).where()
        order = ORDER_BY[checked(sort, LIST_SORTS)]
        sql = f"{_SELECT}{where} ORDER BY {order} LIMIT ? OFFSET ?"
        rows = self._query(sql, [*params, -1 if limit is None else limit, offset])
        return [_row_to_paper(row) for row in rows]

    def ids(
        self, filter: Filter | None = None, sort: str = "published", limit: int | None = None
    ) -> list[str]:
        """Every matching ID in order (or the first ``limit``): a covering index makes
        this about 1 s for a million papers, the first screenful a millisecond."""
        where, params = (filter or Filter()).where()
        order = ORDER_BY[checked(sort, LIST_SORTS)]
        sql = f"SELECT p.id FROM papers AS p{where} ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params = [*params, limit]
        return [row[0] for row in self._query(sql, params)]

    def ids_with_titles(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        """(ID, title) of the first papers, by ID, whose ID starts with ``prefix``."""
        rows = self._query(
            "SELECT id, title FROM papers WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, prefix + "\uffff", limit),
        )
        return [(pid, title) for pid, title in rows]

    def count(self, filter: Filter | None = None) -> int:
        where, params = (filter or Filter()).where()
        return self._query(f"SELECT count(*) FROM papers AS p{where}", params)[0][0]

    def counts(self) -> Counts:
        total, unread, starred = self._query(
            "SELECT count(*), coalesce(sum(read = 0), 0), coalesce(sum(starred), 0) FROM papers"
        )[0]
        return Counts(total, unread, starred)

    def tag_counts(self) -> list[tuple[str, int]]:
        """Every tag with the number of papers carrying it, most used first."""
        rows = self._query("SELECT tag, count(*) AS n FROM tags GROUP BY tag ORDER BY n DESC, tag")
        return [(tag, n) for tag, n in rows]

    def library_id(self) -> str:
        return self._query("SELECT value FROM meta WHERE key = 'library_id'")[0][0]

    def max_seq(self) -> int:
        return self._query("SELECT coalesce(max(seq), 0) FROM papers")[0][0]

    def count_changed(self, after: int, upto: int) -> int:
        return self._query("SELECT count(*) FROM papers WHERE seq > ? AND seq <= ?", (after, upto))[
            0
        ][0]

    def changed_since(self, after: int, upto: int) -> list[Paper]:
        """Papers whose record or state changed in the seq range (after, upto]."""
        rows = self._query(
            f"{_SELECT} WHERE p.seq > ? AND p.seq <= ? ORDER BY p.seq", (after, upto)
        )
        return [_row_to_paper(row) for row in rows]

    def iter_all(self, batch: int = 2000) -> Iterator[Paper]:
        """Every paper, in ID batches, without holding them all in memory."""
        last = ""
        while True:
            rows = self._query(f"{_SELECT} WHERE p.id > ? ORDER BY p.id LIMIT ?", (last, batch))
            if not rows:
                return
            for row in rows:
                yield _row_to_paper(row)
            last = rows[-1][0]

    # --- the user's state ----------------------------------------------------

    def _set_flag(self, column: str, ids: Sequence[str], value: bool) -> list[str]:
        """Set read or starred; return the IDs whose value actually changed."""
        assert column in ("read", "starred")
        changed: list[str] = []
        with self._write() as conn:
            seq = self._next_seq(conn)
            stamp = now_stamp()
            for chunk in _chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"UPDATE papers SET {column} = ?, {column}_at = ?, seq = ? "
                    f"WHERE id IN ({marks}) AND {column} != ? RETURNING id",
                    (int(value), stamp, seq, *chunk, int(value)),
                ).fetchall()
                changed.extend(row[0] for row in rows)
        if changed:
            self._journal({"at": stamp, "set": column, "value": value, "ids": changed})
        return changed

    def set_read(self, ids: Sequence[str], read: bool = True) -> list[str]:
        return self._set_flag("read", ids, read)

    def set_starred(self, ids: Sequence[str], starred: bool = True) -> list[str]:
        return self._set_flag("starred", ids, starred)

    def add_tags(self, paper_id: str, tags: Iterable[str]) -> tuple[str, ...]:
        return self._change_tags(paper_id, add=_checked(tags))

    def remove_tags(self, paper_id: str, tags: Iterable[str]) -> tuple[str, ...]:
        return self._change_tags(paper_id, remove=tags)

    def set_tags(self, paper_id: str, tags: Iterable[str]) -> tuple[str, ...]:
        """Replace a paper's tags with exactly these."""
        wanted = set(_checked(t for t in tags if normalise_tag(t)))
        current = set(self.get(paper_id).tags)
        return self._change_tags(paper_id, add=wanted - current, remove=current - wanted)

    def _change_tags(
        self, paper_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> tuple[str, ...]:
        add_set = {normalise_tag(t) for t in add} - {""}
        remove_set = {normalise_tag(t) for t in remove} - {""}
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM papers WHERE id = ?", (paper_id,)).fetchone():
                raise UnknownPaper(f"no paper with ID {paper_id!r}")
            changes = 0
            stamp = now_stamp()
            added_tags: list[str] = []
            removed_tags: list[str] = []
            for tag in sorted(add_set):
                added = conn.execute(
                    "INSERT OR IGNORE INTO tags (paper_id, tag, added_at) VALUES (?, ?, ?)",
                    (paper_id, tag, stamp),
                ).rowcount
                if added:
                    conn.execute(
                        "DELETE FROM tag_removals WHERE paper_id = ? AND tag = ?", (paper_id, tag)
                    )
                    added_tags.append(tag)
                changes += added
            for tag in sorted(remove_set):
                removed = conn.execute(
                    "DELETE FROM tags WHERE paper_id = ? AND tag = ?", (paper_id, tag)
                ).rowcount
                if removed:
                    # Remember the removal, so merging an older state file does not
                    # bring the tag back.
                    conn.execute(
                        "INSERT OR REPLACE INTO tag_removals (paper_id, tag, removed_at) "
                        "VALUES (?, ?, ?)",
                        (paper_id, tag, stamp),
                    )
                    removed_tags.append(tag)
                changes += removed
            if changes:
                conn.execute(
                    "UPDATE papers SET seq = ? WHERE id = ?", (self._next_seq(conn), paper_id)
                )
            rows = conn.execute(
                "SELECT tag FROM tags WHERE paper_id = ? ORDER BY tag", (paper_id,)
            ).fetchall()
        if changes:
            self._journal({"at": stamp, "id": paper_id, "add": added_tags, "remove": removed_tags})
        return tuple(row[0] for row in rows)

    # --- decisions as data (state export and import) -------------------------

    def states(self) -> dict[str, PaperState]:
        """Every paper with a decision, and the decisions kept for papers not here yet."""
        with self._lock:
            conn = self.conn
            ids = [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM papers WHERE read = 1 OR starred = 1 "
                    "OR read_at IS NOT NULL OR starred_at IS NOT NULL "
                    "UNION SELECT paper_id FROM tags UNION SELECT paper_id FROM tag_removals"
                )
            ]
            result = _load_states(conn, ids)
            for pid, text in conn.execute("SELECT paper_id, state FROM pending_state"):
                result[pid] = paper_from_json(pid, json.loads(text))
        return result

    def import_state(self, incoming: dict[str, PaperState]) -> StateImport:
        """Merge decisions into the library in one transaction: the later one wins.

        Decisions about papers the library does not have are kept and applied
        when an import brings those papers.
        """
        incoming, clamped = clamp_future(incoming)
        result = StateImport(papers=len(incoming), clamped=clamped)
        ids = sorted(incoming)
        with self._write() as conn:
            seq = self._next_seq(conn)
            present: set[str] = set()
            for chunk in _chunks(ids):
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(f"SELECT id FROM papers WHERE id IN ({marks})", chunk)
                present.update(row[0] for row in rows)
            local = _load_states(conn, [pid for pid in ids if pid in present])
            journal: dict[str, object] = {}
            for pid in ids:
                if pid in present:
                    old = local.get(pid) or PaperState()
                    new = merge(old, incoming[pid])
                    if _write_state(conn, pid, old, new, seq):
                        journal[pid] = new.to_json()
                        result.updated += 1
                        result.changed_ids.append(pid)
                    else:
                        result.unchanged += 1
                    continue
                row = conn.execute(
                    "SELECT state FROM pending_state WHERE paper_id = ?", (pid,)
                ).fetchone()
                old = paper_from_json(pid, json.loads(row[0])) if row else PaperState()
                new = merge(old, incoming[pid])
                journal[pid] = new.to_json()
                conn.execute(
                    "INSERT OR REPLACE INTO pending_state (paper_id, state) VALUES (?, ?)",
                    (pid, json.dumps(journal[pid], ensure_ascii=False)),
                )
                result.pending += 1
        if journal:
            self._journal({"at": now_stamp(), "state": journal})
        return result

    def _apply_pending(self, conn: sqlite3.Connection, ids: Sequence[str], seq: int) -> int:
        """Apply the decisions kept for papers that an import has just brought."""
        applied = 0
        for chunk in _chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT paper_id, state FROM pending_state WHERE paper_id IN ({marks})", chunk
            ).fetchall()
            for pid, text in rows:
                _write_state(conn, pid, PaperState(), paper_from_json(pid, json.loads(text)), seq)
                conn.execute("DELETE FROM pending_state WHERE paper_id = ?", (pid,))
                applied += 1
        return applied

    # --- importing -------------------------------------------------------------

    def import_entries(
        self,
        entries: Sequence[Entry],
        source_file: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> ImportStats:
        """Merge one dump's entries into the library (see import_stream)."""
        return self.import_stream([entries], source_file, progress=progress)

    def import_stream(
        self,
        batches: Iterable[Sequence[Entry]],
        source_file: str,
        *,
        progress: Callable[[int, int], None] | None = None,
        check: Callable[[], None] | None = None,
    ) -> ImportStats:
        """Merge one dump's entries, arriving in batches, committed every
        IMPORT_COMMIT_ENTRIES entries: the write lock is free between them, so a
        decision made meanwhile (the app, another terminal) waits milliseconds,
        not for the whole import. An interrupted import keeps what it committed,
        every paper whole; importing the file again completes it.

        A paper seen in several batches is one paper, as within one batch. The
        batches may be produced while earlier ones are stored (a parser in
        another process). ``check`` (is this a dump at all?) runs before the
        first commit; if it raises, nothing is kept.
        """
        stats = ImportStats()
        run = _ImportRun(source_file)
        checked = check is None
        # An import needs atomic commits, not an fsync at each: in WAL mode a kill
        # leaves every commit whole, and only a power cut could undo the last
        # ones (run it again). State writes keep FULL.
        with self._lock, self._synchronous("NORMAL"):
            for entries in batches:
                total = len(entries)
                for start in range(0, max(total, 1), IMPORT_COMMIT_ENTRIES):
                    chunk = entries[start : start + IMPORT_COMMIT_ENTRIES]
                    with self._write() as conn:
                        # A change counter per commit: the index catches up on each,
                        # even when another process wrote between two of them.
                        run.seq = self._next_seq(conn)
                        run.store(conn, chunk)
                        if not checked:
                            check()  # type: ignore[misc]
                            checked = True
                        arrived = run.just_inserted
                        # Decisions kept for papers not yet imported, in the same commit
                        # as the papers: a kill never leaves one without the other.
                        if (
                            arrived
                            and conn.execute(
                                "SELECT EXISTS (SELECT 1 FROM pending_state)"
                            ).fetchone()[0]
                        ):
                            stats.state_applied += self._apply_pending(conn, arrived, run.seq)
                    if progress:
                        progress(start + len(chunk), total)
            if not checked:
                check()  # type: ignore[misc]
        stats.papers = len(run.seen)
        stats.new = len(run.inserted)
        stats.updated = len(run.updated)
        stats.unchanged = stats.papers - stats.new - stats.updated
        stats.changed_ids = [*run.inserted, *run.updated]
        return stats


class _ImportRun:
    """One import's bookkeeping across its batches (dicts keep first-seen order)."""

    def __init__(self, source_file: str) -> None:
        self.source_file = source_file
        self.seq = 0
        self.stamp = now_iso()
        self.seen: set[str] = set()
        self.inserted: dict[str, None] = {}
        self.updated: dict[str, None] = {}

    def store(self, conn: sqlite3.Connection, entries: Sequence[Entry]) -> None:
        merged = _merge_within_file(entries)
        self.seen.update(merged)
        self.just_inserted: list[str] = []
        existing = _load_existing(conn, list(merged))
        inserts: list[tuple] = []
        updates: list[tuple] = []
        new_sources: list[tuple[str, str, str]] = []
        for pid, (entry, page_dates, norm) in merged.items():
            sources = {(self.source_file, d) for d in page_dates}
            old = existing.get(pid)
            if old is None:
                inserts.append(
                    (pid, norm, entry.title, *_entry_fields(entry), self.stamp, self.seq)
                )
                new_sources.extend((pid, f, d) for f, d in sorted(sources))
                self.inserted[pid] = None
                self.just_inserted.append(pid)
                continue
            fields, old_sources = old
            merged_fields = _merge_fields(fields, entry)
            added_sources = sorted(sources - old_sources)
            if merged_fields != fields or added_sources:
                updates.append((*merged_fields, self.seq, pid))
                new_sources.extend((pid, f, d) for f, d in added_sources)
                if pid not in self.inserted:  # seen in an earlier batch: still new
                    self.updated[pid] = None
        inserts.sort()  # in key order, the B-trees grow at their ends: much faster
        new_sources.sort()
        batch = 5000
        for start in range(0, len(inserts), batch):
            conn.executemany(
                "INSERT INTO papers (id, norm_title, title, abstract, authors, organization, "
                "published, published_raw, upvotes, links, first_seen, seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                inserts[start : start + batch],
            )
        conn.executemany(
            "UPDATE papers SET abstract = ?, authors = ?, organization = ?, published = ?, "
            "published_raw = ?, upvotes = ?, links = ?, seq = ? WHERE id = ?",
            updates,
        )
        conn.executemany(
            "INSERT OR IGNORE INTO sources (paper_id, file, page_date) VALUES (?, ?, ?)",
            new_sources,
        )


# Fields an import may fill, in the order of the UPDATE above.
_MERGE_COLUMNS = (
    "abstract", "authors", "organization", "published", "published_raw", "upvotes", "links",
)  # fmt: skip


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


def _checked(tags: Iterable[str]) -> list[str]:
    """Tags a user gave, normalised; BadInput for an empty or over-long one."""
    try:
        return [check_tag(tag) for tag in tags]
    except ValueError as error:
        raise BadInput(str(error)) from None


def _merge_within_file(entries: Sequence[Entry]) -> dict[str, tuple[Entry, set[str], str]]:
    """One record per paper in a file: later sightings fill what earlier ones lacked.

    Maps each ID to (entry, page dates, normalised title).
    """
    merged: dict[str, tuple[Entry, set[str], str]] = {}
    for entry in entries:
        page_date = entry.page_date.isoformat() if entry.page_date else ""
        norm = normalise_title(entry.title)
        pid = id_of_normalised(norm)
        if pid in merged:
            first, dates, _ = merged[pid]
            fields = _merge_fields(_entry_fields(first), entry)
            merged[pid] = (_entry_with(first, fields), dates | {page_date}, norm)
        else:
            merged[pid] = (entry, {page_date}, norm)
    return merged


def _entry_fields(entry: Entry) -> tuple:
    return (
        entry.abstract,
        entry.authors,
        entry.organization,
        entry.published.isoformat() if entry.published else None,
        entry.published_raw,
        entry.upvotes,
        json.dumps(list(entry.links)),
    )


def _entry_with(entry: Entry, fields: tuple) -> Entry:
    abstract, authors, org, published, published_raw, upvotes, links = fields
    return Entry(
        title=entry.title,
        abstract=abstract,
        authors=authors,
        organization=org,
        published=date.fromisoformat(published) if published else None,
        published_raw=published_raw,
        upvotes=upvotes,
        links=tuple(json.loads(links)),
        line=entry.line,
        page_date=entry.page_date,
    )


def _merge_fields(old: tuple, entry: Entry) -> tuple:
    """Keep what the library has; fill what it lacks; upvotes only grow; links unite."""
    new = _entry_fields(entry)
    abstract = old[0] or new[0]
    authors = old[1] if old[1] is not None else new[1]
    org = old[2] or new[2]
    if old[3]:  # the library already has a date: keep it with its raw text
        published, published_raw = old[3], old[4]
    elif new[3]:
        published, published_raw = new[3], new[4]
    else:
        published, published_raw = None, old[4] or new[4]
    upvotes = max((v for v in (old[5], new[5]) if v is not None), default=None)
    links = json.loads(old[6])
    links.extend(link for link in entry.links if link not in links)
    return (abstract, authors, org, published, published_raw, upvotes, json.dumps(links))


def _load_existing(
    conn: sqlite3.Connection, ids: list[str]
) -> dict[str, tuple[tuple, set[tuple[str, str]]]]:
    existing: dict[str, tuple[tuple, set[tuple[str, str]]]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT id, {', '.join(_MERGE_COLUMNS)} FROM papers WHERE id IN ({marks})", chunk
        ):
            existing[row[0]] = (tuple(row[1:]), set())
        for pid, file, page_date in conn.execute(
            f"SELECT paper_id, file, page_date FROM sources WHERE paper_id IN ({marks})", chunk
        ):
            existing[pid][1].add((file, page_date))
    return existing


def _load_states(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, PaperState]:
    states: dict[str, PaperState] = {}
    for chunk in _chunks(list(ids)):
        marks = ",".join("?" * len(chunk))
        for pid, title, read, read_at, starred, starred_at in conn.execute(
            f"SELECT id, title, read, read_at, starred, starred_at FROM papers "
            f"WHERE id IN ({marks})",
            chunk,
        ):
            states[pid] = PaperState(
                read=Flag(bool(read), read_at), starred=Flag(bool(starred), starred_at), title=title
            )
        for pid, tag, at in conn.execute(
            f"SELECT paper_id, tag, added_at FROM tags WHERE paper_id IN ({marks})", chunk
        ):
            states[pid].tags[tag] = at
        for pid, tag, at in conn.execute(
            f"SELECT paper_id, tag, removed_at FROM tag_removals WHERE paper_id IN ({marks})", chunk
        ):
            states[pid].removed[tag] = at
    return states


def _write_state(
    conn: sqlite3.Connection, pid: str, old: PaperState, new: PaperState, seq: int
) -> bool:
    """Write the difference between two states of one paper; True if there was one."""
    changed = False
    for column in ("read", "starred"):
        before, after = getattr(old, column), getattr(new, column)
        if before != after:
            conn.execute(
                f"UPDATE papers SET {column} = ?, {column}_at = ? WHERE id = ?",
                (int(after.value), after.at, pid),
            )
            changed = True
    changed |= _write_tag_map(conn, "tags", "added_at", pid, old.tags, new.tags)
    changed |= _write_tag_map(conn, "tag_removals", "removed_at", pid, old.removed, new.removed)
    if changed:
        conn.execute("UPDATE papers SET seq = ? WHERE id = ?", (seq, pid))
    return changed


def _write_tag_map(
    conn: sqlite3.Connection,
    table: str,
    column: str,
    pid: str,
    before: dict[str, str | None],
    after: dict[str, str | None],
) -> bool:
    """Make one paper's rows of ``tags`` or ``tag_removals`` match ``after``."""
    changed = False
    for tag, at in after.items():
        if tag not in before or before[tag] != at:
            conn.execute(
                f"INSERT OR REPLACE INTO {table} (paper_id, tag, {column}) VALUES (?, ?, ?)",
                (pid, tag, at),
            )
            changed = True
    for tag in before.keys() - after.keys():
        conn.execute(f"DELETE FROM {table} WHERE paper_id = ? AND tag = ?", (pid, tag))
        changed = True
    return changed
