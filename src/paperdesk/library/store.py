"""The library: papers and the user's state of them, the source of truth.

``Library`` is one object over one SQLite file, built from its jobs, one
module each: the file and its write transaction (``files``), the schema and
migrations (``schema``), reading (``reading``), the user's decisions and
their journal (``decisions``), importing and the merge rules (``merge``).

Each write stamps the rows it changed with a new value of ``seq`` (a change
sequence). The search index remembers the last ``seq`` it applied and catches
up from there, which keeps it in step with writes made by any process.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from paperdesk.library.files import JOURNAL_NAME
from paperdesk.library.merge import Importing


class Library(Importing):
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

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
