"""The app's F key: fetch what config.toml names in a worker, against a real
HTTP server on 127.0.0.1, and show what arrived; a failure is one line and
the list stays as it was."""

from __future__ import annotations

from pathlib import Path

from paperdesk.desk import Desk
from paperdesk.settings import FetchSettings, Settings
from paperdesk.tui.app import make_app
from paperdesk.tui.pilot import settle, workers_done
from tests.conftest import shared_sample
from tests.httpserver import LocalServer, Reply


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_f_fetches_in_a_worker_and_shows_what_arrived(desk: Desk):
    feed = shared_sample("arxiv_rss/zad_atom_cs.AI_2025-08-20.xml").read_bytes()
    with LocalServer() as server:
        server.route("/rss/cs.AI", Reply(feed))
        settings = Settings(
            fetch=FetchSettings(hf=False, arxiv=("cs.AI",), arxiv_rss=server.url + "/rss")
        )
        app = make_app(desk, settings, poll_interval=None, backup_on_start=False,
                       index_in_subprocess=False)  # fmt: skip
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            assert len(app.paper_list.ids) == 29
            await pilot.press("F")
            await workers_done(app)
            await settle(pilot)
            assert len(app.paper_list.ids) == 36
            assert any("Fetched 7 new papers" in n for n in notices(app))
            assert "36 / 36 papers" in str(app.query_one("#status").content)


async def test_a_failed_fetch_is_one_line_and_changes_nothing(desk: Desk):
    with LocalServer() as server:
        server.route("/rss/cs.AI", Reply(b"<html><title>Oops</title></html>", 200))
        settings = Settings(
            fetch=FetchSettings(hf=False, arxiv=("cs.AI",), arxiv_rss=server.url + "/rss")
        )
        app = make_app(desk, settings, poll_interval=None, backup_on_start=False,
                       index_in_subprocess=False)  # fmt: skip
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            await pilot.press("F")
            await workers_done(app)
            await settle(pilot)
            failed = [n for n in notices(app) if n.startswith("Fetch failed")]
            assert failed and "an HTML page ('Oops')" in failed[0] and "\n" not in failed[0]
            assert len(app.paper_list.ids) == 29


async def test_the_preview_shows_what_other_sources_told(data_dir: Path):
    with Desk(data_dir) as desk:
        desk.import_file(shared_sample("hf_api/hfnl_2025-10-17.json"))
        target = desk.paper("2510.14545").id
        app = make_app(desk, Settings(), poll_interval=None, backup_on_start=False,
                       index_in_subprocess=False)  # fmt: skip
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot)
            app.paper_list.cursor = app.paper_list.ids.index(target)
            await settle(pilot)
            text = app.preview.text
            assert "arXiv:2510.14545" in text and "2 comments" in text
            assert "by    Guanting Dong, Licheng Bao" in text
            assert "code  663 stars" in text and "pdf   https://arxiv.org/pdf/2510.14545" in text
            assert "keys  Agentic Reinforcement Learning, AEPO" in text
