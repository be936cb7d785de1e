"""/v1/plans: create a plan, read it and its revisions, read a minute's allocation, post actuals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from optimizer.api import schemas
from optimizer.api.service import PlanService

router = APIRouter(prefix="/v1/plans", tags=["plans"])

ERRORS = {code: {"model": schemas.Error, "description": text} for code, text in (
    (404, "No plan with this id (or no such revision)"),
    (409, "A minute posted again with other values, or a post that lost a race"),
    (413, "The request body is too large"),
    (422, "Bad input; `field` names it"))}

PlanId = Annotated[str, Path(description="The plan's id (32 hex digits)")]
Horizon = Annotated[int | None, Query(ge=1, le=100_000, description=(
    "minutes of allocation to return from the revision's first minute (default: all)"))]


def get_service(request: Request) -> PlanService:
    """The app's plan service (override in tests with `app.dependency_overrides`)."""
    return request.app.state.service


Service = Annotated[PlanService, Depends(get_service)]


@router.post("", status_code=201, response_model=schemas.CreatedPlan, responses=ERRORS,
             summary="Create a plan for a live session")
def create_plan(body: schemas.CreatePlan, service: Service) -> schemas.CreatedPlan:
    """Checks the campaign config, fits its history (or reuses a fit of the same data, or uses
    the stored model given) and plans the whole session. Answers with the plan and revision
    0, the spend per package and minute (yuan/min). An infeasible config is a 422 naming the
    requirement that cannot be met."""
    return service.create(body)


@router.get("/{plan_id}", response_model=schemas.PlanInfo, responses=ERRORS,
            summary="Read a plan")
def read_plan(plan_id: PlanId, service: Service) -> schemas.PlanInfo:
    return service.plan(plan_id)


@router.get("/{plan_id}/revisions", response_model=schemas.Revisions, responses=ERRORS,
            summary="List a plan's revisions")
def list_revisions(plan_id: PlanId, service: Service) -> schemas.Revisions:
    """Every revision, oldest first, with totals but without the per-minute allocation."""
    return service.revisions(plan_id)


@router.get("/{plan_id}/revisions/{number}", response_model=schemas.Revision,
            responses=ERRORS, summary="Read one revision with its allocation")
def read_revision(plan_id: PlanId, number: Annotated[int, Path(ge=0, le=1_000_000)],
                  service: Service, horizon: Horizon = None) -> schemas.Revision:
    return service.revision(plan_id, number, horizon)


@router.get("/{plan_id}/allocation/{minute}", response_model=schemas.Allocation,
            responses=ERRORS, summary="Read the allocation for one minute")
def read_allocation(plan_id: PlanId, minute: Annotated[int, Path(ge=0, le=100_000)],
                    service: Service) -> schemas.Allocation:
    """Spend per package (yuan) for the minute and the bidding guidance: each package's marginal
    ROI threshold and the budget's shadow price, from the newest revision that planned the
    minute."""
    return service.allocation(plan_id, minute)


@router.post("/{plan_id}/actuals", response_model=schemas.PostedActuals, responses=ERRORS,
             summary="Post actuals and re-plan the rest of the session")
def post_actuals(plan_id: PlanId, body: schemas.PostActuals, service: Service,
                 horizon: Horizon = None) -> schemas.PostedActuals:
    """Stores the minutes' spend, paid GMV per package and organic GMV (yuan), then re-plans
    the remaining minutes against the remaining budget and the whole-session floors. Minutes
    come in order; a minute posted again with the same values is counted once (200, no new
    revision); with other values it is a 409 and nothing changes. A re-plan that cannot finish
    within the time budget answers with the last plan scaled to the remaining budget and says
    so in `revision.fallback`."""
    return service.post(plan_id, body, horizon)


@router.get("/{plan_id}/actuals", response_model=schemas.StoredActuals, responses=ERRORS,
            summary="Read the actuals stored so far")
def read_actuals(plan_id: PlanId, service: Service) -> schemas.StoredActuals:
    return service.actuals(plan_id)
