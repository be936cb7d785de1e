"""A plan's campaign from a request: the checked config, its fitted model and the session's
expected response (what the planner optimises).

History and model paths are relative to the service's data folder and must stay inside it.
With a stored model the history is not read (the config's `history` key may then be left out;
paths given must still be inside the folder).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from optimizer import pipeline
from optimizer.api.errors import Invalid, field_name
from optimizer.curves import ModelArtifact, ResponseModel, SessionResponse, from_artifact
from optimizer.curves import load_model as read_model_file
from optimizer.data import CampaignConfig, load_history
from optimizer.errors import InputError

UNREAD_HISTORY = {"spend": "(not read: a stored model is used)",
                  "room": "(not read: a stored model is used)"}


@dataclass(frozen=True)
class Campaign:
    """What a plan is made from. packages: the column order of every (T, P) array."""

    config: CampaignConfig
    model: ResponseModel
    artifact: ModelArtifact
    model_source: str
    packages: tuple[str, ...]

    def as_pipeline(self) -> pipeline.Campaign:
        """The pipeline's campaign (its history stands in only for the package order)."""
        return pipeline.Campaign(config=self.config, history=_Columns(self.packages),
                                 report=None)

    def response(self) -> SessionResponse:
        """Expected response of the session, columns in `packages` order."""
        return pipeline.session_response(self.as_pipeline(), self.model)


@dataclass(frozen=True)
class _Columns:
    """Stands in for a history where only its packages (column order) are read."""

    packages: tuple[str, ...]


MAX_SESSION_MINUTES = 24 * 60


def parse_config(raw: dict[str, Any], data_dir: Path, *, history: bool) -> CampaignConfig:
    """The checked config; every problem is a 422 naming `config.<key path>`.

    history: whether the history will be read (its paths must then be inside `data_dir`).
    Sessions are at most a day long; no text may hold a NUL character.
    """
    _no_nul(raw, "config")
    data = dict(raw)
    if not history and "history" not in data:
        data["history"] = UNREAD_HISTORY
    try:
        config = CampaignConfig.from_dict(data, data_dir, source="config")
    except InputError as error:
        raise _config_invalid(error, data, data_dir) from None
    if config.session.minutes > MAX_SESSION_MINUTES:
        raise Invalid(f"the session is {config.session.minutes} minutes long; a session may "
                      f"last at most {MAX_SESSION_MINUTES} minutes (a day)", "config.session.end")
    if history or "history" in raw:  # a path given may not leave the folder, read or not
        for key in ("spend", "room"):
            inside(getattr(config.history, key), data_dir, f"config.history.{key}")
    return config


def _no_nul(value: Any, field: str) -> None:
    """422 on the first key or text in `value` holding a NUL character (no database takes
    one)."""
    if isinstance(value, str) and "\x00" in value:
        raise Invalid("text may not contain a NUL character", field)
    if isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key, field)
            _no_nul(item, f"{field}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_nul(item, f"{field}[{i}]")


def _config_invalid(error: InputError, data: dict, data_dir: Path) -> Invalid:
    try:
        CampaignConfig.model_validate(data, context={"base_dir": data_dir})
    except ValidationError as detail:
        items = [(f"config.{field_name(e['loc'])}" if e["loc"] else "config", e["msg"])
                 for e in detail.errors()]
        return Invalid(error.message, items[0][0], items)
    return Invalid(error.message, "config")


def inside(path: Path, data_dir: Path, field: str) -> Path:
    """`path` resolved, refused (422 on `field`) when it leaves `data_dir`."""
    try:
        resolved = (data_dir / path).resolve()
    except (OSError, ValueError) as error:  # e.g. an embedded NUL
        raise Invalid(f"{str(path)!r} is not a usable path ({error})", field) from None
    if not resolved.is_relative_to(data_dir):
        raise Invalid(f"{path} is outside the service's data folder {data_dir}; give a path "
                      "inside it", field)
    return resolved


def from_history(config: CampaignConfig, data_dir: Path) -> Campaign:
    """Fit (or reuse a fit of the same data, as `spendplan plan` does) from the history."""
    try:
        history, report = load_history(config)
        campaign = pipeline.Campaign(config=config, history=history, report=report)
        model, source = pipeline.campaign_model(campaign, data_dir / "api-config.yaml")
    except InputError as error:
        raise Invalid(error.message, _history_field(error, config)) from None
    return _checked(Campaign(config, model, _artifact(model), source, campaign.packages))


def from_model(config: CampaignConfig, artifact: ModelArtifact, source: str) -> Campaign:
    """Use a stored fitted model; the plan covers its packages and the config's."""
    model = from_artifact(artifact)
    known = (*artifact.packages, *sorted(artifact.unfitted))
    extra = sorted(set(config.packages) - set(known))
    return _checked(Campaign(config, model, artifact, source, (*known, *extra)))


def model_file(path: str, data_dir: Path) -> ModelArtifact:
    """A model artifact file inside the data folder (422 on `model.path` otherwise)."""
    resolved = inside(Path(path), data_dir, "model.path")
    try:
        return read_model_file(resolved)
    except InputError as error:
        raise Invalid(error.message, "model.path") from None


def parse_artifact(text: str | bytes | dict, field: str = "body") -> ModelArtifact:
    """A model artifact from JSON (422 naming the first bad key)."""
    try:
        if isinstance(text, dict):
            return ModelArtifact.model_validate(text)
        return ModelArtifact.model_validate_json(text)
    except ValidationError as error:
        items = [(f"{field}.{field_name(e['loc'])}" if e["loc"] else field, e["msg"])
                 for e in error.errors()]
        raise Invalid(f"not a spendplan model artifact: {items[0][0]}: {items[0][1]}",
                      items[0][0], items) from None


def _checked(campaign: Campaign) -> Campaign:
    """The campaign, once its response builds (a package without a curve is a 422)."""
    try:
        campaign.response()
    except InputError as error:
        raise Invalid(error.message, f"config.{error.where}" if error.where else "config"
                      ) from None
    return campaign


def _artifact(model: ResponseModel) -> ModelArtifact:
    from optimizer.curves import to_artifact

    return to_artifact(model)


def _history_field(error: InputError, config: CampaignConfig) -> str:
    for key in ("spend", "room"):
        if error.source and Path(error.source) == getattr(config.history, key):
            return f"config.history.{key}"
    return f"config.{error.where}" if error.where and "." in error.where else "config.history"
