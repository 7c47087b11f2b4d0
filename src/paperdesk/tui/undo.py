"""The undo history: every triage action can be taken back, and done again.

No Textual here: a step is what to call to revert an action and to redo it,
with the papers it is about, for the notification that says what was undone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Steps kept; the oldest go first.
HISTORY_LIMIT = 100


@dataclass(frozen=True)
class UndoStep:
    """How to take back one triage action, and to do it again."""

    label: str
    revert: Callable[[], Iterable[str]]  # returns the IDs it changed
    redo: Callable[[], Iterable[str]] | None = None
    ids: tuple[str, ...] = ()  # the papers it is about
    title: str = ""  # the (first) paper's title, for the notification


class History:
    """Two stacks: what can be undone, and what was undone and can be redone."""

    def __init__(self, limit: int = HISTORY_LIMIT) -> None:
        self.limit = limit
        self.undoable: list[UndoStep] = []
        self.redoable: list[UndoStep] = []

    def remember(self, step: UndoStep) -> None:
        """A new action: undoable, and what was undone can no longer be redone."""
        self.undoable.append(step)
        del self.undoable[: -self.limit]
        self.redoable.clear()

    def take(self, undo: bool) -> tuple[UndoStep, Callable[[], Iterable[str]] | None] | None:
        """The newest step to undo (or redo) and what to call for it; None when
        there is none. The step is out of the history until ``done`` puts it
        on the other stack (an action that failed is dropped)."""
        source = self.undoable if undo else self.redoable
        if not source:
            return None
        step = source.pop()
        return step, step.revert if undo else step.redo

    def done(self, step: UndoStep, undo: bool) -> None:
        (self.redoable if undo else self.undoable).append(step)
