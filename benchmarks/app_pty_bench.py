"""Key-to-repaint in a real terminal: the app in a pseudo-terminal, timed from the key
to the screen update it causes.

    python benchmarks/app_pty_bench.py [--sizes 10k,100k] [--presses 40]

Pilot (app_bench.py) waits for the whole app to be idle after each key, which
includes its own polling; a person sees the frame the terminal draws. Here the
real `paperdesk` command runs in a pty at 120x36 on a cached library; each key
is written to the pty and timed until the app's output for it has been written
(the first byte of the repaint, and the end of the burst: no more output for
30 ms, those 30 ms not counted). Each key is pressed once the app is idle again
(no output for 1.2 s: the counts and the index update that a write schedules
have finished), so the later status repaint is not counted as the next key's.
Keys: `j` (move; the paper left behind is marked read, a library write), `k`,
`s` (star; a write). Medians and p95.
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

QUIET_S = 0.03
SETTLE_S = 1.2


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


def measure(data: Path, presses: int) -> dict[str, list[float]]:
    pid, fd = spawn(data)
    try:
        drain(fd, quiet=1.5, limit=30)  # first paint, workers, the index check
        figures: dict[str, list[float]] = {}
        for key in ("j", "k", "s"):
            firsts, ends = [], []
            for _ in range(presses):
                start = time.perf_counter()
                os.write(fd, key.encode())
                first, last, _ = drain(fd, quiet=QUIET_S)
                if first is None or last is None:
                    continue
                firsts.append(first - start)
                ends.append(last - start)
                # The debounced upkeep a key starts (counts after 0.15 s, the index
                # after 0.8 s) repaints the status later: let it finish, so it is
                # not counted as the next key's repaint.
                drain(fd, quiet=SETTLE_S, limit=5)
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
