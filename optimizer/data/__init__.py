"""History tables and campaign configs: loading and checking them against the contract.

See CONTRACT.md for the files. Money is in yuan, times are local minutes.
"""

from optimizer.data.config import (
    CampaignConfig,
    CurveSettings,
    HistoryPaths,
    PacingSettings,
    PackageLimits,
    PlannerSettings,
    PlatformSettings,
    RoiFloors,
    SessionSpec,
    load_config,
)
from optimizer.data.history import History
from optimizer.data.load import load_history, load_tables
from optimizer.data.panel import Panel
from optimizer.data.report import LoadReport
from optimizer.data.tables import read_table, write_table

__all__ = [
    "CampaignConfig",
    "CurveSettings",
    "History",
    "HistoryPaths",
    "LoadReport",
    "PackageLimits",
    "PacingSettings",
    "PlannerSettings",
    "PlatformSettings",
    "Panel",
    "RoiFloors",
    "SessionSpec",
    "load_config",
    "load_history",
    "load_tables",
    "read_table",
    "write_table",
]
