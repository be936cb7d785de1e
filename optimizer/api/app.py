"""The FastAPI app of the bidding-service API: `create_app(settings)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from optimizer.api import errors, routes_models, routes_ops, routes_plans
from optimizer.api.db import make_engine, upgrade
from optimizer.api.limits import BodyLimitMiddleware
from optimizer.api.metrics import Metrics, TimingMiddleware
from optimizer.api.planning import Planner
from optimizer.api.query import only_declared_query
from optimizer.api.service import PlanService
from optimizer.api.settings import Settings

DESCRIPTION = """\
Plans a live session's ad spend per audience package and minute, takes each minute's actuals
and re-plans the rest of the session against the remaining budget and the whole-session floors.

Money is in yuan, spend rates in yuan per minute; minutes count from the session's start
(minute 0). Every error body names the request field it is about.
"""


def create_app(settings: Settings | None = None, planner: Planner | None = None) -> FastAPI:
    """The app, its database brought to the newest schema (unless `settings.migrate` is off).

    planner: what solves and re-plans (default: `optimizer.planner` through `Planner`).
    """
    settings = settings or Settings.from_env()
    engine = make_engine(settings.db_url)
    if settings.migrate:
        upgrade(engine)
    metrics = Metrics()
    service = PlanService(settings, engine, planner or Planner(), metrics)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        service.warm_unfinished()
        yield
        service.close()
        engine.dispose()

    app = FastAPI(title="spendplan", version="1", description=DESCRIPTION, lifespan=lifespan,
                  dependencies=[Depends(only_declared_query)])
    app.state.settings = settings
    app.state.service = service
    app.state.metrics = metrics
    errors.install(app)
    for module in (routes_plans, routes_models, routes_ops):
        app.include_router(module.router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(TimingMiddleware, metrics=metrics)
    return app
