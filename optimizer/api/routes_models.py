"""/v1/models: store a fitted model artifact so plans can use it by fingerprint."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Response

from optimizer.api import schemas, store
from optimizer.api.campaign import parse_artifact
from optimizer.api.db import writing
from optimizer.api.errors import Invalid, NotFound
from optimizer.api.routes_plans import ERRORS, get_service
from optimizer.api.service import PlanService

router = APIRouter(prefix="/v1/models", tags=["models"])
FINGERPRINT = re.compile(r"[0-9a-f]{64}")
Service = Annotated[PlanService, Depends(get_service)]
Fingerprint = Annotated[str, Path(description="sha256 of the model's data and options")]


@router.post("", status_code=201, response_model=schemas.StoredModel, responses=ERRORS,
             summary="Store a fitted model artifact")
def store_model(artifact: Annotated[dict[str, Any], Body(
        description="a model artifact as written by `spendplan fit` (JSON)")],
        service: Service, response: Response) -> schemas.StoredModel:
    """201 when stored, 200 when a model with the same fingerprint was already there."""
    parsed = parse_artifact(artifact)
    if not FINGERPRINT.fullmatch(parsed.fingerprint):
        raise Invalid("must be the sha256 of the model's data (64 hex digits), as "
                      "`spendplan fit` writes it", "fingerprint")
    with writing(service.engine.connect()) as conn, conn.begin():
        created = store.add_model(conn, parsed.fingerprint, parsed.model_dump_json(), "upload")
        source = store.model(conn, parsed.fingerprint).source
    response.status_code = 201 if created else 200
    return _view(parsed, source, created)


@router.get("/{fingerprint}", response_model=schemas.StoredModel, responses=ERRORS,
            summary="Read a stored model's summary")
def read_model(fingerprint: Fingerprint, service: Service) -> schemas.StoredModel:
    row = None
    if FINGERPRINT.fullmatch(fingerprint):
        with service.engine.connect() as conn:
            row = store.model(conn, fingerprint)
    if row is None:
        raise NotFound(f"no stored model has fingerprint {fingerprint!r}", "fingerprint")
    return _view(parse_artifact(row.artifact), row.source, False)


def _view(artifact: Any, source: str, created: bool) -> schemas.StoredModel:
    return schemas.StoredModel(fingerprint=artifact.fingerprint, packages=artifact.packages,
                               unfitted=artifact.unfitted, n_sessions=artifact.n_sessions,
                               session_minutes=artifact.session_minutes, source=source,
                               created=created)
