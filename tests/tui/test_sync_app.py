"""[sync] dir in the app: it syncs on start (another machine's star shows
up), keeps the user's own decisions going out, says once when the folder is
gone, and a detached `paperdesk sync` runs on quit."""

from __future__ import annotations

import json
import time
from pathlib import Path

from paperdesk.desk import Desk
from paperdesk.settings import Settings, SyncSettings
from paperdesk.tui.app import make_app
from paperdesk.tui.pilot import settle


def app_for(desk: Desk, folder: Path):
    settings = Settings(mark_read_on_move=False, sync=SyncSettings(dir=str(folder)))
    return make_app(desk, settings, poll_interval=None, backup_on_start=False,
                    index_in_subprocess=False)  # fmt: skip


async def test_the_app_syncs_on_start_and_on_quit(desk: Desk, tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    other = Desk(tmp_path / "other-machine")
    other.import_sample()
    pid = other.ids()[3]
    other.set_starred([pid])
    other.sync(folder)
    other.close()
    app = app_for(desk, folder)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.pause(2.5)  # the start sync runs after the first paint
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert desk.get(pid).starred
        assert any("Synced: 1 paper changed" in n.message for n in app._notifications)
        mine = app.paper_list.ids[0]
        await pilot.press("s")
        await settle(pilot)
        monkeypatch.delenv("PAPERDESK_NO_BACKGROUND")  # the quit sync is a real child
    machine = json.loads((desk.library_path.parent / "machine-id").read_text())["id"]
    own = folder / f"paperdesk-{machine}.jsonl"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if own.exists() and mine in own.read_text():
            break
        time.sleep(0.2)
    assert mine in own.read_text(), "the quit sync sent the star made in the app"


async def test_a_missing_folder_is_said_once(desk: Desk, tmp_path):
    app = app_for(desk, tmp_path / "not-mounted")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.sync_now()
        await app.workers.wait_for_complete()
        app.sync_now()
        await app.workers.wait_for_complete()
        await settle(pilot)
        said = [n for n in app._notifications if "is not there" in n.message]
        assert len(said) == 1
