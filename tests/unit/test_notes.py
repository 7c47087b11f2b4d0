"""Notes: a decision like a star. Saved at once and in the journal; in the state
file and its merge (the later edit wins, an edit of the other side's text wins,
two edits made apart keep both texts); searchable; in --json and the exports;
and the ``paperdesk note`` command."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperdesk import export
from paperdesk.cli import app
from paperdesk.desk import Desk
from paperdesk.library import Library
from paperdesk.library import decisions as store
from paperdesk.library.backups import restore_from_journal
from paperdesk.library.state import (
    CONFLICT_MARKER,
    Note,
    document,
    fingerprint,
    from_document,
    merge_notes,
    replay,
)
from paperdesk.model import Entry


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    ticks = itertools.count(1)
    monkeypatch.setattr(store, "now_stamp", lambda: f"2026-01-01T00:00:{next(ticks):02d}.000Z")
    return ticks


def library(path: Path) -> tuple[Library, dict[str, str]]:
    lib = Library(path / "library.sqlite3")
    lib.import_entries(
        [Entry("Offline RL at scale", "We study offline reinforcement learning."),
         Entry("Vision transformers", "Patches of images.")], "dump.txt",
    )  # fmt: skip
    return lib, {p.title: p.id for p in lib.papers()}


def transfer(source: Library, target: Library):
    return target.import_state(from_document(json.loads(json.dumps(document(source.states())))))


# --- the merge rules ------------------------------------------------------------------------


def test_one_side_edited_the_others_text_so_it_wins_whatever_the_clocks():
    base = Note("first thoughts", "2026-01-01T00:00:00Z")
    edited = Note("first thoughts, then more", "2025-01-01T00:00:00Z", fingerprint(base.text))
    assert merge_notes(base, edited) == edited  # a slow clock does not lose the edit
    assert merge_notes(edited, base) == edited


def test_two_edits_made_apart_keep_both_texts_and_merge_once():
    base = "a shared start"
    mine = Note("mine: compare with PPO", "2026-01-03T00:00:00Z", fingerprint(base))
    theirs = Note("theirs: read the appendix", "2026-01-02T00:00:00Z", fingerprint(base))
    merged = merge_notes(mine, theirs)
    assert merged.text.index("mine:") < merged.text.index("theirs:")  # the later first
    assert CONFLICT_MARKER.format(at=theirs.at) in merged.text
    # Merging again, either way round, changes nothing: no marker piles up.
    assert merge_notes(merged, theirs) == merged
    assert merge_notes(theirs, merged) == merged
    assert merge_notes(merged, mine) == merged


def test_a_cleared_note_against_an_edit_keeps_the_text():
    base = "keep me"
    cleared = Note("", "2026-01-03T00:00:00Z", fingerprint(base))
    edited = Note("keep me, and more", "2026-01-02T00:00:00Z", fingerprint(base))
    assert merge_notes(cleared, edited) == edited
    assert merge_notes(Note(base, "2026-01-01T00:00:00Z"), cleared) == cleared  # cleared after


# --- in the library ---------------------------------------------------------------------


def test_a_note_is_saved_journaled_and_restored_from_the_journal(tmp_path, clock):
    lib, ids = library(tmp_path / "a")
    rl = ids["Offline RL at scale"]
    assert lib.set_note(rl, "later: compare with CQL") is True
    assert lib.set_note(rl, "later: compare with CQL") is False  # unchanged
    assert lib.set_note(rl, "later: compare with CQL and IQL") is True
    assert lib.get(rl).note == "later: compare with CQL and IQL"
    lib.save_search("later", "note:later")
    lines = lib.journal_path.read_text().splitlines()
    records = [json.loads(line) for line in lines if '"note"' in line]
    assert [r["note"] for r in records] == [
        "later: compare with CQL",
        "later: compare with CQL and IQL",
    ]
    assert records[1]["base"] == fingerprint("later: compare with CQL")
    states, skipped = replay(lines)
    assert skipped == 0 and states[rl].note.text == "later: compare with CQL and IQL"
    lib.close()
    restore_from_journal(tmp_path / "a" / "library.sqlite3", tmp_path / "backups")
    again = Library(tmp_path / "a" / "library.sqlite3")
    assert again.states()[rl].note.text == "later: compare with CQL and IQL"
    assert {n: s.query for n, s in again.saved_searches().items()} == {"later": "note:later"}
    again.close()


def test_notes_travel_in_the_state_file_and_wait_for_their_paper(tmp_path, clock):
    one, ids = library(tmp_path / "one")
    rl = ids["Offline RL at scale"]
    one.set_note(rl, "shared start")
    two = Library(tmp_path / "two" / "library.sqlite3")  # has not got the paper yet
    assert transfer(one, two).pending == 1
    two.import_entries([Entry("Offline RL at scale", "We study offline RL.")], "later.txt")
    assert two.get(rl).note == "shared start"
    # Both machines edit the note apart; each takes the other's state: both texts, once.
    one.set_note(rl, "shared start + one's idea")
    two.set_note(rl, "shared start + two's idea")
    transfer(two, one)
    transfer(one, two)
    for lib in (one, two):
        text = lib.get(rl).note
        assert "one's idea" in text and "two's idea" in text and text.count("---") == 2
    assert one.get(rl).note == two.get(rl).note
    assert transfer(one, two).updated == 0  # settled
    one.close()
    two.close()


def test_notes_are_searched_shown_in_json_and_exported(tmp_path):
    with Desk(tmp_path / "d") as desk:
        desk.import_entries([Entry("Offline RL at scale", "We study offline RL.")], "a.txt")
        pid = desk.papers()[0].id
        desk.set_note(pid, "Read *later*: compare with conservative Q-learning")
        assert [h.paper.id for h in desk.search("note:later").hits] == [pid]
        assert [h.paper.id for h in desk.search("conservative").hits] == [pid]  # a bare word
        assert desk.search('note:"conservative q"').total == 1
        assert desk.search("note:offline").total == 0  # the abstract is not the note
        paper = desk.paper(pid)
        assert paper.to_json()["note"] == paper.note
        assert "> **Note**\n>\n> Read *later*: compare" in export.to_markdown([paper])
        assert "annote = {Read *later*: compare with conservative Q-learning}" in (
            export.to_bibtex([paper])
        )
        desk.set_note(pid, "")
        assert desk.paper(pid).note is None and desk.search("note:later").total == 0


# --- the command line ---------------------------------------------------------------------


def test_the_note_command_prints_sets_appends_edits_and_clears(tmp_path):
    runner = CliRunner()
    env = {"PAPERDESK_DATA_DIR": str(tmp_path / "d")}
    with Desk(tmp_path / "d") as desk:
        desk.import_entries([Entry("Offline RL at scale", "We study offline RL.")], "a.txt")
        pid = desk.papers()[0].id

    def run(*args: str, **extra: str):
        return runner.invoke(app, ["note", pid[:6], *args], env={**env, **extra})

    empty = run()
    assert empty.exit_code == 0 and empty.stdout == "" and "has no note" in empty.stderr
    assert "saved the note" in run("--set", "first line").stderr
    assert run("--append", "- second").exit_code == 0
    assert run().stdout == "first line\n- second\n"
    editor = tmp_path / "editor.py"
    editor.write_text(
        "import sys, pathlib\np = pathlib.Path(sys.argv[1])\n"
        "p.write_text(p.read_text().replace('first', 'edited'))\n"
    )
    edited = run("--edit", EDITOR=f"{sys.executable} {editor}", VISUAL="")
    assert edited.exit_code == 0, edited.output
    assert json.loads(run("--json").stdout) == {"id": pid, "note": "edited line\n- second\n"}
    failed = run("--edit", EDITOR="false", VISUAL="")
    assert failed.exit_code == 1 and "exited with status 1" in failed.stderr
    assert run().stdout == "edited line\n- second\n"  # unchanged by the failed editor
    both = run("--set", "x", "--clear")
    assert both.exit_code == 2 and "exclude each other" in both.stderr
    assert "deleted the note" in run("--clear").stderr
    assert "has no note" in run().stderr
    unknown = runner.invoke(app, ["note", "ffffffffff"], env=env)
    assert unknown.exit_code != 0 and "no paper" in unknown.stderr


def test_a_note_written_from_a_shell_is_found_by_search(tmp_path):
    env = dict(os.environ, PAPERDESK_DATA_DIR=str(tmp_path / "d"))

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "paperdesk", *args], env=env,
                              capture_output=True, text=True)  # fmt: skip

    with Desk(tmp_path / "d") as desk:
        desk.import_entries([Entry("Offline RL at scale", "We study offline RL.")], "a.txt")
        pid = desk.papers()[0].id
    assert cli("note", pid, "--set", "later: the appendix").returncode == 0
    found = json.loads(cli("search", "note:later", "--json").stdout)
    assert [r["id"] for r in found["results"]] == [pid]
    assert found["results"][0]["note"] == "later: the appendix"
