"""Programs whose first minutes already happened: what a re-plan (or a polish of a plan's
last minutes) solves.

`Past` edits each program before it is solved: minutes [0, minute) spend what was spent (so
the carryover into the rest comes from it), the past's slot and integer rules go, and the GMV
earned counts in the floors and the GMV target. A minute inside a slot keeps the slot's
setting to its end: the platform changes levels only at a slot's start. The past cells'
segments are fixed at their in-order fill, so the program's value of the past is a constant
that the floor rows trade for the realised GMV.
"""

from __future__ import annotations

import numpy as np

from optimizer.planner.calibrate import DayRatio
from optimizer.planner.program import Formulation, LinearProgram


class Past:
    """Edits a program so minutes [0, minute) are what happened (see module docstring).

    spend, paid: (minute, P) yuan/min spent and paid GMV earned; organic: (minute,) yuan/min
    (baseline included). levels: (minute, P) yuan/min the bidder was told to set (default:
    `spend`): the platform's level-change rules count the changes made so far, and the next
    slot's change, from these settings, since delivered spend is never exactly a setting; a
    minute inside a slot holds the rest of it at the slot's setting.
    forgiven: None for the session's floors and target as set. Else (when no plan for the
    rest can meet them over the whole session) the share, 0 to 1, of what the session still
    owes (`owed`, yuan, when positive) the rest need not bring: each floor's shortfall so far
    ``roi spent - earned`` (1: the rest meets the floor on its own) and, with the min_spend
    objective, the GMV target's ``target - earned`` (1: nothing); with another objective the
    target goes.
    day: the session's level so far (`calibrate`): the floors and the GMV target hold with the
    rest of the session's GMV times its ratio; None: the model's average day.
    overspent: whether the spend so far is over the budget (beyond a sum's rounding).

    With ratio q, a floor ``earned + q F(x) >= roi (spent + S(x))`` (F, S: the rest's GMV and
    spend) is written ``F(x) - (roi / q) S(x) >= (roi spent - earned) / q``: the rest's spend
    columns take the coefficient ``-roi / q`` and the row's bound moves by
    ``(roi spent - earned)(1 / q - 1)``; the GMV target ``earned + q F(x) >= target`` moves by
    ``(target - earned)(1 / q - 1)``. Exact for any x, so a re-plan may spend much less than
    the plan it replaces.
    """

    def __init__(self, f: Formulation, minute: int, spend, paid, organic,
                 day: DayRatio | None = None, levels=None, forgiven: float | None = None
                 ) -> None:
        self.f, self.minute, self.spend, self.day = f, minute, spend, day
        self.levels = spend if levels is None else levels
        earned = float(paid.sum() + organic.sum())
        self.realised = {
            "paid_floor": float(paid.sum()),
            "overall_floor": earned,
            "gmv_target": earned,
        }
        self.baseline_past = float(f.problem.floor_model.baseline[:minute].sum())
        spent, budget = float(spend.sum()), f.problem.budget
        self.forgiven = forgiven
        self.drop_target = forgiven is not None and f.problem.objective != "min_spend"
        self.owed = {name: roi * spent - self.realised[name] for name, roi in self.floors.items()}
        if f.problem.objective == "min_spend" and f.problem.gmv_target is not None:
            self.owed["gmv_target"] = f.problem.gmv_target - earned
        for name, owed in self.owed.items() if forgiven else ():
            self.realised[name] += forgiven * max(owed, 0.0)
        self.budget = max(budget, spent)
        self.held = self._slot_in_force(spent, budget)
        full = np.zeros((f.problem.minutes, len(f.problem.packages)))
        full[:minute] = spend
        if self.held is not None:
            full[self.held[0]] = self.held[1]
        self.index = f.cell_index(full)  # (cells,) exact up to the held minutes, then carry-in
        self.warnings = [] if day is None else day.notes(set(self.realised) & set(f.rows))
        self.overspent = spent > budget * (1 + 1e-9)  # not a sum's rounding (80,000.00000000007)
        if self.overspent:
            self.warnings.append(
                f"actual spend so far ({spent:,.0f} yuan) is over the budget ({budget:,.0f}): "
                "the rest of the session spends nothing"
            )

    def __call__(self, lp: LinearProgram) -> None:
        f, m = self.f, self.minute
        lower, upper = lp.col_lower, lp.col_upper
        lower[f.spend_cols[:m]] = upper[f.spend_cols[:m]] = self.spend
        if self.held is not None:
            minutes, setting = self.held
            lower[f.spend_cols[minutes]] = upper[f.spend_cols[minutes]] = setting
        past = np.zeros(len(lower), dtype=bool)
        past[: f.nbase] = (f.base_minute >= 0) & (f.base_minute < m)
        past[f.spend_cols] = False
        rule = np.zeros(len(lower), dtype=bool)
        rule[slice(*f.rule_col_range)] = True
        lower[past & ~rule], upper[past & ~rule] = -np.inf, np.inf  # stages, cumulative spend
        lower[past & rule] = upper[past & rule] = 0.0
        minute = f.row_minute
        drop = (f.tie_rows & (minute >= 0) & (minute <= m)) | (
            f.rule_rows & (minute >= 0) & (minute < m)
        )
        # the past's paid GMV columns follow its fixed uplift indexes, not its paid cells' chords
        drop[f.paid_tie_rows[(minute[f.paid_tie_rows] >= 0) & (minute[f.paid_tie_rows] < m)]] = True
        lp.row_lower[drop], lp.row_upper[drop] = -np.inf, np.inf
        seg = np.flatnonzero(f.cell_minute[f.seg_cell] < m)
        fill = self._fill(seg)
        lower[f.nbase + seg] = upper[f.nbase + seg] = fill
        chords = np.zeros(len(f.cell_lo))
        np.add.at(chords, f.seg_cell[seg], fill * f.slopes()[seg])
        cells = f.cell_minute < m
        modelled = f.vmap[:, cells] @ (chords[cells] + f.saturation_at(f.cell_lo)[cells])
        for name, row in f.rows.items():
            if name in self.realised:
                baseline = self.baseline_past if name != "paid_floor" else 0.0
                lp.row_lower[row] -= self.realised[name] - modelled[row] - baseline
        if self.day is not None:
            self._at_days_level(lp)
        if self.drop_target and "gmv_target" in f.rows:
            lp.row_lower[f.rows["gmv_target"]] = -np.inf
        lp.row_upper[f.rows["budget"]] = self.budget
        for k, row in f.change_limits.items():
            lp.row_upper[row] -= self._changes_so_far(k)
        next_slot = self.next_slot
        before = (next_slot - 1) * f.problem.slot_minutes  # the last slot's start, if any
        for k, rows in f.change_rows.items():
            if 1 <= next_slot <= len(rows):  # its level changes from the last slot's setting
                lp.row_lower[rows[next_slot - 1]] = lp.row_upper[rows[next_slot - 1]] = \
                    self.levels[before, k] - self.spend[before, k]

    def widen(self) -> bool:
        """Extend the formulation's cells up to the indexes the past (and the held minutes)
        carry into them; whether any was extended (the engine must then load anew).

        A cell's range assumes spend within the caps; delivered spend overshoots them, and
        its carryover then put later cells past their tops: with the rest of a slot held at
        its setting, no plan was left (1.5 times the planned spend, 5-minute slots)."""
        f = self.f
        ahead = f.cell_minute >= self.minute
        over = np.flatnonzero(ahead & (self.index > f.cell_top + 1e-9 * np.abs(f.cell_top)))
        if len(over):
            f.refine(over, self.index[over])
        return bool(len(over))

    def _slot_in_force(self, spent: float, budget: float):
        """(minutes, setting): the rest of the slot the minute falls inside, and the level
        (yuan/min, (P,)) set for it; None at a slot's start, or when the rest of the slot at
        that level would break the budget (the rest of the session then stops or slows)."""
        slot, m = self.f.problem.slot_minutes, self.minute
        if m % slot == 0:
            return None
        minutes = slice(m, min(self.next_slot * slot, self.f.problem.minutes))
        setting = self.levels[m - m % slot]
        if spent + setting.sum() * (minutes.stop - m) > budget * (1 + 1e-9):
            return None
        return minutes, setting

    @property
    def floors(self) -> dict[str, float]:
        """The ROI floors the problem sets, by program row."""
        p = self.f.problem
        named = {"paid_floor": p.paid_roi_min, "overall_floor": p.overall_roi_min}
        return {name: roi for name, roi in named.items() if roi is not None}

    @property
    def next_slot(self) -> int:
        """The first slot that starts at or after the minute: the first the re-plan sets."""
        return -(-self.minute // self.f.problem.slot_minutes)

    def changes_left(self, package: int) -> tuple[float | None, int | None]:
        """(setting, changes): the level (yuan/min) in force before the next slot, None when
        nothing was set yet, and how many level changes the rest of the session may still
        make (None: any number)."""
        limit = self.f.problem.rules.max_changes
        left = None if limit is None else max(0, limit - self._changes_so_far(package))
        if self.next_slot == 0:
            return None, left
        return float(self.levels[(self.next_slot - 1) * self.f.problem.slot_minutes, package]), left

    def _at_days_level(self, lp: LinearProgram) -> None:
        """Scale the rest of the session's GMV in the floors and target by the day's ratio."""
        f, p, spent = self.f, self.f.problem, float(self.spend.sum())
        floors = self.floors
        rest = f.spend_cols[self.minute:].ravel()
        matrix = lp.matrix.tocsc(copy=True)
        column = np.repeat(np.arange(matrix.shape[1]), np.diff(matrix.indptr))
        in_rest = np.isin(column, rest)
        for name, row in f.rows.items():
            if name not in self.realised:
                continue
            q = self.day.of_row(name)
            if q == 1.0:
                continue
            earned = self.realised[name]
            if name in floors:
                roi = floors[name]
                lp.row_lower[row] += (roi * spent - earned) * (1 / q - 1)
                matrix.data[in_rest & (matrix.indices == row)] /= q
            else:
                lp.row_lower[row] += (p.gmv_target - earned) * (1 / q - 1)
        lp.matrix = matrix

    def _fill(self, seg: np.ndarray) -> np.ndarray:
        """In-order fill of the actual index; the first and the top segments may overflow."""
        f = self.f
        cell = f.seg_cell[seg]
        a, b = f.seg_a[seg], f.seg_b[seg]
        low = np.where(a <= f.cell_lo[cell], -np.inf, 0.0)
        high = np.where(b >= f.cell_top[cell], np.inf, b - a)
        return np.clip(self.index[cell] - a, low, high)

    def _changes_so_far(self, package: int) -> int:
        levels = self.levels[:: self.f.problem.slot_minutes, package]
        return int(np.sum(np.abs(np.diff(levels)) > 1e-9))
