"""Random truths around a builtin room: the planner's and the fit's off-model stress test.

The builtin scenarios were written alongside the fit. `random_scenario` redraws every package
of a room from a seed, over shapes the fit does not assume, so that plans can be judged
against truths nobody tuned them to (benchmarks/bench_random_truths.py). With ``s_shaped`` some
packages' saturations are S-shaped Hill curves instead, the test of the S-shaped fit
(benchmarks/bench_sshape_random.py); with ``paid_driven`` the room's organic uplift follows
each package's paid GMV instead of its spend, a lever the fit does not assume by default.
"""

from __future__ import annotations

import numpy as np

from optimizer.sim.scenario import Scenario

S_SHAPED_SHARE = 0.5
"""Chance that a package of an ``s_shaped`` random truth gets an S-shaped saturation."""

S_SHAPES = (1.3, 3.0)
"""Range of the Hill shapes of S-shaped random truths (uniform)."""

PAID_LEVERAGE = (-0.25, 0.45)
"""Range of the organic leverage per paid GMV yuan of ``paid_driven`` random truths (uniform):
about the spend-driven range of -0.6 to 0.9 per yuan spent divided by a paid ROI of 2."""


def random_scenario(number: int, base: str = "default", s_shaped: bool = False,
                    paid_driven: bool = False) -> Scenario:
    """The builtin room `base` with every package, the room's noise and the operator redrawn
    from seed ``1000 + number``.

    Per package: the saturation family among exponential, Hill (shape 0.4-1) and logarithmic;
    k 0.5-4 times its typical spend (yuan/min); one or two carryover stages of 0.5-6 minute
    half-lives (two give a delayed peak); peak sensitivity 0.5-1.5; organic leverage -0.6 to
    0.9; GMV scale and typical spend each times 0.5-2; day log-sd 0.02-0.15. The room: Poisson
    or negative-binomial orders (dispersion 1.5-5), organic carryover 5-30 minutes. The
    operator: confounding 0-1.5, level log-sd 0.2-0.7.

    s_shaped: each package's saturation is, with chance `S_SHAPED_SHARE`, a Hill curve of
    shape in `S_SHAPES` with the same k, from a second generator seeded ``(1000 + number, 1)``:
    everything else is the room of ``random_scenario(number, base)``, draw for draw.
    paid_driven: the room's organic_driver is "paid_gmv", each package's leverage per paid GMV
    yuan drawn in `PAID_LEVERAGE` from a third generator seeded ``(1000 + number, 2)``.
    """
    rng = np.random.default_rng(1000 + number)
    shapes = np.random.default_rng((1000 + number, 1))
    levers = np.random.default_rng((1000 + number, 2))
    data = Scenario.builtin(base).model_dump()
    data["name"] = f"random{number}" + ("-s_shaped" if s_shaped else "") + \
        ("-paid_driven" if paid_driven else "")
    for package in data["packages"].values():
        family = str(rng.choice(["exponential", "hill", "log"]))
        k = float(package["typical_spend"] * rng.uniform(0.5, 4))
        package["saturation"] = {"family": family, "k": k} | (
            {"shape": float(rng.uniform(0.4, 1.0))} if family == "hill" else {})
        chance, shape = shapes.random(), float(shapes.uniform(*S_SHAPES))
        if s_shaped and chance < S_SHAPED_SHARE:
            package["saturation"] = {"family": "hill", "k": k, "shape": shape}
        stages = 1 if rng.random() < 0.5 else 2
        package["carryover"] = {"half_lives": [float(h) for h in rng.uniform(0.5, 6, stages)]}
        package["peak_sensitivity"] = float(rng.uniform(0.5, 1.5))
        package["organic_leverage"] = float(rng.uniform(-0.6, 0.9))
        if paid_driven:
            package["organic_leverage"] = float(levers.uniform(*PAID_LEVERAGE))
        package["max_gmv_per_minute"] *= float(rng.uniform(0.5, 2))
        package["typical_spend"] *= float(rng.uniform(0.5, 2))
        package["day_sigma"] = float(rng.uniform(0.02, 0.15))
    data["room"]["dispersion"] = None if rng.random() < 0.5 else float(rng.uniform(1.5, 5))
    data["room"]["organic_carryover"] = {"half_lives": [float(rng.uniform(5, 30))]}
    data["operator"]["confounding"] = float(rng.uniform(0, 1.5))
    data["operator"]["level_sigma"] = float(rng.uniform(0.2, 0.7))
    if paid_driven:
        data["room"]["organic_driver"] = "paid_gmv"
    return Scenario.model_validate(data)
