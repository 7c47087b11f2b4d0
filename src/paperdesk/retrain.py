"""Learning the interest again after the command line's decisions, in a child
process, so ``paperdesk star ID`` returns at once (training takes seconds).

The app retrains in a worker of its own; the command line calls ``start``
after a decision. It starts ``python -m paperdesk.retrain DATA_DIR`` detached
(its own session, no inherited pipes: ``paperdesk star X | tee`` never waits
for it), unless one is running already. At most one runs per data
directory: it holds ``interest.lock`` while it works and trains until the
model has seen the library's latest change (a loop of a hundred ``paperdesk
star`` calls costs a few trainings, not a hundred).

No lost retrain: a decision is written before ``start`` looks at the lock,
and the child looks at the library once more after letting the lock go, so
one of the two always sees the other.

``PAPERDESK_NO_BACKGROUND=1`` turns this off (a script that wants no process
left behind runs ``paperdesk interest`` itself).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = "interest.lock"
# Decisions often come in bursts (a loop, a script): wait this long for the
# burst to end before reading the library.
SETTLE_S = 1.0

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: no background retrain
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def _held(data_dir: Path) -> Iterator[bool]:
    """The retrain lock, if free (True), without waiting."""
    if fcntl is None:  # pragma: no cover
        yield False
        return
    with open(data_dir / LOCK_NAME, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def running(data_dir: Path) -> bool:
    """Whether a retrain holds the lock now."""
    with _held(data_dir) as free:
        return not free


def start(data_dir: Path) -> bool:
    """Start a background retrain for this data directory unless one runs (or
    ``PAPERDESK_NO_BACKGROUND`` is set). True if one was started."""
    if os.environ.get("PAPERDESK_NO_BACKGROUND") or fcntl is None:
        return False
    if running(data_dir):
        return False  # it will see this change before it stops
    from paperdesk.processes import start_detached

    start_detached(["-m", "paperdesk.retrain", str(data_dir)], data_dir)
    return True


def run(data_dir: Path, settle: float = SETTLE_S) -> int:
    """Train until the model has seen the library's latest change; the number of
    trainings. Returns at once when another retrain holds the lock."""
    from paperdesk.desk import Desk

    trainings = 0
    while True:
        with _held(data_dir) as free:
            if not free:
                return trainings
            time.sleep(settle)
            with contextlib.closing(Desk(data_dir, create=False)) as desk:
                while desk.interest_stale():
                    desk.train_interest()
                    trainings += 1
        # Let go, then look once more: a decision written while the lock was
        # still held found it busy and started no retrain.
        with contextlib.closing(Desk(data_dir, create=False)) as desk:
            if not desk.interest_stale():
                return trainings


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m paperdesk.retrain DATA_DIR", file=sys.stderr)
        return 2
    try:
        run(Path(argv[1]))
    except Exception:  # noqa: BLE001 - a background job: the next decision tries again
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a child process
    sys.exit(main(sys.argv))
