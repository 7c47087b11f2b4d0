"""Every key of the app, by action name, and the user's own (``[keys]`` in
config.toml).

Each ``Action`` has a stable name (``star``, ``next_unread``: the names users
write in config.toml), where it applies (the whole screen, the paper list,
the preview or the left pane), its default keys and what it does. The app
builds its bindings from this table and applies what ``resolve`` returns;
``paperdesk keys`` prints it. No Textual here: keys are Textual's names
("question_mark", "ctrl+s") as plain strings.

# ~/.config/paperdesk/config.toml
[keys]
preset = "newsboat"        # or "default" (vim-like); keys = "newsboat" at the top works too
star = "s"
next_unread = ["n", "tab"] # several keys for one action
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Where a binding applies: the app's own keys work everywhere on the main
# screen; the others only while that pane has the focus.
SCOPES = {
    "app": "Everywhere on the main screen",
    "list": "Paper list",
    "preview": "Preview (Tab to it)",
    "pane": "Left pane (Tab to it)",
}


@dataclass(frozen=True)
class Action:
    name: str  # what config.toml calls it
    action: str  # the Textual action it runs
    keys: tuple[str, ...]  # default keys (Textual names)
    description: str
    scope: str = "app"
    footer: str = ""  # its short label in the footer; "" keeps it out of the footer
    priority: bool = False  # runs as the key arrives (see the app's bindings)


def _a(name, action, keys, description, scope="app", footer="", priority=False) -> Action:
    return Action(name, action, tuple(keys.split(",")), description, scope, footer, priority)


ACTIONS: tuple[Action, ...] = (
    _a("star", "toggle_star", "s", "Star / unstar (the selection, if any)", footer="Star"),
    _a("read", "toggle_read", "r", "Read / unread (the selection, if any)", footer="Read"),
    # Priority, like "/": the editor opens as the key arrives, so the keys typed
    # after it in the same burst are typed into it.
    _a(
        "tags",
        "edit_tags",
        "t",
        "Edit tags (of the selection, if any)",
        footer="Tags",
        priority=True,
    ),  # fmt: skip
    _a("note", "write_note", "w", "Write a note on the paper"),
    _a("not_for_me", "not_for_me", "x", "Not for me (and read)", footer="Not for me"),
    _a("mute", "mute_reason", "M", "Mute what raises the paper's interest most"),
    # A priority binding runs as the key arrives: letters typed in the same burst
    # ("/grokking") then already go to the search bar.
    _a("search", "focus_search", "slash", "Search", footer="Search", priority=True),
    _a("next_unread", "next_unread", "n", "Next unread paper", footer="Next unread"),
    _a("previous_unread", "previous_unread", "p", "Previous unread paper"),
    _a(
        "unread_view", "view('unread')", "u", "The unread papers (again: all)", footer="Unread view"
    ),  # fmt: skip
    _a("starred_view", "view('starred')", "f", "The starred papers (again: all)"),
    _a("all_view", "view('all')", "a", "All papers"),
    _a("mark_all_read", "mark_all_read", "A", "Mark every shown paper read (asks first)"),
    _a("undo", "undo", "z,ctrl+z", "Undo", footer="Undo"),
    _a("redo", "redo", "Z", "Redo"),
    _a("preview_down", "scroll_preview(4)", "J", "Scroll the preview down"),
    _a("preview_up", "scroll_preview(-4)", "K", "Scroll the preview up"),
    _a("accept_suggestion", "accept_suggestion", "ctrl+y", "Search for the did-you-mean"),
    _a("open_link", "open_link", "o", "Open the paper's link in the browser"),
    _a("copy_title", "copy_title", "y", "Copy the title"),
    _a("copy_link", "copy_link", "Y", "Copy the link"),
    _a("sort", "cycle_sort", "S", "Sort by the next order"),
    _a("export", "export", "e", "Export"),
    _a("fetch", "fetch", "F", "Fetch new papers"),
    _a("next_day", "next_day(1)", "right_square_bracket", "Next day with unread papers"),
    _a("previous_day", "next_day(-1)", "left_square_bracket", "Previous day with unread papers"),
    _a("save_search", "save_search", "plus", "Save this search"),
    *(_a(f"saved_{n}", f"open_saved({n})", str(n), f"Open saved search {n}") for n in range(1, 10)),
    _a("tags_pane", "toggle_tags_pane", "T", "Hide or show the left pane"),
    _a("next_pane", "focus_next", "tab", "Next pane"),
    _a("previous_pane", "focus_previous", "shift+tab", "Previous pane"),
    _a("help", "help", "question_mark", "Every key", footer="Help"),
    _a("quit", "quit", "q", "Quit", footer="Quit"),
    # The paper list.
    _a("down", "cursor_down", "j,down", "Down", "list"),
    _a("up", "cursor_up", "k,up", "Up", "list"),
    _a("top", "first", "g,home", "Top", "list"),
    _a("bottom", "last", "G,end", "Bottom", "list"),
    _a("page_down", "page_down", "pagedown,ctrl+d,space", "Page down", "list"),
    _a("page_up", "page_up", "pageup,ctrl+u", "Page up", "list"),
    _a("select", "toggle_selected", "v", "Select the paper (or let it go) and move down", "list"),
    _a("select_range", "select_range", "V", "Select from the last selected to here", "list"),
    _a("select_all", "select_all", "asterisk", "Select every shown paper", "list"),
    # The preview.
    _a("scroll_down", "scroll_down", "j,down", "Scroll down", "preview"),
    _a("scroll_up", "scroll_up", "k,up", "Scroll up", "preview"),
    _a("scroll_page_down", "page_down", "space,pagedown", "Page down", "preview"),
    _a("scroll_page_up", "page_up", "pageup", "Page up", "preview"),
    _a("scroll_top", "scroll_home", "g,home", "Top", "preview"),
    _a("scroll_bottom", "scroll_end", "G,end", "Bottom", "preview"),
    # The left pane.
    _a("pane_down", "cursor_down", "j", "Down", "pane"),
    _a("pane_up", "cursor_up", "k", "Up", "pane"),
    _a("jump_days", "jump('days')", "D", "Jump to the days", "pane"),
    _a("jump_saved", "jump('saved')", "V", "Jump to the saved searches", "pane"),
    _a("jump_tags", "jump('tags')", "number_sign", "Jump to the tags", "pane"),
)
BY_NAME = {action.name: action for action in ACTIONS}

# A preset: keys that differ from the default (vim-like) ones.
PRESETS: dict[str, dict[str, tuple[str, ...]]] = {
    "default": {},
    # newsboat's defaults where paperdesk has the same action: N toggles read,
    # p/n the previous/next unread, r/R reload (fetch), g sorts, C marks all
    # read, J/K the next/previous feed (here: day), l the unread ones.
    "newsboat": {
        "read": ("N",),
        "fetch": ("r", "R"),
        "sort": ("g",),
        "top": ("home",),
        "bottom": ("end",),
        "mark_all_read": ("A", "C"),
        "next_day": ("J", "right_square_bracket"),
        "previous_day": ("K", "left_square_bracket"),
        "scroll_top": ("home",),  # g sorts, as in newsboat
        "scroll_bottom": ("end",),
        "preview_down": ("ctrl+f",),
        "preview_up": ("ctrl+b",),
        "unread_view": ("u", "l"),
    },
}

_NAMED = {
    "enter", "escape", "tab", "space", "backspace", "delete", "insert", "home", "end",
    "pageup", "pagedown", "up", "down", "left", "right",
}  # fmt: skip
_SHORT = {"esc": "escape", "return": "enter", "pgup": "pageup", "pgdn": "pagedown",
          "del": "delete", "ins": "insert"}  # fmt: skip
_REPLACED = {"solidus": "slash", "reverse_solidus": "backslash", "commercial_at": "at",
             "hyphen_minus": "minus", "plus_sign": "plus", "low_line": "underscore"}  # fmt: skip
_BACK = {value: key for key, value in _REPLACED.items()}
_MODIFIERS = ("ctrl", "shift", "alt", "meta", "super")
_FUNCTION = re.compile(r"^f([1-9]|1[0-9]|2[0-4])$")


class KeyError_(ValueError):
    """A key that is not one (the message says why)."""


def normalise(key: str) -> str:
    """A key as Textual names it: "?" -> "question_mark", "Ctrl+S" -> "ctrl+s",
    "s" and "S" stay themselves. ``KeyError_`` when it names no key."""
    text = key.strip()
    if not text:
        raise KeyError_("an empty key")
    if len(text) == 1:
        return _character(text)
    *mods, base = text.split("+") if "+" in text[:-1] else [text]
    mods = [m.strip().lower() for m in mods]
    if any(m not in _MODIFIERS for m in mods) or len(set(mods)) != len(mods):
        raise KeyError_(f"{key!r} is not a key")
    if len(base) == 1:
        name = _character(base.lower() if "ctrl" in mods else base)
    else:
        lowered = base.lower()
        lowered = _SHORT.get(lowered, lowered)
        if lowered in _NAMED or _FUNCTION.match(lowered) or _is_character_name(lowered):
            name = lowered
        else:
            raise KeyError_(f"{key!r} is not a key")
    return "+".join([*[m for m in _MODIFIERS if m in mods], name])


def _character(char: str) -> str:
    if char.isalnum():
        return char
    if char == " ":
        return "space"
    try:
        name = unicodedata.name(char).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        raise KeyError_(f"{char!r} is not a key") from None
    return _REPLACED.get(name, name)


def _is_character_name(name: str) -> bool:
    """ "question_mark", "number_sign", "slash": a character's key name."""
    if name in _BACK:
        return True
    try:
        return len(unicodedata.lookup(name.replace("_", " "))) == 1
    except KeyError:
        return False


def display(key: str) -> str:
    """How a key is shown: "question_mark" -> "?", "ctrl+s" -> "Ctrl+S"."""
    *mods, base = key.split("+") if "+" in key[:-1] else [key]
    if len(base) > 1 and (base in _BACK or _is_character_name(base)) and base not in _NAMED:
        base = _character_back(base)
    elif base in ("pageup", "pagedown"):
        base = {"pageup": "PgUp", "pagedown": "PgDn"}[base]
    elif base == "escape":
        base = "Esc"
    elif len(base) > 1:
        base = base.capitalize()
    elif mods:
        base = base.upper()
    return "+".join([*(m.capitalize() for m in mods), base])


def _character_back(name: str) -> str:
    name = _BACK.get(name, name)
    return unicodedata.lookup(name.replace("_", " "))


def shown(keys: Iterable[str]) -> str:
    return ", ".join(display(k) for k in keys)


@dataclass(frozen=True)
class Keymap:
    """The keys in force: for each action's name, its keys."""

    keys: Mapping[str, tuple[str, ...]]
    preset: str = "default"

    def of(self, name: str) -> tuple[str, ...]:
        return self.keys.get(name, BY_NAME[name].keys)

    def first(self, name: str) -> str:
        keys = self.of(name)
        return display(keys[0]) if keys else ""

    def changed(self) -> dict[str, str]:
        """The actions whose keys differ from the defaults, as Textual's keymap."""
        return {
            name: ",".join(keys) for name, keys in self.keys.items() if keys != BY_NAME[name].keys
        }


DEFAULT = Keymap({action.name: action.keys for action in ACTIONS})


def _together(a: str, b: str) -> bool:
    """Whether two scopes' keys are live at the same moment."""
    return a == b or "app" in (a, b)


def conflicts(keys: Mapping[str, tuple[str, ...]]) -> list[tuple[str, str, str]]:
    """(key, action, other action) for every key two live actions share."""
    found = []
    names = list(keys)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            if not _together(BY_NAME[first].scope, BY_NAME[second].scope):
                continue
            for key in keys[first]:
                if key in keys[second]:
                    found.append((key, first, second))
    return found


def resolve(preset: object, table: Mapping[str, object], where: str = "config.toml"
            ) -> tuple[Keymap, list[str]]:  # fmt: skip
    """The keys in force from a preset's name and a ``[keys]`` table, and one line
    for each problem (an unknown preset or action, a key that is not one, a key
    another action has): each such setting is ignored, the default kept."""
    problems: list[str] = []
    if preset is None or preset == "":
        preset = "default"
    if not isinstance(preset, str) or preset not in PRESETS:
        problems.append(
            f"{where}: unknown key preset {preset!r} (known: {', '.join(PRESETS)}); "
            "using the default keys"
        )
        preset = "default"
    keys = {action.name: action.keys for action in ACTIONS}
    keys.update(PRESETS[preset])
    wanted: dict[str, tuple[str, ...]] = {}
    for name, value in table.items():
        if name == "preset":
            continue
        if name not in BY_NAME:
            close = [n for n in BY_NAME if n.startswith(name[:3])][:3]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(f"{where}: [keys] {name}: no such action{hint}; ignored "
                            "(`paperdesk keys` lists them)")  # fmt: skip
            continue
        raw = [value] if isinstance(value, str) else value
        if not isinstance(raw, list) or not raw or not all(isinstance(k, str) for k in raw):
            problems.append(f'{where}: [keys] {name} should be a key ("s") or a list of keys; '
                            f"{name} keeps {shown(keys[name])}")  # fmt: skip
            continue
        try:
            wanted[name] = tuple(dict.fromkeys(normalise(k) for k in raw))
        except KeyError_ as error:
            problems.append(f"{where}: [keys] {name}: {error}; {name} keeps {shown(keys[name])}")
    # Apply them all (a swap of two keys is fine), then take back, one by one,
    # each chosen key that clashes with another action's.
    result = {**keys, **wanted}
    while True:
        clash = next(
            ((k, a, b) for k, a, b in conflicts(result) if a in wanted or b in wanted), None
        )
        if clash is None:
            break
        key, first, second = clash
        order = list(table)  # of two choices that clash, the later one in the file goes
        if first in wanted and second in wanted:
            loser = max(first, second, key=order.index)
        else:
            loser = first if first in wanted else second
        other = second if loser == first else first
        what = BY_NAME[other].description.lower()
        about = f" ({what})" if what != other.replace("_", " ") else ""
        problems.append(
            f"{where}: [keys] {loser} = {display(key)!r} is already the key of {other}"
            f"{about}; {loser} keeps {shown(keys[loser])}"
        )
        result[loser] = keys[loser]
        del wanted[loser]
    return Keymap(result, preset), problems


def table_rows(keymap: Keymap) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """For each scope: (action name, keys shown, what it does)."""
    return [
        (
            title,
            [
                (action.name, shown(keymap.of(action.name)), action.description)
                for action in ACTIONS
                if action.scope == scope
            ],
        )
        for scope, title in SCOPES.items()
    ]


def markdown(keymap: Keymap) -> str:
    """The keys in force as Markdown tables, one per scope (``paperdesk keys --markdown``)."""
    lines = []
    for title, rows in table_rows(keymap):
        lines += [f"### {title}", "", "| key | action | name in `[keys]` |", "| --- | --- | --- |"]
        for name, keys, description in rows:
            cells = " ".join(f"`{k}`" for k in keys.split(", ")) if keys else "(none)"
            cells = cells.replace("`|`", "`\\|`")
            lines.append(f"| {cells} | {description} | `{name}` |")
        lines.append("")
    return "\n".join(lines)
