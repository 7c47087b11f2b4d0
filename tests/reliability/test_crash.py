"""kill -9 at random moments: the library always opens and keeps every completed decision.

Real processes are killed, many times, at random points of an import, an index
rebuild and a triage session. The number of kills is bounded so CI stays within
a few minutes; PAPERDESK_CRASH_KILLS raises it for a longer hunt.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paperdesk.library import Library
from tests.dumps import E, page

KILLS = int(os.environ.get("PAPERDESK_CRASH_KILLS", "6"))
PAPERS = 6000


def big_dump(path: Path, n: int = PAPERS) -> Path:
    words = "grokking lottery ticket sparse attention agents reasoning diffusion".split()
    pages = []
    for start in range(0, n, 100):
        entries = [
            E(
                title=f"Crash test paper {i}: {words[i % 8]} meets {words[(i * 3) % 8]}",
                abstract=" ".join(words[(i + k) % 8] for k in range(120)),
                authors=i % 9 + 1,
                date="Jun 27, 2024",
                upvotes=i % 50,
            )
            for i in range(start, min(n, start + 100))
        ]
        pages.append(page(entries, page_date="Jun 28"))
    path.write_text("\n\n".join(pages), encoding="utf-8")
    return path


def paperdesk(data_dir: Path, *args: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PAPERDESK_DATA_DIR=str(data_dir))
    return subprocess.Popen(
        [sys.executable, "-m", "paperdesk", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def finish(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PAPERDESK_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "paperdesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc), so a kill can be checked for orphans."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                children = {int(c) for c in task.read_text().split()}
            except OSError:
                continue
            todo.extend(children - found)
            found |= children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_after(process: subprocess.Popen, delay: float) -> bool:
    """SIGKILL after ``delay`` seconds; False if the process had finished by then.

    Worker processes of the killed one must not live on (an orphaned worker
    would keep the index lock it inherited).
    """
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        workers = descendants(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 10
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        orphans = [w for w in workers if alive(w)]
        for orphan in orphans:
            os.kill(orphan, signal.SIGKILL)
        assert not orphans, f"worker processes outlived the killed paperdesk: {orphans}"
        return True


def snapshot(data_dir: Path) -> tuple[int, dict[str, tuple[bool, bool, tuple[str, ...]]]]:
    """The library opens, is undamaged, and here is what the user decided."""
    path = data_dir / "library.sqlite3"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    conn.close()
    with Library(path) as lib:
        decided = {
            p.id: (p.read, p.starred, p.tags) for p in lib.papers() if p.read or p.starred or p.tags
        }
        return lib.count(), decided


@pytest.fixture
def library_with_decisions(data_dir: Path, samples) -> tuple[Path, dict]:
    assert finish(data_dir, "import", *map(str, samples)).returncode == 0
    ids = [p["id"] for p in json.loads(finish(data_dir, "list", "--json").stdout)]
    assert finish(data_dir, "star", *ids[:5]).returncode == 0
    assert finish(data_dir, "read", *ids[3:9]).returncode == 0
    assert finish(data_dir, "tag", ids[0], "keep", "rl-theory").returncode == 0
    count, decided = snapshot(data_dir)
    assert count == 140 and len(decided) == 9
    return data_dir, decided


def test_killing_an_import_at_random_moments_loses_nothing(library_with_decisions, tmp_path):
    data_dir, decided = library_with_decisions
    dump = big_dump(tmp_path / "big.txt")
    rng = random.Random(20261122)
    killed = 0
    for _ in range(KILLS):
        process = paperdesk(data_dir, "import", str(dump), "-q")
        killed += kill_after(process, rng.uniform(0.3, 6.0))
        count, now = snapshot(data_dir)
        assert now == decided  # every star, read mark and tag is still there
        # Committed in batches: what was committed stays, each paper whole.
        assert 140 <= count <= 140 + PAPERS
    assert killed, "no kill landed while the import ran: the dump is too small"
    result = finish(data_dir, "import", str(dump), "-q")
    assert result.returncode == 0, result.stderr
    count, now = snapshot(data_dir)
    assert (count, now) == (140 + PAPERS, decided)
    # The index was killed mid-update too: search still answers, exactly.
    found = json.loads(finish(data_dir, "search", '"crash test paper"', "--json").stdout)
    assert found["total"] == PAPERS


def test_killing_an_index_rebuild_leaves_a_working_index(library_with_decisions, tmp_path):
    data_dir, decided = library_with_decisions
    assert finish(data_dir, "import", str(big_dump(tmp_path / "big.txt")), "-q").returncode == 0
    rng = random.Random(7)
    for _ in range(max(2, KILLS // 2)):
        kill_after(paperdesk(data_dir, "index", "rebuild"), rng.uniform(0.2, 3.0))
        result = finish(data_dir, "search", "is:starred tag:keep", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["total"] == 1
    assert snapshot(data_dir)[1] == decided


TRIAGE = """
import sys
from paperdesk.desk import Desk
desk = Desk()
ids = desk.library.ids()
for n, pid in enumerate(ids):
    # What the app does on a key press: one short write, then on to the next.
    if n % 3 == 0:
        desk.set_starred([pid])
    elif n % 3 == 1:
        desk.add_tags(pid, ["triaged"])
    else:
        desk.set_read([pid])
    print(pid, flush=True)
"""


def test_killing_a_triage_session_keeps_every_completed_action(data_dir, samples):
    assert finish(data_dir, "import", *map(str, samples)).returncode == 0
    rng = random.Random(3)
    interrupted = 0
    for _ in range(KILLS):
        process = subprocess.Popen(
            [sys.executable, "-c", TRIAGE],
            env=dict(os.environ, PAPERDESK_DATA_DIR=str(data_dir)),
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(rng.uniform(0.3, 1.5))
        process.send_signal(signal.SIGKILL)
        out, _ = process.communicate()
        done = out.split()
        interrupted += len(done) < 140
        _, decided = snapshot(data_dir)
        for n, pid in enumerate(done):
            read, starred, tags = decided[pid]
            assert (starred, "triaged" in tags, read)[n % 3], (n, pid)
    assert interrupted, "no kill landed mid-session"


def test_killing_an_import_while_it_parses_leaves_no_worker(data_dir, tmp_path):
    """A dump past LARGE_DUMP_CHARS is parsed by worker processes: a kill -9 of
    the import in that phase must take them too (they held the library's files
    and the caller's output pipe: `paperdesk import | tee` hung)."""
    from paperdesk.importers.pipeline import LARGE_DUMP_CHARS

    dump = big_dump(tmp_path / "huge.txt", n=14000)
    assert dump.stat().st_size > LARGE_DUMP_CHARS
    killed = 0
    for delay in (0.8, 1.5, 2.5):
        process = paperdesk(data_dir, "import", str(dump), "-q")
        deadline = time.monotonic() + 10
        while len(descendants(process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # the parse workers are up
        killed += kill_after(process, delay)
    assert killed, "no kill landed while the import parsed"


def test_a_decision_does_not_wait_for_a_running_import(library_with_decisions, tmp_path):
    """The import commits in batches: a star made while it runs is saved within
    a fraction of a second (it froze the app 30 s, then failed "database is
    locked"), and the import still completes."""
    from paperdesk.library import Library

    data_dir, _decided = library_with_decisions
    dump = big_dump(tmp_path / "big.txt", n=20000)
    process = paperdesk(data_dir, "import", str(dump), "-q")
    path = data_dir / "library.sqlite3"
    try:
        with Library(path) as lib:
            deadline = time.monotonic() + 60
            while not 140 < lib.count() < 140 + 20000 and time.monotonic() < deadline:
                time.sleep(0.01)  # until the import is halfway: some batches committed
            assert 140 < lib.count() < 140 + 20000, "no batch committed while the import ran"
            ids = lib.ids(limit=200)
            waits = []
            for pid in ids[150:155]:
                started = time.monotonic()
                lib.set_starred([pid])
                waits.append(time.monotonic() - started)
        assert max(waits) < 2.0, waits
    finally:
        assert process.wait(timeout=300) == 0, process.stderr.read()
    with Library(path) as lib:
        assert lib.count() == 140 + 20000
        assert all(lib.get(pid).starred for pid in ids[150:155])
