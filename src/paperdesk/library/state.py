"""The user's decisions about papers, as data that can leave the library and come back.

A decision is read/unread, starred/unstarred, "not for me", a tag added or a
tag removed, or a note written, each with the time it was made. ``paperdesk
state export`` writes them as JSON keyed by paper ID (the ID comes from the
title, so it is the same on every machine) and ``paperdesk state import``
merges them back with one rule: for each flag and each tag, the later
decision wins (notes: see ``merge_notes``). Nothing is dropped: a decision
about a paper the library does not have yet is kept until an import brings
that paper.

This module is pure: the merge rules and the file format. ``store`` applies
them inside one transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from paperdesk.model import ID_LENGTH, normalise_tag

# typing costs 3-5 ms to import; only the type checker needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

FORMAT_NAME = "paperdesk-state"
FORMAT_VERSION = 1

_ID = re.compile(rf"^[0-9a-f]{{{ID_LENGTH}}}$")
# A decision without a time (a hand-written file) is older than any timed one.
_UNKNOWN = datetime.min.replace(tzinfo=UTC)


class StateFileError(ValueError):
    """A state file that cannot be read; the message says where and why."""


def now_stamp() -> str:
    """The time of a decision: UTC, milliseconds, ISO 8601 with a Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_stamp(stamp: str | None) -> datetime:
    if not stamp:
        return _UNKNOWN
    parsed = datetime.fromisoformat(stamp)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Flag:
    value: bool = False
    at: str | None = None  # None: never decided

    @property
    def decided(self) -> bool:
        return self.at is not None or self.value


def fingerprint(text: str) -> str:
    """A short checksum of a note's text: an edit records the one it replaced, so
    a merge can tell an edit of the other side's text from an edit made apart."""
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Note:
    """A paper's note: its Markdown text, when it was written, and the
    fingerprint of the text it replaced (None: it replaced nothing)."""

    text: str = ""
    at: str | None = None  # None: never written
    base: str | None = None

    @property
    def decided(self) -> bool:
        return self.at is not None or bool(self.text)


# Between two texts of one note written apart (on two machines), in the merged note.
CONFLICT_MARKER = "--- paperdesk: this note was also edited elsewhere ({at}); that text: ---"


def merge_notes(local: Note, incoming: Note, *, replaying: bool = False) -> Note:
    """One note from two. An edit of the other side's text wins; the later edit
    wins when one side never changed it; two edits made apart (neither saw the
    other's text) keep both texts, the later first, with CONFLICT_MARKER between,
    rather than lose one."""
    if not incoming.decided or incoming == local:
        return local
    if not local.decided or replaying:
        return incoming if not local.decided or _weight(incoming.at) >= _weight(local.at) else local
    if incoming.text == local.text:
        return incoming if _later(incoming.at, local.at) else local
    if incoming.base == fingerprint(local.text):
        return incoming  # an edit of what this side has
    if local.base == fingerprint(incoming.text) or _contains(local.text, incoming.text):
        return local  # this side already edited (or merged) what the other has
    if _contains(incoming.text, local.text):
        return incoming
    later, earlier = (incoming, local) if _later(incoming.at, local.at) else (local, incoming)
    if not earlier.text.strip():
        return later  # a cleared note against an edit: nothing would be lost
    if not later.text.strip():
        return earlier
    marker = CONFLICT_MARKER.format(at=earlier.at or "unknown time")
    text = f"{later.text.rstrip()}\n\n{marker}\n{earlier.text.rstrip()}\n"
    # It holds both: it counts as an edit of the incoming text, so importing this
    # side's state on the other machine takes it whole.
    return Note(text, later.at, fingerprint(incoming.text))


def _contains(merged: str, text: str) -> bool:
    """Whether a merged note already holds ``text`` after a conflict marker."""
    return "--- paperdesk: this note was also edited elsewhere" in merged and (
        text.rstrip() in merged
    )


@dataclass
class PaperState:
    """Every decision about one paper."""

    read: Flag = field(default_factory=Flag)
    starred: Flag = field(default_factory=Flag)
    tags: dict[str, str | None] = field(default_factory=dict)  # tag -> added at
    removed: dict[str, str | None] = field(default_factory=dict)  # tag -> removed at
    title: str | None = None
    # "Not for me": a strong negative for the interest model (it also marks read).
    dismissed: Flag = field(default_factory=Flag)
    note: Note = field(default_factory=Note)

    @property
    def empty(self) -> bool:
        return not (
            self.read.decided
            or self.starred.decided
            or self.dismissed.decided
            or self.tags
            or self.removed
            or self.note.decided
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.title:
            data["title"] = self.title
        data.update(
            read=self.read.value,
            read_at=self.read.at,
            starred=self.starred.value,
            starred_at=self.starred.at,
            tags=dict(sorted(self.tags.items())),
        )
        if self.removed:
            data["removed_tags"] = dict(sorted(self.removed.items()))
        if self.dismissed.decided:  # only when decided: older files stay as they were
            data.update(dismissed=self.dismissed.value, dismissed_at=self.dismissed.at)
        if self.note.decided:
            data.update(note=self.note.text, note_at=self.note.at)
            if self.note.base:
                data["note_base"] = self.note.base
        return data


# A decision stamped further ahead than this came from a clock that is wrong.
FUTURE_SLACK = timedelta(days=1)


def clamp_future(
    incoming: dict[str, PaperState], now: datetime | None = None
) -> tuple[dict[str, PaperState], int]:
    """Decisions stamped more than a day ahead count as made ``now``.

    A machine whose clock is years ahead would otherwise win every later merge:
    its stamps beat every real decision forever. Returns the states and how
    many stamps were brought back to now.
    """
    now = now or datetime.now(UTC)
    limit = now + FUTURE_SLACK
    stamp = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    clamped = 0

    def fix(at: str | None) -> str | None:
        nonlocal clamped
        if at is not None and parse_stamp(at) > limit:
            clamped += 1
            return stamp
        return at

    result: dict[str, PaperState] = {}
    for pid, paper in incoming.items():
        result[pid] = PaperState(
            Flag(paper.read.value, fix(paper.read.at)),
            Flag(paper.starred.value, fix(paper.starred.at)),
            {tag: fix(at) for tag, at in paper.tags.items()},
            {tag: fix(at) for tag, at in paper.removed.items()},
            paper.title,
            Flag(paper.dismissed.value, fix(paper.dismissed.at)),
            Note(paper.note.text, fix(paper.note.at), paper.note.base),
        )
    return (result if clamped else incoming), clamped


def _weight(stamp: str | None) -> datetime:
    """A stamp as merges compare it: one more than a day in the future (a
    machine with a wrong clock, written before stamps were clamped) tells
    nothing, so it never beats a real decision."""
    parsed = parse_stamp(stamp)
    return _UNKNOWN if parsed > datetime.now(UTC) + FUTURE_SLACK else parsed


def _later(incoming: str | None, local: str | None) -> bool:
    return _weight(incoming) > _weight(local)


def merge(local: PaperState, incoming: PaperState, *, replaying: bool = False) -> PaperState:
    """The later decision wins, flag by flag and tag by tag; a tie keeps the local one.

    For a tag added on one side and removed on the other at the same time, the
    tag stays: when in doubt, keep what the user made. When ``replaying`` a
    journal, ``incoming`` was written after ``local``, so it wins every tie.
    """
    read = incoming.read if _take_flag(local.read, incoming.read, replaying) else local.read
    starred = (
        incoming.starred
        if _take_flag(local.starred, incoming.starred, replaying)
        else local.starred
    )
    tags: dict[str, str | None] = {}
    removed: dict[str, str | None] = {}
    for tag in sorted(set(local.tags) | set(local.removed) | set(incoming.tags)
                      | set(incoming.removed)):  # fmt: skip
        events = [
            (_weight(at), order if replaying else present, present, at)
            for order, source in enumerate((local, incoming))
            for present, table in ((True, source.tags), (False, source.removed))
            if tag in table
            for at in [table[tag]]
        ]
        # Latest first; on equal times presence wins (or, replaying, the later record).
        _, _, present, at = max(events, key=lambda event: (event[0], event[1]))
        (tags if present else removed)[tag] = at
    dismissed = (
        incoming.dismissed
        if _take_flag(local.dismissed, incoming.dismissed, replaying)
        else local.dismissed
    )
    note = merge_notes(local.note, incoming.note, replaying=replaying)
    return PaperState(read, starred, tags, removed, local.title or incoming.title, dismissed, note)


def _take_flag(local: Flag, incoming: Flag, replaying: bool = False) -> bool:
    if not incoming.decided:
        return False
    if not local.decided:
        return True
    if replaying:
        return _weight(incoming.at) >= _weight(local.at)
    return _later(incoming.at, local.at)


# --- the journal ----------------------------------------------------------------------


def replay(lines: Iterable[str]) -> tuple[dict[str, PaperState], int]:
    """The decisions recorded in a journal, and how many lines could not be read.

    A line cut short by a crash, or damaged, is skipped; the rest still count.
    """
    states: dict[str, PaperState] = {}
    skipped = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            updates = _journal_record(json.loads(line))
        except (ValueError, TypeError, KeyError, AttributeError):
            skipped += 1
            continue
        for pid, new in updates.items():
            states[pid] = merge(states[pid], new, replaying=True) if pid in states else new
    return states, skipped


def replay_saved(lines: Iterable[str]) -> dict[str, SavedSearch]:
    """The saved searches a journal records (the last record of each name wins)."""
    found: dict[str, SavedSearch] = {}
    for line in lines:
        if '"saved"' not in line:
            continue
        try:
            record = json.loads(line)
            name, at = record["saved"], _stamp(record["at"], "journal")
            if record.get("removed"):
                found[name] = SavedSearch(found.get(name, SavedSearch("")).query, at, True)
            else:
                found[name] = SavedSearch(str(record["query"]), at)
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
    return found


def _journal_record(record: dict[str, Any]) -> dict[str, PaperState]:
    if "state" in record:
        return {_check_id(pid): paper_from_json(pid, data) for pid, data in record["state"].items()}
    at = _stamp(record["at"], "journal")
    if "saved" in record:  # a saved search: not a paper's decision (see replay_saved)
        return {}
    if "note" in record:
        if not isinstance(record["note"], str):
            raise ValueError(f"unknown journal record {record!r}")
        base = record.get("base")
        return {_check_id(record["id"]): PaperState(note=Note(record["note"], at, base))}
    if "set" in record:
        column = record["set"]
        if column not in ("read", "starred", "dismissed") or not isinstance(record["value"], bool):
            raise ValueError(f"unknown journal record {record!r}")
        flag = Flag(record["value"], at)

        def decided() -> PaperState:
            if column == "read":
                return PaperState(read=flag)
            if column == "starred":
                return PaperState(starred=flag)
            return PaperState(dismissed=flag)

        return {_check_id(pid): decided() for pid in record["ids"]}
    # One paper's tag change ("id"), or the same change to many ("ids").
    ids = record["ids"] if "ids" in record else [record["id"]]
    return {
        _check_id(pid): PaperState(
            tags={normalise_tag(t): at for t in record["add"]},
            removed={normalise_tag(t): at for t in record["remove"]},
        )
        for pid in ids
    }


# --- saved searches -----------------------------------------------------------------------


@dataclass(frozen=True)
class SavedSearch:
    """A search saved by name (removed: the user took it away, kept as a decision)."""

    query: str
    at: str | None = None
    removed: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"query": self.query, "at": self.at}
        if self.removed:
            data["removed"] = True
        return data


MAX_SAVED_NAME = 40


def check_saved_name(name: str) -> str:
    """A saved search's name as given, stripped; ValueError when it cannot be one."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValueError("a saved search needs a name")
    if len(cleaned) > MAX_SAVED_NAME:
        raise ValueError(f"a saved search's name is at most {MAX_SAVED_NAME} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in cleaned):
        raise ValueError("a saved search's name cannot hold control characters")
    return cleaned


def merge_saved(
    local: dict[str, SavedSearch], incoming: dict[str, SavedSearch]
) -> dict[str, SavedSearch]:
    """Name by name, the later decision wins (a removal is one); a tie keeps local."""
    merged = dict(local)
    for name, theirs in incoming.items():
        mine = local.get(name)
        if mine is None or _later(theirs.at, mine.at):
            merged[name] = theirs
    return merged


def saved_from_document(data: Any) -> dict[str, SavedSearch]:
    """The saved searches of a state file (none in files written before them)."""
    found = data.get("saved_searches", {}) if isinstance(data, dict) else {}
    if not isinstance(found, dict):
        raise StateFileError('"saved_searches" must be an object keyed by name')
    result: dict[str, SavedSearch] = {}
    for name, entry in found.items():
        where = f"saved search {name!r}"
        try:
            cleaned = check_saved_name(name) if isinstance(name, str) else ""
        except ValueError as error:
            raise StateFileError(f"{where}: {error}") from None
        if not isinstance(entry, dict) or not isinstance(entry.get("query"), str):
            raise StateFileError(f'{where}: expected an object with a "query"')
        removed = entry.get("removed", False)
        if not isinstance(removed, bool):
            raise StateFileError(f"{where}: 'removed' must be true or false")
        result[cleaned] = SavedSearch(
            entry["query"], _stamp(entry.get("at"), f"{where}: at"), removed
        )
    return result


# --- the file ---------------------------------------------------------------------------


def document(
    states: dict[str, PaperState],
    exported_at: str | None = None,
    saved: dict[str, SavedSearch] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exported_at": exported_at or now_stamp(),
        "papers": {pid: states[pid].to_json() for pid in sorted(states)},
    }
    if saved:  # (after the papers: a reader of older files ignores it)
        data["saved_searches"] = {name: saved[name].to_json() for name in sorted(saved)}
    return data


def from_document(data: Any) -> dict[str, PaperState]:
    """Read a state file's JSON, checking everything before anything is applied."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise StateFileError(f'not a paperdesk state file (no "format": "{FORMAT_NAME}")')
    version = data.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise StateFileError(
            f"state file version {version!r} is not supported (this paperdesk reads "
            f"version {FORMAT_VERSION}); upgrade paperdesk to read it"
        )
    papers = data.get("papers")
    if not isinstance(papers, dict):
        raise StateFileError('"papers" must be an object keyed by paper ID')
    return {_check_id(pid): paper_from_json(pid, entry) for pid, entry in papers.items()}


def _check_id(pid: object) -> str:
    if not isinstance(pid, str) or not _ID.match(pid):
        raise StateFileError(f"{pid!r} is not a paper ID ({ID_LENGTH} hex digits)")
    return pid


def paper_from_json(pid: str, entry: Any) -> PaperState:
    where = f"paper {pid}"
    if not isinstance(entry, dict):
        raise StateFileError(f"{where}: expected an object")
    return PaperState(
        read=_flag(entry, "read", where),
        starred=_flag(entry, "starred", where),
        tags=_tags(entry.get("tags", {}), f"{where}: tags"),
        removed=_tags(entry.get("removed_tags", {}), f"{where}: removed_tags"),
        title=entry.get("title") if isinstance(entry.get("title"), str) else None,
        dismissed=_flag(entry, "dismissed", where),
        note=_note(entry, where),
    )


def _note(entry: dict, where: str) -> Note:
    text = entry.get("note", "")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise StateFileError(f"{where}: 'note' must be text, not {text!r}")
    base = entry.get("note_base")
    if base is not None and not isinstance(base, str):
        raise StateFileError(f"{where}: 'note_base' must be text, not {base!r}")
    return Note(text, _stamp(entry.get("note_at"), f"{where}: note_at"), base)


def _flag(entry: dict, name: str, where: str) -> Flag:
    value = entry.get(name, False)
    if not isinstance(value, bool):
        raise StateFileError(f"{where}: {name!r} must be true or false, not {value!r}")
    return Flag(value, _stamp(entry.get(f"{name}_at"), f"{where}: {name}_at"))


def _tags(tags: Any, where: str) -> dict[str, str | None]:
    if isinstance(tags, list):  # a plain list of tag names: times unknown
        tags = {tag: None for tag in tags}
    if not isinstance(tags, dict):
        raise StateFileError(f"{where} must be an object of tag -> time, or a list of tags")
    result: dict[str, str | None] = {}
    for tag, at in tags.items():
        name = normalise_tag(tag) if isinstance(tag, str) else ""
        if not name:
            raise StateFileError(f"{where}: {tag!r} is not a tag")
        result[name] = _stamp(at, f"{where}: {tag}")
    return result


def _stamp(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            parse_stamp(value)
            return value
        except ValueError:
            pass
    raise StateFileError(f"{where}: {value!r} is not an ISO 8601 time")
