"""Settings of the HTTP service: database, time budgets, limits, where files are read from.

Times are in seconds, sizes in bytes. `Settings.from_env()` reads `SPENDPLAN_*` variables so a
deployment can configure the service without code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_DB_URL = "sqlite:///spendplan.db"


@dataclass(frozen=True)
class Settings:
    """How one service instance runs.

    db_url: SQLAlchemy URL; a SQLite file by default (created with its tables on start),
        `postgresql+psycopg://user@host/db` for PostgreSQL.
    replan_time_budget: seconds a re-plan may take before the service answers with the last
        valid plan scaled to the remaining budget (flagged as a fallback).
    solve_time_limit: seconds the first solve of a new plan may take.
    max_body_bytes: larger request bodies are refused with 413.
    data_dir: folder that history and model paths in requests are relative to; paths outside
        it are refused.
    migrate: bring the database schema to the newest version on start.
    replanner_cache: how many plans keep a built re-planner in memory.
    lock_timeout: seconds a request waits for another request on the same plan.
    """

    db_url: str = DEFAULT_DB_URL
    replan_time_budget: float = 0.5
    solve_time_limit: float = 60.0
    max_body_bytes: int = 2 * 1024 * 1024
    data_dir: Path = field(default_factory=Path.cwd)
    migrate: bool = True
    replanner_cache: int = 64
    lock_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.replan_time_budget <= 0 or self.solve_time_limit <= 0:
            raise ValueError("time budgets must be positive (seconds)")
        if self.max_body_bytes < 1024:
            raise ValueError("max_body_bytes must be at least 1024")
        object.__setattr__(self, "data_dir", Path(self.data_dir).resolve())

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then `SPENDPLAN_DB_URL`, `SPENDPLAN_REPLAN_BUDGET_MS`,
        `SPENDPLAN_MAX_BODY_BYTES`, `SPENDPLAN_DATA_DIR`, then `overrides` (None = unset)."""
        env = os.environ
        values: dict[str, object] = {}
        if "SPENDPLAN_DB_URL" in env:
            values["db_url"] = env["SPENDPLAN_DB_URL"]
        if "SPENDPLAN_REPLAN_BUDGET_MS" in env:
            values["replan_time_budget"] = float(env["SPENDPLAN_REPLAN_BUDGET_MS"]) / 1000
        if "SPENDPLAN_MAX_BODY_BYTES" in env:
            values["max_body_bytes"] = int(env["SPENDPLAN_MAX_BODY_BYTES"])
        if "SPENDPLAN_DATA_DIR" in env:
            values["data_dir"] = Path(env["SPENDPLAN_DATA_DIR"])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{Path(path).resolve()}"


def database_url(db: str | None) -> str:
    """`--db` as given on the command line: a URL, or a bare path meaning a SQLite file."""
    if not db:
        return DEFAULT_DB_URL
    return db if "://" in db else sqlite_url(db)
