"""Checking a post of actuals against what is stored: new minutes, repeats, conflicts, gaps.

Minutes must arrive in order (0, 1, 2, ...; several per post allowed). A minute already stored
with the same values is a repeat and is counted once; with other values it is a conflict (409)
and the whole post changes nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Row

from optimizer.api.errors import Conflict, Invalid
from optimizer.api.schemas import MinuteActuals


@dataclass(frozen=True)
class Minute:
    """One minute's actuals as arrays in the plan's package order (yuan)."""

    minute: int
    spend: np.ndarray
    paid_gmv: np.ndarray
    organic_gmv: float

    def row(self, plan_id: str, revision: int, posted_at: object) -> dict:
        return {"plan_id": plan_id, "minute": self.minute, "spend": json.dumps(
            self.spend.tolist()), "paid_gmv": json.dumps(self.paid_gmv.tolist()),
            "organic_gmv": self.organic_gmv, "revision": revision, "posted_at": posted_at}


@dataclass(frozen=True)
class Sorted:
    """A post split against the stored minutes: `new` in minute order, `repeats` minutes."""

    new: list[Minute]
    repeats: list[int]


def parse(posted: Sequence[MinuteActuals], packages: Sequence[str], minutes: int
          ) -> list[tuple[int, Minute]]:
    """(index in the post, Minute) for each posted minute; 422 naming the field on a minute
    outside the session, an unknown package or a minute given twice in the post."""
    column = {p: j for j, p in enumerate(packages)}
    seen: dict[int, int] = {}
    parsed = []
    for i, item in enumerate(posted):
        if item.minute >= minutes:
            raise Invalid(f"minute {item.minute} is outside the session (minutes 0 to "
                          f"{minutes - 1})", f"minutes[{i}].minute")
        if item.minute in seen:
            raise Invalid(f"minute {item.minute} is given twice in this post (also at "
                          f"minutes[{seen[item.minute]}])", f"minutes[{i}].minute")
        seen[item.minute] = i
        arrays = []
        for name in ("spend", "paid_gmv"):
            values = np.zeros(len(packages))
            for package, amount in getattr(item, name).items():
                if package not in column:
                    raise Invalid(f"unknown package {package!r}; this plan's packages are "
                                  f"{', '.join(packages)}", f"minutes[{i}].{name}.{package}")
                values[column[package]] = amount
            arrays.append(values)
        parsed.append((i, Minute(item.minute, arrays[0], arrays[1], float(item.organic_gmv))))
    return parsed


def sort_out(parsed: list[tuple[int, Minute]], stored: Sequence[Row], packages: Sequence[str]
             ) -> Sorted:
    """Split a parsed post into new minutes and repeats; 409 on a conflicting repeat, 422 when
    a new minute would leave a gap."""
    posted = len(stored)
    repeats, new = [], []
    for i, item in sorted(parsed, key=lambda pair: pair[1].minute):
        if item.minute < posted:
            _same_or_conflict(i, item, stored[item.minute], packages)
            repeats.append(item.minute)
            continue
        expected = posted + len(new)
        if item.minute != expected:
            raise Invalid(f"minute {item.minute} cannot be stored before minute {expected}: "
                          f"post minutes in order (next expected: {expected})",
                          f"minutes[{i}].minute")
        new.append(item)
    return Sorted(new=new, repeats=repeats)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _same_or_conflict(i: int, item: Minute, row: Row, packages: Sequence[str]) -> None:
    stored = {"spend": json.loads(row.spend), "paid_gmv": json.loads(row.paid_gmv)}
    for name in ("spend", "paid_gmv"):
        for j, (new, old) in enumerate(zip(getattr(item, name), stored[name], strict=True)):
            if not _same(new, old):
                raise Conflict(f"minute {item.minute} was already posted with {name} "
                               f"{packages[j]} = {old:g}, not {new:g}; a minute's actuals "
                               "cannot change", f"minutes[{i}].{name}.{packages[j]}")
    if not _same(item.organic_gmv, row.organic_gmv):
        raise Conflict(f"minute {item.minute} was already posted with organic_gmv = "
                       f"{row.organic_gmv:g}, not {item.organic_gmv:g}; a minute's actuals "
                       "cannot change", f"minutes[{i}].organic_gmv")
