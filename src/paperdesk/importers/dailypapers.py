"""The Hugging Face Daily Papers text dump (grammar: shared/FORMAT.md).

``parse(text)`` is a pure function from a dump's text to entries and warnings.
It reads the text as a sequence of blocks (runs of non-blank lines) and walks
them with a small state machine: chrome and page dates are skipped, then each
entry is a title block, an abstract block and an optional metadata block.
Damaged entries are skipped with a warning that names their line; the walk
resynchronises on the next block that looks like a title.

``read_dump(path)`` does the I/O around it: existence, permissions, binary
content and the text encoding (UTF-8, else Windows-1252 with a warning).
"""

from __future__ import annotations

import calendar
import codecs
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from paperdesk.model import Entry, collapse_whitespace

CHROME = frozenset(
    {
        "new",
        "Get trending papers in your email inbox!",
        "Subscribe",
        "Daily Papers",
        "byAK and the research community",
    }
)

_MONTHS = {name.casefold(): number for number, name in enumerate(calendar.month_abbr) if name}
_MONTHS.update({name.casefold(): number for number, name in enumerate(calendar.month_name) if name})
_MONTHS["sept"] = 9

_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
DATE_LINE = re.compile(
    rf"^{_MONTH}\s+(?P<day>\d{{1,2}})(?:,\s*(?P<year>\d{{4}}))?(?:\s+(?P<upvotes>\d{{1,7}}))?$"
)
PAGE_DATE = re.compile(rf"^{_MONTH}\s+(?P<day>\d{{1,2}})(?:,\s*(?P<year>\d{{4}}))?$")
AUTHORS_LINE = re.compile(r"^[•·*\-]?\s*(?P<count>\d{1,5})\s+authors?$", re.IGNORECASE)
SEPARATOR_LINE = re.compile(r"^[·•|]$")

# A title longer than this is not a title: it is an abstract whose title is missing.
MAX_TITLE_CHARS = 400
# A block at least this long reads as prose (an abstract), never as a title.
PROSE_CHARS = 300

# Where a URL may start; a bare code host counts only at a word start.
_URL_STARTS = ("http://", "https://", "www.")
_BARE_HOSTS = ("github.com/", "gitlab.com/", "huggingface.co/")
_URL_BODY = re.compile(r"[^\s<>\"'`]+")
_INLINE_SEPARATOR = re.compile(r"\s+·\s+|^·\s+|\s+·$")
_TEMPLATE_LEFTOVER = re.compile(r"\{[^{}]*\}")
_TRAILING_JUNK = ".,;:!?'\"*"
_CLOSERS = {")": "(", "]": "[", "}": "{"}


@dataclass(frozen=True)
class ParseWarning:
    """Something in the dump that was skipped or guessed, with its line number."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ParseResult:
    """What a dump holds: its entries, what went wrong, and its pages' dates."""

    entries: list[Entry] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    page_dates: list[date | None] = field(default_factory=list)
    # True when the text had any of the dump's own structure (chrome, a page
    # date, a metadata block); prose without it is probably not a dump.
    has_structure: bool = False


class DumpRejected(Exception):
    """The file cannot be imported at all; the message says why, in one line."""


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line number of the block's first line
    lines: tuple[str, ...]

    @cached_property
    def text(self) -> str:
        if len(self.lines) == 1 and "  " not in self.lines[0] and "\t" not in self.lines[0]:
            return self.lines[0]  # already stripped and single-spaced: the usual abstract
        return collapse_whitespace(" ".join(self.lines))


@dataclass
class _Meta:
    authors: int | None = None
    organization: str | None = None
    month: int | None = None
    day: int | None = None
    year: int | None = None
    date_raw: str | None = None
    upvotes: int | None = None
    has_date: bool = False
    unknown: list[str] = field(default_factory=list)


@dataclass
class _Pending:
    """An entry whose date cannot be resolved until its page's year is known."""

    title: str
    abstract: str
    line: int
    page: int
    meta: _Meta | None = None


def split_blocks(text: str, first_line: int = 1) -> Iterator[Block]:
    """Blank lines (empty or whitespace only) separate blocks; any number of them."""
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=first_line):
        line = raw.strip()
        if line:
            if not current:
                start = number
            current.append(line)
        elif current:
            yield Block(start, tuple(current))
            current = []
    if current:
        yield Block(start, tuple(current))


def _month(name: str) -> int | None:
    return _MONTHS.get(name.casefold())


def _page_date(block: Block) -> tuple[int, int, int | None] | None:
    if len(block.lines) != 1:
        return None
    match = PAGE_DATE.match(block.lines[0])
    if not match or not (month := _month(match["month"])):
        return None
    year = int(match["year"]) if match["year"] else None
    return month, int(match["day"]), year


def _is_chrome(block: Block) -> bool:
    return len(block.lines) == 1 and block.lines[0] in CHROME


def _meta_parts(block: Block) -> list[str]:
    # Some copies put the whole metadata on one line: "• 7 authors · Jun 27, 2022".
    parts: list[str] = []
    for line in block.lines:
        if "·" not in line or line == "·":
            parts.append(line)
            continue
        pieces = [p.strip() for p in _INLINE_SEPARATOR.split(line)]
        if len(pieces) > 1:
            parts.extend(p for p in pieces if p)
        else:
            parts.append(line)
    return parts


def _parse_meta(block: Block) -> _Meta | None:
    """The metadata block's fields, or None when the block is not metadata."""
    if len(block.lines) > 6 or any(len(line) > 160 for line in block.lines):
        return None  # prose (a title or an abstract), the common case: decided cheaply
    if not any("·" in line or "•" in line or "uthor" in line for line in block.lines) and (
        len(block.lines) != 1 or not DATE_LINE.match(block.lines[0])
    ):
        return None  # no separator, no authors line and not a lone date: a title
    meta = _Meta()
    structural = 0
    others: list[str] = []
    for part in _meta_parts(block):
        if SEPARATOR_LINE.match(part):
            structural += 1
        elif match := AUTHORS_LINE.match(part):
            meta.authors = int(match["count"])
            structural += 1
        elif (match := DATE_LINE.match(part)) and (month := _month(match["month"])):
            meta.month, meta.day = month, int(match["day"])
            meta.year = int(match["year"]) if match["year"] else None
            meta.upvotes = int(match["upvotes"]) if match["upvotes"] else None
            meta.date_raw = part[: match.end("year")] if match["year"] else part[: match.end("day")]
            meta.has_date = True
            structural += 1
        else:
            others.append(part)
    if not structural:
        return None
    # An organisation line ("tencent Tencent") stands where the authors line would;
    # anything longer than a name is prose, so the block is not metadata.
    if any(len(other) > 120 for other in others) or len(others) > 2:
        return None
    if others and len(block.lines) == 1 and not meta.has_date:
        return None
    if others:
        handle, _, display = others[0].partition(" ")
        meta.organization = collapse_whitespace(display) or handle
        meta.unknown = others[1:]
    return meta


def extract_links(abstract: str) -> tuple[str, ...]:
    """URLs in an abstract, cleaned of trailing punctuation and template leftovers."""
    lowered = abstract.lower()
    if len(lowered) != len(abstract):  # lower() changed offsets (rare non-ASCII cases)
        lowered = abstract
    links: list[str] = []
    for start, end in _url_spans(lowered):
        url = _TEMPLATE_LEFTOVER.sub("", abstract[start:end])
        url = _trim_url(url)
        if not url.lower().startswith(("http://", "https://")):
            url = "https://" + url
        host = url.split("://", 1)[1].split("/", 1)[0]
        if "." not in host or host.endswith("."):
            continue
        if url not in links:
            links.append(url)
    return tuple(links)


def _url_spans(lowered: str) -> Iterator[tuple[int, int]]:
    """Spans of URLs, found by substring search first: a regex tried at every
    position of a 2,000-character abstract costs far more."""
    starts: set[int] = set()
    for hint in (*_URL_STARTS, *_BARE_HOSTS):
        index = lowered.find(hint)
        while index != -1:
            if (
                hint in _URL_STARTS
                or index == 0
                or not (lowered[index - 1].isalnum() or lowered[index - 1] in "_.@/")
            ):
                starts.add(index)
            index = lowered.find(hint, index + 1)
    end = -1
    for start in sorted(starts):
        if start < end:
            continue  # inside the URL just found ("https://github.com/...")
        match = _URL_BODY.match(lowered, start)
        if match:
            end = match.end()
            yield start, end


def _trim_url(url: str) -> str:
    while url:
        last = url[-1]
        if last in _TRAILING_JUNK:
            url = url[:-1]
        elif last in _CLOSERS and url.count(_CLOSERS[last]) < url.count(last):
            url = url[:-1]
        elif last in "{([<":
            url = url[:-1]
        else:
            break
    return url


def _looks_like_prose(block: Block) -> bool:
    return len(block.text) >= PROSE_CHARS


def _ends_like_sentence(text: str) -> bool:
    return text.rstrip().endswith((".", "!", "?", ")", '"', "'", "”", "]", "/"))


def parse(
    text: str,
    *,
    year: int | None = None,
    fallback_year: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    first_line: int = 1,
    final: bool = True,
) -> ParseResult:
    """Parse a Daily Papers dump.

    ``year`` is the capture year the user gives; without it a page takes one
    more than the latest explicit year on it, else ``fallback_year`` (the
    caller passes the file's modification year), else the current year.
    ``progress`` is called now and then with (blocks read, blocks in all).
    A piece of a larger dump (see ``split_pages``) gives the number of its
    first line, and ``final=False`` unless it is the last piece.
    """
    result = ParseResult()
    text = text.lstrip("\ufeff")
    blocks = list(split_blocks(text, first_line))
    pending: list[_Pending] = []
    # Page bookkeeping: a new page starts at chrome or a page date seen after entries.
    page = 0
    page_raw_dates: list[tuple[int, int, int | None] | None] = [None]
    page_has_entries = False

    def new_page_if_needed() -> None:
        nonlocal page, page_has_entries
        if page_has_entries:
            page += 1
            page_raw_dates.append(None)
            page_has_entries = False

    def warn(line: int, message: str) -> None:
        result.warnings.append(ParseWarning(line, message))

    title: Block | None = None  # a title waiting for its abstract
    entry: _Pending | None = None  # an entry waiting for its optional metadata
    skipping_orphan = False
    index = 0
    while index < len(blocks):
        block = blocks[index]
        index += 1
        nxt = blocks[index] if index < len(blocks) else None
        if progress is not None and index % 20000 == 0:
            progress(index, len(blocks))

        if _is_chrome(block):
            result.has_structure = True
            if title is not None:
                warn(title.line, f"entry skipped: title {_quote(title.text)} has no abstract")
                title = None
            entry = None
            skipping_orphan = False
            new_page_if_needed()
            continue

        if title is not None:
            # Expecting the abstract of `title`.
            meta = _parse_meta(block)
            page_date = _page_date(block)
            if meta is not None or page_date is not None:
                warn(title.line, f"entry skipped: title {_quote(title.text)} has no abstract")
                title = None
                skipping_orphan = True  # its metadata goes with it, without a second warning
                index -= 1  # look at this block again as something else
                continue
            if (
                not _looks_like_prose(block)
                and nxt is not None
                and _looks_like_prose(nxt)
                and not _is_chrome(nxt)
            ):
                # A short block followed by prose: this block is the next title,
                # so the waiting title lost its abstract.
                warn(title.line, f"entry skipped: title {_quote(title.text)} has no abstract")
                title = None
                index -= 1
                continue
            entry = _Pending(title.text, block.text, title.line, page)
            pending.append(entry)
            page_has_entries = True
            title = None
            continue

        page_date = _page_date(block)
        if page_date is not None and entry is None:
            # A lone short date where no entry waits for metadata: the page's date.
            result.has_structure = True
            new_page_if_needed()
            page_raw_dates[page] = page_date
            skipping_orphan = False
            continue

        meta = _parse_meta(block)
        if meta is not None:
            result.has_structure = True
            if entry is not None and entry.meta is None:
                entry.meta = meta
                if meta.unknown:
                    warn(block.line, f"unrecognised metadata line {_quote(meta.unknown[0])}")
                _check_partial_meta(meta, block, warn, is_last=nxt is None)
            elif not skipping_orphan:
                warn(block.line, "metadata block without a paper before it: skipped")
            entry = None
            skipping_orphan = False
            continue

        entry = None
        skipping_orphan = False
        if len(block.text) > MAX_TITLE_CHARS:
            warn(block.line, "paragraph without a title: skipped (missing title?)")
            skipping_orphan = True
            continue
        title = block

    if title is not None:
        warn(
            title.line,
            f"entry skipped: title {_quote(title.text)} has no abstract"
            + (" (truncated?)" if final else ""),
        )
    if final:
        _check_truncated_end(pending, blocks, warn)

    if page > 0 and not page_has_entries and page_raw_dates[-1] is None:
        page_raw_dates.pop()  # chrome at the very end opened a page that never came
    page_years = _page_years(pending, page_raw_dates, year, fallback_year)
    for page_number, raw in enumerate(page_raw_dates):
        result.page_dates.append(
            _safe_date(page_years[page_number], raw[0], raw[1], raw[2]) if raw else None
        )
    for item in pending:
        result.entries.append(_finish(item, page_years[item.page], result, warn))
    result.warnings.sort(key=lambda w: w.line)
    return result


def _quote(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _check_partial_meta(meta: _Meta, block: Block, warn, *, is_last: bool) -> None:
    if not meta.has_date and (meta.authors is not None or meta.organization):
        reason = "truncated?" if is_last else "no date line"
        warn(block.line, f"metadata block without a date line ({reason})")


def _check_truncated_end(pending: list[_Pending], blocks: list[Block], warn) -> None:
    """A download cut inside the last abstract: drop that entry and say so.

    The signal is a last entry with no metadata, in a dump whose entries mostly
    have metadata, whose abstract stops mid-sentence.
    """
    if not pending or not blocks:
        return
    last = pending[-1]
    if last.meta is not None or blocks[-1].text != last.abstract:
        return
    with_meta = sum(1 for item in pending if item.meta is not None)
    if with_meta * 2 < len(pending) or _ends_like_sentence(last.abstract):
        return
    pending.pop()
    warn(last.line, f"last entry {_quote(last.title)} looks truncated: skipped")


def _page_years(
    pending: list[_Pending],
    page_raw_dates: list[tuple[int, int, int | None] | None],
    year: int | None,
    fallback_year: int | None,
) -> list[int]:
    latest: dict[int, int] = {}
    for item in pending:
        if item.meta and item.meta.year:
            latest[item.page] = max(latest.get(item.page, 0), item.meta.year)
    default = fallback_year or datetime.now().year
    years = []
    for page_number, raw in enumerate(page_raw_dates):
        if year is not None:
            years.append(year)
        elif raw and raw[2]:
            years.append(raw[2])
        elif page_number in latest:
            years.append(latest[page_number] + 1)
        else:
            years.append(default)
    return years


def _safe_date(year: int, month: int, day: int, explicit: int | None = None) -> date | None:
    try:
        return date(explicit or year, month, day)
    except ValueError:
        return None


# What one entry may hold: real abstracts stay under 5,000 characters and titles
# under 300. A 20 MB "abstract" (a broken page, an attack) hung `show` and the
# app and made every matching search take seconds: it is cut, with a warning.
MAX_ABSTRACT_CHARS = 50_000
MAX_TITLE_CHARS = 1_000


def _bounded(text: str, limit: int, what: str, line: int, warn) -> str:
    if len(text) <= limit:
        return text
    warn(line, f"{what} cut to {limit:,} characters (it had {len(text):,})")
    return text[: limit - 1] + "…"


def _finish(item: _Pending, page_year: int, result: ParseResult, warn) -> Entry:
    item.title = _bounded(item.title, MAX_TITLE_CHARS, "title", item.line, warn)
    item.abstract = _bounded(item.abstract, MAX_ABSTRACT_CHARS, "abstract", item.line, warn)
    meta = item.meta or _Meta()
    published = None
    if meta.has_date and meta.month and meta.day:
        published = _safe_date(page_year, meta.month, meta.day, meta.year)
        if published is None:
            warn(item.line, f"impossible date {_quote(meta.date_raw or '')}: left empty")
    page_date = result.page_dates[item.page] if item.page < len(result.page_dates) else None
    return Entry(
        title=item.title,
        abstract=item.abstract,
        authors=meta.authors,
        organization=meta.organization,
        published=published,
        published_raw=meta.date_raw,
        upvotes=meta.upvotes,
        links=extract_links(item.abstract),
        line=item.line,
        page_date=page_date,
    )


# --- reading files -------------------------------------------------------------

BINARY_SNIFF_BYTES = 8192


def decode(data: bytes) -> tuple[str, str | None]:
    """The text of a dump, and a note when it was not UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        where = error.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte.
        text = data.decode("latin-1")
    return text, f"not UTF-8 (bad byte at offset {where}): read as Windows-1252"


def _looks_binary(data: bytes) -> bool:
    sample = data[:BINARY_SNIFF_BYTES]
    if b"\x00" in sample:
        return True
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    return controls > max(1, len(sample) // 100)


def read_dump(path: Path) -> tuple[str, str | None]:
    """Read a dump's text, or raise DumpRejected with a one-line reason."""
    try:
        if path.is_dir():
            raise DumpRejected("is a directory, not a dump file")
        if path.exists() and not path.is_file():
            # A FIFO would block forever, /dev/zero would fill the memory.
            raise DumpRejected("is not a regular file (a pipe or a device?); save it to a file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise DumpRejected("no such file") from None
    except PermissionError:
        raise DumpRejected("permission denied") from None
    except IsADirectoryError:
        raise DumpRejected("is a directory, not a dump file") from None
    except OSError as error:
        raise DumpRejected(f"cannot be read ({error.strerror or error})") from None
    return read_bytes(data)


def read_bytes(data: bytes) -> tuple[str, str | None]:
    """A dump's text from its bytes (a file's or standard input's), or DumpRejected."""
    if not data.strip():
        raise DumpRejected("is empty")
    if _looks_binary(data):
        raise DumpRejected("is a binary file, not a text dump")
    return decode(data)


def file_year(path: Path) -> int | None:
    """The year of a file's modification time: the last resort for dates without a year."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime).year
    except OSError:
        return None


def plausible_entries(entries: Iterable[Entry]) -> int:
    """How many entries read as a title and its abstract (prose paragraphs do not)."""
    return sum(
        1
        for entry in entries
        if len(entry.title) <= 300 and len(entry.abstract) >= 100 and not entry.title.endswith(".")
    )


def check_is_dump(
    result: ParseResult, *, entries: int | None = None, plausible: int | None = None
) -> None:
    """Reject text that parsed into nothing, or into prose with none of a dump's structure.

    A streamed import passes its running counts of entries and plausible ones.
    """
    if entries is None:
        entries = len(result.entries)
    if not entries:
        if result.warnings:
            raise DumpRejected(f"no complete paper entry found ({result.warnings[0]})")
        raise DumpRejected("not a Daily Papers dump (no paper entries found)")
    if result.has_structure:
        return
    if plausible is None:
        plausible = plausible_entries(result.entries)
    if plausible * 10 < entries * 8:
        raise DumpRejected(
            "does not look like a Daily Papers dump (no page header, dates or metadata, "
            "and its paragraphs do not read as title/abstract pairs)"
        )


# --- large dumps, in pieces -------------------------------------------------------------

# A page starts with its chrome; "Get trending papers..." after a blank line is
# the surest sign. Any chrome block resets the parser, so a piece cut just
# before one parses exactly as it would inside the whole text.
_PAGE_START = re.compile(
    r"\n[ \t\r]*\n(?=[ \t]*Get trending papers in your email inbox![ \t]*\r?\n)"
)
PIECE_CHARS = 4_000_000


def split_pages(text: str, target: int | None = None) -> list[tuple[int, str]]:
    """Cut a large dump at page starts into pieces of about ``target`` characters.

    Returns (number of the piece's first line, its text) pairs; a dump without
    page chrome stays whole.
    """
    target = target or PIECE_CHARS
    pieces: list[tuple[int, str]] = []
    start, line = 0, 1
    while len(text) - start > target * 3 // 2:
        match = _PAGE_START.search(text, start + target)
        if match is None:
            break
        cut = match.end()
        piece = text[start:cut]
        pieces.append((line, piece))
        line += len(piece.splitlines())
        start = cut
    pieces.append((line, text[start:]))
    return pieces


READ_BYTES = 4_000_000


def stream_pages(
    path: Path, target: int | None = None, read_bytes: int = READ_BYTES
) -> tuple[str | None, Iterator[tuple[int, str]]]:
    """A large dump in the pieces of ``split_pages``, read as they are needed.

    Memory stays at a few pieces however large the file is (``read_dump`` holds
    the whole text, and ``split_pages`` a second copy: 3.4 GB for a 1.7 GB dump).
    Returns the same note as ``read_dump`` and the pieces; raises DumpRejected
    like ``read_dump`` before any piece is read. The encoding is settled first,
    by a pass that decodes without keeping anything.
    """
    target = target or PIECE_CHARS
    try:
        if path.is_dir():
            raise DumpRejected("is a directory, not a dump file")
        handle = open(path, "rb")  # noqa: SIM115 - closed by the generator below
    except FileNotFoundError:
        raise DumpRejected("no such file") from None
    except PermissionError:
        raise DumpRejected("permission denied") from None
    except OSError as error:
        raise DumpRejected(f"cannot be read ({error.strerror or error})") from None
    try:
        head = handle.read(BINARY_SNIFF_BYTES)
        if _looks_binary(head):
            raise DumpRejected("is a binary file, not a text dump")
        if not head.strip() and not handle.read(read_bytes).strip():
            raise DumpRejected("is empty")
        encoding, note = _settle_encoding(handle, read_bytes)
    except OSError as error:
        handle.close()
        raise DumpRejected(f"cannot be read ({error.strerror or error})") from None
    except BaseException:
        handle.close()
        raise

    def pieces() -> Iterator[tuple[int, str]]:
        with handle:
            _skip_bom(handle)
            decoder = codecs.getincrementaldecoder(encoding)()
            text, line = "", 1
            while True:
                try:
                    data = handle.read(read_bytes)
                except OSError as error:
                    raise DumpRejected(f"cannot be read ({error.strerror or error})") from None
                text += decoder.decode(data, final=not data)
                start = 0
                while len(text) - start > target * 3 // 2:
                    match = _PAGE_START.search(text, start + target)
                    if match is None:
                        break
                    piece = text[start : match.end()]
                    yield line, piece
                    line += len(piece.splitlines())
                    start = match.end()
                text = text[start:]
                if not data:
                    break
            yield line, text

    return note, pieces()


def _skip_bom(handle) -> None:
    handle.seek(0)
    if handle.read(3) != b"\xef\xbb\xbf":
        handle.seek(0)


def _settle_encoding(handle, read_bytes: int) -> tuple[str, str | None]:
    """UTF-8 if the whole file decodes as UTF-8; else Windows-1252 (or Latin-1), as
    ``decode`` would read it."""
    _skip_bom(handle)
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0  # of the next byte to decode, the BOM not counted (as in ``decode``)
    data = handle.read(read_bytes)
    while True:
        pending = len(decoder.getstate()[0])  # bytes of a character cut by the last read
        try:
            decoder.decode(data, final=not data)
        except UnicodeDecodeError as error:
            where = offset - pending + error.start
            break
        if not data:
            return "utf-8", None
        offset += len(data)
        data = handle.read(read_bytes)
    handle.seek(0)
    fallback = "cp1252"
    while data := handle.read(read_bytes):
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            fallback = "latin-1"
            break
    note = f"not UTF-8 (bad byte at offset {where}): read as Windows-1252"
    return fallback, note


def parse_piece(
    piece: tuple[int, str], year: int | None, fallback_year: int | None, final: bool
) -> ParseResult:
    """Parse one piece of ``split_pages`` (a top-level function: it runs in a worker process)."""
    first_line, text = piece
    return parse(text, year=year, fallback_year=fallback_year, first_line=first_line, final=final)
