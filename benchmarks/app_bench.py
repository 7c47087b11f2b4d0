"""The app at scale: first paint and key-to-repaint, driven with Pilot.

    python benchmarks/app_bench.py [--sizes 10k,100k] [--presses 40]

Builds (once, cached in benchmarks/.cache/) a library and its index from a
synthetic dump, then opens the app at 120x36 and measures:
- first paint: from creating the app until the list shows its first rows
  (the first screenful is listed before the whole list); and until the whole
  list is there;
- key-to-repaint: `j` (move; the paper left behind is marked read), `s` (star),
  `G` (jump to the last paper), each from the key press until the app is idle;
- peak memory of the process.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from index_bench import size_of  # noqa: E402
from synth import dump  # noqa: E402

from paperdesk.desk import Desk  # noqa: E402
from paperdesk.settings import Settings  # noqa: E402
from paperdesk.tui.app import make_app  # noqa: E402
from paperdesk.tui.pilot import workers_done  # noqa: E402


def library_for(n: int) -> Path:
    """A data directory with n papers and a built index (cached between runs)."""
    data = HERE / ".cache" / f"app-{n}"
    if (data / "index" / "paperdesk-index.json").exists():
        return data
    data.mkdir(parents=True, exist_ok=True)
    dump_path = data.parent / f"dump-{n}.txt"
    dump_path.write_text(dump(n), encoding="utf-8")
    with Desk(data) as desk:
        desk.import_file(dump_path, year=2025)
        desk.rebuild_index()
    dump_path.unlink()
    return data


async def measure(data: Path, presses: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    start = time.perf_counter()
    # As the app runs: the index is synced in a child process. (In a thread, the
    # sync would import the search engine during the first paint, which the app
    # never does: nothing on its way to the first rows needs the engine.)
    app = make_app(Desk(data), Settings(), poll_interval=None, backup_on_start=False)
    async with app.run_test(size=(120, 36)) as pilot:
        while not app.paper_list.ids:  # the first rows are on screen
            await pilot.pause(0.005)
        await pilot.pause()
        figures["first paint"] = time.perf_counter() - start
        while not app.loaded:  # the whole list is there
            await pilot.pause(0.005)
        figures["whole list"] = time.perf_counter() - start
        figures["papers"] = len(app.paper_list.ids)
        for key in ("j", "s", "G"):
            times = []
            for _ in range(presses if key != "G" else 10):
                t0 = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()
                times.append(time.perf_counter() - t0)
                if key == "G":
                    await pilot.press("g")
            times.sort()
            figures[f"{key} p50"] = statistics.median(times)
            figures[f"{key} p95"] = times[min(len(times) - 1, int(0.95 * len(times)))]
        app.flush_pending()
        await workers_done(app)
    figures["peak memory MB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def _ms(figures: dict[str, float], key: str) -> str:
    return f"{figures[key + ' p50'] * 1e3:.1f} / {figures[key + ' p95'] * 1e3:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k")
    parser.add_argument("--presses", type=int, default=40)
    args = parser.parse_args()
    print("| papers | first paint | j p50 / p95 | s p50 / p95 | G p50 / p95 | peak RSS |")
    print("| --- | --- | --- | --- | --- | --- |")
    for text in args.sizes.split(","):
        n = size_of(text)
        data = library_for(n)
        f = asyncio.run(measure(data, args.presses))
        print(
            f"| {int(f['papers']):,} | {f['first paint']:.2f} s | {_ms(f, 'j')} | "
            f"{_ms(f, 's')} | {_ms(f, 'G')} | {f['peak memory MB']:.0f} MB |"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
