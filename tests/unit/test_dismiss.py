""" "Not for me": a decision like a star. It marks the paper read, is undoable,
goes to the journal, the state file and a restore, merges by the later-wins
rule, and is searchable as is:dismissed."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from paperdesk.cli import app
from paperdesk.desk import Desk
from paperdesk.library import state
from paperdesk.model import Entry

runner = CliRunner()


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


def make(desk: Desk) -> list[str]:
    desk.import_entries([Entry(f"Vision paper {n}", "About images.") for n in range(3)], "a.txt")
    return desk.library.ids(sort="title")


def test_dismiss_marks_read_and_undismiss_keeps_the_read_mark(tmp_path: Path):
    with Desk(tmp_path / "d") as desk:
        a, b, _c = make(desk)
        desk.set_read([b], True)
        changed, marked = desk.set_dismissed([a, b], True)
        assert (changed, marked) == ([a, b], [a])
        assert desk.get(a).dismissed and desk.get(a).read
        changed, marked = desk.set_dismissed([a], False)
        assert changed == [a] and not desk.get(a).dismissed and desk.get(a).read
        journal = [json.loads(line) for line in (tmp_path / "d" / "decisions.jsonl").open()]
        assert [r.get("set") for r in journal] == ["read", "read", "dismissed", "dismissed"]


def test_dismissed_is_in_the_state_file_and_merges_later_wins(tmp_path: Path):
    with Desk(tmp_path / "one") as one:
        a, *_ = make(one)
        one.set_dismissed([a], True)
        exported = one.export_state()
        assert exported["papers"][a]["dismissed"] is True
        assert exported["papers"][a]["dismissed_at"]
    with Desk(tmp_path / "two") as two:
        make(two)
        path = tmp_path / "state.json"
        path.write_text(json.dumps(exported))
        two.import_state(path)
        assert two.get(a).dismissed and two.get(a).read
    # A file without the key (an older paperdesk) leaves it undecided.
    old = state.paper_from_json(a, {"read": True, "starred": False})
    assert not old.dismissed.decided


def test_is_dismissed_in_queries(tmp_path: Path):
    with Desk(tmp_path / "d") as desk:
        a, b, _c = make(desk)
        desk.set_dismissed([a], True)
        assert [h.paper.id for h in desk.search("is:dismissed").hits] == [a]
        assert {h.paper.id for h in desk.search("vision is:undismissed").hits} == set(
            desk.library.ids()
        ) - {a}


def test_cli_dismiss_and_undismiss():
    with Desk() as desk:
        a, *_ = make(desk)
    assert "marked not for me (and read) 1 paper" in run("dismiss", a).stdout
    shown = json.loads(run("show", a, "--json").stdout)
    assert shown["dismissed"] is True and shown["read"] is True
    assert "not for me" in run("show", a).stdout
    assert "took back not for me on 1 paper" in run("undismiss", a).stdout
    assert "(1 already were)" in run("undismiss", a).stdout


def test_a_restore_brings_not_for_me_back_from_the_journal(tmp_path: Path):
    from paperdesk.library import Library, backups

    with Desk(tmp_path / "d") as desk:
        a, *_ = make(desk)
        backup = desk.backup("start")
        desk.set_dismissed([a], True)
        path, kept = desk.library.path, desk.backups_path
    path.write_bytes(b"\0" * 4096)  # the library lost
    result = backups.restore(path, backup, kept)
    assert result.replayed == 1  # one paper: its read mark and its dismissal
    with Library(path) as lib:
        assert lib.get(a).dismissed and lib.get(a).read
