"""The notes a loader keeps about what it did to the input, so nothing changes silently."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from optimizer.errors import InputError


@dataclass
class LoadReport:
    """Plain-English notes, with counts, on what loading changed or assumed.

    Examples: rows of other rooms left out, rows sorted into time order, the room taken from
    the data. Show them to the user next to the results.
    """

    notes: list[str] = field(default_factory=list)

    def add(self, note: str) -> None:
        self.notes.append(note)

    @contextmanager
    def on_error(self) -> Iterator[None]:
        """An InputError raised inside carries the notes so far (`InputError.notes`): what the
        loader did before the problem is often its cause."""
        try:
            yield
        except InputError as error:
            error.notes = tuple(self.notes)
            raise

    def __iter__(self) -> Iterator[str]:
        return iter(self.notes)

    def __len__(self) -> int:
        return len(self.notes)

    def __str__(self) -> str:
        return "\n".join(f"- {note}" for note in self.notes)
