"""The user's decisions: read, starred, tags, and decisions as data.

A decision is one write transaction that touches only its own columns, is
stamped with the time it was made, and is appended to the decision journal
beside the library (``decisions.jsonl``), so a restore can bring back what was
decided after the newest backup. Merging decisions (a state file, another
machine's journal) keeps the later one of each; a decision about a paper the
library does not have yet waits in ``pending_state`` until an import brings it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from paperdesk.errors import BadInput, UnknownPaper
from paperdesk.library.files import chunks
from paperdesk.library.reading import Reading
from paperdesk.library.state import (
    Flag,
    Note,
    PaperState,
    SavedSearch,
    check_saved_name,
    clamp_future,
    fingerprint,
    merge,
    merge_saved,
    now_stamp,
    paper_from_json,
)
from paperdesk.model import check_tag, normalise_tag

MAX_NOTE_CHARS = 200_000  # a note is a note, not a book
# Every paper with a decision (a flag ever set, a tag, a tag removal, a note).
_DECIDED_IDS = (
    "SELECT id FROM papers WHERE read = 1 OR starred = 1 "
    "OR read_at IS NOT NULL OR starred_at IS NOT NULL OR dismissed_at IS NOT NULL "
    "UNION SELECT paper_id FROM tags UNION SELECT paper_id FROM tag_removals "
    "UNION SELECT paper_id FROM notes"
)
# Interest scores written per transaction (1M papers: 20 short transactions).
INTEREST_BATCH = 50_000


@dataclass
class StateImport:
    """What merging a state file did."""

    papers: int = 0
    updated: int = 0
    unchanged: int = 0
    pending: int = 0  # kept for papers the library does not have yet
    clamped: int = 0  # decisions stamped more than a day ahead, counted as made now
    changed_ids: list[str] = field(default_factory=list)
    saved: int = 0  # saved searches added, changed or removed


class Decisions(Reading):
    """The decisions half of a ``Library``."""

    def _set_flag(
        self, column: str, ids: Sequence[str], value: bool, *, also_read: bool = False
    ) -> tuple[list[str], list[str]]:
        """Set read, starred or dismissed: the IDs whose value actually changed,
        and those ``also_read`` marked read in the same transaction."""
        assert column in ("read", "starred", "dismissed")
        changed: list[str] = []
        read_now: list[str] = []
        with self._write() as conn:
            seq = self._next_seq(conn)
            stamp = now_stamp()
            if also_read:
                for chunk in chunks(list(ids)):
                    marks = ",".join("?" * len(chunk))
                    read_now.extend(
                        row[0]
                        for row in conn.execute(
                            f"UPDATE papers SET read = 1, read_at = ?, seq = ? "
                            f"WHERE id IN ({marks}) AND read != 1 RETURNING id",
                            (stamp, seq, *chunk),
                        )
                    )
            for chunk in chunks(list(ids)):
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"UPDATE papers SET {column} = ?, {column}_at = ?, seq = ? "
                    f"WHERE id IN ({marks}) AND {column} != ? RETURNING id",
                    (int(value), stamp, seq, *chunk, int(value)),
                ).fetchall()
                changed.extend(row[0] for row in rows)
        if read_now:
            self._journal({"at": stamp, "set": "read", "value": True, "ids": read_now})
        if changed:
            self._journal({"at": stamp, "set": column, "value": value, "ids": changed})
        return changed, read_now

    def set_read(self, ids: Sequence[str], read: bool = True) -> list[str]:
        return self._set_flag("read", ids, read)[0]

    def set_dismissed(
        self, ids: Sequence[str], dismissed: bool = True
    ) -> tuple[list[str], list[str]]:
        """Mark papers "not for me" (which also marks them read), or take that
        back (they stay read). The IDs whose dismissal changed, and those that
        were marked read by it."""
        return self._set_flag("dismissed", ids, dismissed, also_read=dismissed)

    def set_starred(self, ids: Sequence[str], starred: bool = True) -> list[str]:
        return self._set_flag("starred", ids, starred)[0]

    def add_tags(self, paper_id: str, tags: Iterable[str]) -> tuple[str, ...]:
        return self._change_tags(paper_id, add=_checked(tags))

    def set_interest(
        self,
        scores: Mapping[str, float],
        progress: Callable[[int, int], None] | None = None,
        batch: int = INTEREST_BATCH,
    ) -> None:
        """Set papers' interest scores (a retrain gives every paper one; an import,
        the papers it brought). Written ``batch`` papers a transaction, so a
        million never holds the library for long; ``progress(done, total)``
        after each. The scores are derived data: no change counter, no journal."""
        items = sorted(scores.items(), key=lambda pair: pair[0])
        done = 0
        for start in range(0, len(items), batch):
            part = [(score, pid) for pid, score in items[start : start + batch]]
            with self._write() as conn:
                conn.executemany("UPDATE papers SET interest = ? WHERE id = ?", part)
                _bump_interest_generation(conn)
            done += len(part)
            if progress is not None:
                progress(done, len(items))

    def set_meta(self, key: str, value: str) -> None:
        """Remember a fact of the library's own (the day of the last fetch)."""
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def tag_many(self, ids: Sequence[str], tags: Iterable[str]) -> list[str]:
        """Add tags to many papers in one transaction (one journal record for each
        set of tags gained, usually one); return the IDs that gained a tag."""
        return _flatten(ids, self.change_tags_many(ids, tags, add=True))

    def untag_many(self, ids: Sequence[str], tags: Iterable[str]) -> list[str]:
        """Remove tags from many papers in one transaction (each removal kept, as
        ``remove_tags`` keeps it); the IDs that lost a tag."""
        return _flatten(ids, self.change_tags_many(ids, tags, add=False))

    def change_tags_many(
        self, ids: Sequence[str], tags: Iterable[str], *, add: bool
    ) -> dict[str, list[str]]:
        """Add (or remove) tags on many papers in one transaction, with one journal
        record for each set of tags changed (usually one): for each tag, the
        papers that gained (or lost) it."""
        if add:
            tags = sorted(set(_checked(tags)))
        else:
            tags = sorted({normalise_tag(t) for t in tags} - {""})
        by_change: dict[tuple[str, ...], list[str]] = {}
        with self._write() as conn:
            seq = self._next_seq(conn)
            stamp = now_stamp()
            for pid in dict.fromkeys(ids):
                done: list[str] = []
                for tag in tags:
                    if (_add_tag if add else _remove_tag)(conn, pid, tag, stamp):
                        done.append(tag)
                if done:
                    conn.execute("UPDATE papers SET seq = ? WHERE id = ?", (seq, pid))
                    by_change.setdefault(tuple(done), []).append(pid)
        for done_tags, pids in by_change.items():
            changes = list(done_tags)
            self._journal(
                {
                    "at": stamp,
                    "ids": pids,
                    "add": changes if add else [],
                    "remove": [] if add else changes,
                }  # fmt: skip
            )
        per_tag: dict[str, list[str]] = {tag: [] for tag in tags}
        for done_tags, pids in by_change.items():
            for tag in done_tags:
                per_tag[tag].extend(pids)
        return per_tag

    def set_note(self, paper_id: str, text: str) -> bool:
        """Write a paper's note (an empty text clears it); True if it changed. Like
        any decision: at once, in the journal, in the state file."""
        text = text.replace("\r\n", "\n")
        if len(text) > MAX_NOTE_CHARS:
            raise BadInput(f"a note holds at most {MAX_NOTE_CHARS:,} characters")
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM papers WHERE id = ?", (paper_id,)).fetchone():
                raise UnknownPaper(f"no paper with ID {paper_id!r}")
            row = conn.execute("SELECT text FROM notes WHERE paper_id = ?", (paper_id,)).fetchone()
            old = row[0] if row else ""
            if old == text and (row or not text):
                return False
            stamp = now_stamp()
            base = fingerprint(old) if row else None
            conn.execute(
                "INSERT OR REPLACE INTO notes (paper_id, text, at, base) VALUES (?, ?, ?, ?)",
                (paper_id, text, stamp, base),
            )
            conn.execute("UPDATE papers SET seq = ? WHERE id = ?", (self._next_seq(conn), paper_id))
        record: dict[str, object] = {"at": stamp, "id": paper_id, "note": text}
        if base:
            record["base"] = base
        self._journal(record)
        return True

    # --- saved searches ---------------------------------------------------------

    def saved_searches(self, removed: bool = False) -> dict[str, SavedSearch]:
        """The saved searches by name, in name order (``removed``: the removals too)."""
        rows = self._query(
            "SELECT name, query, at, removed FROM saved_searches ORDER BY name COLLATE NOCASE"
        )
        return {
            name: SavedSearch(query, at, bool(gone))
            for name, query, at, gone in rows
            if removed or not gone
        }

    def save_search(self, name: str, query: str) -> bool:
        """Save (or replace) a search by name; True if it changed."""
        try:
            name = check_saved_name(name)
        except ValueError as error:
            raise BadInput(str(error)) from None
        query = query.strip()
        if not query:
            raise BadInput("a saved search needs a query")
        current = self.saved_searches().get(name)
        if current is not None and current.query == query:
            return False
        stamp = now_stamp()
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO saved_searches (name, query, at, removed) "
                "VALUES (?, ?, ?, 0)",
                (name, query, stamp),
            )
        self._journal({"at": stamp, "saved": name, "query": query})
        return True

    def remove_search(self, name: str) -> bool:
        """Take a saved search away (kept as a removal); False if there was none."""
        name = " ".join(name.split())
        if name not in self.saved_searches():
            return False
        stamp = now_stamp()
        with self._write() as conn:
            conn.execute(
                "UPDATE saved_searches SET removed = 1, at = ? WHERE name = ?", (stamp, name)
            )
        self._journal({"at": stamp, "saved": name, "removed": True})
        return True

    def import_saved(self, incoming: dict[str, SavedSearch]) -> int:
        """Merge saved searches (the later decision wins); how many changed."""
        if not incoming:
            return 0
        local = self.saved_searches(removed=True)
        merged = merge_saved(local, incoming)
        changed = {name: s for name, s in merged.items() if local.get(name) != s}
        if changed:
            with self._write() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO saved_searches (name, query, at, removed) "
                    "VALUES (?, ?, ?, ?)",
                    [(n, s.query, s.at, int(s.removed)) for n, s in sorted(changed.items())],
                )
        return len(changed)

    def note_of(self, paper_id: str) -> str:
        """A paper's note ("" when none)."""
        row = self._query("SELECT text FROM notes WHERE paper_id = ?", (paper_id,))
        return row[0][0] if row else ""

    def remove_tags(self, paper_id: str, tags: Iterable[str]) -> tuple[str, ...]:
        return self._change_tags(paper_id, remove=tags)

    def set_tags(self, paper_id: str, tags: Iterable[str]) -> tuple[str, ...]:
        """Replace a paper's tags with exactly these."""
        wanted = {normalise_tag(t) for t in tags} - {""}
        current = set(self.get(paper_id).tags)
        _checked(wanted - current)  # a tag it has already stays, whatever it is
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
                if _add_tag(conn, paper_id, tag, stamp):
                    added_tags.append(tag)
                    changes += 1
            for tag in sorted(remove_set):
                if _remove_tag(conn, paper_id, tag, stamp):
                    removed_tags.append(tag)
                    changes += 1
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
            ids = [row[0] for row in conn.execute(_DECIDED_IDS)]
            result = _load_states(conn, ids)
            for pid, text in conn.execute("SELECT paper_id, state FROM pending_state"):
                result[pid] = paper_from_json(pid, json.loads(text))
        return result

    def states_since(self, seq: int) -> dict[str, PaperState]:
        """The decisions about papers changed after change counter ``seq`` (what a
        sync sends): every paper with a decision whose counter moved."""
        with self._lock:
            conn = self.conn
            ids = [
                row[0]
                for row in conn.execute(
                    f"SELECT id FROM papers WHERE seq > ? AND id IN ({_DECIDED_IDS})", (seq,)
                )
            ]
            return _load_states(conn, ids)

    def import_state(self, incoming: dict[str, PaperState]) -> StateImport:
        """Merge decisions into the library in one transaction: the later one wins.

        Decisions about papers the library does not have are kept and applied
        when an import brings those papers.
        """
        incoming, clamped = clamp_future(incoming)
        result = StateImport(papers=len(incoming), clamped=clamped)
        # Decisions about a paper since merged into another go to that one.
        for alias, target in self.aliases_of(sorted(incoming)).items():
            moved = incoming.pop(alias)
            incoming[target] = merge(incoming[target], moved) if target in incoming else moved
        ids = sorted(incoming)
        with self._write() as conn:
            seq = self._next_seq(conn)
            present: set[str] = set()
            for chunk in chunks(ids):
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
        for chunk in chunks(list(ids)):
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT paper_id, state FROM pending_state WHERE paper_id IN ({marks})", chunk
            ).fetchall()
            for pid, text in rows:
                _write_state(conn, pid, PaperState(), paper_from_json(pid, json.loads(text)), seq)
                conn.execute("DELETE FROM pending_state WHERE paper_id = ?", (pid,))
                applied += 1
        return applied


def _bump_interest_generation(conn) -> None:
    """Count the score changes, so a search's cached scores know they are stale."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('interest_generation', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def _add_tag(conn: sqlite3.Connection, pid: str, tag: str, stamp: str) -> bool:
    """Tag a paper (a removal of that tag is forgotten); False if it had the tag."""
    if not conn.execute(
        "INSERT OR IGNORE INTO tags (paper_id, tag, added_at) VALUES (?, ?, ?)", (pid, tag, stamp)
    ).rowcount:
        return False
    conn.execute("DELETE FROM tag_removals WHERE paper_id = ? AND tag = ?", (pid, tag))
    return True


def _remove_tag(conn: sqlite3.Connection, pid: str, tag: str, stamp: str) -> bool:
    """Take a tag off a paper and remember the removal, so merging an older state
    file does not bring the tag back; False if it had no such tag."""
    if not conn.execute("DELETE FROM tags WHERE paper_id = ? AND tag = ?", (pid, tag)).rowcount:
        return False
    conn.execute(
        "INSERT OR REPLACE INTO tag_removals (paper_id, tag, removed_at) VALUES (?, ?, ?)",
        (pid, tag, stamp),
    )
    return True


def _flatten(ids: Sequence[str], per_tag: dict[str, list[str]]) -> list[str]:
    """The IDs, in the order given, that any tag's change touched."""
    changed = {pid for pids in per_tag.values() for pid in pids}
    return [pid for pid in dict.fromkeys(ids) if pid in changed]


def _checked(tags: Iterable[str]) -> list[str]:
    """Tags a user gave, normalised; BadInput for an empty or over-long one."""
    try:
        return [check_tag(tag) for tag in tags]
    except ValueError as error:
        raise BadInput(str(error)) from None


def _load_states(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, PaperState]:
    states: dict[str, PaperState] = {}
    for chunk in chunks(list(ids)):
        marks = ",".join("?" * len(chunk))
        for pid, title, read, read_at, starred, starred_at, dismissed, dismissed_at in conn.execute(
            f"SELECT id, title, read, read_at, starred, starred_at, dismissed, dismissed_at "
            f"FROM papers WHERE id IN ({marks})",
            chunk,
        ):
            states[pid] = PaperState(
                read=Flag(bool(read), read_at),
                starred=Flag(bool(starred), starred_at),
                title=title,
                dismissed=Flag(bool(dismissed), dismissed_at),
            )
        for pid, tag, at in conn.execute(
            f"SELECT paper_id, tag, added_at FROM tags WHERE paper_id IN ({marks})", chunk
        ):
            states[pid].tags[tag] = at
        for pid, tag, at in conn.execute(
            f"SELECT paper_id, tag, removed_at FROM tag_removals WHERE paper_id IN ({marks})", chunk
        ):
            states[pid].removed[tag] = at
        for pid, text, at, base in conn.execute(
            f"SELECT paper_id, text, at, base FROM notes WHERE paper_id IN ({marks})", chunk
        ):
            if pid in states:
                states[pid].note = Note(text, at, base)
    return states


def _write_state(
    conn: sqlite3.Connection, pid: str, old: PaperState, new: PaperState, seq: int
) -> bool:
    """Write the difference between two states of one paper; True if there was one."""
    changed = False
    for column in ("read", "starred", "dismissed"):
        before, after = getattr(old, column), getattr(new, column)
        if before != after:
            conn.execute(
                f"UPDATE papers SET {column} = ?, {column}_at = ? WHERE id = ?",
                (int(after.value), after.at, pid),
            )
            changed = True
    changed |= _write_tag_map(conn, "tags", "added_at", pid, old.tags, new.tags)
    changed |= _write_tag_map(conn, "tag_removals", "removed_at", pid, old.removed, new.removed)
    if old.note != new.note:
        conn.execute(
            "INSERT OR REPLACE INTO notes (paper_id, text, at, base) VALUES (?, ?, ?, ?)",
            (pid, new.note.text, new.note.at, new.note.base),
        )
        changed = True
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
