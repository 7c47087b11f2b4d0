"""Importing papers: the merge rules and the import transaction.

A paper is one record however many pages and files it was seen on: its ID
comes from its normalised title. What the library has is kept, what it lacks
is filled, upvotes only grow, links unite (``merge_fields``); an import never
touches read, starred or tags. An import commits every IMPORT_COMMIT_ENTRIES
entries, so a decision made meanwhile waits milliseconds, and a kill keeps
every committed paper whole.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from paperdesk.library.decisions import Decisions
from paperdesk.library.files import chunks
from paperdesk.model import Entry, id_of_normalised, normalise_title

# Entries stored per commit of an import.
IMPORT_COMMIT_ENTRIES = 500


@dataclass
class ImportStats:
    """What one import did to the library."""

    papers: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_ids: list[str] = field(default_factory=list)
    state_applied: int = 0  # new papers that got decisions kept for them (state import)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Importing(Decisions):
    """The importing half of a ``Library``."""

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
            merged_fields = merge_fields(fields, entry)
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
            fields = merge_fields(_entry_fields(first), entry)
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


def merge_fields(old: tuple, entry: Entry) -> tuple:
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
    for chunk in chunks(ids):
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
