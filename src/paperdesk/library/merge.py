"""Importing papers: identity, the merge rules and the import transaction.

A paper is one record however many pages, files and sources it was seen on.
Its identity is its arXiv ID when one is known anywhere, else its DOI, else
its normalised title; its ID (what users type) comes from the title it was
first seen with and never changes. A paper first known by title that later
arrives with an arXiv ID gets the ID; two records that prove to be one paper
are merged (``_absorb``): the decisions by the state merge rules, the fields
by ``merge_records``, and the ID that goes away stays an alias of the one that
stays. What the library has is kept, what it lacks is filled, counts only
grow, lists unite; an import never touches read, starred or tags. An import
commits every IMPORT_COMMIT_ENTRIES entries, so a decision made meanwhile
waits milliseconds, and a kill keeps every committed paper whole.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from paperdesk.library.decisions import Decisions, _load_states, _write_state
from paperdesk.library.files import chunks
from paperdesk.library.schema import build_indexes, drop_deferrable_indexes, missing_indexes
from paperdesk.library.state import merge
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
    ids: list[str] = field(default_factory=list)  # every paper of the file, in file order
    merged: int = 0  # records that proved to be one paper with another
    skipped_updates: int = 0  # replacements of papers the library does not have


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Importing(Decisions):
    """The importing half of a ``Library``."""

    def import_entries(
        self,
        entries: Sequence[Entry],
        source_file: str,
        progress: Callable[[int, int], None] | None = None,
        *,
        defer_indexes: bool = False,
    ) -> ImportStats:
        """Merge one dump's entries into the library (see import_stream)."""
        return self.import_stream(
            [entries], source_file, progress=progress, defer_indexes=defer_indexes
        )

    def import_stream(
        self,
        batches: Iterable[Sequence[Entry]],
        source_file: str,
        *,
        progress: Callable[[int, int], None] | None = None,
        check: Callable[[], None] | None = None,
        defer_indexes: bool = False,
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

        ``defer_indexes`` (a file larger than the library) drops the indexes the
        import does not read and builds them once at the end, sorted, instead of
        growing them by a random insert per paper; however the import ends, they
        are built, and a killed import's library builds them when next opened.
        """
        stats = ImportStats()
        run = _ImportRun(source_file)
        checked = check is None
        # An import needs atomic commits, not an fsync at each: in WAL mode a kill
        # leaves every commit whole, and only a power cut could undo the last
        # ones (run it again). State writes keep FULL.
        with self._lock, self._synchronous("NORMAL"), self._indexes_deferred(defer_indexes):
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
        stats.ids = list(run.seen)
        stats.papers = len(run.seen)
        stats.new = len(run.inserted)
        stats.updated = len(run.updated)
        stats.unchanged = stats.papers - stats.new - stats.updated
        stats.changed_ids = [*run.inserted, *run.updated]
        stats.merged = run.merged
        stats.skipped_updates = run.skipped_updates
        return stats

    @contextmanager
    def _indexes_deferred(self, defer: bool) -> Iterator[None]:
        if not defer:
            yield
            return
        with self._write() as conn:
            drop_deferrable_indexes(conn)
        try:
            yield
        finally:
            with self._write() as conn:
                build_indexes(conn, missing_indexes(conn))


# The fields an import may fill, in the order of the library's columns.
RECORD_FIELDS = (
    "abstract", "authors", "organization", "published", "published_raw", "upvotes", "links",
    "arxiv_id", "arxiv_version", "doi", "author_names", "categories", "comments", "keywords",
    "github_stars", "pdf", "published_precision",
)  # fmt: skip
_LISTS = frozenset({"links", "author_names", "categories", "keywords"})
_COUNTS = ("upvotes", "comments", "github_stars")  # they only grow
_COLUMNS = (*RECORD_FIELDS, "origins")


def entry_record(entry: Entry) -> dict:
    """One entry's fields as a record (lists as lists, the date as ISO text),
    with the origin of each field it has."""
    record: dict = {
        "abstract": entry.abstract,
        "authors": entry.authors
        if entry.authors is not None
        else (len(entry.author_names) or None),
        "organization": entry.organization,
        "published": entry.published.isoformat() if entry.published else None,
        "published_raw": entry.published_raw,
        "upvotes": entry.upvotes,
        "links": list(entry.links),
        "arxiv_id": entry.arxiv_id,
        "arxiv_version": entry.arxiv_version,
        "doi": entry.doi,
        "author_names": list(entry.author_names),
        "categories": list(entry.categories),
        "comments": entry.comments,
        "keywords": list(entry.keywords),
        "github_stars": entry.github_stars,
        "pdf": entry.pdf,
    }
    origin = entry.origin
    origins = {"title": origin}
    for name, value in record.items():
        if value is not None and value != "" and value != []:
            origins[name] = origin
    # NULL for a whole day (nearly every paper); it goes with the date, no origin of its own.
    partial = entry.published is not None and entry.published_precision != "day"
    record["published_precision"] = entry.published_precision if partial else None
    record["origins"] = origins
    return record


def merge_records(old: dict, new: dict) -> dict:
    """Two records of one paper as one: keep what ``old`` has, fill what it lacks;
    a newer arXiv version brings its abstract; counts only grow; lists unite.
    Each field that changed takes its origin from ``new``."""
    out = dict(old)
    newer = (new["arxiv_version"] or 0) > (old["arxiv_version"] or 0) and old["arxiv_id"]
    out["abstract"] = (
        new["abstract"] if new["abstract"] and (newer or not old["abstract"]) else old["abstract"]
    )
    out["authors"] = old["authors"] if old["authors"] is not None else new["authors"]
    out["organization"] = old["organization"] or new["organization"]
    if old["published"] and not _finer(new, old):
        pass  # the library already has a date: keep it with its raw text
    elif new["published"]:
        for name in ("published", "published_raw", "published_precision"):
            out[name] = new[name]
    else:
        out["published_raw"] = old["published_raw"] or new["published_raw"]
    for name in _COUNTS:
        out[name] = max((v for v in (old[name], new[name]) if v is not None), default=None)
    for name in ("links", "categories", "keywords"):
        out[name] = [*old[name], *(v for v in new[name] if v not in old[name])]
    for name in ("arxiv_id", "doi", "pdf"):
        out[name] = old[name] or new[name]
    if old["arxiv_version"] is not None or new["arxiv_version"] is not None:
        out["arxiv_version"] = max(v or 0 for v in (old["arxiv_version"], new["arxiv_version"]))
    out["author_names"] = old["author_names"] or new["author_names"]
    if out["authors"] is not None and out["author_names"]:
        out["authors"] = max(out["authors"], len(out["author_names"]))
    origins = dict(old["origins"])
    for name in RECORD_FIELDS:
        if out[name] != old[name] and name in new["origins"]:
            origins[name] = new["origins"][name]
    out["origins"] = origins
    return out


_PRECISION_RANK = {"year": 0, "month": 1, None: 2}  # None: the whole day


def _finer(new: dict, old: dict) -> bool:
    """Whether ``new``'s date tells more of ``old``'s: a month or a day in the year
    (or the month) that is all the library knew, as arXiv gives after a BibTeX
    ``year = {2024}``."""
    if not new["published"]:
        return False
    if _PRECISION_RANK[new["published_precision"]] <= _PRECISION_RANK[old["published_precision"]]:
        return False
    known = 4 if old["published_precision"] == "year" else 7
    return bool(new["published"][:known] == old["published"][:known])


def _to_row(record: dict) -> tuple:
    return tuple(
        (_list_json(record[name]) if name in _LISTS else _origins_json(record[name]))
        if name in _JSON
        else record[name]
        for name in _COLUMNS
    )


def _from_row(values: Sequence) -> dict:
    return {
        name: (
            (_list_of(value) if name in _LISTS else _origins_of(value)) if name in _JSON else value
        )
        for name, value in zip(_COLUMNS, values, strict=True)
    }


# Most lists are empty and most origins repeat (a file's papers have the same
# fields): a million papers are a million JSON texts to write, not to encode.
_JSON = _LISTS | {"origins"}


def _list_json(value: list) -> str:
    return json.dumps(value, ensure_ascii=False) if value else "[]"


def _list_of(text: str) -> list:
    return json.loads(text) if text != "[]" else []


def _origins_json(origins: dict[str, str]) -> str:
    return _origins_text(tuple(origins.items()))


@lru_cache(maxsize=1024)
def _origins_text(items: tuple[tuple[str, str], ...]) -> str:
    return json.dumps(dict(items), ensure_ascii=False)


@lru_cache(maxsize=1024)
def _origins_of(text: str) -> dict[str, str]:
    # Shared between records: merge_records copies before it changes one.
    return json.loads(text)


@dataclass
class _Group:
    """The entries of one file that are one paper, merged."""

    title: str
    norm: str
    record: dict
    page_dates: set[str]
    update_only: bool

    def keys(self) -> list[str]:
        found = []
        if self.record["arxiv_id"]:
            found.append("a:" + self.record["arxiv_id"])
        if self.record["doi"]:
            found.append("d:" + self.record["doi"])
        found.append("t:" + self.norm)
        return found


def _compatible(a: dict, b: dict) -> bool:
    """Could these two records be one paper? Not when they carry different arXiv
    IDs, nor different DOIs without a shared arXiv ID."""
    if a["arxiv_id"] and b["arxiv_id"]:
        return a["arxiv_id"] == b["arxiv_id"]
    return not (a["doi"] and b["doi"] and a["doi"] != b["doi"])


def _group(entries: Sequence[Entry]) -> list[_Group]:
    """One group per paper in a file: later sightings fill what earlier ones lacked."""
    groups: list[_Group] = []
    owner: dict[str, int] = {}
    for entry in entries:
        norm = normalise_title(entry.title)
        page_date = entry.page_date.isoformat() if entry.page_date else ""
        group = _Group(entry.title, norm, entry_record(entry), {page_date}, entry.update_only)
        hits = [owner[key] for key in group.keys() if key in owner]
        hits = [
            index
            for index in dict.fromkeys(hits)
            if _compatible(groups[index].record, group.record)
        ]
        if hits:
            index = hits[0]
            kept = groups[index]
            kept.record = merge_records(kept.record, group.record)
            kept.page_dates |= group.page_dates
            kept.update_only &= group.update_only
        else:
            index = len(groups)
            groups.append(group)
        for key in groups[index].keys():
            owner.setdefault(key, index)
    return groups


class _ImportRun:
    """One import's bookkeeping across its batches (dicts keep first-seen order)."""

    def __init__(self, source_file: str) -> None:
        self.source_file = source_file
        self.seq = 0
        self.stamp = now_iso()
        self.seen: dict[str, None] = {}
        self.inserted: dict[str, None] = {}
        self.updated: dict[str, None] = {}
        self.merged = 0
        self.skipped_updates = 0
        self.just_inserted: list[str] = []
        self.position = 0  # each paper's place in the file: a day's page order

    def store(self, conn: sqlite3.Connection, entries: Sequence[Entry]) -> None:
        groups = _group(entries)
        self.just_inserted = []
        found = _Found(conn, groups)
        inserts: dict[str, tuple[_Group, dict]] = {}
        changed: dict[str, None] = {}
        new_sources: list[tuple[str, str, str, int]] = []
        for group in groups:
            sources = {(self.source_file, d) for d in group.page_dates}
            self.position += 1
            position = self.position
            candidates = [
                pid
                for pid in found.candidates(group)
                if _compatible(found.records[pid], group.record)
            ]
            if not candidates:
                if group.update_only:
                    self.skipped_updates += 1
                    continue
                pid = id_of_normalised(group.norm)
                if pid in found.records or pid in inserts:
                    # The same title, another paper (another arXiv ID or DOI).
                    pid = id_of_normalised(
                        f"{group.norm}\x00{group.record['arxiv_id'] or group.record['doi']}"
                    )
                if pid in inserts:  # a third paper of that title in this commit
                    continue
                record = group.record
                inserts[pid] = (group, record)
                new_sources.extend((pid, f, d, position) for f, d in sorted(sources))
                self.inserted[pid] = None
                self.just_inserted.append(pid)
                self.seen[pid] = None
                continue
            target = min(candidates, key=lambda pid: (found.first_seen[pid], pid))
            for other in candidates:
                if other != target and _compatible(found.records[target], found.records[other]):
                    self._absorb(conn, found, target, other)
            before = found.records[target]
            after = merge_records(before, group.record)
            added_sources = sorted(sources - found.sources[target])
            found.sources[target] |= set(added_sources)
            self.seen[target] = None
            if after != before or added_sources:
                found.records[target] = after
                changed[target] = None
                new_sources.extend((target, f, d, position) for f, d in added_sources)
                if target not in self.inserted:  # seen in an earlier batch: still new
                    self.updated[target] = None
        rows = sorted(
            (pid, group.norm, group.title, *_to_row(record), self.stamp, self.seq)
            for pid, (group, record) in inserts.items()
        )  # in key order, the B-trees grow at their ends: much faster
        columns = ", ".join(_COLUMNS)
        marks = ", ".join("?" * (len(_COLUMNS) + 5))
        batch = 2000
        for start in range(0, len(rows), batch):
            conn.executemany(
                f"INSERT INTO papers (id, norm_title, title, {columns}, first_seen, seq) "
                f"VALUES ({marks})",
                rows[start : start + batch],
            )
        assignments = ", ".join(f"{name} = ?" for name in _COLUMNS)
        conn.executemany(
            f"UPDATE papers SET {assignments}, seq = ? WHERE id = ?",
            [(*_to_row(found.records[pid]), self.seq, pid) for pid in changed],
        )
        new_sources.sort()
        conn.executemany(
            "INSERT OR IGNORE INTO sources (paper_id, file, page_date, position) "
            "VALUES (?, ?, ?, ?)",
            new_sources,
        )

    def _absorb(self, conn: sqlite3.Connection, found: _Found, target: str, other: str) -> None:
        """Two records that are one paper: ``other`` goes into ``target``. Their
        decisions merge by the state rules (the later of each wins), their fields
        by ``merge_records``; ``other`` becomes an alias of ``target``."""
        states = _load_states(conn, [target, other])
        if target in states and other in states:
            merged = merge(states[target], states[other])
            _write_state(conn, target, states[target], merged, self.seq)
        found.records[target] = merge_records(found.records[target], found.records.pop(other))
        conn.execute(
            "INSERT OR IGNORE INTO sources (paper_id, file, page_date, position) "
            "SELECT ?, file, page_date, position FROM sources WHERE paper_id = ?",
            (target, other),
        )
        found.sources[target] |= found.sources.pop(other)
        for table in ("sources", "tags", "tag_removals", "notes"):
            conn.execute(f"DELETE FROM {table} WHERE paper_id = ?", (other,))
        conn.execute("UPDATE aliases SET paper_id = ? WHERE paper_id = ?", (target, other))
        conn.execute(
            "INSERT OR REPLACE INTO aliases (alias, paper_id) VALUES (?, ?)", (other, target)
        )
        conn.execute("DELETE FROM papers WHERE id = ?", (other,))
        conn.execute(
            "INSERT OR REPLACE INTO removed (paper_id, seq) VALUES (?, ?)", (other, self.seq)
        )
        found.replace(other, target)
        self.merged += 1
        self.seen.pop(other, None)
        self.updated.pop(other, None)
        if self.inserted.pop(other, None) is not None:
            self.inserted[target] = None
        self.updated[target] = None


class _Found:
    """The library's papers that one commit's groups may be: by arXiv ID, DOI and
    title (through aliases), with their records and sources."""

    def __init__(self, conn: sqlite3.Connection, groups: Sequence[_Group]) -> None:
        self.by_key: dict[str, list[str]] = {}
        arxiv = sorted({g.record["arxiv_id"] for g in groups if g.record["arxiv_id"]})
        dois = sorted({g.record["doi"] for g in groups if g.record["doi"]})
        title_ids = {id_of_normalised(g.norm): g.norm for g in groups}
        for column, prefix, values in (("arxiv_id", "a:", arxiv), ("doi", "d:", dois)):
            for chunk in chunks(values):
                marks = ",".join("?" * len(chunk))
                for pid, value in conn.execute(
                    f"SELECT id, {column} FROM papers WHERE {column} IN ({marks})", chunk
                ):
                    self.by_key.setdefault(prefix + value, []).append(pid)
        aliases: dict[str, str] = {}
        if conn.execute("SELECT EXISTS (SELECT 1 FROM aliases)").fetchone()[0]:
            for chunk in chunks(list(title_ids)):
                marks = ",".join("?" * len(chunk))
                aliases.update(
                    conn.execute(
                        f"SELECT alias, paper_id FROM aliases WHERE alias IN ({marks})", chunk
                    ).fetchall()
                )
        for pid, norm in title_ids.items():
            self.by_key.setdefault("t:" + norm, []).append(aliases.get(pid, pid))
        self.records: dict[str, dict] = {}
        self.first_seen: dict[str, str] = {}
        self.sources: dict[str, set[tuple[str, str]]] = {}
        wanted = sorted({pid for pids in self.by_key.values() for pid in pids})
        for chunk in chunks(wanted):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                f"SELECT id, first_seen, {', '.join(_COLUMNS)} FROM papers WHERE id IN ({marks})",
                chunk,
            ):
                self.records[row[0]] = _from_row(row[2:])
                self.first_seen[row[0]] = row[1]
                self.sources[row[0]] = set()
            for pid, file, page_date in conn.execute(
                f"SELECT paper_id, file, page_date FROM sources WHERE paper_id IN ({marks})",
                chunk,
            ):
                self.sources[pid].add((file, page_date))

    def candidates(self, group: _Group) -> list[str]:
        """The library's papers this group may be, arXiv ID first, then DOI, then title."""
        found: dict[str, None] = {}
        for key in group.keys():
            for pid in self.by_key.get(key, ()):
                if pid in self.records:
                    found[pid] = None
        return list(found)

    def replace(self, gone: str, kept: str) -> None:
        for pids in self.by_key.values():
            for index, pid in enumerate(pids):
                if pid == gone:
                    pids[index] = kept
