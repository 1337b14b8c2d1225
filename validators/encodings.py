"""Which text encoding a CSV source is in, and text that was read in the wrong one.

A source file is UTF-8 (with or without a byte-order mark) unless its ``[sources.<name>]`` table
declares an ``encoding``. Two exports from Chinese systems are common enough to be looked for:

* a file that is not valid UTF-8 but reads as GB18030 (a superset of GBK and GB2312) into
  everyday Chinese text is read as GB18030, with a warning naming the setting that says so;
* a GBK value whose bytes happen to be valid UTF-8 ("头痛" is the bytes of "ͷʹ") is read as
  UTF-8 and queried, because only the data manager can say which the file is.

The test is the same in both: GB2312, the 7,445 characters of everyday simplified Chinese, is
where real Chinese text lies; a reading in the wrong encoding lands in rare characters.
"""

from __future__ import annotations

import codecs
import re
from functools import cache

UTF8 = "utf-8"
GB18030 = "gb18030"

# A file whose non-ASCII text is at least this share of GB2312 characters is Chinese text. Real
# exports are near 100 %; Latin-1 or Windows-1252 bytes read as GB18030 fall in GBK's rare
# extension rows (an accented letter and the ASCII letter after it make one rare character).
CHINESE_SHARE = 0.95
# Enough characters to judge a file by, and few enough to judge it in a few milliseconds.
CHINESE_SAMPLE = 200_000

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def codec_name(encoding: str | None) -> str:
    """Python's name for a declared encoding (``latin-1`` -> ``iso8859-1``); UTF-8 when none."""
    name = codecs.lookup(encoding or UTF8).name
    # The byte-order mark is skipped whether or not it is declared.
    return UTF8 if name == "utf-8-sig" else name


@cache
def common_chinese() -> frozenset[str]:
    """The characters of GB2312 at or above U+3000: hanzi, CJK punctuation, kana, fullwidth forms.

    GB2312's rows of Latin, Greek, Cyrillic and box-drawing characters are left out: they are the
    very characters a wrong reading produces.
    """
    characters = set()
    for lead in range(0xA1, 0xF8):
        for trail in range(0xA1, 0xFF):
            try:
                character = bytes((lead, trail)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            if ord(character) >= 0x3000:
                characters.add(character)
    return frozenset(characters)


def reads_as_chinese(text: str) -> bool:
    """Whether the non-ASCII characters of ``text`` are everyday Chinese (``CHINESE_SHARE`` of them)."""
    sample: list[str] = []
    size = 0
    for match in _NON_ASCII_RUN.finditer(text):
        sample.append(match.group())
        size += len(sample[-1])
        if size >= CHINESE_SAMPLE:
            break
    characters = "".join(sample)
    if not characters:
        return False
    common = common_chinese()
    return sum(character in common for character in characters) >= CHINESE_SHARE * len(characters)


def reads_as_gb18030(data: bytes) -> bool:
    """Whether a file that is not UTF-8 reads as GB18030 into Chinese text. A byte here and there
    that is not GB18030 either does not count against it: those lines become queries."""
    return reads_as_chinese(data.decode(GB18030, errors="replace").replace("\ufffd", ""))


def gb18030_reading(value: str) -> str | None:
    """The GB18030 reading of a value read as UTF-8 that looks like GBK/GB18030 bytes, else None.

    A value is taken for GBK text read as UTF-8 when all three hold:

    1. it has no CJK character itself (Chinese really written in UTF-8 has; GBK bytes that happen
       to be valid UTF-8 decode to U+0080-U+07FF: Latin-1 signs, Latin Extended, Greek, Cyrillic);
    2. its bytes read as GB18030 give ASCII and everyday Chinese only, two characters or more;
    3. two of its non-ASCII characters stand together, as a Chinese word's characters do (an
       accented name, "José", or a unit, "µmol/L", has them apart).

    "ͷʹ" reads as "头痛" (headache) and is flagged; "β-HCG", "°C" and "Müller-Lüdenscheidt" read
    as one or two rare characters apart and are not.
    """
    if value.isascii() or _CJK.search(value):
        return None
    if not any(len(run) >= 2 for run in _NON_ASCII_RUN.findall(value)):
        return None
    try:
        reading = value.encode(UTF8).decode(GB18030)
    except UnicodeDecodeError:
        return None
    non_ascii = "".join(_NON_ASCII_RUN.findall(reading))
    common = common_chinese()
    if len(non_ascii) < 2 or not all(character in common for character in non_ascii):
        return None
    return reading
