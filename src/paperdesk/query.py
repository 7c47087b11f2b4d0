"""The user's query language, parsed into a small tree. No Whoosh here.

    words              all must match          grokking lottery
    a OR b             either                   grokking OR memorization
    NOT a, -a          must not match           transformer -vision
    "exact phrase"     words in order           "lottery ticket"
    ( ... )            grouping                 (rl OR bandit) regret
    field:value        title: abstract: org: tag: host: id: author: cat: arxiv: doi: note: day:
    prefix*  fuzzy~    transf*  grokkng~  grokkng~2
    ranges             upvotes:>=10  authors:<=5  published:2024  published:2024-06
                       published:>=2025-01-01  published:[2024-01-01 TO 2024-06-30]
                       interest:>=0.7  interest:<0.2  interest:[0.4 TO 0.6]
    state              is:starred  is:unread  is:read  is:dismissed  tag:rl-theory

The parser is a recursive descent over a flat token list, so it runs in linear
time on any input. Unclosed quotes and parentheses are read leniently (closed
at the end); everything else that cannot be read raises ``QueryError`` with
the column of the problem.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from paperdesk.model import is_punctuation

TEXT_FIELDS = (
    "title", "abstract", "org", "tag", "host", "id", "author", "cat", "arxiv", "doi", "note",
    "day",
)  # fmt: skip
RANGE_FIELDS = ("upvotes", "authors", "published", "interest")
FIELD_ALIASES = {
    "organization": "org",
    "organisation": "org",
    "tags": "tag",
    "link": "host",
    "links": "host",
    "date": "published",
    "year": "published",
    "votes": "upvotes",
    "category": "cat",
    "categories": "cat",
    "names": "author",
    "notes": "note",
}
# ``author:`` names an author (author:hinton), except before a count or a range
# (author:>5, author:[2 TO 4]), where it is the number of authors, ``authors:``.
_COUNT_VALUE = re.compile(r"^(?:[<>]=?|=)?\d+$")
STATES = (
    "starred", "unstarred", "unread", "read", "tagged", "untagged", "dismissed", "undismissed",
)  # fmt: skip
MAX_QUERY_CHARS = 2000
MAX_FUZZY_DISTANCE = 2
# Deeper nesting than this is no real query; the limit keeps every recursive
# walk of the tree (here and in the search engine) far from Python's own.
MAX_DEPTH = 32
OPERATORS = ("AND", "OR", "NOT")


class QueryError(ValueError):
    """A query that cannot be read; ``column`` (1-based) points at the problem."""

    def __init__(self, message: str, column: int | None = None) -> None:
        self.column = column
        super().__init__(message if column is None else f"{message} (at column {column})")


# --- the tree ---------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str
    field: str | None = None
    prefix: bool = False
    fuzzy: int = 0  # edit distance; 0 = exact
    start: int = 0  # offsets in the query string, for "did you mean"
    end: int = 0


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]
    field: str | None = None


@dataclass(frozen=True)
class Range:
    field: str
    low: int | None  # inclusive; dates as YYYYMMDD, interest in thousandths
    high: int | None


@dataclass(frozen=True)
class State:
    name: str


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class Everything:
    pass


Node = Word | Phrase | Range | State | And | Or | Not | Everything


def words_of(node: Node) -> list[Word]:
    """Every positive (not negated) word, for highlights and suggestions."""
    if isinstance(node, Word):
        return [node]
    if isinstance(node, And | Or):
        return [word for item in node.items for word in words_of(item)]
    return []


# --- tokens -------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<quote>"[^"]*"?)
  | (?P<range>\[[^\]]*\]?)
  | (?P<word>[^\s()"\[]+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int


def tokenize(query: str) -> list[Token]:
    tokens = []
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup or "word"
        if kind != "space":
            tokens.append(Token(kind, match.group(), match.start()))
    return tokens


# --- parsing ------------------------------------------------------------------------


def parse(query: str) -> Node:
    """The tree of a query; an empty query matches everything.

    A query with text but nothing to search for in it (``((``, ``AND``, ``~``,
    a lone ``"``) is a QueryError: it must not quietly match every paper.
    """
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is too long (over {MAX_QUERY_CHARS} characters)")
    parser = _Parser(query, tokenize(query))
    node = parser.parse_or()
    if parser.peek() is not None:
        token = parser.peek()
        assert token is not None
        raise QueryError('unmatched ")"', token.start + 1)
    if node is None:
        if query.strip():
            raise QueryError(f"nothing to search for in {query.strip()!r}")
        return Everything()
    return _simplify(node)


_TYPED_WORD = re.compile(r"(?:^|[\s(])-?(?:[A-Za-z]+:)?[^\W_][\w'-]*$")


def as_you_type(query: str) -> str:
    """The query while it is being typed: the last word, not yet ended by a
    space, matches as a prefix (``grok`` finds "grokking"). Operators, quoted
    phrases, ranges, fuzzy and prefix words are left as they are."""
    if not query or query[-1].isspace() or query.count('"') % 2 or not _TYPED_WORD.search(query):
        return query
    last = query.split()[-1].lstrip("(-")
    field, sep, value = last.rpartition(":")
    if last in OPERATORS or field.lower() in ("is", *RANGE_FIELDS) or (sep and not value):
        return query
    return query + "*"


def has_scored_words(node: Node) -> bool:
    """Whether a query ranks by relevance: it has a word or a phrase to score
    (``upvotes:>=5`` and ``is:starred`` only filter)."""
    if isinstance(node, Word | Phrase):
        return True
    if isinstance(node, And | Or):
        return any(has_scored_words(item) for item in node.items)
    return False


def hints(query: str, *, short: bool = False) -> list[str]:
    """Advice on a query that reads but may not mean what was meant: a lower-case
    ``and``, ``or`` or ``not`` between words is searched as a word; a one-letter
    prefix is slow. ``short``: the same advice in a few words, for a status
    line that has no room for the whole (one per long one, in the same order)."""
    found = []
    for token in tokenize(query):
        if token.kind == "word" and token.text in ("and", "or", "not"):
            upper = token.text.upper()
            meaning = {"AND": "require both sides", "OR": "match either side",
                       "NOT": "exclude what follows"}[upper]  # fmt: skip
            brief = {"AND": "for both", "OR": "for either", "NOT": "to exclude"}[upper]
            found.append(
                f"write {upper} {brief}"
                if short
                else f'"{token.text}" is searched as a word; write {upper} to {meaning}'
                f" (did you mean {upper}?)"
            )
        elif token.kind == "word" and _ONE_LETTER_PREFIX.match(token.text):
            found.append(
                f"{token.text} is slow: add a letter"
                if short
                else f"{token.text} (a prefix of one letter) matches most papers and is slow on "
                "a large library; more letters narrow it"
            )
    return list(dict.fromkeys(found))


# ``a*`` or ``title:a*``: the one query form that reads hundreds of posting lists.
_ONE_LETTER_PREFIX = re.compile(r"^(?:[A-Za-z]+:)?[^\W\d_]\*$")


class _Parser:
    def __init__(self, query: str, tokens: list[Token]) -> None:
        self.query = query
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def deeper(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(f"the query is nested too deeply (over {MAX_DEPTH} levels)",
                             token.start + 1)  # fmt: skip

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse_or(self) -> Node | None:
        items = []
        first = self.parse_and()
        if first is not None:
            items.append(first)
        while (token := self.peek()) is not None and token.kind == "word" and token.text == "OR":
            self.take()
            right = self.parse_and()
            if right is None:
                raise QueryError('"OR" needs something after it', token.start + 1)
            if not items:
                raise QueryError('"OR" needs something before it', token.start + 1)
            items.append(right)
        if not items:
            return None
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node | None:
        items: list[Node] = []
        while (token := self.peek()) is not None:
            if token.kind == "rparen" or (token.kind == "word" and token.text == "OR"):
                break
            if token.kind == "word" and token.text == "AND":
                self.take()
                continue
            node = self.parse_unary()
            if node is not None:
                items.append(node)
        if not items:
            return None
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Node | None:
        token = self.peek()
        assert token is not None
        if token.kind == "word" and token.text == "NOT":
            self.take()
            if self.peek() is None:
                raise QueryError('"NOT" needs something after it', token.start + 1)
            self.deeper(token)
            inner = self.parse_unary()
            self.depth -= 1
            return Not(inner) if inner is not None else None
        if token.kind == "word" and token.text.startswith("-") and len(token.text) > 1:
            self.take()
            rest = Token("word", token.text[1:], token.start + 1)
            inner = self.parse_word(rest)
            return Not(inner) if inner is not None else None
        return self.parse_atom()

    def parse_atom(self) -> Node | None:
        token = self.take()
        if token.kind == "lparen":
            self.deeper(token)
            inner = self.parse_or()
            self.depth -= 1
            closing = self.peek()
            if closing is not None and closing.kind == "rparen":
                self.take()
            elif closing is not None:  # pragma: no cover - parse_or stops only at ")" or the end
                raise QueryError('expected ")"', closing.start + 1)
            return inner
        if token.kind == "rparen":
            raise QueryError('unmatched ")"', token.start + 1)
        if token.kind == "quote":
            return _phrase(token.text, None)
        if token.kind == "range":
            raise QueryError(
                "a range needs a field, as in published:[2024-01-01 TO 2024-06-30]", token.start + 1
            )
        return self.parse_word(token)

    def parse_word(self, token: Token) -> Node | None:
        text = token.text
        field, sep, value = text.partition(":")
        if not sep or not field or _looks_like_url(text):
            return _word(text, None, token.start)
        name = FIELD_ALIASES.get(field.lower(), field.lower())
        if name == "author" and (_COUNT_VALUE.match(value) or not value):
            following = self.peek()
            if value or (following is not None and following.kind == "range"):
                name = "authors"
        value_start = token.start + len(field) + 1
        if not value:
            following = self.peek()
            # A field before a phrase, range or group: title:"…", published:[…], tag:(a OR b)
            if following is not None and following.start == value_start:
                if following.kind == "quote" and name in TEXT_FIELDS:
                    self.take()
                    return _phrase(following.text, name)
                if following.kind == "range" and name in RANGE_FIELDS:
                    self.take()
                    return _range(name, following.text, following.start)
                if following.kind == "lparen" and name in TEXT_FIELDS:
                    self.take()
                    self.deeper(following)
                    inner = self.parse_or()
                    self.depth -= 1
                    if (closing := self.peek()) is not None and closing.kind == "rparen":
                        self.take()
                    if inner is None:
                        raise QueryError(f'"{field}:" needs a value', token.start + 1)
                    return _with_field(inner, name)
            raise QueryError(f'"{field}:" needs a value', token.start + 1)
        if name == "is":
            state = value.lower()
            if state not in STATES:
                raise QueryError(
                    f"unknown state {value!r}; use one of: " + ", ".join(f"is:{s}" for s in STATES),
                    value_start + 1,
                )
            return State(state)
        if name in RANGE_FIELDS:
            return _range(name, value, value_start)
        if name in TEXT_FIELDS:
            return _word(value, name, value_start)
        raise QueryError(
            f"unknown field {field!r}; fields are "
            + ", ".join(f"{f}:" for f in (*TEXT_FIELDS, *RANGE_FIELDS, "is")),
            token.start + 1,
        )


def _looks_like_url(text: str) -> bool:
    return "://" in text


def _word(text: str, field: str | None, start: int) -> Node | None:
    prefix = False
    fuzzy = 0
    match = re.search(r"~(\d*)$", text)
    if match:
        digits = match.group(1)
        fuzzy = min(int(digits[:2]), MAX_FUZZY_DISTANCE) if digits else 1
        fuzzy = max(fuzzy, 1)
        text = text[: match.start()]
    if text.endswith("*"):
        prefix = True
        text = text.rstrip("*")
    if not text.strip("*?~") or (is_punctuation(text) and field != "tag"):
        return None  # a lone "*", "~" or "-" adds nothing (a title's spaced dash)
    return Word(text, field, prefix, 0 if prefix else fuzzy, start, start + len(text))


def _phrase(quoted: str, field: str | None) -> Node | None:
    inner = quoted[1:-1] if quoted.endswith('"') and len(quoted) > 1 else quoted[1:]
    words = tuple(word for word in inner.split() if not is_punctuation(word))
    if not words:
        return None
    return Phrase(words, field)


def _with_field(node: Node, field: str) -> Node:
    if isinstance(node, Word):
        return Word(node.text, field, node.prefix, node.fuzzy, node.start, node.end)
    if isinstance(node, Phrase):
        return Phrase(node.words, field)
    if isinstance(node, And):
        return And(tuple(_with_field(item, field) for item in node.items))
    if isinstance(node, Or):
        return Or(tuple(_with_field(item, field) for item in node.items))
    if isinstance(node, Not):
        return Not(_with_field(node.item, field))
    return node


_COMPARE = re.compile(r"^(>=|<=|>|<|=)?(.*)$")


def _range(field: str, value: str, start: int) -> Range:
    value = value.strip()
    if value.startswith("["):
        body = value[1:-1] if value.endswith("]") else value[1:]
        parts = re.split(r"\s+TO\s+", body.strip(), flags=re.IGNORECASE)
        if len(parts) != 2:
            raise QueryError(
                f"a range is written [LOW TO HIGH], as in {field}:[10 TO 20]", start + 1
            )
        low = None if parts[0].strip() in ("*", "") else _bounds(field, parts[0].strip(), start)[0]
        high = None if parts[1].strip() in ("*", "") else _bounds(field, parts[1].strip(), start)[1]
        return Range(field, low, high)
    match = _COMPARE.match(value)
    assert match is not None
    op, operand = match.group(1) or "=", match.group(2)
    if not operand:
        raise QueryError(f'"{field}:{op}" needs a value', start + 1)
    low, high = _bounds(field, operand, start + len(op if match.group(1) else ""))
    if op == "=":
        if field == "interest":  # interest:0.7 is every score that reads 0.7…
            return Range(field, low, _interest_span(operand, low))
        return Range(field, low, high)
    if op == ">=":
        return Range(field, low, None)
    if op == ">":
        return Range(field, _step(field, high, +1), None)
    if op == "<=":
        return Range(field, None, high)
    return Range(field, None, _step(field, low, -1))


def _interest_span(operand: str, low: int) -> int:
    """The highest thousandth a score written with this many decimals covers:
    0.7 covers 0.700 to 0.799, 0.75 covers 0.750 to 0.759."""
    decimals = len(operand.partition(".")[2])
    return min(1000, low + 10 ** max(0, 3 - decimals) - 1)


def _step(field: str, value: int, days: int) -> int:
    """The next (or previous) value: a day for dates, one for counts."""
    if field != "published":
        return value + days
    day = date(value // 10000, value // 100 % 100, value % 100)
    try:
        return date_number(date.fromordinal(day.toordinal() + days))
    except (ValueError, OverflowError):
        return value + days


def _bounds(field: str, operand: str, start: int) -> tuple[int, int]:
    """The inclusive bounds one value stands for (a year is a whole year)."""
    if field == "published":
        return _date_bounds(operand, start)
    if field == "interest":
        if not re.fullmatch(r"(?:0|1)?(?:\.\d{1,3})?", operand) or operand in ("", "."):
            raise QueryError(
                f"interest takes a number from 0 to 1 (at most 3 decimals), not {operand!r}",
                start + 1,
            )
        number = round(float(operand) * 1000)
        if number > 1000:
            raise QueryError(f"interest is at most 1, not {operand!r}", start + 1)
        return number, number
    if not re.fullmatch(r"\d{1,9}", operand):
        raise QueryError(f"{field} takes a whole number, not {operand!r}", start + 1)
    number = int(operand)
    return number, number


def _date_bounds(operand: str, start: int) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", operand)
    if not match:
        raise QueryError(
            f"published takes a date as YYYY, YYYY-MM or YYYY-MM-DD, not {operand!r}", start + 1
        )
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    try:
        if month is None:
            low, high = date(year, 1, 1), date(year, 12, 31)
        elif day is None:
            low = date(year, month, 1)
            high = date(year, month, calendar.monthrange(year, month)[1])
        else:
            low = high = date(year, month, day)
    except ValueError:
        raise QueryError(f"{operand!r} is not a real date", start + 1) from None
    return date_number(low), date_number(high)


def date_number(day: date) -> int:
    """A date as the integer YYYYMMDD, the form the index stores."""
    return day.year * 10000 + day.month * 100 + day.day


def _simplify(node: Node) -> Node:
    if isinstance(node, And | Or):
        items = tuple(_simplify(item) for item in node.items)
        flat: list[Node] = []
        for item in items:
            if type(item) is type(node):
                flat.extend(item.items)
            else:
                flat.append(item)
        return flat[0] if len(flat) == 1 else type(node)(tuple(flat))
    if isinstance(node, Not):
        return Not(_simplify(node.item))
    return node
