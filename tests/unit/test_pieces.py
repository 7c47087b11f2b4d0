"""Large dumps are parsed in pieces cut at page starts: the result is the same as whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperdesk.desk import Desk
from paperdesk.importers import pipeline as desk_module
from paperdesk.importers.dailypapers import (
    DumpRejected,
    parse,
    parse_piece,
    read_dump,
    split_pages,
    stream_pages,
)
from tests.dumps import LOREM, E, page

CRLF = "\r\n"


def pages_dump(n_pages: int, seed: int = 0, newline: str = "\n") -> str:
    pages = []
    for p in range(n_pages):
        entries = []
        for k in range(6):
            n = (p * 6 + k + seed) % 50  # titles repeat across pages: papers merge
            entries.append(
                E(
                    title=f"Paper {n} on topic {n % 7}",
                    abstract=f"{LOREM} ({n})",
                    authors=(n % 5) + 1 if n % 3 else None,
                    org="acme ACME Research" if n % 3 == 0 else None,
                    date=f"Jun {n % 27 + 1}" + (", 2024" if n % 4 == 0 else ""),
                    upvotes=n if n % 2 else None,
                )
            )
        if p % 5 == 3:
            entries.append(E(title="A title whose abstract went missing", abstract=""))
        pages.append(page(entries, page_date=f"Jun {p % 27 + 2}"))
    return ("\n\n".join(pages)).replace("\n", newline)


def in_pieces(text: str, target: int, **kwargs):
    pieces = split_pages(text, target)
    results = [
        parse_piece(piece, kwargs.get("year"), 2025, number == len(pieces) - 1)
        for number, piece in enumerate(pieces)
    ]
    return pieces, results


@pytest.mark.parametrize("newline", ["\n", CRLF])
@pytest.mark.parametrize("target", [300, 2000, 10_000])
def test_pieces_parse_like_the_whole(newline: str, target: int):
    text = pages_dump(25, newline=newline)
    whole = parse(text, fallback_year=2025)
    pieces, results = in_pieces(text, target)
    assert len(pieces) > 1
    assert "".join(t for _, t in pieces) == text  # nothing lost or repeated at the cuts
    assert [e for r in results for e in r.entries] == whole.entries  # line numbers included
    assert [d for r in results for d in r.page_dates] == whole.page_dates
    assert [str(w) for r in results for w in r.warnings] == [str(w) for w in whole.warnings]


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(0, 40), st.integers(50, 5000))
def test_any_cut_gives_the_same_entries(n_pages: int, seed: int, target: int):
    text = pages_dump(n_pages, seed)
    whole = parse(text, fallback_year=2025)
    _, results = in_pieces(text, target)
    assert [e for r in results for e in r.entries] == whole.entries


def test_a_dump_without_page_chrome_stays_whole():
    text = "\n\n".join(f"Title {n}\n\n{LOREM}" for n in range(200))
    assert split_pages(text, 100) == [(1, text)]


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch):
    """Make every dump 'large', so the piecewise import runs on small files."""
    monkeypatch.setattr(desk_module, "LARGE_DUMP_CHARS", 1000)
    monkeypatch.setattr("paperdesk.importers.dailypapers.PIECE_CHARS", 3000)


def library_content(desk: Desk):
    return [
        (p.id, p.title, p.abstract, p.authors, p.organization, p.published, p.upvotes,
         p.links, p.sources)
        for p in desk.library.papers(sort="title")
    ]  # fmt: skip


@pytest.mark.parametrize("workers", ["processes", "in-process"])
def test_a_large_dump_imports_exactly_as_a_small_one(
    tmp_path: Path, monkeypatch, samples, workers: str
):
    if workers == "in-process":  # as in the app, where forking is not safe
        monkeypatch.setattr(desk_module, "_parse_pool", desk_module._InProcess)
    else:
        from concurrent.futures import ProcessPoolExecutor

        assert isinstance(desk_module._parse_pool(), ProcessPoolExecutor)
    dump = tmp_path / "big.txt"
    dump.write_text(pages_dump(30) + "\n\n" + samples[0].read_text(encoding="utf-8"))
    plain = Desk(tmp_path / "plain")
    expected = plain.import_file(dump)
    monkeypatch.setattr(desk_module, "LARGE_DUMP_CHARS", 1000)
    monkeypatch.setattr("paperdesk.importers.dailypapers.PIECE_CHARS", 3000)
    pieces = Desk(tmp_path / "pieces")
    calls: list[tuple[str, int, int]] = []
    got = pieces.import_file(dump, progress=lambda *a: calls.append(a))
    assert got.summary == expected.summary
    assert got.warnings == expected.warnings
    assert library_content(pieces) == library_content(plain)
    assert len(calls) > 3 and calls[-1][1] == calls[-1][2]  # progress reached the end
    again = pieces.import_file(dump)
    assert (again.stats.new, again.stats.updated) == (0, 0)
    plain.close()
    pieces.close()


def test_a_large_file_without_entries_is_rejected_whole(tmp_path: Path, small_pieces):
    prose = tmp_path / "prose.txt"
    # Pages of chrome around lone lines: cut in pieces, no piece holds an entry.
    chrome = "Get trending papers in your email inbox!"
    prose.write_text("\n\n".join(f"{chrome}\n\nJust a line {n}" for n in range(400)))
    desk = Desk(tmp_path / "d")
    report = desk.import_file(prose)
    assert report.rejected and report.rejected.startswith("no complete paper entry found")
    assert desk.library.count() == 0
    desk.close()


@settings(max_examples=25, deadline=None)
@given(
    target=st.integers(min_value=200, max_value=5000),
    read_bytes=st.integers(min_value=2, max_value=3000),
    newline=st.sampled_from(["\n", CRLF]),
    bom=st.booleans(),
)
def test_streamed_pieces_are_the_pieces_of_the_whole_text(
    tmp_path_factory, target: int, read_bytes: int, newline: str, bom: bool
):
    """Read a little at a time (cutting multi-byte characters and CRLFs), the file
    gives exactly the pieces that split_pages gives for its whole text."""
    text = pages_dump(12, newline=newline).replace("topic 3", "tópico 3 — ✓")
    path = tmp_path_factory.mktemp("stream") / "dump.txt"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    note, pieces = stream_pages(path, target, read_bytes=read_bytes)
    assert note is None
    assert list(pieces) == split_pages(text, target)


def test_streamed_pieces_of_a_file_that_is_not_utf8(tmp_path: Path):
    text = pages_dump(8).replace("topic 2", "caf\xe9 \u2014 topic 2")
    path = tmp_path / "dump.txt"
    data = text.encode("cp1252")
    path.write_bytes(data)
    expected_text, expected_note = read_dump(path)
    note, pieces = stream_pages(path, 500, read_bytes=97)
    assert note == expected_note and note is not None and "offset" in note
    assert "".join(piece for _line, piece in pieces) == expected_text


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b"  \n\n ", "empty"), (b"\x00\x01binary" * 100, "binary")],
)
def test_streamed_file_rejected_like_a_read_one(tmp_path: Path, content: bytes, reason: str):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DumpRejected, match=reason):
        stream_pages(path)
    with pytest.raises(DumpRejected, match=reason):
        read_dump(path)
    with pytest.raises(DumpRejected, match="no such file"):
        stream_pages(tmp_path / "missing.txt")
