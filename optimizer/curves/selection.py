"""How much each saturation family is to be believed, from its cross-validated deviance.

Choosing one family on held-out sessions and then drawing intervals from that family alone
treats the choice as certain. On 21 sessions it is not (the truth's family won 188 of 288 fits
in `benchmarks/bench_curves_truth.py --seeds 8`), and the 90% intervals covered the truth in
85% of cases. Weighting the families instead, and drawing each family in proportion to its
weight, carries the choice's uncertainty into every interval: 89% covered.

The weights are pseudo-BMA+ (Yao, Vehtari, Simpson and Gelman 2018, "Using stacking to average
Bayesian predictive distributions", Bayesian Analysis 13(3)): each family's predictive log
quasi-likelihood on held-out data, ``-deviance / (2 * dispersion)``, summed over sessions that
are reweighted by a Bayesian bootstrap (Dirichlet(1, ..., 1) over sessions), turned into
softmax weights, averaged over the bootstrap. The bootstrap is what keeps a family that wins by
a few lucky sessions from taking all the weight.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

BOOTSTRAP_DRAWS = 1000
"""Bayesian-bootstrap replicates behind each weight (a fixed seed makes the weights exact)."""


def family_weights(deviance: Mapping[str, np.ndarray], dispersion: float,
                   draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> dict[str, float]:
    """Pseudo-BMA+ weight of each family, summing to one.

    deviance: family -> held-out quasi-deviance per session (n_sessions,), yuan, every session
        predicted by a fit that did not see it (cross-validation).
    dispersion: the quasi-likelihood's dispersion (yuan; Pearson variance / mean of the
        chosen fit), the unit that turns deviance into log-likelihood.
    """
    families = list(deviance)
    if len(families) == 1:
        return {families[0]: 1.0}
    scores = -np.vstack([deviance[f] for f in families]) / (2.0 * dispersion)  # (F, S)
    sessions = scores.shape[1]
    alpha = np.random.default_rng(seed).dirichlet(np.ones(sessions), size=draws)  # (B, S)
    elpd = sessions * alpha @ scores.T  # (B, F)
    elpd -= elpd.max(axis=1, keepdims=True)
    softmax = np.exp(elpd)
    softmax /= softmax.sum(axis=1, keepdims=True)
    weights = softmax.mean(axis=0)
    return {f: float(w) for f, w in zip(families, weights, strict=True)}
