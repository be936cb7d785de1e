"""Chart fonts: Chinese package ids, and one warning instead of one per missing glyph."""

from __future__ import annotations

import warnings

import pytest
from matplotlib import font_manager

from optimizer.charts import CJK_FONTS, MISSING_FONT, chart_fonts


@chart_fonts()
def draw(path, label: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2))
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    axes.plot([0, 1], [0, 1], label=label)
    axes.legend()
    warnings.warn("another warning", RuntimeWarning, stacklevel=1)
    figure.savefig(path, dpi=50)


def test_missing_glyphs_make_one_warning_and_other_warnings_pass(tmp_path):
    """Without a CJK font, six Chinese package ids gave 36 'Glyph ... missing' warnings."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw(tmp_path / "a.png", "粉丝 相似达人 竞品粉丝")
    messages = [str(w.message) for w in caught]
    assert "another warning" in messages
    if installed.isdisjoint(CJK_FONTS):
        assert messages.count(MISSING_FONT) == 1 and len(messages) == 2
    else:
        assert messages == ["another warning"]
    assert (tmp_path / "a.png").stat().st_size > 0


def test_latin_labels_need_no_cjk_font(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw(tmp_path / "b.png", "fans")
    assert [str(w.message) for w in caught] == ["another warning"]


def test_characters_no_font_has_are_named_once(tmp_path):
    """An emoji in a package id: the one warning named CJK fonts, which would not help."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw(tmp_path / "c.png", "fans 🚀🚀 vip 🚀")
    messages = [str(w.message) for w in caught]
    assert MISSING_FONT not in messages
    assert messages[1:] == ["no font installed has 🚀: they show as empty boxes in the charts"]


def test_warnings_pass_on_when_the_chart_fails():
    """A chart that raised dropped the warnings drawn before it."""
    @chart_fonts()
    def fail() -> None:
        warnings.warn("before the failure", RuntimeWarning, stacklevel=1)
        raise ValueError("no chart")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="no chart"):
            fail()
    assert [str(w.message) for w in caught] == ["before the failure"]


def test_warnings_made_errors_do_not_hide_the_failure():
    @chart_fonts()
    def fail() -> None:
        warnings.warn("before the failure", RuntimeWarning, stacklevel=1)
        raise ValueError("no chart")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="no chart"):
            fail()
