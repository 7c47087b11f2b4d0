"""Acting on every match of a query from the command line: the count first,
confirmation, --dry-run, --yes, one journal record and one undo step for the
whole set (`paperdesk undo` / `redo`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from paperdesk.cli import app
from paperdesk.desk import Desk
from paperdesk.library import Filter
from paperdesk.model import Entry


def library(path) -> dict[str, str]:
    entries = [
        Entry(f"Old study {n}", "offline reinforcement learning", published=dt.date(2024, 3, n + 1))
        for n in range(5)
    ] + [
        Entry(f"New study {n}", "vision transformers", published=dt.date(2025, 6, n + 1))
        for n in range(3)
    ]
    with Desk(path) as desk:
        desk.import_entries(entries, "a.txt")
        return {p.title: p.id for p in desk.papers()}


def run(env, *args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), env=env, input=input)


def journal(path) -> list[dict]:
    return [json.loads(line) for line in (path / "decisions.jsonl").read_text().splitlines()]


def test_read_on_a_query_marks_exactly_the_matches_and_one_undo_takes_them_back(tmp_path):
    data = tmp_path / "d"
    ids = library(data)
    env = {"PAPERDESK_DATA_DIR": str(data)}
    old = {ids[f"Old study {n}"] for n in range(5)}
    run(env, "read", ids["Old study 0"])  # one already read
    before = len(journal(data))

    result = run(env, "read", "--query", "published:<2025-01-01", "--yes")
    assert result.exit_code == 0, result.output
    assert "marked read 4 papers (1 already were)" in result.stdout
    with Desk(data) as desk:
        assert {p.id for p in desk.papers() if p.read} == old
    records = journal(data)[before:]
    assert len(records) == 1 and sorted(records[0]["ids"]) == sorted(old - {ids["Old study 0"]})

    undone = run(env, "undo")
    assert undone.exit_code == 0 and "undid: marked read 4 papers" in undone.stdout
    with Desk(data) as desk:
        # The paper read before the bulk action stays read: undo takes back only its own.
        assert {p.id for p in desk.papers() if p.read} == {ids["Old study 0"]}
    assert "redid: marked read 4 papers" in run(env, "redo").stdout
    with Desk(data) as desk:
        assert {p.id for p in desk.papers() if p.read} == old
    assert run(env, "redo").exit_code == 1  # nothing more to redo


def test_a_query_asks_first_and_dry_run_lists_without_changing(tmp_path):
    data = tmp_path / "d"
    ids = library(data)
    env = {"PAPERDESK_DATA_DIR": str(data)}
    # Not at a terminal and no --yes: nothing happens, and the line says how many.
    refused = run(env, "star", "--query", "vision")
    assert refused.exit_code == 2
    assert "would star 3 papers: confirm at a terminal, or pass --yes" in refused.stderr
    dry = run(env, "star", "-q", "vision", "--dry-run")
    assert dry.exit_code == 0 and "would star 3 papers" in dry.stderr
    assert sorted(line.split("  ", 1)[1] for line in dry.stdout.splitlines()) == [
        f"New study {n}" for n in range(3)
    ]
    with Desk(data) as desk:
        assert not any(p.starred for p in desk.papers())
    assert not (data / "decisions.jsonl").exists()
    # Plain IDs act at once, as before.
    assert "starred 1 paper" in run(env, "star", ids["New study 0"]).stdout
    assert "would star 2 papers (of 3 matches)" in run(env, "star", "-q", "vision", "-n").stderr


def test_bad_bulk_arguments_are_one_line_each(tmp_path):
    data = tmp_path / "d"
    ids = library(data)
    env = {"PAPERDESK_DATA_DIR": str(data)}
    for args, message in [
        (["star"], "which papers?"),
        (["star", ids["New study 0"], "-q", "vision"], "not both"),
        (["read", "-q", "title:("], "cannot read the query"),
        (["read", "-q", "  "], "nothing to search for"),
        (["tag", "-q", "vision", "-y"], "Missing argument"),
        (["tag", ids["New study 0"]], "at least one tag"),
        (["undo"], "nothing to undo"),
    ]:
        result = run(env, *args)
        assert result.exit_code in (1, 2), (args, result.output)
        assert message in result.output, (args, result.output)


def test_tag_and_untag_on_a_query_are_one_step_each(tmp_path):
    data = tmp_path / "d"
    ids = library(data)
    env = {"PAPERDESK_DATA_DIR": str(data)}
    run(env, "tag", ids["Old study 0"], "rl")
    tagged = run(env, "tag", "--query", "reinforcement", "rl", "offline", "--yes")
    assert "tagged 5 papers (offline, rl)" in tagged.stdout
    untagged = run(env, "untag", "-q", "reinforcement", "-y", "offline")
    assert "untagged 5 papers (offline)" in untagged.stdout
    with Desk(data) as desk:
        rl = {p.id for p in desk.papers(Filter(tag="rl"))}
        assert rl == {ids[f"Old study {n}"] for n in range(5)}
        assert not desk.papers(Filter(tag="offline"))
    run(env, "undo")  # the untag
    run(env, "undo")  # the tag: rl stays on the paper tagged before
    with Desk(data) as desk:
        assert [p.id for p in desk.papers(Filter(tag="rl"))] == [ids["Old study 0"]]
        assert not desk.papers(Filter(tag="offline"))
    # The journal replays to the same tags as the library holds.
    from paperdesk.library.state import replay

    states, skipped = replay((data / "decisions.jsonl").read_text().splitlines())
    assert skipped == 0
    with Desk(data) as desk:
        held = {pid: set(s.tags) for pid, s in desk.library.states().items() if s.tags}
    assert {pid: set(s.tags) for pid, s in states.items() if s.tags} == held


def test_a_real_process_confirms_at_a_prompt(tmp_path):
    """`--yes` is for scripts; a person answers the question (here through a pty)."""
    import pty

    data = tmp_path / "d"
    library(data)
    env = {**os.environ, "PAPERDESK_DATA_DIR": str(data), "NO_COLOR": "1"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: paperdesk at a terminal
        os.execve(
            sys.executable,
            [sys.executable, "-m", "paperdesk", "read", "--query", "vision"],
            env,
        )
    seen = b""
    answered = False
    while True:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
        if not answered and b"Go on?" in seen:
            os.write(fd, b"y\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, seen
    assert b"would mark read 3 papers" in seen and b"marked read 3 papers" in seen
    done = subprocess.run(
        [sys.executable, "-m", "paperdesk", "list", "--unread", "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert sorted(p["title"] for p in json.loads(done.stdout)) == [
        f"Old study {n}" for n in range(5)
    ]
