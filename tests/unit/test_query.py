from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperdesk import query as q


def test_words_are_anded_and_or_splits():
    assert q.parse("grokking tickets") == q.And(
        (q.Word("grokking", start=0, end=8), q.Word("tickets", start=9, end=16))
    )
    tree = q.parse("a OR b c")
    assert isinstance(tree, q.Or) and isinstance(tree.items[1], q.And)


def test_not_minus_phrase_and_groups():
    tree = q.parse('(rl OR bandit) -vision NOT "image net"')
    assert isinstance(tree, q.And)
    assert isinstance(tree.items[0], q.Or)
    assert tree.items[1] == q.Not(q.Word("vision", start=16, end=22))
    assert tree.items[2] == q.Not(q.Phrase(("image", "net")))


def test_fields_prefix_fuzzy():
    assert q.parse("title:grok*") == q.Word("grok", "title", prefix=True, start=6, end=10)
    assert q.parse("grokkng~") == q.Word("grokkng", fuzzy=1, start=0, end=7)
    assert q.parse("grokkng~2").fuzzy == 2
    assert q.parse("grokkng~9").fuzzy == q.MAX_FUZZY_DISTANCE
    assert q.parse('abstract:"lottery ticket"') == q.Phrase(("lottery", "ticket"), "abstract")
    assert q.parse("organization:Tencent") == q.Word("Tencent", "org", start=13, end=20)
    assert q.parse("tag:(a OR b)") == q.Or(
        (q.Word("a", "tag", start=5, end=6), q.Word("b", "tag", start=10, end=11))
    )


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("upvotes:>=10", 10, None),
        ("upvotes:>10", 11, None),
        ("authors:<=5", None, 5),
        ("authors:<5", None, 4),
        ("authors:3", 3, 3),
        ("published:2024", 20240101, 20241231),
        ("published:2024-02", 20240201, 20240229),
        ("published:>=2025-01-01", 20250101, None),
        ("published:<2024", None, 20231231),
        ("published:[2024-01-01 TO 2024-06-30]", 20240101, 20240630),
        ("published:[2024 TO *]", 20240101, None),
        ("upvotes:[5 TO 10]", 5, 10),
    ],
)
def test_ranges(text, low, high):
    tree = q.parse(text)
    assert isinstance(tree, q.Range)
    assert (tree.low, tree.high) == (low, high)


def test_states():
    assert q.parse("is:starred is:UNREAD") == q.And((q.State("starred"), q.State("unread")))


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("foo:bar", "unknown field 'foo'", 1),
        ("grok )", 'unmatched ")"', 6),
        ("upvotes:>=many", "whole number", 11),
        ("published:2024-13", "not a real date", 11),
        ("published:June", "YYYY", 11),
        ("is:happy", "unknown state", 4),
        ("title:", '"title:" needs a value', 1),
        ("OR grok", '"OR" needs something before it', 1),
        ("grok OR", '"OR" needs something after it', 6),
        ("published:[2024]", "[LOW TO HIGH]", 11),
        ("[1 TO 2]", "needs a field", 1),
    ],
)
def test_errors_point_at_the_problem(text, message, column):
    with pytest.raises(q.QueryError) as info:
        q.parse(text)
    assert message in str(info.value)
    assert info.value.column == column


def test_lenient_readings():
    assert q.parse('"unclosed phrase') == q.Phrase(("unclosed", "phrase"))
    assert q.parse("(grok OR tick") == q.Or(
        (q.Word("grok", start=1, end=5), q.Word("tick", start=9, end=13))
    )
    assert q.parse("") == q.Everything()
    assert q.parse("   ") == q.Everything()
    assert q.parse("https://github.com/a/b") == q.Word("https://github.com/a/b", start=0, end=22)


def test_punctuation_alone_is_no_word():
    assert q.parse("grok - tick") == q.And(
        (q.Word("grok", start=0, end=4), q.Word("tick", start=7, end=11))
    )
    assert q.parse("grok –") == q.Word("grok", start=0, end=4)
    assert q.parse('title:grok "…" tick') == q.And(
        (q.Word("grok", "title", start=6, end=10), q.Word("tick", start=15, end=19))
    )
    assert q.parse("🔥") == q.Word("🔥", start=0, end=1)  # a symbol can be a tag
    assert q.parse("tag:-") == q.Word("-", "tag", start=4, end=5)  # a tag from before
    for text in ("-", "–", "&", "...", "title:-", "- –"):
        with pytest.raises(q.QueryError, match="nothing to search for"):
            q.parse(text)


def test_too_long_query_is_refused():
    with pytest.raises(q.QueryError, match="too long"):
        q.parse("a " * 5000)


def test_words_of_skips_negations():
    assert [w.text for w in q.words_of(q.parse("a -b (c OR d) NOT e"))] == ["a", "c", "d"]


query_atoms = st.sampled_from(
    [
        "grok",
        "OR",
        "AND",
        "NOT",
        "-",
        "(",
        ")",
        '"',
        "*",
        "~",
        ":",
        "title:",
        "is:",
        "tag:",
        "upvotes:>=",
        "published:",
        "[",
        "]",
        " TO ",
        "2024",
        "-01",
        "~2",
        "é",
        " ",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(query_atoms, max_size=30).map("".join))
def test_parser_never_raises_anything_but_query_error(text):
    try:
        q.parse(text)
    except q.QueryError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parser_never_raises_on_arbitrary_text(text):
    try:
        q.parse(text)
    except q.QueryError:
        pass


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["(", "NOT ", "tag:(", "title:(", "(a OR "]),
    st.integers(min_value=0, max_value=600),
    st.lists(
        st.sampled_from(["(", ")", "NOT ", "-", "tag:(", "a", " OR ", '"', "x~", "*"]),
        max_size=50,
    ),
)
def test_any_nesting_is_a_tree_or_a_query_error(opener, depth, tail):
    """Hundreds of "(" or NOT raised RecursionError (a traceback, or the app exiting)."""
    from paperdesk import query as q

    try:
        tree = q.parse(opener * depth + "a" + "".join(tail))
    except q.QueryError:
        return

    def depth_of(node, level=0):
        assert level <= q.MAX_DEPTH + 2, "deeper than every later walk of the tree can take"
        for child in getattr(node, "items", ()) or ([node.item] if hasattr(node, "item") else []):
            depth_of(child, level + 1)

    depth_of(tree)
