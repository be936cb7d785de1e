"""Fonts for the PNG charts: package ids in Chinese (粉丝, 相似达人) render where the machine
has a CJK font, and say so once where it has none.

Matplotlib's default DejaVu Sans has no CJK glyphs: the ids were empty boxes, with one
"Glyph ... missing" warning per character (36 for six packages). `chart_fonts` puts the first
CJK fonts installed (of the usual ones on Windows, macOS and Linux) after DejaVu Sans, which
matplotlib falls back to glyph by glyph, and turns the per-glyph warnings into one.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

CJK_FONTS = (
    "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC", "Noto Sans SC",
    "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "SimHei",
    "Arial Unicode MS",
)
MISSING_FONT = ("no CJK font is installed: Chinese text in the charts shows as empty boxes "
                "(install one, e.g. Noto Sans CJK SC: the fonts-noto-cjk package on Debian or "
                "Ubuntu)")


@contextmanager
def chart_fonts() -> Iterator[None]:
    """Draw and save a chart inside this: DejaVu Sans, then the CJK fonts installed."""
    import matplotlib
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    families = ["DejaVu Sans", *(name for name in CJK_FONTS if name in installed)]
    with matplotlib.rc_context({"font.family": families}), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    missing = False
    for warning in caught:
        if "missing from font" in str(warning.message):
            missing = True
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    if missing:  # named for the reader: the line of contextlib that exits is no use to one
        warnings.warn_explicit(MISSING_FONT, UserWarning, "spendplan charts", 0)
