"""Fitted response models as versioned JSON artifacts, keyed by a fingerprint of their data.

One file holds everything a `ResponseModel` needs to predict: the schema version, the data
fingerprint (so `plan` and `evaluate` can reuse a fit of the same history and options instead of
refitting), the fit options, the spline, each package's curve with its covariance and
diagnostics, and the organic model.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from optimizer.curves.model import SCHEMA_VERSION, FitOptions, ResponseModel
from optimizer.curves.organic import OrganicCurve
from optimizer.curves.paid import PackageCurve
from optimizer.errors import InputError


class ModelArtifact(BaseModel):
    """The JSON form of a fitted `ResponseModel` (see its fitted attributes)."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[12] = SCHEMA_VERSION
    fingerprint: str
    created: datetime
    options: FitOptions
    n_sessions: int
    session_minutes: int
    packages: list[str]
    paid: dict[str, PackageCurve]
    unfitted: dict[str, str]
    organic: OrganicCurve


def to_artifact(model: ResponseModel) -> ModelArtifact:
    """The artifact of a fitted model."""
    return ModelArtifact(fingerprint=model.fingerprint_,
                         created=datetime.now().replace(microsecond=0), options=model.options,
                         n_sessions=model.n_sessions_, session_minutes=model.session_minutes_,
                         packages=list(model.packages_), paid=model.paid_,
                         unfitted=model.unfitted_, organic=model.organic_)


def fitted_model(model: ResponseModel | ModelArtifact) -> ResponseModel:
    """`model` as a fitted `ResponseModel`: a `ModelArtifact` (`load_model`'s) is read back
    (`from_artifact`); anything else is bad input that says what to pass."""
    if isinstance(model, ModelArtifact):
        return from_artifact(model)
    if not isinstance(model, ResponseModel) or not hasattr(model, "paid_"):
        raise InputError(f"is a {type(model).__name__}, not a fitted ResponseModel",
                         where="model", fix="pass fit_campaign(campaign), or "
                                            "load_model(path)")
    return model


def from_artifact(artifact: ModelArtifact) -> ResponseModel:
    """A fitted `ResponseModel` from its artifact (its `days_` from the curves' day effects,
    which the artifact holds: no schema change for it; its `clock_` from the curves')."""
    model = ResponseModel(artifact.options)
    model.fingerprint_ = artifact.fingerprint
    model.n_sessions_ = artifact.n_sessions
    model.session_minutes_ = artifact.session_minutes
    model.packages_ = tuple(artifact.packages)
    model.paid_ = dict(artifact.paid)
    model.unfitted_ = dict(artifact.unfitted)
    model.organic_ = artifact.organic
    model.clock_ = next((curve.clock for curve in (artifact.organic, *artifact.paid.values())
                         if curve.clock is not None), None)
    return model.fit_days()


def save_model(artifact: ModelArtifact | ResponseModel, path: str | Path) -> Path:
    """Write the artifact (of a fitted model: `to_artifact`) as indented JSON (folders
    created as needed)."""
    if isinstance(artifact, ResponseModel):
        artifact = to_artifact(artifact)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(artifact.model_dump_json(indent=1))
    return path


def load_model(path: str | Path) -> ModelArtifact:
    """Read an artifact; a missing, unreadable or foreign file is an `InputError`."""
    path = Path(path)
    try:
        return ModelArtifact.model_validate_json(path.read_text())
    except FileNotFoundError:
        raise InputError("the model file does not exist", source=str(path),
                         fix="fit one with `spendplan fit CONFIG --out FILE`") from None
    except (ValidationError, ValueError, UnicodeDecodeError) as error:
        first = str(error).splitlines()[0]
        raise InputError(f"not a spendplan model artifact of schema {SCHEMA_VERSION} ({first})",
                         source=str(path), fix="refit with `spendplan fit CONFIG --out FILE`"
                         ) from None
