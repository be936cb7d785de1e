"""Loading a room's history from files, alone or checked against a campaign config."""

from __future__ import annotations

from pathlib import Path

from optimizer.data.config import CampaignConfig
from optimizer.data.hints import did_you_mean, quoted
from optimizer.data.history import History, build_history
from optimizer.data.report import LoadReport
from optimizer.data.tables import TableSource, read_table
from optimizer.errors import InputError


def load_tables(
    spend_path: str | Path, room_path: str | Path, room_id: str | None = None
) -> tuple[History, LoadReport]:
    """Read and check the spend and room tables (CSV or Parquet) of one room."""
    report = LoadReport()
    sources = (TableSource.for_path(spend_path), TableSource.for_path(room_path))
    with report.on_error():
        history = build_history(read_table(spend_path), read_table(room_path), sources, room_id,
                                report)
    return history, report


def load_history(config: CampaignConfig) -> tuple[History, LoadReport]:
    """Read the config's history and check it against the config.

    Beyond `load_tables`: no history minute may fall in the planned session, and every
    package the config names must be in the history, have `curve:` settings or be switched
    off with `max_spend_per_minute: 0`.
    """
    paths = {"spend": config.history.spend, "room": config.history.room}
    for key, path in paths.items():
        if not path.is_file():
            raise InputError(
                f"history file not found: {path}",
                source=config.source,
                where=f"history.{key}",
                fix="correct the path; a relative path starts from the config file's folder",
            )
    report = LoadReport()
    sources = (TableSource.for_path(paths["spend"]), TableSource.for_path(paths["room"]))
    with report.on_error():
        history = build_history(
            read_table(paths["spend"]),
            read_table(paths["room"]),
            sources,
            config.room_id,
            report,
            session=(config.session.start, config.session.end),
        )
        _check_packages(config, history, report)
    return history, report


def _check_packages(config: CampaignConfig, history: History, report: LoadReport) -> None:
    if not history.packages and not config.packages:
        raise InputError(
            "no package to plan: the spend table has no rows and the config names no package",
            source=str(config.history.spend),
            fix="write the spend history (one row per package and live minute, 0 where "
                "nothing was spent), or name packages with curve: settings in the config",
        )
    unknown = [name for name in config.packages if name not in history.packages]
    unusable = []
    for name in unknown:
        limits = config.packages[name]
        if limits.curve is not None:
            report.add(f"package {name!r} is not in the history: using its curve from the config")
        elif limits.max_spend_per_minute == 0:
            report.add(f"package {name!r} is not in the history and is switched off (spend 0)")
        else:
            unusable.append(name)
    if unusable:
        names = ", ".join(
            f"packages.{name}{did_you_mean(name, history.packages)}" for name in unusable
        )
        raise InputError(
            f"no history for {names} (packages in the history: "
            f"{quoted(history.packages) or 'none'})",
            source=config.source,
            fix="add a curve: block (max_gmv_per_minute, saturation_spend) for a package the "
            "history never saw, set max_spend_per_minute: 0, or remove it",
        )
