"""Key-to-repaint in a real terminal: the app in a pseudo-terminal, timed from the key
to the screen update it causes.

    python benchmarks/app_pty_bench.py [--sizes 10k,100k] [--presses 40]

Pilot (app_bench.py) waits for the whole app to be idle after each key, which
includes its own polling; a person sees the frame the terminal draws. Here the
real `paperdesk` command runs in a pty at 120x36 on a cached library; each key
is written to the pty and every chunk of output is timed for the next 1.2 s
(until the app is idle again). A key's repaint can come in several writes: a
move paints the list's cursor first, then the preview of the new paper, then
the row of the paper left behind (marked read). **Repaint** is the last write
before the deferred status update can start (``SIDE_DELAY_S`` = 150 ms after a
write, the counts and tags): everything the key itself changed on screen.
**First** is the first write. Each key is pressed once the app is idle again.
Keys: `j` (move; the paper left behind is marked read, a library write), `k`,
`s` (star; a write). Medians and p95.

An earlier version took the end of the first burst of output (no output for
30 ms) as the repaint, and so missed the preview's repaint of a move, which
comes 40-100 ms later: it reported 15 ms where a person waits for 60-110 ms.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import sys
import termios
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from app_bench import library_for  # noqa: E402
from index_bench import size_of  # noqa: E402

SETTLE_S = 1.2
# The app refreshes counts and tags SIDE_DELAY_S (0.15 s) after a write: output
# before that is the key's own repaint.
REPAINT_WINDOW_S = 0.145


def spawn(data: Path, columns: int = 120, rows: int = 36) -> tuple[int, int]:
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app, as a user starts it
        os.environ.update(PAPERDESK_DATA_DIR=str(data), TERM="xterm-256color")
        os.execvp(sys.executable, [sys.executable, "-m", "paperdesk"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return pid, fd


def drain(fd: int, quiet: float, limit: float = 10.0) -> tuple[float | None, float | None, int]:
    """Read until the output has been quiet for ``quiet`` s: (first byte, last byte, bytes)."""
    first = last = None
    total = 0
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], quiet)
        if not ready:
            if first is not None or quiet >= 1:
                break
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        now = time.perf_counter()
        first = first or now
        last = now
        total += len(chunk)
    return first, last, total


def key_writes(fd: int, key: str) -> list[float]:
    """Press a key; the times (from the press) of the output chunks until idle."""
    start = time.perf_counter()
    os.write(fd, key.encode())
    times: list[float] = []
    deadline = start + 10
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], SETTLE_S)
        if not ready:
            break
        try:
            os.read(fd, 65536)
        except OSError:
            break
        times.append(time.perf_counter() - start)
    return times


def measure(data: Path, presses: int) -> dict[str, list[float]]:
    pid, fd = spawn(data)
    try:
        drain(fd, quiet=1.5, limit=30)  # first paint, workers, the index check
        figures: dict[str, list[float]] = {}
        for key in ("j", "k", "s"):
            firsts, ends = [], []
            for _ in range(presses):
                times = key_writes(fd, key)
                own = [t for t in times if t < REPAINT_WINDOW_S]
                if not own:
                    continue
                firsts.append(own[0])
                ends.append(own[-1])
            figures[f"{key} first"] = firsts
            figures[f"{key} end"] = ends
        os.write(fd, b"q")
        drain(fd, quiet=0.5, limit=5)
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
    return figures


def ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"{statistics.median(ordered) * 1e3:.1f} / {p95 * 1e3:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k")
    parser.add_argument("--presses", type=int, default=40)
    args = parser.parse_args()
    print("| papers | key | first byte p50 / p95 | repaint written p50 / p95 |")
    print("| --- | --- | --- | --- |")
    for text in args.sizes.split(","):
        n = size_of(text)
        figures = measure(library_for(n), args.presses)
        for key in ("j", "k", "s"):
            print(
                f"| {n:,} | `{key}` | {ms(figures[key + ' first'])} | {ms(figures[key + ' end'])} |"
            )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
