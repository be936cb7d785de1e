"""A short per-package account of a history, for people to read before trusting a fit."""

from __future__ import annotations

import pandas as pd

from optimizer.data.history import History


def history_summary(history: History) -> pd.DataFrame:
    """One row per package, then a `(room organic)` row; index: package id (named "package",
    as `fit_summary`'s, so the two join).

    Columns: `sessions` with any spend; `active_minutes` (minutes with spend > 0);
    `spend` and `paid_gmv` (yuan, whole history); `paid_roi` (paid GMV / spend);
    `spend_per_session` (yuan: the spend over every session of the history, those the package
    spent nothing in counted, as a day's budget would be). The organic row puts organic GMV in
    `paid_gmv`'s place under `organic_gmv`.
    """
    spend = history.spend
    active = spend[spend["spend"] > 0]
    rows = pd.DataFrame({
        "sessions": active.groupby("package")["session"].nunique(),
        "active_minutes": active.groupby("package").size(),
        "spend": spend.groupby("package")["spend"].sum(),
        "paid_gmv": spend.groupby("package")["paid_gmv"].sum(),
    }).reindex(list(history.packages)).fillna(0)
    rows["paid_roi"] = rows["paid_gmv"] / rows["spend"].where(rows["spend"] > 0)
    rows["spend_per_session"] = rows["spend"] / len(history.sessions)
    rows["organic_gmv"] = float("nan")
    organic = {"sessions": len(history.sessions), "active_minutes": len(history.room),
               "organic_gmv": float(history.room["organic_gmv"].sum())}
    rows.loc["(room organic)"] = pd.Series(organic)
    return rows.rename_axis("package")
