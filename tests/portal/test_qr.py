"""QR codes of the printed documents: segno's symbol, with the mask chosen faster."""

import io
import random
import string

import segno
from PIL import Image

from portal.lib import qr


def _segno_rows(text: str) -> tuple[list[int], int]:
    symbol = segno.make(text, error="m", micro=False)
    return [int("".join(str(m) for m in row), 2) for row in symbol.matrix], symbol.mask


def test_same_symbol_and_mask_as_segno_for_urls_of_every_length():
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + ":-_"
    versions = set()
    for _ in range(300):
        token = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 300)))
        text = f"https://ydjy.example.cn/verify/{token}/"
        rows, size, mask = qr.matrix(text)
        want, want_mask = _segno_rows(text)
        assert (rows, mask) == (want, want_mask), text
        versions.add((size - 17) // 4)
    assert len(versions) >= 10  # versions with and without version information


def test_png_is_the_symbol_one_pixel_a_module_with_a_quiet_zone():
    text = "https://ydjy.example.cn/verify/WyJjZXJ0aWZpY2F0ZSIsIkJBMjMyNjExMDAwMSJd:1xV:abc/"
    rows, size, _ = qr.matrix(text)
    image = Image.open(io.BytesIO(qr.png(text))).convert("1")
    assert image.size == (size + 8, size + 8)
    for i in range(size + 8):
        for j in range(size + 8):
            inside = 4 <= i < size + 4 and 4 <= j < size + 4
            dark = inside and bool(rows[i - 4] >> (size - 1 - (j - 4)) & 1)
            assert (image.getpixel((j, i)) == 0) == dark
