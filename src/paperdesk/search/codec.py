"""paperdesk's posting-list format: Whoosh's, with each block's parts readable apart.

Whoosh 3 writes a posting block as one compressed pickle of (document numbers,
weights, positions) behind a pickled header. Counting or ranking a word needs
only the numbers and weights, yet every block's positions were decompressed
and unpickled too: reading the 43,000 postings of "model" at 100k papers took
60 ms, 55 of them in ``zlib`` and ``pickle``. Here a block is

    header   struct: signed length (negative for the last block), count, last
             document number, max weight, compression, min and max length bytes
    parts    struct: typecode of the numbers, their byte count, weight kind,
             the weights' byte count
    numbers  differences from the previous number, as a machine array of the
             smallest type that holds them
    weights  nothing (all 1.0), one float, bytes (small whole numbers) or floats
    values   the positions: each posting's value length, then the values
             (Whoosh's bytes, as its format encodes them), compressed; read
             only when asked for (phrases), and each value sliced out alone

so the numbers and weights come out of ``array.frombytes`` and ``accumulate``
in C. Everything else (terms, columns, stored fields, inlined postings,
vectors) is Whoosh 3's. The codec is recorded in each segment, so an index
written with it is read with it. Like the rest of ``paperdesk.search``, it may
import ``whoosh``.
"""

from __future__ import annotations

import struct
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from itertools import accumulate

import paperdesk.search.whoosh_fixes  # noqa: F401 - first: it checks the whoosh version

# isort: split

import numpy as np
from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3LeafMatcher,
    W3PostingsWriter,
)
from whoosh.formats import Positions
from whoosh.matching import ListMatcher, ReadTooFar
from whoosh.util.numeric import byte_to_length, length_to_byte

_HEADER = struct.Struct("<iIIfBBB")
_PARTS = struct.Struct("<cIBI")
_VALUES = struct.Struct("<cI")
_SWAP = sys.byteorder != "little"  # arrays are stored little-endian

# The numbers' array typecodes as little-endian numpy types.
_NUMBERS = {code: np.dtype(f"<u{array(code).itemsize}") for code in ("B", "H", "I", "Q")}

# Weight kinds
_ONES, _CONSTANT, _BYTES, _FLOATS = 0, 1, 2, 3

# Postings per block (Whoosh 3 writes 128). Reading a whole list costs mostly per
# block (a header, a few calls): "model" at 1M papers is 3,400 blocks of 128 but
# 420 of 1,024. Whoosh's matchers skip within a block by bisection here (below),
# so a bigger block does not slow ``skip_to``; only block-quality pruning gets
# coarser, and paperdesk ranks words from whole posting lists instead.
BLOCK_LIMIT = 1024


def _little(a: array) -> bytes:
    if _SWAP:  # pragma: no cover - big-endian machines
        a = array(a.typecode, a)
        a.byteswap()
    return a.tobytes()


def _from_little(typecode: str, raw: bytes) -> array:
    a = array(typecode)
    a.frombytes(raw)
    if _SWAP:  # pragma: no cover - big-endian machines
        a.byteswap()
    return a


def _smallest_typecode(largest: int) -> str:
    for typecode in ("B", "H", "I"):
        if largest < 1 << (8 * array(typecode).itemsize):
            return typecode
    return "Q"


def weight_part(weights: Sequence[float]) -> tuple[int, bytes]:
    """A block's weights as the block keeps them: none (all 1.0), one, small whole
    numbers as bytes, or floats. (``BlockWriter`` and ``bulk`` both write blocks.)"""
    first = weights[0]
    if all(w == 1.0 for w in weights):
        return _ONES, b""
    if all(w == first for w in weights):
        return _CONSTANT, struct.pack("<f", first)
    if all(w.is_integer() and 0 <= w < 256 for w in weights):
        return _BYTES, bytes(int(w) for w in weights)
    return _FLOATS, _little(array("f", weights))


def value_part(values) -> bytes:
    """A block's values, uncompressed: None (a format without values); ("F",
    fixed-size values); ("V", variable-size values); or (their sizes, their
    bytes joined) for positions already in one piece."""
    if values is None:
        return b""
    kind, found = values
    if kind == "F":
        return b"F" + b"".join(found)
    if kind == "V":
        sizes = [len(value) for value in found]
        body = b"".join(found)
    else:
        sizes, body = kind, found
    size_code = _smallest_typecode(max(sizes))
    size_bytes = _little(array(size_code, sizes))
    return b"".join(
        (b"V", _VALUES.pack(size_code.encode("ascii"), len(size_bytes)), size_bytes, body)
    )


class PositionArray(Positions):
    """Whoosh's ``Positions`` format with each posting's positions as a
    little-endian array of 32-bit numbers (Whoosh pickles a list of differences).

    Encoding is three times cheaper than a pickle, and a block's positions are
    one array: a phrase is checked over all its candidates at once (see
    ``positions_of``) instead of unpickling a value per candidate.
    """

    def encode(self, poslist) -> bytes:
        return _little(array("I", poslist))

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return _from_little("I", valuestring).tolist()

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost


def postings_arrays(matcher) -> tuple[np.ndarray, np.ndarray] | None:
    """A raw matcher's document numbers and weights from the start of its current
    block to its end, decoded a block at a time in numpy (a few microseconds a
    block, where ``accumulate`` and a float array from a list took 0.1 us a
    posting); None for a matcher that is not ours (an inlined list).

    The matcher is meant to be fresh. One taken out of a ``FilterMatcher`` may
    have moved past deleted documents already: those come back too, and the
    caller takes deleted documents out."""
    if not isinstance(matcher, BlockMatcher):
        return None
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    while matcher.is_active():
        typecode, raw_ids, kind, raw_weights, _values = matcher._block()
        count = matcher._blocklength
        ids.append(np.frombuffer(raw_ids, dtype=_NUMBERS[typecode]).cumsum(dtype=np.int64))
        if kind == _ONES:
            weights.append(np.ones(count, dtype=np.float32))
        elif kind == _CONSTANT:
            weights.append(np.full(count, struct.unpack("<f", raw_weights)[0], dtype=np.float32))
        elif kind == _BYTES:
            weights.append(np.frombuffer(raw_weights, dtype=np.uint8).astype(np.float32))
        else:
            weights.append(np.frombuffer(raw_weights, dtype="<f4"))
        matcher._next_block()
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    return np.concatenate(ids), np.concatenate(weights)


def positions_of(matcher, offset: int = 0) -> tuple[np.ndarray, np.ndarray] | None:
    """Every posting's positions in a raw (unfiltered) matcher of a ``PositionArray``
    field: (document number of each position plus ``offset``, the position),
    ordered by document then position. None for another format or matcher."""
    docs: list[np.ndarray] = []
    positions: list[np.ndarray] = []
    if isinstance(matcher, BlockMatcher):
        if not isinstance(matcher.format, PositionArray):
            return None
        while matcher.is_active():  # each block's parts straight from its bytes
            typecode, raw_ids, _kind, _weights, raw = matcher._block()
            if matcher._compression and raw:
                raw = zlib.decompress(raw)
            if raw[:1] != b"V":
                return None
            size_code, size_bytes = _VALUES.unpack_from(raw, 1)
            start = 1 + _VALUES.size
            size_type = _NUMBERS[size_code.decode("ascii")]
            sizes = np.frombuffer(
                raw, dtype=size_type, count=size_bytes // size_type.itemsize, offset=start
            )
            positions.append(np.frombuffer(raw, dtype="<u4", offset=start + size_bytes))
            ids = np.frombuffer(raw_ids, dtype=_NUMBERS[typecode]).cumsum(dtype=np.int64)
            docs.append(np.repeat(ids + offset, sizes // 4))
            matcher._next_block()
    elif isinstance(matcher, ListMatcher):  # a short list, inlined in its term
        if not isinstance(matcher._format, PositionArray):
            return None
        for doc, value in zip(matcher._ids, matcher._values, strict=True):
            found = np.frombuffer(value, dtype="<u4")
            positions.append(found)
            docs.append(np.full(len(found), doc + offset, dtype=np.int64))
    else:
        return None
    if not docs:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32)
    return np.concatenate(docs), np.concatenate(positions)


class PaperdeskCodec(W3Codec):
    """Whoosh 3's codec with the block format described in the module."""

    def __init__(self, blocklimit: int = BLOCK_LIMIT, compression: int = 3, inlinelimit: int = 1):
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def postings_writer(self, dbfile, byteids=False):
        if byteids:  # vectors: Whoosh's own blocks
            return super().postings_writer(dbfile, byteids)
        return BlockWriter(
            dbfile,
            blocklimit=self._blocklimit,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            ids, weights, values = terminfo.inlined_postings()
            return ListMatcher(
                ids, weights, values, format_, scorer=scorer, term=term, terminfo=terminfo
            )
        offset, length = terminfo.extent()
        return BlockMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


class BlockWriter(W3PostingsWriter):
    def _write_block(self, last: bool = False) -> None:
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)

        ids = self._ids
        deltas = array("Q", (b - a for a, b in zip([0, *ids[:-1]], ids, strict=True)))
        typecode = _smallest_typecode(max(deltas))
        id_bytes = _little(array(typecode, deltas))

        kind, weight_bytes = weight_part(self._weights)

        comp = self._compression
        value_bytes = self._value_bytes()
        if value_bytes and comp:
            value_bytes = zlib.compress(value_bytes, comp)

        parts = _PARTS.pack(typecode.encode("ascii"), len(id_bytes), kind, len(weight_bytes))
        body = b"".join((parts, id_bytes, weight_bytes, value_bytes))
        length = _HEADER.size - 4 + len(body)
        self._postfile.write(
            _HEADER.pack(
                -length if last else length,
                len(ids),
                ids[-1],
                self._maxweight,
                comp,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            )
        )
        self._postfile.write(body)
        self._blockcount += 1
        self._new_block()

    def _value_bytes(self) -> bytes:
        """Variable-size values (positions) as their lengths then their bytes, so
        one value is sliced out without decoding the others; fixed-size ones as
        Whoosh keeps them; none for a format without values."""
        fixedsize = self._format.fixed_value_size()
        values = self._values
        if fixedsize == 0 or not values:
            return b""
        return value_part(("F" if fixedsize is not None and fixedsize > 0 else "V", values))


# A block's parts as bytes: the numbers' typecode, numbers, weight kind, weights, values.
_Block = tuple[str, bytes, bytes, bytes, bytes]


class BlockMatcher(W3LeafMatcher):
    """Reads the blocks ``BlockWriter`` writes; numbers, weights and values apart."""

    _data: _Block | None
    _ids: array | None
    _weights: array | None
    _values: Sequence[bytes | None] | _Values | None
    _i: int
    _maxid: int
    _blocklength: int
    _lastblock: bool
    _nextoffset: int
    _dataoffset: int
    _compression: int
    _fixedsize: int

    def _block(self) -> _Block:
        """The current block's parts, read when first asked for."""
        if self._data is None:
            self._data = self._read_data()
        return self._data

    def skip_to(self, targetid: int) -> None:
        """As Whoosh's, but within a block by bisection rather than one step at a time."""
        if not self.is_active():
            raise ReadTooFar
        ids = self._ids if self._ids is not None else self._read_ids()
        if targetid <= ids[self._i]:
            return
        if targetid > self._maxid:
            self._skip_to_block(lambda: targetid > self._maxid)
            if not self.is_active():
                return
            ids = self._ids if self._ids is not None else self._read_ids()
        self._i = bisect_left(ids, targetid, self._i)
        if self._i == self._blocklength:  # pragma: no cover - maxid bounds the block
            self._next_block()

    def _goto(self, position: int) -> None:
        self._data = None
        self._ids = None
        self._weights = None
        self._values = None
        self._i = 0
        (
            length,
            self._blocklength,
            self._maxid,
            self._maxweight,
            self._compression,
            minlength,
            maxlength,
        ) = _HEADER.unpack(self._postfile.get(position, _HEADER.size))
        if length < 0:
            self._lastblock = True
            length = -length
        self._nextoffset = position + 4 + length
        self._dataoffset = position + _HEADER.size
        self._minlength = byte_to_length(minlength)
        self._maxlength = byte_to_length(maxlength)

    def _read_data(self) -> _Block:
        """The block's three parts, as bytes (decoded when asked for)."""
        start = self._dataoffset
        raw = self._postfile.get(start, self._nextoffset - start)
        typecode, id_count, kind, weight_count = _PARTS.unpack_from(raw)
        at = _PARTS.size
        ids = raw[at : at + id_count]
        at += id_count
        weights = raw[at : at + weight_count]
        at += weight_count
        self._data = (typecode.decode("ascii"), ids, kind, weights, raw[at:])
        return self._data

    def _read_ids(self) -> array:
        typecode, raw = self._block()[:2]
        self._ids = array("I", accumulate(_from_little(typecode, raw)))
        return self._ids

    def _read_weights(self) -> None:
        kind, raw = self._block()[2:4]
        count = self._blocklength
        if kind == _ONES:
            self._weights = array("f", [1.0]) * count
        elif kind == _CONSTANT:
            self._weights = array("f", struct.unpack("<f", raw)) * count
        elif kind == _BYTES:
            self._weights = array("f", list(raw))
        else:
            self._weights = _from_little("f", raw)

    def _read_values(self) -> None:
        raw = self._block()[4]
        fixedsize = self._fixedsize
        if not raw:  # the format keeps no values
            self._values = (None,) * self._blocklength
            return
        if self._compression:
            raw = zlib.decompress(raw)
        if raw[:1] == b"F":
            self._values = tuple(raw[i : i + fixedsize] for i in range(1, len(raw), fixedsize))
            return
        typecode, size_count = _VALUES.unpack_from(raw, 1)
        start = 1 + _VALUES.size
        sizes = _from_little(typecode.decode("ascii"), raw[start : start + size_count])
        self._values = _Values(raw, start + size_count, sizes)


class _Values:
    """A block's variable-size values, each sliced out when it is asked for."""

    __slots__ = ("_raw", "_ends")

    def __init__(self, raw: bytes, start: int, sizes: array) -> None:
        self._raw = raw
        self._ends = array("I", accumulate(sizes, initial=start))

    def __len__(self) -> int:
        return len(self._ends) - 1

    def __getitem__(self, i: int) -> bytes:
        ends = self._ends
        if not 0 <= i < len(ends) - 1:
            raise IndexError(i)
        return self._raw[ends[i] : ends[i + 1]]
