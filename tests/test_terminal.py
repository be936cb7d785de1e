"""Terminal views: what the operator reads off the fit table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.curves.report import SUMMARY_COLUMNS
from optimizer.terminal import fit_view


def test_the_curve_column_shows_the_familys_weight_when_another_was_weighed():
    summary = pd.DataFrame(np.nan, index=pd.Index(["fans", "auto", "new"], name="package"),
                           columns=list(SUMMARY_COLUMNS))
    summary["family"] = ["hill", "exponential", ""]
    summary["family_weight"] = [0.604, 1.0, np.nan]
    assert list(fit_view(summary)["curve"]) == ["hill 60%", "exponential", ""]
