"""The S-shaped fit on random truths it was not tuned on (a quality benchmark).

The thresholds that let a Hill fit be S-shaped (`optimizer.curves.trials`: CONCAVE_AT_BOUND,
S_SHAPED_PRECHECK, S_SHAPED_WEIGHT) were chosen on eight packages of an outside truth. Here each
truth is `random_scenario(n, s_shaped=True)`: random truth n with about half its packages'
saturations S-shaped Hill curves (shape 1.3-3, the k of the concave draw). Harness as
benchmarks/bench_random_truths.py: 21 sessions of history (seed n), the fit, the session planned
as `spendplan plan` plans it, valued under the truth's expectation against the oracle (the same
program on the true curves at any spend, S-shaped ones on their concave envelope).

Printed per truth: the plan's loss to the oracle (1 - total GMV / the oracle's) fitted as is
and with `FitOptions(s_shaped=False)`; the packages with an S-shaped truth (shape over 1.3) and
how many of them the fit made S-shaped (chosen Hill curve of shape over 1); the concave
packages and how many of them it made S-shaped. Then medians, means and worsts. Written to
`benchmarks/results/sshape_random.txt`.

Measured over truths 1-40 (README, "S-shaped" fits): loss to the oracle median 2.64%, mean
2.83%, worst 9.64% with S-shapes allowed (before `S_SHAPED_REACH`: 2.87%, 5.41%, 44.1%; with
it on the training sessions' fit only: 2.64%, 3.29%, 20.4%); concave only 3.95%, 5.50%,
18.7%. S-shaped fits for 98 of 132 S-shaped packages, none of 108 concave ones.

Run: `.venv/bin/python benchmarks/bench_sshape_random.py [--truths N] [--workers W]
[--families exponential,hill,log]` (about 25 s a truth on one core: two fits).
"""

from __future__ import annotations

import argparse
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_random_truths import DAYS, FLOOR, fitted, oracle, write_results  # noqa: E402

from optimizer.curves import FitOptions, ResponseModel  # noqa: E402
from optimizer.curves.transforms import Hill  # noqa: E402
from optimizer.planner import solve  # noqa: E402
from optimizer.planner.forecast import Forecast  # noqa: E402
from optimizer.sim import random_scenario  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "sshape_random.txt"
S_TRUTH = 1.3
"""A truth's Hill shape over this counts as S-shaped (the generator's least is 1.3)."""

FITS = {"S-shaped allowed": FitOptions(), "concave only": FitOptions(s_shaped=False)}


def measure(number: int, families: tuple[str, ...] | None = None) -> dict[str, object]:
    """The plan's loss to the oracle under each of `FITS` (share of the oracle's total GMV);
    "packages": per package, the truth's Hill shape (0 for other families) and the shape of
    the Hill curve the fit with S-shapes allowed chose (0 for another family; None unfitted).
    families: the fits' saturation families (`FitOptions.families`; None: the default)."""
    scenario = random_scenario(number, s_shaped=True)
    row: dict[str, object] = {"truth": number}
    for name, options in FITS.items():
        if families is not None:
            options = options.model_copy(update={"families": families})
        case = fitted(scenario, number, options)
        truth = case.sim.response()
        plan = Forecast.of(truth, solve(case.problem).spend)
        row[name] = 1 - plan.total_gmv / oracle(case.problem, truth).total_gmv
        if options.s_shaped:
            row["packages"] = [(_shape(package.saturation), _fitted_shape(case.model, p))
                               for p, package in scenario.packages.items()]
    return row


def _shape(saturation: object) -> float:
    return saturation.shape if isinstance(saturation, Hill) else 0.0


def _fitted_shape(model: ResponseModel, package: str) -> float | None:
    curve = model.paid_.get(package)
    if curve is None:
        return None
    return curve.param("shape") if curve.family == "hill" else 0.0


def report(rows: list[dict[str, object]]) -> list[str]:
    """The table of `measure`'s rows and its summary."""
    columns = list(FITS)
    width = 19
    lines = [f"{'truth':<7}" + "".join(f"{c:<{width}}" for c in columns)
             + "S truths fitted S   concave fitted S"]
    caught = missed_total = wrong = concave_total = 0
    for row in rows:
        packages = [(t, f) for t, f in row["packages"] if f is not None]
        s_truths = [f for t, f in packages if t > S_TRUTH]
        concave = [f for t, f in packages if t <= S_TRUTH]
        hits, false = sum(f > 1 for f in s_truths), sum(f > 1 for f in concave)
        caught, missed_total = caught + hits, missed_total + len(s_truths)
        wrong, concave_total = wrong + false, concave_total + len(concave)
        lines.append(f"{row['truth']:<7}" + "".join(f"{row[c]:<{width}.1%}" for c in columns)
                     + f"{f'{hits} of {len(s_truths)}':<19}{false} of {len(concave)}")
    lines.append("")
    for label, pick in (("median", np.median), ("mean", np.mean), ("worst", np.max)):
        lines.append(f"{label:<7}" + "".join(f"{pick([r[c] for r in rows]):<{width}.2%}"
                                             for c in columns))
    gains = [r[columns[1]] - r[columns[0]] for r in rows]
    lines += [
        f"loss concave only minus S-shaped allowed (points): median {np.median(gains):+.2%}, "
        f"mean {np.mean(gains):+.2%}, least {min(gains):+.2%}, most {max(gains):+.2%}",
        "plans within 3% of the oracle: " + ", ".join(
            f"{c} {sum(r[c] <= 0.03 for r in rows)}" for c in columns) + f" of {len(rows)}",
        f"packages with an S-shaped truth (shape over {S_TRUTH:g}) fitted S-shaped: {caught} "
        f"of {missed_total} ({caught / max(missed_total, 1):.0%})",
        f"concave packages fitted S-shaped: {wrong} of {concave_total} "
        f"({wrong / max(concave_total, 1):.0%})",
        "(unfitted packages, too few minutes with spend, are left out)"]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truths", type=int, default=20, help="how many S-shaped random truths")
    parser.add_argument("--first", type=int, default=1, help="the first truth's number")
    parser.add_argument("--workers", type=int, default=1, help="processes")
    parser.add_argument("--families", default=None,
                        help="the fits' saturation families, comma-separated (e.g. "
                             "exponential,hill,log; default: FitOptions' default); results "
                             "are then printed, not written")
    args = parser.parse_args()
    families = None if args.families is None else tuple(args.families.split(","))
    numbers = range(args.first, args.first + args.truths)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        rows = list(pool.map(measure, numbers, [families] * args.truths))
    flag = "" if families is None else f" --families {args.families}"
    lines = [f"bench_sshape_random --first {args.first} --truths {args.truths}{flag}  "
             f"{datetime.now():%Y-%m-%d %H:%M:%S}  "
             f"python {platform.python_version()}",
             f"{DAYS} sessions of history per truth; the plan's loss to the oracle (share of "
             f"its total GMV under truth); paid ROI floor {FLOOR:g}", "", *report(rows)]
    if families is not None:
        print("\n".join(lines))
        return
    write_results(RESULTS, lines, args.first, args.truths)


if __name__ == "__main__":
    main()
