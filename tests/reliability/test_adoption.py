"""A library file that is emptied, deleted or replaced by another program's is
reported, never silently replaced by a new empty library; a library found
damaged stays refused in every process until a restore."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paperdesk.cli import app
from tests.dumps import LOREM, E, page

runner = CliRunner()


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output + result.stderr
    return result


@pytest.fixture
def library(data_dir: Path, tmp_path: Path) -> Path:
    dump = tmp_path / "d.txt"
    dump.write_text(page([E(f"Paper number {n} here", LOREM) for n in range(12)]))
    run("import", str(dump))
    ids = [p["id"] for p in json.loads(run("list", "--json").stdout)]
    run("star", ids[0])
    run("tag", ids[1], "keep")
    dump2 = tmp_path / "d2.txt"
    dump2.write_text(page([E("One more paper", LOREM)]))
    run("import", str(dump2))  # takes a backup of the 12-paper library first
    return data_dir / "library.sqlite3"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", [["list"], ["star", "abcd"], ["state", "export"]])
def test_an_emptied_library_is_reported_not_adopted(library: Path, command):
    library.write_bytes(b"")
    for side in ("-wal", "-shm"):
        Path(f"{library}{side}").unlink(missing_ok=True)
    result = run(*command, code=1)
    assert "is empty (0 bytes)" in result.stderr and "paperdesk restore" in result.stderr
    assert library.read_bytes() == b""  # nothing was written


def test_a_deleted_library_is_reported_not_adopted(library: Path):
    for side in ("", "-wal", "-shm"):
        Path(f"{library}{side}").unlink(missing_ok=True)
    result = run("list", code=1)
    assert "is missing" in result.stderr and "decision journal" in result.stderr
    assert not library.exists()


def test_a_foreign_sqlite_file_is_never_written(library: Path):
    for side in ("", "-wal", "-shm"):
        Path(f"{library}{side}").unlink(missing_ok=True)
    conn = sqlite3.connect(library)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()
    before = digest(library)
    result = run("list", code=1)
    assert "another program, not a paperdesk library" in result.stderr
    assert digest(library) == before


def test_restore_brings_back_the_backup_with_papers_not_the_empty_one(library: Path, data_dir):
    library.write_bytes(b"")
    for side in ("-wal", "-shm"):
        Path(f"{library}{side}").unlink(missing_ok=True)
    result = run("restore", "--yes")
    assert "restored" in result.stdout
    papers = json.loads(run("list", "--json").stdout)
    assert len(papers) == 12  # the backup before the last import (it comes back on re-import)
    assert sum(p["starred"] for p in papers) == 1 and any(p["tags"] == ["keep"] for p in papers)


def test_restore_prefers_a_backup_that_holds_papers(library: Path, data_dir: Path, tmp_path):
    from paperdesk.library import Library, backups

    # An empty library's backup, newest of all (taken before the fix, say).
    empty = tmp_path / "elsewhere" / "library.sqlite3"

    with Library(empty) as fresh:
        fresh.counts()
    # take() no longer copies an empty library over one with papers: put the copy
    # there as an older paperdesk would have, newest of all.
    import shutil
    from datetime import UTC, datetime, timedelta

    later = backups._stamp(datetime.now(UTC) + timedelta(minutes=1))
    shutil.copy(empty, data_dir / "backups" / f"library-{later}-start.sqlite3")
    result = run("restore", "--yes")
    assert "hold no papers" in result.stderr
    assert len(json.loads(run("list", "--json").stdout)) == 12


def test_a_damaged_library_stays_refused_in_every_process(library: Path, data_dir: Path):
    pid = json.loads(run("list", "--json").stdout)[2]["id"]
    for side in ("-wal", "-shm"):
        Path(f"{library}{side}").unlink(missing_ok=True)
    data = bytearray(library.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # a damaged page
    library.write_bytes(bytes(data))
    first = runner.invoke(app, ["star", pid])
    assert first.exit_code == 1 and "damaged" in first.stderr
    assert Path(f"{library}.damaged").exists()
    before = digest(library)
    env = {"PAPERDESK_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    second = subprocess.run(
        [sys.executable, "-m", "paperdesk", "star", pid], capture_output=True, text=True,
        env=env, timeout=60,
    )  # fmt: skip
    assert second.returncode == 1 and "damaged" in second.stderr
    assert digest(library) == before  # another process did not write either
    run("restore", "--yes")
    assert not Path(f"{library}.damaged").exists()
    run("star", pid)


def test_a_deleted_write_ahead_log_stops_the_open_writer(library: Path, data_dir: Path):
    """The app holds the library open; someone deletes -wal and -shm; a CLI star
    "succeeds" into new ones. The open writer must notice and stop (its next
    write would mix two logs), saying the journal has every decision."""
    from paperdesk.library import Library, LibraryError

    ids = [p["id"] for p in json.loads(run("list", "--json").stdout)]
    held = Library(library)
    held.set_starred([ids[3]])  # the open app, written once
    for side in ("-wal", "-shm"):
        Path(f"{library}{side}").unlink(missing_ok=True)
    other = subprocess.run(
        [sys.executable, "-m", "paperdesk", "star", ids[4]], capture_output=True, text=True,
        env={"PAPERDESK_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}, timeout=60,
    )  # another process  # fmt: skip
    assert other.returncode == 0, other.stderr
    with pytest.raises(LibraryError, match="write-ahead log.*deleted.*decisions.jsonl"):
        held.set_starred([ids[5]])
    with pytest.raises(LibraryError):
        held.check_files()  # what the app's poll asks
    held.close()
    journal = (data_dir / "decisions.jsonl").read_text(encoding="utf-8")
    assert ids[3] in journal and ids[4] in journal


def test_restore_waits_for_no_writer_and_refuses_while_one_writes(library: Path, data_dir):
    """An import runs (a long write transaction): restore refuses instead of moving
    the file it writes into. A writer that had the old file open notices the
    restore and writes no more into the moved-away file."""
    import threading

    from paperdesk.library import Library, LibraryError

    writer = Library(library)
    started, release = threading.Event(), threading.Event()

    def long_write():
        with writer._write():
            started.set()
            release.wait(10)

    thread = threading.Thread(target=long_write)
    thread.start()
    started.wait(5)
    try:
        result = run("restore", "--yes", code=1)
        assert "writing to it" in result.stderr
    finally:
        release.set()
        thread.join()
    run("restore", "--yes")
    ids = [p["id"] for p in json.loads(run("list", "--json").stdout)]
    with pytest.raises(LibraryError, match="replaced or removed"):
        writer.set_starred([ids[0]])
    writer.close()


def test_when_every_backup_is_damaged_the_journal_brings_the_decisions_back(
    library: Path, data_dir: Path, tmp_path: Path
):
    ids = [p["id"] for p in json.loads(run("list", "--json").stdout)]
    run("read", ids[5])
    for backup in (data_dir / "backups").glob("library-*.sqlite3"):
        backup.write_bytes(b"\xff" * 8192)
    library.write_bytes(b"\xff" * 8192)  # and the library too
    for side in ("-wal", "-shm"):
        Path(f"{library}{side}").unlink(missing_ok=True)
    refused = run("restore", "--yes", code=1)
    assert "restore --journal" in refused.stderr
    result = run("restore", "--journal", "--yes")
    assert "import your dumps again" in result.stdout
    assert json.loads(run("list", "--json").stdout) == []
    run("import", str(tmp_path / "d.txt"))
    run("import", str(tmp_path / "d2.txt"))
    papers = {p["id"]: p for p in json.loads(run("list", "--json").stdout)}
    assert len(papers) == 13
    assert papers[ids[5]]["read"] and sum(p["starred"] for p in papers.values()) == 1
    assert any(p["tags"] == ["keep"] for p in papers.values())


def test_state_import_reads_a_decision_journal(library: Path, data_dir: Path, tmp_path: Path):
    journal = data_dir / "decisions.jsonl"
    copy = tmp_path / "other-machine.jsonl"
    copy.write_bytes(journal.read_bytes())
    elsewhere = tmp_path / "elsewhere"
    env_run = CliRunner(env={"PAPERDESK_DATA_DIR": str(elsewhere)})
    result = env_run.invoke(app, ["import", str(tmp_path / "d.txt")])
    assert result.exit_code == 0
    result = env_run.invoke(app, ["state", "import", str(copy)])
    assert result.exit_code == 0, result.stderr
    listed = json.loads(env_run.invoke(app, ["list", "--starred", "--json"]).stdout)
    assert len(listed) == 1
