"""Interest in the app: rows carry a bar, the preview says why, M mutes what
raises the paper (and the model learns again), z takes the mute back, and a
decision retrains the model after the burst, never on the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperdesk.desk import Desk
from paperdesk.model import Entry
from paperdesk.settings import Settings
from paperdesk.tui.app import make_app
from paperdesk.tui.pilot import settle, workers_done
from paperdesk.tui.widgets.paper_list import INTEREST_BARS

pytest.importorskip("sklearn")

RL = "reinforcement learning policy reward agents explore environments"
VISION = "image segmentation vision pixels object detection masks"


@pytest.fixture
def desk(data_dir: Path):
    desk = Desk(data_dir)
    desk.import_entries(
        [Entry(f"Reinforcement study {n}", f"{RL} {n}") for n in range(11)]
        + [Entry(f"Vision study {n}", f"{VISION} {n}") for n in range(11)]
        + [Entry("Unread reinforcement", RL + " fresh")],
        "a.txt",
    )
    ids = {p.title: p.id for p in desk.papers()}
    desk.set_starred([ids[f"Reinforcement study {n}"] for n in range(11)])
    desk.set_dismissed([ids[f"Vision study {n}"] for n in range(11)])
    desk.train_interest()
    yield desk
    desk.close()


async def test_the_preview_says_why_and_m_mutes_it(desk: Desk):
    settings = Settings(mark_read_on_move=False, read_after_seconds=0)
    app = make_app(desk, settings, poll_interval=None, backup_on_start=False,
                   index_in_subprocess=False)  # fmt: skip
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await workers_done(app)
        await settle(pilot)
        target = next(i for i, pid in enumerate(app.paper_list.ids)
                      if desk.get(pid).title == "Unread reinforcement")  # fmt: skip
        app.paper_list.cursor = target
        await settle(pilot)
        assert "like  0." in app.preview.text and "+ " in app.preview.text
        row = "".join(
            seg.text for seg in app.paper_list.render_line(target - app.paper_list.scroll_offset.y)
        )
        assert any(bar in row for bar in INTEREST_BARS)
        top = next(n for n, v in desk.why(desk.get(app.paper_list.ids[target])) if v > 0)
        await pilot.press("M")
        await workers_done(app)
        await settle(pilot)
        assert top in desk.muted()
        await pilot.press("z")
        await workers_done(app)
        await settle(pilot)
        assert top not in desk.muted()


async def test_a_decision_retrains_after_the_burst(desk: Desk, monkeypatch):
    from paperdesk.tui import upkeep

    monkeypatch.setattr(upkeep, "INTEREST_DELAY_S", 0.2)
    app = make_app(desk, Settings(mark_read_on_move=False), poll_interval=None,
                   backup_on_start=False, index_in_subprocess=False)  # fmt: skip
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("s")  # the paper under the cursor (a starred one) is unstarred
        await pilot.pause(0.5)
        await workers_done(app)
        await settle(pilot)
        notes = [str(n.message) for n in app._notifications]
        assert "Learned from 21 decisions (10 liked); scored 23 papers" in notes, notes


async def test_s_to_interest_without_a_model_says_how_many_decisions_it_needs(data_dir: Path):
    with Desk(data_dir) as desk:
        desk.import_entries([Entry(f"Study {n}", f"{RL} {n}") for n in range(6)], "a.txt")
        desk.set_starred([desk.papers(limit=1)[0].id])
        app = make_app(desk, Settings(mark_read_on_move=False), poll_interval=None,
                       backup_on_start=False, index_in_subprocess=False)  # fmt: skip
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            for _ in range(4):  # published -> upvotes -> title -> added -> interest
                await pilot.press("S")
            await workers_done(app)
            await settle(pilot)
            assert app.list_sort == "interest"
            notes = [str(n.message) for n in app._notifications]
            assert any("4 more starred" in n and "date order" in n for n in notes), notes
            assert "sort: interest" in str(app.query_one("#status").render())
            assert app.learning is None  # the status line says nothing is being learned
