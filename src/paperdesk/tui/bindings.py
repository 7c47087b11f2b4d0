"""The app's key bindings, built from ``paperdesk.keys`` (the one table of
actions and their default keys), with each binding's ID its action's name so
the user's ``[keys]`` apply through Textual's keymap."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from paperdesk.keys import ACTIONS, BY_NAME, Keymap


def bindings(scope: str) -> list[BindingType]:
    """The default bindings of one scope (app, list, preview or pane)."""
    return [
        Binding(
            ",".join(action.keys),
            action.action,
            action.footer or action.description,
            show=bool(action.footer),
            priority=action.priority,
            id=action.name,
        )
        for action in ACTIONS
        if action.scope == scope
    ]


def in_force(keymap: Keymap, scope: str, skip: tuple[str, ...] = ()) -> list[Binding]:
    """One scope's bindings with the keys in force and the long descriptions
    (the help screen's rows)."""
    return [
        Binding(",".join(keymap.of(action.name)) or "(none)", action.action, action.description)
        for action in ACTIONS
        if action.scope == scope and not action.name.startswith(skip)
    ]


def first_key(keymap: Keymap, name: str) -> str:
    return keymap.first(name) if name in BY_NAME else ""
