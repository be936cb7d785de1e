"""Small helpers that word messages: quoting names and suggesting close spellings."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def quoted(names: Iterable[object]) -> str:
    """`'a', 'b', 'c'`: names for a message."""
    return ", ".join(repr(str(name)) for name in names)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` when a known name is close to `word`, else ``."""
    close = difflib.get_close_matches(str(word), list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
