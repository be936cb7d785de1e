"""Errors a user can act on.

`InputError` is bad input: the CLI prints its message without a traceback and exits with the
contract's status 2. Anything else that escapes is an internal error (status 1).
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input, with where it is and what to do about it.

    Parameters
    ----------
    problem:
        What is wrong, in plain words ("spend is negative (-3.0)").
    source:
        The file (or config key path) the problem is in, when there is one.
    where:
        The row, column or field inside `source` ("row 17", "column 'spend'", "budget").
    fix:
        What the user can do about it.

    `notes` holds what the loader had noted before the problem (rows of other rooms left out,
    timestamps read with a general parser...), often its context; the CLI prints them first.
    """

    notes: tuple[str, ...] = ()

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        where: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.where = where
        self.fix = fix
        super().__init__(self.message)

    def __str__(self) -> str:
        """`message`, from the fields as they are now (a caller may name the `source`)."""
        return self.message

    @property
    def message(self) -> str:
        place = ", ".join(str(p) for p in (self.source, self.where) if p)
        text = f"{place}: {self.problem}" if place else self.problem
        if self.fix:
            text += f". Fix: {self.fix}"
        return text
