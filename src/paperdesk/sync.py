"""One library on several machines, through a folder that something else keeps
the same everywhere (Syncthing, Dropbox, a network share, a git checkout):
no server, and never a whole database file copied over another.

Each machine owns one file in the folder, ``paperdesk-<machine>.jsonl``, and
only ever appends to it: a header line naming the machine and the file, then
records of its decisions (each paper's whole state, as a state file holds it,
and the saved searches), numbered 1, 2, 3… A sync

1. appends this machine's decisions since its last sync (the papers whose
   change counter moved) to its own file, fsynced;
2. reads every other file in the folder, conflict copies included, and merges
   each record it has not applied yet into the library by the rules of
   ``state.merge`` (the later decision wins; a removed tag is a decision;
   notes keep both texts rather than lose one), in one transaction;
3. remembers, in the library, which records of which file it applied.

Why this survives what sync tools do:

- A file copied half-way ends in a line without its newline: that line is
  left for the next sync, never applied half.
- A conflict copy holds records of the same file (the same file ID and
  numbers): each record is applied once, whatever the number of copies.
- A clock far ahead: stamps more than a day in the future count as the
  moment they are first applied (``state.clamp_future``), and a record is
  applied once, so such a stamp cannot win every later sync.
- The folder gone (unmounted, renamed): one line, and nothing changes.
- A data directory copied to a new machine: the machine ID is kept with the
  host name, and a different host makes a new ID, so two machines never write
  one file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperdesk.atomic import write_atomic
from paperdesk.library.state import (
    PaperState,
    SavedSearch,
    merge,
    merge_saved,
    now_stamp,
    paper_from_json,
    saved_from_document,
)

if TYPE_CHECKING:
    from paperdesk.desk import Desk

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FORMAT = "paperdesk-sync"
VERSION = 1
PREFIX = "paperdesk-"
MACHINE_FILE = "machine-id"
LOCK_NAME = "sync.lock"
# Papers per record: a first sync of a big library is many short lines.
RECORD_PAPERS = 1000


class SyncError(Exception):
    """A sync that could not run; the message is one line for the user."""


@dataclass
class SyncReport:
    folder: Path
    machine: str
    sent: int = 0  # papers whose decisions this machine appended
    saved_sent: bool = False
    files: int = 0  # other machines' files read (conflict copies included)
    records: int = 0  # new records applied
    updated: int = 0  # papers whose decisions changed here
    pending: int = 0  # decisions kept for papers this library does not have yet
    saved: int = 0  # saved searches changed here
    damaged: list[str] = field(default_factory=list)  # "file: N unreadable lines"
    changed_ids: list[str] = field(default_factory=list)


def machine_id(data_dir: Path) -> str:
    """This machine's stable ID, made once per data directory and host."""
    path = data_dir / MACHINE_FILE
    host = socket.gethostname()
    with contextlib.suppress(OSError, ValueError, TypeError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data.get("id"), str) and data.get("host") == host:
            return data["id"]
    made = secrets.token_hex(6)
    data_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps({"id": made, "host": host}) + "\n")
    return made


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """One sync at a time per data directory (the app's and a command's)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / LOCK_NAME, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _meta_key(folder: Path) -> str:
    return f"sync:{folder}"


def _load_meta(desk: Desk, folder: Path) -> dict[str, Any]:
    text = desk.library.meta_value(_meta_key(folder))
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    data.setdefault("exported_seq", 0)
    data.setdefault("saved", "")
    data.setdefault("applied", {})
    return data


def sync(desk: Desk, folder: Path) -> SyncReport:
    """Send this machine's decisions to the folder and merge every other
    machine's (see the module). ``SyncError`` when the folder cannot be used;
    the library is then as it was."""
    folder = folder.expanduser()
    if folder.exists() and not folder.is_dir():
        raise SyncError(f"{folder} is a file, not a folder; nothing was changed")
    if not folder.is_dir():
        raise SyncError(
            f"the sync folder {folder} is not there (not mounted, or moved?); nothing was "
            "changed. Create it, or point [sync] dir at the folder your sync tool shares"
        )
    folder = folder.resolve()
    data_dir = desk.library_path.parent
    machine = machine_id(data_dir)
    report = SyncReport(folder, machine)
    with _locked(data_dir):
        meta = _load_meta(desk, folder)
        try:
            _send(desk, folder, machine, meta, report)
            _receive(desk, folder, machine, meta, report)
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            raise SyncError(
                f"cannot sync with {folder}: {where}{error.strerror or error}; your library "
                "keeps every decision, and the next sync sends them"
            ) from None
    return report


# --- this machine's file ----------------------------------------------------------


def _own_file(folder: Path, machine: str) -> Path:
    return folder / f"{PREFIX}{machine}.jsonl"


def _send(desk: Desk, folder: Path, machine: str, meta: dict, report: SyncReport) -> None:
    library = desk.library
    seq = library.max_seq()
    states = library.states_since(int(meta["exported_seq"]))
    saved = library.saved_searches(removed=True)
    saved_json = {name: s.to_json() for name, s in sorted(saved.items())}
    saved_print = hashlib.sha1(json.dumps(saved_json, sort_keys=True).encode()).hexdigest()[:16]
    send_saved = bool(saved_json) and saved_print != meta["saved"]
    if states or send_saved:
        path = _own_file(folder, machine)
        file_id, last = _prepare(path, machine)
        lines = []
        ids = sorted(states)
        for start in range(0, max(len(ids), 1), RECORD_PAPERS):
            chunk = ids[start : start + RECORD_PAPERS]
            record: dict[str, Any] = {"file": file_id, "n": last + 1, "at": now_stamp()}
            record["state"] = {pid: states[pid].to_json() for pid in chunk}
            if send_saved and start == 0:
                record["saved"] = saved_json
            lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            last += 1
        _append(path, "".join(lines))
        report.sent = len(ids)
        report.saved_sent = send_saved
    meta["exported_seq"] = seq
    meta["saved"] = saved_print
    library.set_meta(_meta_key(folder), json.dumps(meta, separators=(",", ":")))


def _prepare(path: Path, machine: str) -> tuple[str, int]:
    """This machine's file ready for appending: its file ID and last record
    number. A line cut short by a crash mid-append is cut off (the decisions in
    it are sent again: the library's counter only moves after a whole append)."""
    if not path.exists():
        file_id = secrets.token_hex(8)
        header: dict[str, object] = {
            "format": FORMAT, "version": VERSION, "machine": machine, "file": file_id,
            "host": socket.gethostname(), "created": now_stamp(),
        }  # fmt: skip
        _append(path, json.dumps(header, separators=(",", ":")) + "\n")
        return file_id, 0
    with open(path, "r+b") as handle:
        data = handle.read()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            handle.truncate(end)
            handle.flush()
            os.fsync(handle.fileno())
            data = data[:end]
    lines = data.splitlines()
    found = _header(lines[0] if lines else b"")
    if found is None or found["machine"] != machine:
        raise SyncError(
            f"{path} is not this machine's sync file (its first line is damaged or names "
            "another machine); move it out of the folder and sync again"
        )
    last = 0
    for line in reversed(lines[1:]):
        try:
            last = int(json.loads(line)["n"])
            break
        except (ValueError, KeyError, TypeError):
            continue
    return str(found["file"]), last


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _header(line: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(line)
    except ValueError:
        return None
    if (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and isinstance(data.get("machine"), str)
        and isinstance(data.get("file"), str)
        and isinstance(data.get("version"), int)
    ):
        return data
    return None


# --- the other machines' files ------------------------------------------------------


def _applied(ranges: list) -> set[int]:
    done: set[int] = set()
    for low, high in ranges:
        done.update(range(int(low), int(high) + 1))
    return done


def _ranges(numbers: set[int]) -> list[list[int]]:
    result: list[list[int]] = []
    for n in sorted(numbers):
        if result and n == result[-1][1] + 1:
            result[-1][1] = n
        else:
            result.append([n, n])
    return result


def _candidates(folder: Path) -> list[Path]:
    """Every machine's file and its copies: Syncthing's "x.sync-conflict-…",
    Dropbox's "x (conflicted copy …)", hand copies; never a hidden temp file."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.name.startswith(PREFIX) and ".jsonl" in p.name and p.is_file()
    )


def _receive(desk: Desk, folder: Path, machine: str, meta: dict, report: SyncReport) -> None:
    applied: dict[str, set[int]] = {f: _applied(r) for f, r in meta["applied"].items()}
    newly: dict[str, set[int]] = {}
    per_file: dict[str, dict[str, PaperState]] = {}
    saved: dict[str, SavedSearch] = {}
    for path in _candidates(folder):
        with open(path, "rb") as handle:
            data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]  # a last line without its newline: later
        lines = complete.splitlines()
        header = _header(lines[0]) if lines else None
        if header is None:
            if complete:
                report.damaged.append(f"{path.name}: no paperdesk sync header; skipped")
            continue
        if header["machine"] == machine:
            continue  # this machine's own (or a copy of it): already in the library
        if header["version"] > VERSION:
            report.damaged.append(
                f"{path.name}: written by a newer paperdesk (sync format "
                f"{header['version']}); upgrade to read it"
            )
            continue
        report.files += 1
        file_id = header["file"]
        done = applied.get(file_id, set()) | newly.get(file_id, set())
        states = per_file.setdefault(file_id, {})
        unreadable = 0
        for line in lines[1:]:
            try:
                record = json.loads(line)
                number = int(record["n"])
                if record.get("file") != file_id:
                    raise ValueError("a record of another file")
                if number in done:
                    continue
                incoming = {pid: paper_from_json(pid, s) for pid, s in record["state"].items()}
                found = saved_from_document({"saved_searches": record.get("saved", {})})
            except (ValueError, KeyError, TypeError, AttributeError):
                unreadable += 1
                continue
            # One machine's records in order: each paper's later record wins ties.
            for pid, paper in incoming.items():
                states[pid] = merge(states[pid], paper, replaying=True) if pid in states else paper
            saved = merge_saved(saved, found)
            done.add(number)
            newly.setdefault(file_id, set()).add(number)
            report.records += 1
        if unreadable:
            report.damaged.append(f"{path.name}: {unreadable} unreadable line(s) skipped")
    # Across machines: the later decision wins (state.merge).
    incoming_all: dict[str, PaperState] = {}
    for states in per_file.values():
        for pid, paper in states.items():
            incoming_all[pid] = merge(incoming_all[pid], paper) if pid in incoming_all else paper
    if incoming_all:
        before = desk.library.max_seq()
        result = desk.import_states(incoming_all)
        if before == meta["exported_seq"] and desk.library.max_seq() == before + 1:
            # Only this merge wrote since the send: what it wrote came from the
            # other machines, and sending it back would only echo it.
            meta["exported_seq"] = before + 1
        report.updated, report.pending = result.updated, result.pending
        report.changed_ids = result.changed_ids
    if saved:
        report.saved = desk.library.import_saved(saved)
    if newly:
        for file_id, numbers in newly.items():
            applied[file_id] = applied.get(file_id, set()) | numbers
        meta["applied"] = {f: _ranges(n) for f, n in sorted(applied.items())}
        desk.library.set_meta(_meta_key(folder), json.dumps(meta, separators=(",", ":")))


def start_background(data_dir: Path, folder: Path) -> bool:
    """``paperdesk sync DIR --quiet`` as a detached child (the app's sync on
    quit: the terminal is handed back at once). Off with
    ``PAPERDESK_NO_BACKGROUND``; True if started."""
    from paperdesk.processes import start_detached

    if os.environ.get("PAPERDESK_NO_BACKGROUND"):
        return False
    start_detached(["-m", "paperdesk", "sync", str(folder), "--quiet"], data_dir)
    return True
