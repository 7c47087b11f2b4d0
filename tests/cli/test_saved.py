"""Saved searches on the command line (add, list with counts, remove, list
--saved), and a state round trip that carries notes and saved searches to
another library, removals included."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from paperdesk.cli import app
from paperdesk.desk import Desk
from paperdesk.model import Entry

RL = "offline reinforcement learning with conservative value functions"


def library(path) -> dict[str, str]:
    with Desk(path) as desk:
        desk.import_entries(
            [Entry(f"RL study {n}", RL) for n in range(4)] + [Entry("Vision", "image patches")],
            "a.txt",
        )
        return {p.title: p.id for p in desk.papers()}


def test_saved_add_list_remove_and_list_saved(tmp_path):
    ids = library(tmp_path / "d")
    env = {"PAPERDESK_DATA_DIR": str(tmp_path / "d")}
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), env=env)

    added = run("saved", "add", "rl", '"reinforcement learning" is:unread')
    assert (
        added.exit_code == 0 and "saved: rl" in added.stderr and "(4 unread of 4)" in added.stderr
    )
    assert "replaced: rl" in run("saved", "add", "rl", "reinforcement").stderr
    bad = run("saved", "add", "broken", "title:(")
    assert bad.exit_code == 2 and "cannot read the query" in bad.stderr
    assert run("saved", "add", "  ", "x").exit_code == 2
    run("read", ids["RL study 0"])
    listed = json.loads(run("saved", "list", "--json").stdout)
    assert listed == [{"name": "rl", "query": "reinforcement", "total": 4, "unread": 3}]
    # To a pipe, one line per search as `list` prints papers: key, name, unread, total, query.
    assert run("saved", "list").stdout == "1\trl\t3\t4\treinforcement\n"
    shown = json.loads(run("list", "--saved", "rl", "--unread", "--json").stdout)
    assert sorted(p["title"] for p in shown) == ["RL study 1", "RL study 2", "RL study 3"]
    by_title = json.loads(run("list", "--saved", "rl", "--sort", "title", "--json").stdout)
    assert [p["title"] for p in by_title] == [f"RL study {n}" for n in range(4)]
    missing = run("list", "--saved", "nope")
    assert missing.exit_code == 2 and "no saved search 'nope' (saved: rl)" in missing.stderr
    assert "removed the saved search rl" in run("saved", "remove", "rl").stderr
    assert run("saved", "remove", "rl").exit_code == 2
    assert "No saved searches" in run("saved", "list").stderr


def test_notes_and_saved_searches_travel_in_the_state_file(tmp_path):
    ids = library(tmp_path / "one")
    library(tmp_path / "two")
    runner = CliRunner()
    one = {"PAPERDESK_DATA_DIR": str(tmp_path / "one")}
    two = {"PAPERDESK_DATA_DIR": str(tmp_path / "two")}
    runner.invoke(app, ["saved", "add", "rl", "reinforcement"], env=one)
    runner.invoke(app, ["saved", "add", "gone", "vision"], env=one)
    runner.invoke(app, ["saved", "add", "gone", "vision"], env=two)
    runner.invoke(app, ["saved", "remove", "gone"], env=one)  # later: the removal wins
    runner.invoke(app, ["note", ids["Vision"], "--set", "compare with ViT"], env=one)
    exported = runner.invoke(app, ["state", "export", "-o", str(tmp_path / "s.json")], env=one)
    assert exported.exit_code == 0, exported.output
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["papers"][ids["Vision"]]["note"] == "compare with ViT"
    assert set(data["saved_searches"]) == {"rl", "gone"}
    imported = runner.invoke(app, ["state", "import", str(tmp_path / "s.json")], env=two)
    assert imported.exit_code == 0, imported.output
    with Desk(tmp_path / "two") as desk:
        assert desk.saved_searches() == {"rl": "reinforcement"}
        assert desk.note(ids["Vision"]) == "compare with ViT"
    again = runner.invoke(app, ["state", "import", str(tmp_path / "s.json")], env=two)
    assert "0 updated" in again.stdout
