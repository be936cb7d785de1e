"""Request and response bodies of the API (pydantic), with the examples the OpenAPI schema shows.

Money is in yuan, spend rates in yuan per minute, minutes counted from the session's start
(minute 0 is `session.start`), timestamps local `YYYY-MM-DD HH:MM:SS` as in CONTRACT.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from optimizer.api import examples


def _whole_number(value: Any) -> Any:
    """`value` for a lax integer field, unless it is a string or a boolean (refused as strict
    fields refuse them): 7 and 7.0 are the same JSON number, "7" and true are not numbers."""
    if isinstance(value, str | bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


Yuan = Annotated[float, Field(ge=0, le=1e9, description="yuan")]
"""A JSON number of yuan (strict, as every request number: "12" and true are refused)."""
NO_NUL = r"^[^\x00]+$"  # no database stores a NUL character
Package = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
Minute = Annotated[int, Strict(False), BeforeValidator(_whole_number),
                   Field(ge=0, le=100_000, description="minute of the session, 0-based")]
"""A whole JSON number (7 or 7.0, as the schema's `integer` allows; "7" and true are refused)."""


class _In(BaseModel):
    """A request body: strict types (a number sent as a string is refused, never converted),
    no unknown keys, no NaN or infinity."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False)


class _Out(BaseModel):
    model_config = ConfigDict(allow_inf_nan=True)


# -- requests ---------------------------------------------------------------------------
class ModelChoice(_In):
    """A stored fitted model instead of fitting the history: a model artifact file (`spendplan
    fit`) inside the service's data folder, or one the service already holds by fingerprint."""

    path: Annotated[str, StringConstraints(min_length=1, max_length=4096,
                                           pattern=NO_NUL)] | None = None
    fingerprint: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ModelChoice:
        if (self.path is None) == (self.fingerprint is None):
            raise ValueError("give exactly one of path and fingerprint")
        return self


class CreatePlan(_In):
    """A plan for one live session.

    config: the campaign config of CONTRACT.md as JSON (history paths relative to the service's
    data folder). Without `model` the history is fitted (or a fit of the same data reused);
    with `model` the history is not read and `config.history` may be left out.
    """

    model_config = ConfigDict(json_schema_extra={"examples": [examples.CREATE_PLAN]})

    config: dict[str, Any]
    model: ModelChoice | None = None


class MinuteActuals(_In):
    """What happened in one minute. A package left out had no spend and no paid GMV."""

    minute: Minute
    spend: dict[Package, Yuan] = Field(default_factory=dict, description="yuan per package")
    paid_gmv: dict[Package, Yuan] = Field(default_factory=dict, description="yuan per package")
    organic_gmv: Yuan


class PostActuals(_In):
    """Actuals of one or more minutes, posted in order: minute 0 first, no minute skipped.
    A minute posted again with the same values is counted once; with other values it is a 409."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.POST_ACTUALS]})

    minutes: list[MinuteActuals] = Field(min_length=1, max_length=1440)


# -- responses --------------------------------------------------------------------------
class Fallback(_Out):
    """Why this revision is the last valid plan scaled to the remaining budget, not a re-plan."""

    reason: Literal["timeout", "infeasible", "error"]
    message: str


class Totals(_Out):
    """Session totals (yuan): actuals for minutes already posted, expectations for the rest.

    The expectations are the model's average day. A re-plan holds the floors and the GMV
    target with the rest at the level the day has shown so far (the revision's notes say so
    when that is 5% or more off), so on a day under the model `paid_roi` here reads above
    what the plan holds.
    """

    budget: float
    spent: float = Field(description="actual spend in the minutes posted")
    remaining_budget: float = Field(
        description="budget - spent, or 0 once spent is over the budget")
    planned_remaining_spend: float
    total_spend: float = Field(description="spent + planned_remaining_spend")
    expected_paid_gmv: float
    expected_organic_gmv: float = Field(description="baseline included")
    expected_total_gmv: float
    paid_roi: float | None
    overall_roi: float | None


class MinutePlan(_Out):
    """One minute of a plan: spend per package (yuan) and bidding guidance."""

    minute: int
    ts: str
    spend: dict[str, float]
    expected_paid_gmv: dict[str, float]
    marginal_roi: dict[str, float | None] = Field(
        description="marginal ROI threshold per package: session GMV (paid + organic) one more "
                    "yuan of the package's spend this minute brings at the plan (where the "
                    "plan spends nothing on it: per yuan of the least spend the rules allow); "
                    "traffic returning less is not worth buying")
    marginal_paid_roi: dict[str, float | None] = Field(
        description="the same for paid GMV only (a paid-ROI bid target)")


class RevisionInfo(_Out):
    """A revision of a plan: 0 is the plan before the session, each post of new actuals adds
    one that re-plans minutes [from_minute, end)."""

    number: int
    from_minute: int
    created_at: str
    status: str = Field(description=(
        "optimal | feasible (a time limit stopped the solver with a plan in hand) | fallback "
        "(the last plan scaled, see `fallback`) | complete (every minute has actuals)"))
    fallback: Fallback | None
    notes: str | None = Field(None, description=(
        "the planner's remarks on a planned revision, e.g. that the GMV so far runs 8% below "
        "the model and the floors are held with the rest of the session at that level"))
    solve_seconds: float
    budget_shadow_price: float | None = Field(None, description=(
        "objective yuan one more yuan of budget would bring (the budget's shadow price); "
        "null when unknown, as for a fallback"))
    totals: Totals


class Revision(RevisionInfo):
    """A revision with its allocation for minutes [from_minute, from_minute + horizon)."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.REVISION]})

    packages: list[str]
    allocation: list[MinutePlan]


class SessionInfo(_Out):
    start: str
    end: str
    minutes: int
    slot_minutes: int


class PlanInfo(_Out):
    """A plan: its session, packages and where it stands."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.PLAN]})

    id: str
    created_at: str
    room_id: str | None
    session: SessionInfo
    packages: list[str]
    budget: float
    model_fingerprint: str
    model_source: str
    minutes_posted: int = Field(description="actuals are stored for minutes [0, this)")
    latest_revision: RevisionInfo
    replanner_ready: bool = Field(
        False, description="whether re-plans can start at once: the re-planner is built (one "
        "solve of the session) in the background after the plan is created and after a "
        "restart; until then a post may fall back with reason timeout")


class CreatedPlan(PlanInfo):
    revision: Revision


class Revisions(_Out):
    plan_id: str
    revisions: list[RevisionInfo]


class Allocation(_Out):
    """The plan for one minute, from the revision in force at that minute."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ALLOCATION]})

    plan_id: str
    revision: int
    status: str
    fallback: Fallback | None
    posted: bool = Field(description="actuals for this minute are already stored")
    budget_shadow_price: float | None
    plan: MinutePlan


class PostedActuals(_Out):
    """The outcome of a post: which minutes were new, and the plan for the rest."""

    plan_id: str
    accepted: list[int] = Field(description="minutes stored by this post")
    duplicates: list[int] = Field(description="minutes already stored with the same values")
    minutes_posted: int
    replanned: bool = Field(description="whether this post made a new revision")
    revision: Revision


class StoredActuals(_Out):
    plan_id: str
    minutes: list[MinuteActuals]


class StoredModel(_Out):
    fingerprint: str
    packages: list[str]
    unfitted: dict[str, str]
    n_sessions: int
    session_minutes: int
    source: str
    created: bool = Field(description="stored by this request (false: it was there)")


class ErrorItem(_Out):
    field: str
    message: str


class Error(_Out):
    """Every error: a message and the request field it is about."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.ERROR]})

    detail: str
    field: str
    errors: list[ErrorItem]


class Health(_Out):
    status: Literal["ok"]


class Ready(_Out):
    status: Literal["ready", "not ready"]
    database: str
    schema_revision: str | None
    expected_revision: str
