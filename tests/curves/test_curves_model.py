"""ResponseModel's choices: each package's saturation family by cross-validated deviance."""

from __future__ import annotations

import re

import numpy as np
import pytest

from optimizer.curves import FitOptions, ResponseModel
from optimizer.curves.model import MIN_SESSIONS
from optimizer.errors import InputError


def _scores(curve, pattern: str) -> dict[str, float]:
    """family -> deviance of the diagnostics entries whose label matches `pattern`."""
    return {label.split()[0]: value for label, value in curve.diagnostics.holdout_deviance.items()
            if re.fullmatch(pattern, label)}


def test_each_family_is_the_one_with_the_least_cross_validated_deviance(small_fit):
    folds = small_fit.model.options.family_folds
    for package, curve in small_fit.model.paid_.items():
        scores = _scores(curve, rf"\w+ @[\d.]+min, {folds} folds")
        assert set(scores) == {"exponential", "hill"}, package
        assert curve.family == min(scores, key=scores.get), (package, scores)


def test_without_folds_the_latest_sessions_choose_as_before(small_fit):
    model = ResponseModel(FitOptions(family_folds=0)).fit(small_fit.panel)
    for package, curve in model.paid_.items():
        assert not _scores(curve, r".*folds")
        knots = curve.basis.knots[-4] - curve.basis.knots[-5]  # the spacing chosen
        scores = _scores(curve, rf"\w+ @{knots:g}min")
        assert curve.family == min(scores, key=scores.get), (package, scores)


@pytest.mark.parametrize(("sessions", "folds", "blocks"), [
    (21, 4, [6, 5, 5, 5]), (6, 4, [2, 2, 1, 1]), (4, 4, [1, 1, 1, 1]),
    (4, 2, None),  # a fit would keep 2 sessions
    (21, 1, None), (21, 0, None),
])
def test_fold_blocks_are_consecutive_sessions_leaving_at_least_three(sessions, folds, blocks):
    model = ResponseModel(FitOptions(family_folds=folds))
    model.n_sessions_ = sessions
    found = model._family_blocks()
    if blocks is None:
        assert found is None
    else:
        assert [len(b) for b in found] == blocks
        assert sorted(s for b in found for s in b) == list(range(sessions))


@pytest.mark.parametrize(("days", "n"), [(21, 200), (6, 6), (6, 5), (21, 1000), (1, 7)])
def test_predictive_draws_take_every_history_day_equally_often(days, n):
    from optimizer.curves.model import _stratified_days

    rng = np.random.default_rng(0)
    drawn = _stratified_days(rng, days, n)
    counts = np.bincount(drawn, minlength=days)
    assert len(drawn) == n and len(counts) == days
    assert set(counts) <= {n // days, n // days + 1}


@pytest.mark.parametrize("keep", [1, 2])
def test_fewer_than_three_sessions_are_bad_input_not_a_fit(small_fit, keep):
    """One session's fit forecast 181,891,406 yuan of paid GMV in a minute where the
    history's most was 1,371, and `plan` wrote it with status optimal and no warning."""
    with pytest.raises(InputError, match=f"{keep} live session.*at least {MIN_SESSIONS}"):
        ResponseModel().fit(small_fit.panel.sessions(range(keep)))
    assert ResponseModel().fit(small_fit.panel.sessions(range(MIN_SESSIONS))).n_sessions_ == 3
