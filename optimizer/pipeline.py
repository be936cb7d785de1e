"""The job as functions: load a campaign, fit or reuse its response model, build its session.

The CLI, the HTTP API and notebooks all call these; each stage's own package does the work.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from optimizer.curves import (
    FitOptions,
    ResponseModel,
    SessionResponse,
    fingerprint,
    from_artifact,
    load_model,
    save_model,
    to_artifact,
)
from optimizer.curves.model import Progress
from optimizer.data import CampaignConfig, History, LoadReport, Panel, load_config, load_history


@dataclass(frozen=True)
class Campaign:
    """A campaign config with its checked history.

    packages: every package the plan covers, history's first then those only in the config.
    """

    config: CampaignConfig
    history: History
    report: LoadReport

    @property
    def packages(self) -> tuple[str, ...]:
        extra = sorted(set(self.config.packages) - set(self.history.packages))
        return (*self.history.packages, *extra)

    @property
    def minutes(self) -> int:
        """Length of the session to plan, minutes."""
        return self.config.session.minutes

    def panel(self) -> Panel:
        """The history as dense arrays over every package the plan covers."""
        return self.history.panel(self.packages)

    def explicit_curves(self) -> dict:
        """Packages whose curves the config sets by hand (`packages.NAME.curve`)."""
        return {name: limits.curve for name, limits in self.config.packages.items()
                if limits.curve is not None}

    def switched_off(self) -> set[str]:
        """Packages the config gives no spend (`max_spend_per_minute: 0`)."""
        return {name for name, limits in self.config.packages.items()
                if limits.max_spend_per_minute == 0}


def load_campaign(config_path: str | Path) -> Campaign:
    """Read and check a campaign config and its history (see CONTRACT.md)."""
    config = load_config(config_path)
    history, report = load_history(config)
    return Campaign(config=config, history=history, report=report)


def default_cache_dir() -> Path:
    """Where fitted models are cached: $SPENDPLAN_CACHE, else ~/.cache/spendplan."""
    return Path(os.environ.get("SPENDPLAN_CACHE", Path.home() / ".cache" / "spendplan"))


def model_search_dirs(config_path: str | Path) -> list[Path]:
    """Folders searched for a fitted model of the same data: `models/` beside the config's
    folder (the project layout) and inside it, then the cache."""
    folder = Path(config_path).resolve().parent
    return [folder.parent / "models", folder / "models", default_cache_dir()]


def find_model(print_: str, folders: Iterable[Path]) -> Path | None:
    """The first model artifact in `folders` whose data fingerprint is `print_`."""
    needle = f'"fingerprint": "{print_}"'
    for folder in folders:
        for path in sorted(Path(folder).glob("*.json")) if Path(folder).is_dir() else ():
            with path.open(encoding="utf-8", errors="replace") as handle:
                if needle in handle.read(4096):
                    return path
    return None


def fit_campaign(campaign: Campaign, options: FitOptions | None = None,
                 progress: Progress | None = None) -> ResponseModel:
    """Fit the campaign's response model from its history (no cache)."""
    return ResponseModel(options).fit(campaign.panel(), progress)


def campaign_model(campaign: Campaign, config_path: str | Path, model_path: Path | None = None,
                   options: FitOptions | None = None, progress: Progress | None = None
                   ) -> tuple[ResponseModel, str]:
    """The campaign's fitted model and where it came from.

    With `model_path`, that artifact is used as it is. Otherwise a model of the same data and
    options (same fingerprint) is reused from `model_search_dirs`; failing that the history is
    fitted and the result cached.
    """
    if model_path is not None:
        return from_artifact(load_model(model_path)), f"model file {model_path}"
    options = options or FitOptions()
    wanted = fingerprint(campaign.panel(), options)
    found = find_model(wanted, model_search_dirs(config_path))
    if found is not None:
        return from_artifact(load_model(found)), f"reused fit {found}"
    model = fit_campaign(campaign, options, progress)
    cache = default_cache_dir() / f"{wanted[:16]}.json"
    try:
        save_model(to_artifact(model), cache)
    except OSError:
        return model, "fitted (cache not writable)"
    return model, f"fitted, cached as {cache}"


def session_response(campaign: Campaign, model: ResponseModel) -> SessionResponse:
    """Expected response of the campaign's session, columns in `campaign.packages` order."""
    return model.response(campaign.minutes, campaign.packages, campaign.explicit_curves(),
                          switched_off=campaign.switched_off())
