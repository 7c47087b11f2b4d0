"""Canaries: each patch in paperdesk.search.whoosh_fixes exists for a bug or a cost of
whoosh-reloaded as it ships. Each test here runs the *unpatched* library in a
fresh interpreter (paperdesk's search modules never imported) and shows that
bug. When an upgrade fixes one, its test fails with the message that the patch
can go; the version check then needs the new version too.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

HEADER = """
import sys
assert not any(m.startswith("paperdesk.") and m != "paperdesk" for m in sys.modules)
from whoosh import index
from whoosh.fields import ID, TEXT, Schema
"""


def unpatched(code: str, tmp_path: Path, timeout: float = 60) -> str:
    """Run code against whoosh as it ships; its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", HEADER + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    assert "paperdesk.search.whoosh_fixes" not in result.stderr
    return result.stdout.strip()


def still_needed(shown: bool, fix: str, bug: str) -> None:
    assert shown, (
        f"whoosh-reloaded no longer shows {bug}: the patch {fix} in "
        "paperdesk/search/whoosh_fixes.py can go (and TESTED_WHOOSH move to this version)"
    )


def test_the_version_is_the_one_the_fixes_were_made_for():
    from importlib.metadata import version

    from paperdesk.search import whoosh_fixes

    assert version("whoosh-reloaded") == whoosh_fixes.TESTED_WHOOSH


def test_another_whoosh_version_is_one_clear_line(tmp_path):
    code = (
        "import whoosh; whoosh.__version__ = (3, 0, 0)\n"
        "import sys; sys.argv = ['paperdesk', 'search', 'x']\n"
        "from paperdesk.cli import main; main()\n"
    )
    env = {**os.environ, "PAPERDESK_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "paperdesk: the search engine needs whoosh-reloaded 2.7.5 exactly (paperdesk patches "
        "that version), but found 3.0.0: pip install 'whoosh-reloaded==2.7.5'"
    ]


def test_inline_postings_raise_without_the_fix(tmp_path):
    """_inline_postings_work: W3Codec(inlinelimit=N) calls a method 2.7.5 lacks."""
    shown = unpatched(
        """
        from whoosh.codec.whoosh3 import W3Codec
        ix = index.create_in(".", Schema(body=TEXT))
        writer = ix.writer(codec=W3Codec(inlinelimit=10))
        writer.add_document(body="a few words")
        try:
            writer.commit()
            print("fine")
        except AttributeError as error:
            print("set_inline" in str(error))
        """,
        tmp_path,
    )
    still_needed(shown == "True", "_inline_postings_work", "the missing set_inline")


def test_missing_length_columns_cost_a_file_check_per_posting(tmp_path):
    """_missing_length_columns_are_remembered: every look-up of a column that
    does not exist asks the storage again."""
    shown = unpatched(
        """
        ix = index.create_in(".", Schema(id=ID(stored=True), body=TEXT))
        with ix.writer() as writer:
            writer.add_document(id="1", body="words")
        reader = ix.reader()
        perdoc = reader._perdoc
        storage = perdoc._storage
        calls = []
        original = storage.file_exists
        storage.file_exists = lambda name: calls.append(name) or original(name)
        for _ in range(50):
            perdoc._cached_reader("_id_l", None)
        print(len(calls))
        """,
        tmp_path,
    )
    still_needed(int(shown) == 50, "_missing_length_columns_are_remembered", "the repeated checks")


def test_segment_files_are_copied_into_memory(tmp_path):
    """_segment_files_are_not_copied: BufferFile copies its slice into a BytesIO."""
    shown = unpatched(
        """
        import io
        from whoosh.filedb.structfile import BufferFile
        buf = memoryview(bytearray(b"x" * 1000))
        print(isinstance(BufferFile(buf).file, io.BytesIO))
        """,
        tmp_path,
    )
    still_needed(shown == "True", "_segment_files_are_not_copied", "the BytesIO copy")


def test_posting_skips_walk_one_posting_at_a_time(tmp_path):
    """_posting_skips_bisect: skip_to inside a block calls next() per posting."""
    shown = unpatched(
        """
        from whoosh.codec.whoosh3 import W3LeafMatcher
        ix = index.create_in(".", Schema(body=TEXT))
        with ix.writer() as writer:
            for n in range(120):
                writer.add_document(body="common")
        with ix.searcher() as searcher:
            matcher = searcher.postings("body", "common")
            steps = []
            original = W3LeafMatcher.next
            W3LeafMatcher.next = lambda self: steps.append(1) or original(self)
            matcher.skip_to(100)
            print(len(steps), matcher.id())
        """,
        tmp_path,
    )
    steps, landed = map(int, shown.split())
    assert landed == 100
    still_needed(steps >= 99, "_posting_skips_bisect", "the walk to a target")


def test_and_not_lets_its_first_match_through(tmp_path):
    """_and_not_checks_its_first_match: when b's first match comes before a's,
    a's first match is not checked against b."""
    shown = unpatched(
        """
        from whoosh import query as q
        ix = index.create_in(".", Schema(body=TEXT))
        with ix.writer() as writer:
            writer.add_document(body="model")  # 0: b only
            writer.add_document(body="read model")  # 1: a and b: must not match
            writer.add_document(body="read")  # 2: a only
        with ix.searcher() as searcher:
            found = sorted(searcher.docs_for_query(
                q.AndNot(q.Term("body", "read"), q.Term("body", "model"))))
            print(found)
        """,
        tmp_path,
    )
    still_needed(shown == "[1, 2]", "_and_not_checks_its_first_match", "the unchecked first match")


def test_posting_ids_are_summed_by_a_python_generator(tmp_path):
    """_ids_decode_in_c: one generator resumption per posting."""
    shown = unpatched(
        """
        import inspect
        from whoosh.codec import whoosh3
        print(inspect.isgeneratorfunction(whoosh3.delta_decode))
        """,
        tmp_path,
    )
    still_needed(shown == "True", "_ids_decode_in_c", "the generator")
