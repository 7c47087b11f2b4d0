"""Child processes that never outlive paperdesk.

A worker left behind by a killed parent (kill -9, a closed terminal) keeps the
files and pipes it inherited: the library, an index lock, the caller's output
pipe, so ``paperdesk import ... | tee`` would hang. On Linux each worker asks
the kernel to kill it when its parent dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """Call first thing in a child process: it is killed when its parent dies.
    ``parent_pid``: the parent it must have; if that one is already gone (it
    died before this ran), the child ends now."""
    if sys.platform.startswith("linux"):
        import ctypes  # here: loading ctypes costs every command's start a few ms
        import signal

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: carry on
            pass
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def start_detached(args: list[str], data_dir: Path) -> None:
    """``python ARGS`` on this data directory as a detached background job: its
    own session and no inherited pipes, so ``paperdesk star X | tee`` (or the
    terminal the app hands back) never waits for it."""
    import subprocess

    subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
        env=dict(os.environ, PAPERDESK_DATA_DIR=str(data_dir)),
    )
