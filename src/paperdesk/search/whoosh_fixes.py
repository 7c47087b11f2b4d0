"""Fixes to whoosh-reloaded 2.7.5, applied once when ``paperdesk.search.index`` is imported.

Each one is a bug or a cost measured in paperdesk's benchmarks (see
docs/PERFORMANCE.md); each is idempotent and says what it replaces. Like
the rest of ``paperdesk.search``, this module may import ``whoosh``; nothing
outside that package does.

The fixes reach into private names of that one version, so paperdesk pins it
exactly (pyproject.toml) and importing this module checks it: another version
is one clear line, not a traceback deep inside a patch. ``tests/unit/
test_whoosh_canaries.py`` shows each bug on the unpatched library and says
when an upgrade has made a fix unneeded.
"""

from __future__ import annotations

import contextlib
import sys
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate

from paperdesk.errors import LibraryError

TESTED_WHOOSH = "2.7.5"


class WhooshMismatch(LibraryError):
    """The installed whoosh-reloaded is not the version these fixes were made for."""


def _with_stand_in(name: str, attributes: dict[str, object], load: str) -> None:
    """Import the module ``load`` while ``name`` is a small module holding only
    ``attributes``; then take the stand-in out of ``sys.modules``, so a later
    ``import name`` gets the real module. Nothing if either is loaded already."""
    if load in sys.modules or name in sys.modules:
        return
    import importlib
    import types

    stand_in = types.ModuleType(name)
    stand_in.__dict__.update(attributes)
    sys.modules[name] = stand_in
    try:
        importlib.import_module(load)
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]


def _urlretrieve(*args, **kwargs):  # pragma: no cover - nothing in whoosh calls it
    from urllib.request import urlretrieve

    return urlretrieve(*args, **kwargs)


def _light_compat() -> None:
    """``whoosh.compat`` imports ``urlretrieve`` from ``urllib.request`` (ssl,
    socket, email, http: 28 ms) for a function nothing in whoosh calls (a cost,
    not a bug). It is loaded with one that loads the real module when called.
    On this module's import: the preview's highlights load compat too."""
    _with_stand_in("urllib.request", {"urlretrieve": _urlretrieve}, "whoosh.compat")


def light_reading() -> None:
    """``whoosh.reading`` takes ``cached_property`` from the package of that name,
    which imports asyncio (78 ms of a 190 ms engine import) to handle coroutines;
    whoosh uses it once, on ``deleted_docs_set``, a plain method. It is loaded
    with ``functools.cached_property``, which caches in the instance's
    ``__dict__`` the same way. Called by the engine's door (``search.index``)
    before it imports whoosh's engine, not here: highlights load no engine."""
    import functools

    _with_stand_in(
        "cached_property", {"cached_property": functools.cached_property}, "whoosh.reading"
    )


def check_whoosh() -> None:
    """Refuse, in one line, any whoosh-reloaded but the tested one."""
    try:
        import whoosh

        found = ".".join(str(part) for part in whoosh.__version__)
    except Exception:  # noqa: BLE001 - a broken install is a mismatch too
        found = "none (or a broken install)"
    if found != TESTED_WHOOSH:
        raise WhooshMismatch(
            f"the search engine needs whoosh-reloaded {TESTED_WHOOSH} exactly (paperdesk "
            f"patches that version), but found {found}: "
            f"pip install 'whoosh-reloaded=={TESTED_WHOOSH}'"
        )


# (fix, owner, attribute, the original value or _ABSENT): what unpatched() puts back.
_ABSENT = object()
_ORIGINALS: list[tuple[str, object, str, object]] = []


def _replace(fix: str, owner: object, name: str, value: object) -> None:
    original = owner.__dict__.get(name, _ABSENT) if hasattr(owner, "__dict__") else _ABSENT
    _ORIGINALS.append((fix, owner, name, original))
    setattr(owner, name, value)


@contextlib.contextmanager
def unpatched(*keep: str) -> Iterator[None]:
    """whoosh as it ships, but for the fixes named in ``keep``: for tests that
    compare paperdesk's answers with the library's own."""
    undone = [entry for entry in _ORIGINALS if entry[0] not in keep]
    current = [(owner, name, owner.__dict__.get(name, _ABSENT)) for _, owner, name, _ in undone]
    try:
        for _, owner, name, original in undone:
            if original is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        yield
    finally:
        for owner, name, value in current:
            if value is not _ABSENT:
                setattr(owner, name, value)


# What _ViewFile.peek returns at most: a posting block's header pickle is ~60 bytes.
PEEK_BYTES = 256


def _inline_postings_work() -> None:
    """Let W3Codec(inlinelimit=N) run: its postings writer calls
    ``terminfo.set_inline``, but whoosh-reloaded 2.7.5's W3TermInfo names the
    method ``set_inlined`` (the reader side is complete). The writer also drops
    empty values (a field with no positions), and a merge would then read the
    inlined postings back with the text value "" where Whoosh wants bytes: an
    empty bytes value per posting is kept instead."""
    from whoosh.codec.whoosh3 import W3TermInfo

    if hasattr(W3TermInfo, "set_inline"):
        return

    def set_inline(self, ids, weights, values) -> None:
        if not values:
            values = [b""] * len(ids)
        self.set_inlined(ids, weights, values)

    _replace("inline_postings_work", W3TermInfo, "set_inline", set_inline)


def _missing_length_columns_are_remembered() -> None:
    """A segment's per-document reader looks up a field's length column for every
    posting it writes, and caches it only when the column exists: for fields
    without lengths (IDs, keywords, numbers) every posting cost a ``stat`` of the
    file (19,000 of them, 0.4 s, in a 100-paper update). The files of a segment
    being read do not change, so the answer "no column" is cached too."""
    from whoosh.codec.whoosh3 import W3PerDocReader

    original = W3PerDocReader._cached_reader
    if getattr(original, "_paperdesk", False):
        return

    def _cached_reader(self, fieldname, column):
        if fieldname in self._readers:
            return self._readers[fieldname]
        reader = original(self, fieldname, column)
        self._readers[fieldname] = reader
        return reader

    _cached_reader._paperdesk = True  # type: ignore[attr-defined]
    fix = "missing_length_columns_are_remembered"
    _replace(fix, W3PerDocReader, "_cached_reader", _cached_reader)


class _ViewFile:
    """A read-only file over a memoryview, without copying it."""

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = len(self._view) if size is None or size < 0 else min(len(self._view), start + size)
        self._pos = end
        return bytes(self._view[start:end])

    def peek(self, size: int = 0) -> bytes:
        """Bytes ahead, without moving: ``pickle.load`` then reads a small pickle
        (a posting block's header) in one call instead of one per opcode."""
        return bytes(self._view[self._pos : self._pos + min(max(size, 1), PEEK_BYTES)])

    def readline(self, size: int | None = -1) -> bytes:
        limit = len(self._view) if size is None or size < 0 else self._pos + size
        start = end = self._pos
        while end < min(limit, len(self._view)):
            chunk = bytes(self._view[end : min(end + 256, limit)])
            found = chunk.find(b"\n")
            if found >= 0:
                end += found + 1
                break
            end += len(chunk)
        self._pos = end
        return bytes(self._view[start:end])

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._view))[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view = memoryview(b"")

    def __iter__(self):
        while line := self.readline():
            yield line


def _segment_files_are_not_copied() -> None:
    """Opening a searcher copied every file of every compound segment into memory:
    whoosh's BufferFile wraps its slice of the memory-mapped segment in
    ``BytesIO(buf)``, which copies it. At 1M papers that was 5.6 GB and 4.8 s per
    new searcher (the app's 100k footprint was 690 MB). The slice is read in
    place instead; the pages stay in the OS's cache, shared and evictable."""
    from whoosh.filedb import structfile

    if getattr(structfile.BufferFile.__init__, "_paperdesk", False):
        return

    def __init__(self, buf, name=None, onclose=None):
        self._buf = buf
        self._name = name
        self.file = _ViewFile(memoryview(buf))
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    __init__._paperdesk = True  # type: ignore[attr-defined]
    _replace("segment_files_are_not_copied", structfile.BufferFile, "__init__", __init__)


def _posting_skips_bisect() -> None:
    """A posting list's ``skip_to`` jumped to the right block, then walked it one
    posting at a time (three Python calls per posting): an AND of a rare and a
    common word walked most of the common word's list. Within a block the
    target is found by bisection."""
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.matching import ReadTooFar

    if getattr(W3LeafMatcher.skip_to, "_paperdesk", False):
        return

    def skip_to(self, targetid):
        if not self.is_active():
            raise ReadTooFar
        if targetid <= self.id():
            return
        if targetid > self._maxid:
            block_max_id = self.block_max_id
            self._skip_to_block(lambda: targetid > block_max_id())
            if not self.is_active():
                return
            if self._ids is None:
                self._read_ids()
        self._i = bisect_left(self._ids, targetid, self._i, self._blocklength)
        if self._i == self._blocklength:
            self._next_block()

    skip_to._paperdesk = True  # type: ignore[attr-defined]
    _replace("posting_skips_bisect", W3LeafMatcher, "skip_to", skip_to)


def _and_not_checks_its_first_match() -> None:
    """``a ANDNOT b`` let its first match through when ``b`` started on an earlier
    document: it only looked when both stood on the same one. "is:read -model"
    listed a read paper with "model" in its title (whoosh-reloaded 2.7.5).

    Its ``skip_to`` also went on to compare with ``b`` after ``a`` had run out,
    and raised IndexError: ``upvotes:>=5 OR grokking -ticket`` scored at a few
    given documents (hypothesis found it)."""
    from whoosh.matching import ReadTooFar
    from whoosh.matching.binary import AndNotMatcher

    if getattr(AndNotMatcher._find_first, "_paperdesk", False):
        return

    def _find_first(self):
        if self.a.is_active() and self.b.is_active() and self.b.id() <= self.a.id():
            self._find_next()

    def skip_to(self, id):
        if not self.a.is_active():
            raise ReadTooFar
        if id < self.a.id():
            return
        self.a.skip_to(id)
        if self.a.is_active() and self.b.is_active():
            self.b.skip_to(id)
            self._find_next()

    _find_first._paperdesk = True  # type: ignore[attr-defined]
    _replace("and_not_checks_its_first_match", AndNotMatcher, "_find_first", _find_first)
    _replace("and_not_checks_its_first_match", AndNotMatcher, "skip_to", skip_to)


def _ids_decode_in_c() -> None:
    """A posting block's document numbers are stored as differences and summed
    back by a Python generator, one resumption per posting; ``accumulate`` does
    the same sum in C (reading a long posting list is most of a first search)."""
    from whoosh.codec import whoosh3

    if getattr(whoosh3.delta_decode, "_paperdesk", False):
        return

    def delta_decode(nums):
        return accumulate(nums)

    delta_decode._paperdesk = True  # type: ignore[attr-defined]
    _replace("ids_decode_in_c", whoosh3, "delta_decode", delta_decode)


def apply() -> None:
    """Apply every fix (idempotent)."""
    check_whoosh()
    _inline_postings_work()
    _missing_length_columns_are_remembered()
    _segment_files_are_not_copied()
    _posting_skips_bisect()
    _and_not_checks_its_first_match()
    _ids_decode_in_c()


check_whoosh()  # on import: before paperdesk's search modules read anything of whoosh
_light_compat()
