"""One library on two machines through a shared folder, with real processes
(`python -m paperdesk sync`): offline edits on both sides, a folder copied
in pieces by the "sync tool", a conflict copy, a clock years ahead, a folder
that disappears, and a sync file cut short by a crash. Both end with the same
decisions, equal to a replay of each machine's own decisions by the rules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from paperdesk.desk import Desk
from paperdesk.library.state import merge, replay
from paperdesk.model import Entry

ENTRIES = [Entry(f"Shared study {n}", f"abstract number {n} about offline learning")
           for n in range(8)]  # fmt: skip


def machine(path: Path) -> dict[int, str]:
    with Desk(path) as desk:
        desk.import_entries(ENTRIES, "dump.txt")
        by_title = {p.title: p.id for p in desk.papers()}
    return {n: by_title[f"Shared study {n}"] for n in range(8)}


def cli(data: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAPERDESK_DATA_DIR": str(data), "PAPERDESK_NO_BACKGROUND": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "paperdesk", *args], env=env, capture_output=True, text=True
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done


def copy_over(source: Path, target: Path, cut: float | None = None) -> None:
    """The sync tool: every file of one machine's folder into the other's, except
    the files the target's own machine writes (its copy there is the newest).
    ``cut``: copy only that share of each file's bytes, as a tool caught
    mid-copy leaves it."""
    owner = _machine_of(target.parent / target.name.replace("folder-", ""))
    for path in source.iterdir():
        if owner in path.name:
            continue
        there = target / path.name
        data = path.read_bytes()
        if there.exists() and there.read_bytes() == data:
            continue
        there.write_bytes(data[: int(len(data) * cut)] if cut is not None else data)


def view(data: Path) -> dict[str, tuple]:
    """Each paper's decisions as the user sees them."""
    with Desk(data) as desk:
        states = desk.library.states()
    return {pid: _seen(s) for pid, s in states.items() if not s.empty}


def _seen(s) -> tuple:
    return (s.read.value, s.starred.value, s.dismissed.value, tuple(sorted(s.tags)), s.note.text)


def own_decisions(data: Path) -> dict:
    """Replay of the decisions this machine made itself (not those a sync merged in)."""
    lines = [
        line
        for line in (data / "decisions.jsonl").read_text().splitlines()
        if '"state"' not in line
    ]
    states, skipped = replay(lines)
    assert skipped == 0
    return states


def test_two_machines_offline_edits_pieces_and_a_conflict_copy_end_the_same(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    fa, fb = tmp_path / "folder-a", tmp_path / "folder-b"  # one shared folder, as each sees it
    fa.mkdir()
    fb.mkdir()
    ids = machine(a)
    assert machine(b) == ids
    # Offline on both sides, overlapping.
    cli(a, "star", ids[0], ids[1])
    cli(a, "tag", ids[2], "theory")
    cli(a, "note", ids[3], "--set", "from A")
    cli(b, "read", ids[0], ids[4])
    cli(b, "tag", ids[2], "survey")
    cli(b, "star", ids[5])
    cli(b, "note", ids[3], "--set", "from B")
    cli(b, "saved", "add", "offline", "offline learning")
    cli(a, "sync", str(fa))
    cli(b, "sync", str(fb))
    # The tool is caught half-way through A's file: B applies nothing half.
    copy_over(fa, fb, cut=0.6)
    half = cli(b, "sync", str(fb), "--json")
    assert json.loads(half.stdout)["records"] == 0
    copy_over(fa, fb)
    cli(b, "sync", str(fb))
    # B's file reaches A, and so does a conflict copy of it.
    copy_over(fb, fa)
    for path in fa.glob("paperdesk-*.jsonl"):
        header = json.loads(path.read_text().splitlines()[0])
        if path.read_text() and header["machine"] != _machine_of(a):
            shutil.copy(path, path.with_name(path.stem + ".sync-conflict-20261201-1.jsonl"))
    cli(a, "sync", str(fa))
    # More on both: B takes back A's star (later), A removes B's tag.
    cli(b, "unstar", ids[1])
    cli(a, "untag", ids[2], "survey")
    for _ in range(2):
        cli(a, "sync", str(fa))
        cli(b, "sync", str(fb))
        copy_over(fa, fb)
        copy_over(fb, fa)
        cli(a, "sync", str(fa))
        cli(b, "sync", str(fb))
    seen_a, seen_b = view(a), view(b)
    assert seen_a == seen_b
    # Equal to a replay of what each machine decided, merged by the rules.
    mine, theirs = own_decisions(a), own_decisions(b)
    expected = {
        pid: _seen(merge(mine[pid], theirs[pid]) if pid in mine and pid in theirs
                   else mine.get(pid) or theirs[pid])
        for pid in mine.keys() | theirs.keys()
    }  # fmt: skip
    assert seen_a == expected
    assert seen_a[ids[0]][:2] == (True, True)  # A's star and B's read of one paper
    assert seen_a[ids[1]][1] is False  # B's later unstar
    assert seen_a[ids[2]][3] == ("theory",)  # B's tag, then A's removal of it
    assert "from A" in seen_a[ids[3]][4] and "from B" in seen_a[ids[3]][4]  # no text lost
    with Desk(a) as desk:
        assert desk.saved_searches() == {"offline": "offline learning"}
    # Settled: another round sends and changes nothing.
    again = json.loads(cli(a, "sync", str(fa), "--json").stdout)
    assert again["updated"] == 0 and again["records"] == 0


def _machine_of(data: Path) -> str:
    return json.loads((data / "machine-id").read_text())["id"]


def test_decisions_about_papers_not_here_wait_for_them(tmp_path):
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "folder"
    folder.mkdir()
    ids = machine(a)
    with Desk(b) as desk:
        desk.import_entries(ENTRIES[:4], "dump.txt")  # B lacks papers 4-7
    cli(a, "star", ids[6])
    cli(a, "sync", str(folder))
    got = json.loads(cli(b, "sync", str(folder), "--json").stdout)
    assert got["pending"] == 1
    with Desk(b) as desk:
        desk.import_entries(ENTRIES[4:], "more.txt")
        assert desk.get(ids[6]).starred


def test_a_clock_years_ahead_does_not_win_forever(tmp_path):
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "folder"
    folder.mkdir()
    ids = machine(a)
    machine(b)
    cli(b, "star", ids[0])
    cli(b, "sync", str(folder))
    # B's clock was in 2099 when it starred.
    path = next(p for p in folder.iterdir() if _machine_of(b) in p.name)
    text = path.read_text()
    assert '"starred_at":"20' in text
    import re

    path.write_text(re.sub(r'"starred_at":"\d{4}', '"starred_at":"2099', text))
    cli(a, "sync", str(folder))
    with Desk(a) as desk:
        assert desk.get(ids[0]).starred
    cli(a, "unstar", ids[0])  # later, by A's (right) clock
    shutil.copy(path, folder / f"{path.stem} (conflicted copy 2026-12-01).jsonl")
    cli(a, "sync", str(folder))
    cli(a, "sync", str(folder))
    with Desk(a) as desk:
        assert not desk.get(ids[0]).starred


def test_a_folder_that_disappears_is_one_line_and_nothing_is_lost(tmp_path):
    a, folder = tmp_path / "a", tmp_path / "folder"
    folder.mkdir()
    ids = machine(a)
    cli(a, "sync", str(folder))
    folder.rmdir() if not any(folder.iterdir()) else shutil.rmtree(folder)
    cli(a, "star", ids[0])
    gone = cli(a, "sync", str(folder), check=False)
    assert gone.returncode == 1
    assert gone.stderr.count("\n") == 1 and "is not there" in gone.stderr
    folder.mkdir()
    cli(a, "sync", str(folder))  # a new folder: everything decided is sent again
    sent = [json.loads(line) for line in next(folder.iterdir()).read_text().splitlines()[1:]]
    assert any(ids[0] in record["state"] for record in sent)


def test_a_sync_file_cut_short_by_a_crash_is_mended_and_sent_again(tmp_path):
    a, b, folder = tmp_path / "a", tmp_path / "b", tmp_path / "folder"
    folder.mkdir()
    ids = machine(a)
    machine(b)
    cli(a, "sync", str(folder))  # the header
    cli(a, "star", ids[0])
    cli(a, "sync", str(folder))
    path = folder / f"paperdesk-{_machine_of(a)}.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[:-15])  # the last append cut off mid-line
    with Desk(a) as desk:  # as if the crash came before the library noted the send
        desk.library.set_meta(f"sync:{folder.resolve()}", json.dumps({"exported_seq": 0}))
    cli(a, "sync", str(folder))
    lines = path.read_text().splitlines()
    assert all(json.loads(line) for line in lines)  # every line whole again
    cli(b, "sync", str(folder))
    with Desk(b) as desk:
        assert desk.get(ids[0]).starred


def test_without_a_folder_sync_says_how_to_name_one(tmp_path):
    result = cli(tmp_path / "a", "sync", check=False)
    assert result.returncode == 2 and "[sync] dir" in result.stderr
