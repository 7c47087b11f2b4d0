"""Several writers at once: no lost update, no "database is locked" reaching the user."""

from __future__ import annotations

import fcntl
import json
import threading
from pathlib import Path

import pytest

from paperdesk.desk import Desk
from paperdesk.library import Library
from paperdesk.search import index as index_module
from tests.reliability.test_crash import big_dump, finish, paperdesk


def test_two_imports_and_many_state_changes_at_once(data_dir: Path, samples, tmp_path):
    assert finish(data_dir, "import", str(samples[0])).returncode == 0
    ids = [p["id"] for p in json.loads(finish(data_dir, "list", "--json").stdout)]
    first = big_dump(tmp_path / "a.txt", 1500)
    imports = [
        paperdesk(data_dir, "import", str(first), "-q"),
        paperdesk(data_dir, "import", str(samples[1]), "-q"),
        paperdesk(data_dir, "import", str(first), "-q"),  # the same file twice at once
    ]
    stars = [paperdesk(data_dir, "star", pid) for pid in ids[:6]]
    tags = [paperdesk(data_dir, "tag", pid, "busy-day") for pid in ids[3:9]]
    for process in imports + stars + tags:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        assert "locked" not in err.lower() and "Traceback" not in err
    listed = json.loads(finish(data_dir, "list", "--json").stdout)
    assert len(listed) == 140 + 1500
    by_id = {p["id"]: p for p in listed}
    assert all(by_id[pid]["starred"] for pid in ids[:6])
    assert all(by_id[pid]["tags"] == ["busy-day"] for pid in ids[3:9])
    found = json.loads(finish(data_dir, "search", "is:starred", "--json").stdout)
    assert found["total"] == 6  # the index followed every writer


def test_two_apps_writing_the_same_papers_lose_nothing(tmp_path: Path):
    """Two library handles (two apps) change different things on the same papers."""
    path = tmp_path / "library.sqlite3"
    with Library(path) as setup:
        from paperdesk.model import Entry

        setup.import_entries([Entry(title=f"Paper {n}", abstract="x") for n in range(60)], "d")
        ids = setup.ids()
    errors: list[BaseException] = []

    def starrer() -> None:
        with Library(path) as lib:
            for pid in ids:
                lib.set_starred([pid])

    def tagger() -> None:
        with Library(path) as lib:
            for pid in ids:
                lib.add_tags(pid, ["seen"])
                lib.set_read([pid])

    def guard(target):
        def run() -> None:
            try:
                target()
            except BaseException as error:  # noqa: BLE001
                errors.append(error)

        return run

    threads = [threading.Thread(target=guard(t)) for t in (starrer, tagger)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Library(path) as lib:
        papers = lib.papers()
    assert all(p.starred and p.read and p.tags == ("seen",) for p in papers)


def test_a_locked_index_is_waited_for_then_reported_clearly(
    data_dir: Path, samples, monkeypatch: pytest.MonkeyPatch
):
    desk = Desk()
    desk.import_file(samples[0])
    desk.sync_index()
    monkeypatch.setattr(index_module, "LOCK_TIMEOUT_S", 0.3)
    pid = desk.library.ids()[0]
    with open(data_dir / index_module.LOCK_FILE, "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another process is writing the index
        changed = desk.set_starred([pid])  # the library write does not wait for it
        assert changed == [pid]
        assert any("index not updated" in n and "busy" in n for n in desk.notices)
    # Once the other writer is done, the index catches up on its own.
    results = desk.search("is:starred", limit=5)
    assert [hit.paper.id for hit in results.hits] == [pid]
    desk.close()


def test_the_cli_says_clearly_when_the_library_stays_busy(data_dir: Path, samples, monkeypatch):
    from typer.testing import CliRunner

    from paperdesk.cli import app
    from paperdesk.library import files as store

    runner = CliRunner()
    assert runner.invoke(app, ["import", str(samples[0])]).exit_code == 0
    pid = json.loads(runner.invoke(app, ["list", "--json"]).stdout)[0]["id"]
    monkeypatch.setattr(store, "BUSY_TIMEOUT_S", 0.2)
    blocker = Library(data_dir / "library.sqlite3")
    blocker.conn.execute("BEGIN IMMEDIATE")  # another writer holds the library
    try:
        result = runner.invoke(app, ["star", pid])
    finally:
        blocker.conn.execute("ROLLBACK")
        blocker.close()
    assert result.exit_code == 1
    assert "the library is busy" in result.stderr
    assert "Traceback" not in result.output
    assert runner.invoke(app, ["star", pid]).exit_code == 0


def test_search_answers_from_the_index_while_another_process_updates_it(
    data_dir: Path, samples, monkeypatch: pytest.MonkeyPatch
):
    desk = Desk()
    desk.import_file(samples[0])
    assert desk.search("grokking").total >= 1  # the index is built
    monkeypatch.setattr(index_module, "SEARCH_LOCK_WAIT_S", 0.1)
    desk.auto_sync_index = False
    desk.set_starred([desk.library.ids()[0]])  # a change the index has not seen yet
    with open(data_dir / index_module.LOCK_FILE, "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        results = desk.search("grokking")
    assert results.total >= 1
    assert any("another paperdesk is updating the search index" in n for n in desk.notices)
    desk.close()
