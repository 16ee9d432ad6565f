"""QR codes for the printed documents, as small PNGs (one pixel a module, 4-module quiet zone).

segno encodes the data (segments, error correction, codeword placement) and its output is kept
bit for bit: the symbol is the one `segno.make(text, error="m", micro=False)` gives. Only the
choice of the data mask (ISO/IEC 18004:2015, 7.8.3: the mask with the lowest penalty score) is
made here, with whole rows as integers and regular expressions instead of segno's module by
module loops, which cost about 8 ms a symbol: the penalty rules N1-N4 are the ones segno applies
(same rules, same tie-break: the lowest mask number), evaluated on the same matrix (before the
format and version information are written), so the chosen mask is segno's own (a test compares
them on many URLs).

segno is used through its public interface only: `make()` with an explicit mask, the symbol's
`matrix`, and `matrix_iter(verbose=True)`, which tells each module's type (data, format...).
"""

from __future__ import annotations

import struct
import zlib
from functools import cache

import segno
from segno import consts

ERROR = "m"
BORDER = 4  # the quiet zone, in modules

# ISO/IEC 18004:2015, 7.8.2, table 10: a data module is inverted where the condition holds.
MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)
_FUNCTION = {  # finder patterns and their separators, alignment and timing patterns
    consts.TYPE_FINDER_PATTERN_DARK,
    consts.TYPE_FINDER_PATTERN_LIGHT,
    consts.TYPE_SEPARATOR,
    consts.TYPE_ALIGNMENT_PATTERN_DARK,
    consts.TYPE_ALIGNMENT_PATTERN_LIGHT,
    consts.TYPE_TIMING_DARK,
    consts.TYPE_TIMING_LIGHT,
}
_VERSION = {consts.TYPE_VERSION_DARK, consts.TYPE_VERSION_LIGHT}
_FINDER_LIKE = "1011101"
_BITS = bytes.maketrans(b"\x00\x01", b"01")


def _ints(rows) -> list[int]:
    """Rows of 0/1 modules as integers, the first module as the most significant bit."""
    return [int(bytes(row).translate(_BITS), 2) for row in rows]


def _bits(rows: list[list[bool]]) -> list[int]:
    return [int("".join("1" if m else "0" for m in row), 2) for row in rows]


@cache
def _layout(version: int, error: str):
    """What the symbols of one version and error level share, computed once: which modules carry
    data (the mask region), which are function patterns, each mask over the data region (rows
    and columns), and the reserved modules (format, version, dark module) as each mask leaves
    them in the final symbol."""
    samples = [
        segno.make("0", version=version, error=error, boost_error=False, micro=False, mask=m)
        for m in range(len(MASKS))
    ]
    kinds = list(samples[0].matrix_iter(border=0, verbose=True))
    size = len(kinds)
    function = [[k in _FUNCTION for k in row] for row in kinds]
    # Written after the mask is chosen, light while the masks are evaluated: the format
    # information (ISO/IEC 18004:2015, 7.9.1, figure 25) with the dark module beside it, and
    # the version information (7.10).
    reserved = [[k in _VERSION for k in row] for row in kinds]
    for i in [*range(6), 7, 8]:
        reserved[i][8] = reserved[8][i] = True
    for i in range(1, 9):
        reserved[-i][8] = reserved[8][-i] = True
    data = [
        [not (f or r) for f, r in zip(*rows, strict=True)]
        for rows in zip(function, reserved, strict=True)
    ]
    masks = [
        [[data[i][j] and mask(i, j) for j in range(size)] for i in range(size)] for mask in MASKS
    ]
    reserved_rows = _bits(reserved)
    finals = [
        [row & keep for row, keep in zip(_ints(sample.matrix), reserved_rows, strict=True)]
        for sample in samples
    ]
    transpose = lambda rows: [list(col) for col in zip(*rows, strict=True)]  # noqa: E731
    return {
        "size": size,
        "function": _bits(function),
        "function_t": _bits(transpose(function)),
        "data": _bits(data),
        "data_t": _bits(transpose(data)),
        "masks": [_bits(m) for m in masks],
        "masks_t": [_bits(transpose(m)) for m in masks],
        "reserved": finals,
    }


def _finder_like(line: str, size: int) -> int:
    """Penalty N3 of one row or column, counted as segno counts it."""
    score = 0
    idx = line.find(_FINDER_LIKE)
    while idx != -1:
        offset = idx + 7
        if (
            idx in (0, size - 7)
            or "1" not in line[max(idx - 4, 0) : idx]
            or "1" not in line[offset : offset + 4]
        ):
            score += 40
        else:
            offset = idx + 4
        idx = line.find(_FINDER_LIKE, offset)
    return score


@cache
def _pairs(size: int, lines: int, skip_first: int = 0) -> int:
    """Bits of the neighbouring-module pairs (a module and the next one of its line) in lines
    packed as `"0".join(lines)`, leaving out the first `skip_first` lines."""
    pairs = (1 << (size - 1)) - 1
    return sum(pairs << (k * (size + 1)) for k in range(lines - skip_first))


def penalty(rows: list[int], cols: list[int], size: int) -> int:
    """ISO/IEC 18004:2015, 7.8.3.1: the penalty score N1 + N2 + N3 + N4 of a masked matrix, as
    segno counts it. All rows and columns are packed in one integer (a light separator
    between lines, so no pattern runs from one line into the next)."""
    fmt = f"0{size}b"
    lines = [format(r, fmt) for r in rows] + [format(c, fmt) for c in cols]
    packed = int("0".join(lines), 2)
    # N1: 3 + (length - 5) for each run of 5 or more modules of one colour in a line. A run of
    # n modules has n - 1 equal neighbours, and n - 4 places where four in a row are equal.
    same = ~(packed ^ (packed >> 1)) & _pairs(size, len(lines))
    four = same & (same >> 1) & (same >> 2) & (same >> 3)
    score = four.bit_count() + 2 * (four & ~(four >> 1)).bit_count()
    # N2: 3 for each 2x2 block of one colour (each row beside the one above it).
    a = packed >> (len(cols) * (size + 1))
    b = a >> (size + 1)
    block = ~(a ^ b) & ~(a ^ (a >> 1)) & ~(b ^ (b >> 1)) & _pairs(size, len(rows), 1)
    score += 3 * block.bit_count()
    # N3: 40 for each finder-like pattern with four light modules before or after it.
    score += sum(_finder_like(line, size) for line in lines if _FINDER_LIKE in line)
    # N4: 10 for each 5 % of deviation of the dark modules from one half.
    return score + 10 * int(abs(float(a.bit_count()) / size**2 * 100 - 50) / 5)


def matrix(text: str) -> tuple[list[int], int, int]:
    """The QR code of text: (rows as integers, dark = 1, the first module the most significant
    bit; the size in modules; the mask chosen)."""
    first = segno.make(text, error=ERROR, micro=False, mask=0)
    layout = _layout(first.version, first.error)
    size = layout["size"]
    rows = _ints(first.matrix)
    cols = _ints(zip(*first.matrix, strict=True))
    fixed = [r & f for r, f in zip(rows, layout["function"], strict=True)]
    fixed_t = [c & f for c, f in zip(cols, layout["function_t"], strict=True)]
    # The data modules as they are before any mask, by rows and by columns.
    plain = [r & d ^ m for r, d, m in zip(rows, layout["data"], layout["masks"][0], strict=True)]
    plain_t = [
        c & d ^ m for c, d, m in zip(cols, layout["data_t"], layout["masks_t"][0], strict=True)
    ]
    best, best_score = 0, None
    for number, (mask, mask_t) in enumerate(zip(layout["masks"], layout["masks_t"], strict=True)):
        score = penalty(
            [f | p ^ m for f, p, m in zip(fixed, plain, mask, strict=True)],
            [f | p ^ m for f, p, m in zip(fixed_t, plain_t, mask_t, strict=True)],
            size,
        )
        if best_score is None or score < best_score:
            best, best_score = number, score
    final = [
        f | p ^ m | res
        for f, p, m, res in zip(
            fixed, plain, layout["masks"][best], layout["reserved"][best], strict=True
        )
    ]
    return final, size, best


def png(text: str) -> bytes:
    """The QR code of text as a PNG."""
    return _png(*matrix(text)[:2])


def _png(rows: list[int], size: int) -> bytes:
    """A 1-bit greyscale PNG, one pixel a module, with the quiet zone."""
    width = size + 2 * BORDER
    pad = -width % 8
    full = (1 << width) - 1
    raw = bytearray()
    for row in [0] * BORDER + rows + [0] * BORDER:
        raw += b"\0" + ((~(row << BORDER) & full) << pad).to_bytes((width + pad) // 8, "big")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )
