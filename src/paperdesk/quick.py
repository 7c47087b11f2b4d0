"""The console script's front door: the everyday commands without loading typer.

Loading typer (and the click and rich it brings) takes longer than most
commands take to run: 80-120 ms of a 270 ms ``paperdesk star ID``. A script
that stars papers in a loop, or a shell completion, would wait for it every
time. So ``main`` reads the command line itself when it is one of the
everyday commands (``list``, ``show``, ``star`` and the other decisions,
``tag``, ``untag``, ``locate``, ``search``) written in a way it fully
understands, and runs the command's body in ``paperdesk.commands``, the same
one the typer command calls.

Anything else goes to the full command line in ``cli``, untouched: another
command, ``--help``, an unknown or repeated option, a bad value, a missing
argument, ``--`` and the shell completion. Typer then gives exactly its
usual answer, so help and usage errors have one source. ``OPTIONS`` must
agree with the typer commands; a test compares them option by option.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from paperdesk.sorts import LIST_SORTS, SEARCH_SORTS

# typing costs 3-5 ms to import; only the type checker needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Option:
    """One option of a command: where its value goes and what it takes. (Not a
    dataclass: ``locate`` would load dataclasses for it alone.)"""

    __slots__ = ("dest", "kind", "choices")

    def __init__(self, dest: str, kind: str, choices: tuple[str, ...] = ()) -> None:
        self.dest = dest
        self.kind = kind  # "flag", "value", "many" (repeatable), "count" (a whole number >= 1)
        self.choices = choices


_DECISION = {
    "--query": Option("query", "value"),
    "-q": Option("query", "value"),
    "--yes": Option("yes", "flag"),
    "-y": Option("yes", "flag"),
    "--dry-run": Option("dry_run", "flag"),
    "-n": Option("dry_run", "flag"),
}

# command -> its options; the positional arguments are in ARGUMENTS.
OPTIONS: dict[str, dict[str, Option]] = {
    "list": {
        "--starred": Option("starred", "flag"),
        "--unread": Option("unread", "flag"),
        "--read": Option("read", "flag"),
        "--tag": Option("tags", "many"),
        "--sort": Option("sort", "value", LIST_SORTS),
        "--limit": Option("limit", "count"),
        "--saved": Option("saved", "value"),
        "--json": Option("as_json", "flag"),
        "--plain": Option("plain", "flag"),
    },
    "show": {"--json": Option("as_json", "flag")},
    "locate": {"--json": Option("as_json", "flag")},
    "search": {
        "--limit": Option("limit", "count"),
        "--sort": Option("sort", "value", SEARCH_SORTS),
        "--json": Option("as_json", "flag"),
        "--plain": Option("plain", "flag"),
    },
    **{
        name: _DECISION
        for name in ("star", "unstar", "read", "unread", "dismiss", "undismiss", "tag", "untag")
    },
}
# command -> how many positional arguments: "" none, "1" exactly one, "*" any, "+" one or more.
ARGUMENTS = {
    "list": "",
    "show": "1",
    "locate": "",
    "search": "1",
    **{name: "*" for name in ("star", "unstar", "read", "unread", "dismiss", "undismiss")},
    "tag": "+",
    "untag": "+",
}


def parse(argv: list[str]) -> tuple[str, dict[str, Any], list[str]] | None:
    """(command, options, positional arguments) when this module runs ``argv``
    itself; None sends it to the full command line."""
    if not argv or argv[0] not in OPTIONS:
        return None
    name, rest = argv[0], argv[1:]
    spec = OPTIONS[name]
    values: dict[str, Any] = {}
    given: set[str] = set()
    positional: list[str] = []
    at = 0
    while at < len(rest):
        arg = rest[at]
        at += 1
        if arg == "-":
            return None  # standard input: none of these commands reads it
        if not arg.startswith("-"):
            positional.append(arg)
            continue
        flag, has_value, attached = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        option = spec.get(flag)
        if option is None:
            return None  # --help, an unknown option, -yn: typer's answer
        if option.kind == "flag":
            if has_value or option.dest in given:
                return None
            values[option.dest] = True
            given.add(option.dest)
            continue
        if has_value:
            value = attached
        elif at < len(rest):
            value = rest[at]
            at += 1
        else:
            return None  # the option's value is missing
        if option.kind == "many":
            values.setdefault(option.dest, []).append(value)
            continue
        if option.dest in given:
            return None  # given twice: typer refuses it (cli.OnceCommand)
        given.add(option.dest)
        if option.kind == "count":
            try:
                number = int(value)
            except ValueError:
                return None
            if number < 1:
                return None
            values[option.dest] = number
        elif option.choices:
            wanted = [choice for choice in option.choices if choice.lower() == value.lower()]
            if not wanted:
                return None
            values[option.dest] = wanted[0]
        else:
            values[option.dest] = value
    arity = ARGUMENTS[name]
    if arity == "" and positional or arity == "1" and len(positional) != 1:
        return None
    if arity == "+" and not positional:
        return None
    return name, values, positional


def _runner(name: str, values: dict[str, Any], positional: list[str]) -> Callable[[], None]:
    from paperdesk import commands

    if name == "list":
        return lambda: commands.list_papers(**values)
    if name == "show":
        return lambda: commands.show(positional[0], **values)
    if name == "locate":
        return lambda: commands.locate(**values)
    if name == "search":
        return lambda: commands.search(positional[0], **values)
    if name in ("tag", "untag"):
        return lambda: commands.change_tags(positional, name == "tag", **values)
    return lambda: commands.set_flag(positional or None, name, **values)


def main(argv: list[str] | None = None) -> None:
    """The console script: an everyday command here, anything else through typer."""
    args = sys.argv[1:] if argv is None else argv
    parsed = None if os.environ.get("_PAPERDESK_COMPLETE") else parse(args)
    if parsed is None:
        from paperdesk.cli import main as full

        full()
        return
    from paperdesk import commands

    commands.prepare_streams()
    try:
        _runner(*parsed)()
    except KeyboardInterrupt:  # as click ends an interrupted command
        sys.stderr.write("\nAborted!\n")
        raise SystemExit(1) from None
    except Exception as error:
        found = commands.error_of(error)
        if found is None:
            raise
        commands.complain(found.message)
        raise SystemExit(found.code) from None
    raise SystemExit(0)
