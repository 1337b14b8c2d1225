"""Chinese text in a report: marked with its language, so that browsers and the PDF pick a
Chinese font and Chinese line breaking for it (site names, verbatim terms, "Other, specify" texts).

The report's stylesheet lists CJK fonts after the Latin ones; ``:lang(zh)`` puts them first.
"""

from __future__ import annotations

import re

from markupsafe import Markup

# Han ideographs: the unified blocks, extension A, the compatibility block and the
# supplementary planes' extensions. Kana or Hangul alone do not make a text Chinese.
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def mark_chinese(value: object) -> object:
    """A text holding Han characters, escaped and wrapped in ``<span lang="zh">``; any other
    value unchanged (the template escapes it as usual)."""
    if isinstance(value, str) and HAN.search(value):
        return Markup('<span lang="zh">{}</span>').format(value)
    return value
