"""Decisions about many papers as data: what one action changed, and how to
take it back.

A ``Change`` is one kind of write (star, read, "not for me", tag, untag) with
its value and the papers it actually changed; a ``Step`` is what one action
did, as changes. Undoing a step applies the inverse of each change, newest
first; redoing applies them again. The app keeps its steps in memory (its
undo history); the command line keeps its newest steps in the library
(``CliHistory``), so ``paperdesk undo`` takes back the last command whichever
process ran it.

No Textual here, no Whoosh: only ``Desk``'s decision methods.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from paperdesk.library.state import now_stamp

# typing costs 3-5 ms to import; only the type checker needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from paperdesk.desk import Desk

FLAGS = ("starred", "read", "dismissed")
KINDS = (*FLAGS, "tag", "untag")
# The command line's steps kept for `paperdesk undo` (and redo).
CLI_HISTORY_LIMIT = 20
CLI_HISTORY_KEY = "cli_history"


@dataclass(frozen=True)
class Change:
    """One write to many papers: a flag set to ``value``, or ``tags`` added or
    removed; ``ids`` are the papers it changed (not those already so)."""

    kind: str
    ids: tuple[str, ...]
    value: bool = True
    tags: tuple[str, ...] = ()

    def inverse(self) -> Change:
        if self.kind in FLAGS:
            return Change(self.kind, self.ids, not self.value)
        return Change("untag" if self.kind == "tag" else "tag", self.ids, tags=self.tags)

    def apply(self, desk: Desk) -> list[str]:
        """Write it; the IDs that changed."""
        ids = list(self.ids)
        if not ids:
            return []
        if self.kind == "starred":
            return desk.set_starred(ids, self.value)
        if self.kind == "read":
            return desk.set_read(ids, self.value)
        if self.kind == "dismissed":
            changed, read = desk.set_dismissed(ids, self.value)
            return [*changed, *read]
        if self.kind == "tag":
            return desk.tag_many(ids, self.tags)
        return desk.untag_many(ids, self.tags)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "ids": list(self.ids)}
        if self.kind in FLAGS:
            data["value"] = self.value
        else:
            data["tags"] = list(self.tags)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        kind = data["kind"]
        if kind not in KINDS:
            raise ValueError(f"unknown change {kind!r}")
        return cls(
            kind,
            tuple(str(i) for i in data["ids"]),
            bool(data.get("value", True)),
            tuple(str(t) for t in data.get("tags", ())),
        )


@dataclass(frozen=True)
class Step:
    """What one action did: a label ("read 56 papers") and its changes."""

    label: str
    changes: tuple[Change, ...]
    at: str = field(default_factory=now_stamp)
    # os.urandom, not secrets: the same bytes, without hmac and OpenSSL at start.
    key: str = field(default_factory=lambda: os.urandom(6).hex())

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(pid for change in self.changes for pid in change.ids))

    @property
    def empty(self) -> bool:
        return not any(change.ids for change in self.changes)

    def undo(self, desk: Desk) -> list[str]:
        changed: list[str] = []
        for change in reversed(self.changes):
            changed += change.inverse().apply(desk)
        return list(dict.fromkeys(changed))

    def redo(self, desk: Desk) -> list[str]:
        changed: list[str] = []
        for change in self.changes:
            changed += change.apply(desk)
        return list(dict.fromkeys(changed))

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "at": self.at,
            "key": self.key,
            "changes": [change.to_json() for change in self.changes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Step:
        return cls(
            str(data["label"]),
            tuple(Change.from_json(c) for c in data["changes"]),
            str(data["at"]),
            str(data["key"]),
        )


# What each action does, as a verb for the messages: (present, past).
VERBS = {
    ("starred", True): ("star", "starred"),
    ("starred", False): ("unstar", "unstarred"),
    ("read", True): ("mark read", "marked read"),
    ("read", False): ("mark unread", "marked unread"),
    ("dismissed", True): ("mark not for me (and read)", "marked not for me (and read)"),
    ("dismissed", False): ("take back not for me on", "took back not for me on"),
}


def act(desk: Desk, kind: str, ids: Sequence[str], value: bool = True,
        tags: Sequence[str] = ()) -> Step:  # fmt: skip
    """Do one action on many papers at once; the step it was (empty when
    nothing changed). Each kind is one transaction and one journal record."""
    if kind == "dismissed":
        changed, read = desk.set_dismissed(list(ids), value)
        changes = (Change("dismissed", tuple(changed), value), Change("read", tuple(read), True))
        past = VERBS[(kind, value)][1]
        return Step(f"{past} {_papers(len(changed))}", changes)
    if kind in FLAGS:
        method = desk.set_starred if kind == "starred" else desk.set_read
        changed = method(list(ids), value)
        return Step(
            f"{VERBS[(kind, value)][1]} {_papers(len(changed))}",
            (Change(kind, tuple(changed), value),),
        )
    if kind not in ("tag", "untag"):
        raise ValueError(f"unknown action {kind!r}")
    per_tag = desk.change_tags_many(list(ids), list(tags), add=kind == "tag")
    touched = {pid for pids in per_tag.values() for pid in pids}
    verb = "tagged" if kind == "tag" else "untagged"
    return Step(
        f"{verb} {_papers(len(touched))} ({', '.join(per_tag)})",
        tuple(Change(kind, tuple(pids), tags=(tag,)) for tag, pids in per_tag.items() if pids),
    )


def _papers(n: int) -> str:
    return f"{n:,} paper{'s' if n != 1 else ''}"


class CliHistory:
    """The command line's undo and redo stacks, kept in the library's meta table
    (so a restore of the library brings back the history that fits it)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def _load(self) -> tuple[list[Step], list[Step]]:
        text = self.desk.library.meta_value(CLI_HISTORY_KEY)
        if not text:
            return [], []
        try:
            data = json.loads(text)
            return (
                [Step.from_json(s) for s in data.get("undo", [])],
                [Step.from_json(s) for s in data.get("redo", [])],
            )
        except (ValueError, TypeError, KeyError):
            return [], []  # a damaged history only loses undo, never a decision

    def _save(self, undo: list[Step], redo: list[Step]) -> None:
        data = {
            "undo": [s.to_json() for s in undo[-CLI_HISTORY_LIMIT:]],
            "redo": [s.to_json() for s in redo[-CLI_HISTORY_LIMIT:]],
        }
        self.desk.library.set_meta(CLI_HISTORY_KEY, json.dumps(data, separators=(",", ":")))

    def remember(self, step: Step) -> None:
        if step.empty:
            return
        undo, _redo = self._load()
        self._save([*undo, step], [])

    def peek(self, undo: bool = True) -> Step | None:
        stack = self._load()[0 if undo else 1]
        return stack[-1] if stack else None

    def step(self, undo: bool = True) -> tuple[Step, list[str]] | None:
        """Undo (or redo) the newest step; the step and the IDs that changed, or
        None when there is nothing to take back (or do again)."""
        undo_stack, redo_stack = self._load()
        source = undo_stack if undo else redo_stack
        if not source:
            return None
        step = source.pop()
        changed = step.undo(self.desk) if undo else step.redo(self.desk)
        (redo_stack if undo else undo_stack).append(step)
        self._save(undo_stack, redo_stack)
        return step, changed
