"""The app's tests share one library: the bundled 29-paper sample, in the
test's own data directory (a test file may override ``desk`` with its own)."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperdesk.desk import Desk


@pytest.fixture
def desk(data_dir: Path):
    desk = Desk(data_dir)
    desk.import_sample()
    yield desk
    desk.close()
