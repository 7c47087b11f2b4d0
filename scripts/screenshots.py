"""Render the app on the sample library into screenshots/*.svg (shown in the README).

python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from paperdesk.desk import Desk
from paperdesk.settings import Settings
from paperdesk.tui.app import make_app
from paperdesk.tui.pilot import settle, workers_done

OUT = Path(__file__).resolve().parents[1] / "screenshots"

SHOTS = {
    "main": ((120, 36), []),
    "search": ((120, 36), ["slash", *"grokking", "enter"]),
    "tag-editor": ((120, 36), ["j", "t", *"agents rl"]),
    "help": ((120, 40), ["question_mark"]),
    "narrow": ((60, 20), []),
    "export": ((120, 36), ["e"]),
    "note-editor": ((120, 36), ["j", "w", *"# Later", "enter", "enter", *"- compare with **PPO**"]),
    "saved-search": ((120, 36), ["1"]),
    "selection": ((120, 36), ["j", "v", "j", "v", "v"]),
}


async def shoot(name: str, size: tuple[int, int], keys: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        desk = Desk(Path(tmp))
        desk.import_sample()
        ids = desk.library.ids()
        desk.add_tags(ids[1], ["agents", "benchmarks"])
        desk.add_tags(ids[4], ["rl"])
        desk.set_starred(ids[1:3])
        desk.set_read(ids[3:6])
        desk.save_search("agents", "agent* is:unread")
        desk.save_search("diffusion", "diffusion")
        desk.set_note(ids[1], "Read the ablations; compare with **SWE-bench**.")
        app = make_app(
            desk,
            Settings(mark_read_on_move=False),
            poll_interval=None,
            backup_on_start=False,
            index_in_subprocess=False,
        )
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await workers_done(app)  # the saved searches' counts
            await settle(pilot)
            await pilot.press(*keys)
            await settle(pilot)
            app.save_screenshot(filename=f"{name}.svg", path=str(OUT))
        print(f"screenshots/{name}.svg")


async def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, (size, keys) in SHOTS.items():
        await shoot(name, size, keys)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
