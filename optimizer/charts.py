"""Fonts for the PNG charts: package ids in Chinese (粉丝, 相似达人) render where the machine
has a CJK font, and say so once where it has none.

Matplotlib's default DejaVu Sans has no CJK glyphs: the ids were empty boxes, with one
"Glyph ... missing" warning per character (36 for six packages). `chart_fonts` puts the first
CJK fonts installed (of the usual ones on Windows, macOS and Linux) after DejaVu Sans, which
matplotlib falls back to glyph by glyph, and turns the per-glyph warnings into one: that no
CJK font is installed, or which other characters (an emoji in an id) no font has.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress

CJK_FONTS = (
    "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", "Noto Sans SC",
    "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei",
    "Arial Unicode MS",
)
MISSING_FONT = ("no CJK font is installed: Chinese text in the charts shows as empty boxes "
                "(install one, e.g. Noto Sans CJK SC: the fonts-noto-cjk package on Debian or "
                "Ubuntu)")


_GLYPH = re.compile(r"Glyph (\d+) .*missing from font")


@contextmanager
def chart_fonts() -> Iterator[None]:
    """Draw and save a chart inside this: DejaVu Sans, then the CJK fonts installed.

    Warnings raised inside are passed on when it exits, also when the chart fails, with the
    missing glyphs' warnings made into one (`MISSING_FONT`, or the characters no font has).
    """
    import matplotlib
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    cjk = [name for name in CJK_FONTS if name in installed]
    caught: list[warnings.WarningMessage] = []
    try:
        with matplotlib.rc_context({"font.family": ["DejaVu Sans", *cjk]}), \
                warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    except BaseException:
        with suppress(Warning):  # warnings made errors (-W error) must not hide the failure
            _pass_on(caught, has_cjk=bool(cjk))
        raise
    _pass_on(caught, has_cjk=bool(cjk))


def _pass_on(caught: list[warnings.WarningMessage], has_cjk: bool) -> None:
    missing: set[str] = set()
    for warning in caught:
        glyph = _GLYPH.match(str(warning.message))
        if glyph:
            missing.add(chr(int(glyph.group(1))))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    # named for the reader: the line of contextlib that exits is no use to one
    if not has_cjk and any(map(_is_cjk, missing)):
        warnings.warn_explicit(MISSING_FONT, UserWarning, "spendplan charts", 0)
    others = sorted(c for c in missing if has_cjk or not _is_cjk(c))
    if others:
        warnings.warn_explicit(
            f"no font installed has {' '.join(others)}: they show as empty boxes in the "
            "charts", UserWarning, "spendplan charts", 0)


def _is_cjk(character: str) -> bool:
    """Han, kana, hangul and CJK punctuation or full-width forms."""
    return unicodedata.name(character, "").startswith(
        ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "FULLWIDTH", "IDEOGRAPHIC"))
