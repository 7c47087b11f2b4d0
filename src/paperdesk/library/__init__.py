"""The library: the papers and the user's decisions, the source of truth.

One SQLite file (``store.Library``), built from its jobs: the file and its
write transaction (``files``), the schema and migrations (``schema``),
reading (``reading``), decisions and their journal (``decisions``), importing
and the merge rules (``merge``). Beside it: backups and restore
(``backups``) and the state file and journal format (``state``).

The library never imports the search engine: the index follows the library,
never the other way round.
"""

from __future__ import annotations

from paperdesk.errors import BadInput, LibraryDamaged, LibraryError, UnknownPaper
from paperdesk.library.decisions import StateImport
from paperdesk.library.merge import IMPORT_COMMIT_ENTRIES, ImportStats
from paperdesk.library.reading import ORDER_BY, Counts, Filter
from paperdesk.library.store import Library

__all__ = [
    "IMPORT_COMMIT_ENTRIES",
    "ORDER_BY",
    "BadInput",
    "Counts",
    "Filter",
    "ImportStats",
    "Library",
    "LibraryDamaged",
    "LibraryError",
    "StateImport",
    "UnknownPaper",
]
