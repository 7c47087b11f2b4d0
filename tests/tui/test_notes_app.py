"""The note editor: w opens it on the paper under the cursor, ctrl+s saves,
Esc saves and closes (a typed note is never dropped), the preview shows the
note, z takes it back, and ctrl+e without a terminal to hand over says so."""

from __future__ import annotations

from paperdesk.desk import Desk
from paperdesk.settings import Settings
from paperdesk.tui.app import make_app
from paperdesk.tui.pilot import settle
from paperdesk.tui.screens.note_editor import NoteEditor


def app_for(desk: Desk):
    return make_app(desk, Settings(mark_read_on_move=False), poll_interval=None,
                    backup_on_start=False, index_in_subprocess=False)  # fmt: skip


async def test_w_writes_a_note_esc_saves_it_and_z_takes_it_back(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pid = app.paper_list.current_id
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, NoteEditor)
        await pilot.press(*"later: check", "enter", *"- the appendix")
        await pilot.press("ctrl+s")  # saved while still open
        await settle(pilot)
        assert isinstance(app.screen, NoteEditor)
        assert desk.note(pid) == "later: check\n- the appendix"
        await pilot.press(*" now")
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, NoteEditor)
        assert desk.note(pid) == "later: check\n- the appendix now"
        assert "note  later: check" in app.preview.text
        await pilot.press("z")  # the last save taken back
        await settle(pilot)
        assert desk.note(pid) == "later: check\n- the appendix"
        await pilot.press("z")
        await settle(pilot)
        assert desk.note(pid) == ""
        assert "note  " not in app.preview.text
        await pilot.press("Z")  # and done again
        await settle(pilot)
        assert desk.note(pid) == "later: check\n- the appendix"


async def test_the_editor_opens_on_the_saved_note_and_esc_without_changes_writes_nothing(
    desk: Desk,
):
    pid = desk.ids()[0]
    desk.set_note(pid, "already here")
    before = desk.library.max_seq()
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        assert app.screen.value == "already here"
        await pilot.press("escape")
        await settle(pilot)
        assert desk.library.max_seq() == before and not app.history.undoable


async def test_ctrl_e_without_a_terminal_says_so_and_keeps_the_text(desk: Desk, monkeypatch):
    monkeypatch.setenv("EDITOR", "true")
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pid = app.paper_list.current_id
        await pilot.press("w")
        await settle(pilot)
        await pilot.press(*"kept")
        await pilot.press("ctrl+e")
        await settle(pilot)
        notes = [str(n.message) for n in app._notifications]
        assert any("editor" in n for n in notes), notes
        await pilot.press("escape")
        await settle(pilot)
        assert desk.note(pid) == "kept"


async def test_help_lists_the_note_keys(desk: Desk):
    app = app_for(desk)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        from rich.console import Console

        console = Console(width=100, record=True)
        console.print(app.screen.query_one("#help-table").content)
        text = console.export_text()
        assert "Note editor" in text and "Edit in $EDITOR" in text and "Note" in text
