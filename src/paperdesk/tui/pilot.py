"""Waiting for the app to finish what a key started, for Pilot-driven code.

The tests, the screenshot script and the app benchmark drive the app with Pilot
and need to know when it is idle again.
"""

from __future__ import annotations

from textual.app import App
from textual.pilot import Pilot
from textual.worker import WorkerCancelled


async def workers_done(app: App) -> None:
    """Wait until no worker runs, including any a finishing worker started.

    An exclusive worker is cancelled when a newer one of its group starts (a second
    key before the first refresh finished). That is the app working as meant, so a
    cancelled worker is skipped rather than raised, as `WorkerManager.wait_for_complete`
    would. A worker that failed still raises `WorkerFailed`.
    """
    while pending := [worker for worker in app.workers if not worker.is_finished]:
        for worker in pending:
            try:
                await worker.wait()
            except WorkerCancelled:
                pass


async def settle(pilot: Pilot) -> None:
    """Pending messages, then every worker, then one more repaint."""
    await pilot.pause()
    flush = getattr(pilot.app, "flush_pending", None)  # a PaperdeskApp's debounced work
    if flush is not None:
        flush()
    await workers_done(pilot.app)
    await pilot.pause()
