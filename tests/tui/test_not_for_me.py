"""The app's x key: "not for me" marks the paper (and reads it), shows it in the
row and the preview, and z takes both back at once."""

from __future__ import annotations

from paperdesk.desk import Desk
from paperdesk.settings import Settings
from paperdesk.tui.app import make_app
from paperdesk.tui.pilot import settle


def fresh(desk: Desk, paper_id: str):
    return Desk(desk.data_dir).library.get(paper_id)


async def test_x_dismisses_and_z_takes_back_the_read_mark_too(desk: Desk):
    app = make_app(desk, Settings(mark_read_on_move=False), poll_interval=None,
                   backup_on_start=False, index_in_subprocess=False)  # fmt: skip
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first = app.paper_list.ids[0]
        assert not fresh(desk, first).read
        await pilot.press("x")
        await settle(pilot)
        paper = fresh(desk, first)
        assert paper.dismissed and paper.read
        assert "✗ not for me" in app.preview.text
        await pilot.press("z")
        await settle(pilot)
        paper = fresh(desk, first)
        assert not paper.dismissed and not paper.read
        await pilot.press("Z")  # redo
        await settle(pilot)
        assert fresh(desk, first).dismissed
        await pilot.press("x")  # again: taken back, still read
        await settle(pilot)
        paper = fresh(desk, first)
        assert not paper.dismissed and paper.read
