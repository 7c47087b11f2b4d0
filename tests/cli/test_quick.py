"""The console script's front door (``paperdesk.quick``): the everyday commands
run without typer, and do exactly what the typer commands do.

- Its table of options is the typer commands' own, option by option.
- What it does not fully understand (help, an unknown or repeated option, a
  bad value, a missing argument) goes to typer, which answers as ever.
- The same command lines give the same output, errors and exit status through
  either parser, as real processes on the same library.
- ``list``, ``show``, ``star`` and ``locate`` load neither typer nor rich when
  their output goes to a pipe, and ``search`` loads no typer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from enum import Enum
from pathlib import Path

import pytest

from paperdesk import quick
from paperdesk.cli import app
from tests.dumps import E, page

FULL = "import sys; from paperdesk.cli import main; sys.argv[0] = 'paperdesk'; main()"


def _click_command(name: str):
    import typer.main

    return typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(quick.OPTIONS))
def test_the_table_of_options_is_the_typer_commands(name: str):
    command = _click_command(name)
    spec = quick.OPTIONS[name]
    options = [p for p in command.params if p.param_type_name == "option"]
    names = {opt for p in options for opt in p.opts + p.secondary_opts}
    assert set(spec) == names - {"--help", "-h"}
    for param in options:
        for opt in param.opts:
            option = spec[opt]
            assert option.dest == {"tag": "tags"}.get(param.name, param.name), opt
            if param.is_flag:
                assert option.kind == "flag", opt
            elif param.multiple:
                assert option.kind == "many", opt
            elif param.min is not None:
                assert option.kind == "count" and param.min == 1, opt
            else:
                assert option.kind == "value", opt
            annotation = param.type_descriptor.annotation
            if isinstance(annotation, type) and issubclass(annotation, Enum):
                assert set(option.choices) == {c.value for c in annotation}, opt
            else:
                assert not option.choices, opt
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    arity = quick.ARGUMENTS[name]
    if arity == "":
        assert not arguments
    else:
        (argument,) = arguments
        expected = {"1": (1, True), "*": (-1, False), "+": (-1, True)}[arity]
        assert (argument.nargs, argument.required) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["list", "--help"],
        ["list", "-h"],
        ["list", "--bogus"],
        ["list", "--limit"],
        ["list", "--limit", "0"],
        ["list", "--limit", "x"],
        ["list", "--sort", "nonsense"],
        ["list", "--sort", "title", "--sort", "added"],
        ["list", "extra"],
        ["list", "--json=yes"],
        ["show"],
        ["show", "a", "b"],
        ["search", "-x"],
        ["search", "--", "-x"],
        ["tag"],
        ["star", "-yn", "abc"],
        ["star", "-"],
        ["export"],
        ["--version"],
    ],
)
def test_what_it_does_not_fully_understand_goes_to_typer(argv):
    assert quick.parse(argv) is None


def test_what_it_understands():
    assert quick.parse(["list", "--limit=5", "--sort", "Upvotes", "--tag", "a", "--tag", "b"]) == (
        "list",
        {"limit": 5, "sort": "upvotes", "tags": ["a", "b"]},
        [],
    )
    assert quick.parse(["star", "-q", "grokking", "-y"]) == (
        "star",
        {"query": "grokking", "yes": True},
        [],
    )
    assert quick.parse(["tag", "abcd", "x", "y"]) == ("tag", {}, ["abcd", "x", "y"])
    assert quick.parse(["search", "a b", "--limit", "3"]) == ("search", {"limit": 3}, ["a b"])


# --- real processes, one parser against the other ----------------------------------------


def _env(data: Path) -> dict[str, str]:
    return {**os.environ, "PAPERDESK_DATA_DIR": str(data), "PAPERDESK_NO_BACKGROUND": "1"}


def _quick(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "paperdesk", *args],
        capture_output=True,
        text=True,
        env=_env(data),
        timeout=120,
    )


def _full(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", FULL, *args],
        capture_output=True,
        text=True,
        env=_env(data),
        timeout=120,
    )


@pytest.fixture
def library(tmp_path: Path) -> Path:
    dump = tmp_path / "dump.txt"
    entries = [
        E("Grokking at the edge", "Delayed generalization in small transformers.", upvotes=5),
        E("Agents that plan", "An agent's plan with rewards and grokking.", date="Oct 3, 2025"),
        E("Café models", "Naïve résumé of models.", authors=3),
    ]
    dump.write_text(page(entries), encoding="utf-8")
    data = tmp_path / "data"
    done = _quick(data, "import", str(dump))
    assert done.returncode == 0, done.stderr
    return data


def _same(left: subprocess.CompletedProcess, right: subprocess.CompletedProcess) -> None:
    assert (left.returncode, left.stdout, left.stderr) == (
        right.returncode,
        right.stdout,
        right.stderr,
    )


def test_reading_commands_answer_the_same_through_either_parser(library: Path):
    ids = [line.split("\t")[0] for line in _quick(library, "list").stdout.splitlines()]
    assert len(ids) == 3
    for args in (
        ["list"],
        ["list", "--json"],
        ["list", "--sort", "title", "--limit", "2"],
        ["list", "--starred"],
        ["list", "--read", "--unread"],
        ["show", ids[0]],
        ["show", ids[1][:5], "--json"],
        ["show", "zzzz"],
        ["search", "grokking"],
        ["search", "grokking", "--json"],
        ["search", "grokkign"],
        ["search", "title:("],
        ["search", "  "],
        ["locate"],
        ["locate", "--json"],
    ):
        _same(_quick(library, *args), _full(library, *args))


def test_decisions_do_the_same_through_either_parser(library: Path, tmp_path: Path):
    other = tmp_path / "other"
    shutil.copytree(library, other)
    ids = [
        line.split("\t")[0]
        for line in _quick(library, "list", "--sort", "title").stdout.splitlines()
    ]
    steps = [
        ["star", ids[0]],
        ["star", ids[0]],
        ["read", ids[1], ids[2]],
        ["unread", ids[2]],
        ["dismiss", ids[2]],
        ["undismiss", ids[2]],
        ["tag", ids[0], "Later", "x"],
        ["untag", ids[0], "x", "nope"],
        ["tag", ids[0], "bad,tag"],
        ["star"],
        ["star", "nope"],
        ["read", "-q", "grokking", "--dry-run"],
        ["read", "-q", "grokking"],
        ["read", "-q", "grokking", "--yes"],
        ["unstar", "--query", "is:starred", "-y"],
    ]
    for args in steps:
        _same(_quick(library, *args), _full(other, *args))
    assert json.loads(_quick(library, "list", "--json").stdout) == json.loads(
        _quick(other, "list", "--json").stdout
    )


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (["locate"], ("typer", "rich", "click", "numpy", "whoosh")),
        (["list"], ("typer", "rich", "click", "numpy", "whoosh")),
        (["show", "ID", "--json"], ("typer", "rich", "click", "numpy", "whoosh")),
        (["show", "ID"], ("typer", "rich", "click", "numpy", "whoosh")),
        (
            ["star", "ID"],
            ("typer", "rich", "click", "numpy", "whoosh", "hmac", "secrets", "typing"),
        ),
        (["list", "--limit", "5"], ("typing",)),
        (["search", "grokking"], ("typer", "rich", "click", "multiprocessing")),
    ],
)
def test_everyday_commands_load_only_what_they_use(library: Path, args, absent):
    pid = _quick(library, "list").stdout.split("\t")[0]
    args = [pid if a == "ID" else a for a in args]
    probe = (
        "import sys; from paperdesk import quick\n"
        "try:\n    quick.main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write('LOADED ' + ' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        capture_output=True,
        text=True,
        env=_env(library),
        timeout=120,
    )
    loaded = set(done.stderr.rsplit("LOADED ", 1)[1].split())
    assert not {m for m in loaded if m.split(".")[0] in absent}
