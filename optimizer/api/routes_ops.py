"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from optimizer.api import schemas
from optimizer.api.db import current_revision, head_revision

router = APIRouter(tags=["operations"])


@router.get("/v1/health", response_model=schemas.Health, summary="Liveness")
def health() -> schemas.Health:
    """200 while the process serves requests."""
    return schemas.Health(status="ok")


@router.get("/v1/ready", response_model=schemas.Ready, summary="Readiness",
            responses={503: {"model": schemas.Ready, "description": "Not ready"}})
def ready(request: Request, response: Response) -> schemas.Ready:
    """200 when the database answers and its schema is the newest; 503 otherwise."""
    engine = request.app.state.service.engine
    expected = head_revision()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current = current_revision(engine)
        database = "ok"
    except SQLAlchemyError as error:
        current, database = None, f"unreachable: {type(error).__name__}"
    ok = database == "ok" and current == expected
    response.status_code = 200 if ok else 503
    return schemas.Ready(status="ready" if ok else "not ready", database=database,
                         schema_revision=current, expected_revision=expected)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                             "description": "text exposition format"}})
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
