"""Plans over their session: create one, take actuals and re-plan (reads: `reads`).

Posts on one plan are serialised in this process (a lock per plan) and across processes by the
database (`store.commit_post` checks the plan's version under a row lock; a post that lost the
race reads again and retries). A re-plan runs within the time budget (`runner`); when it cannot
finish, is infeasible or fails, the answer is the last plan scaled to the remaining budget,
flagged as a fallback. Built re-planners and decoded revisions are cached in memory and rebuilt
from the database after a restart.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, Row
from sqlalchemy.exc import IntegrityError

from optimizer import pipeline
from optimizer.api import actuals as posts
from optimizer.api import schemas, store, views
from optimizer.api.campaign import (
    Campaign,
    from_history,
    from_model,
    model_file,
    parse_artifact,
    parse_config,
)
from optimizer.api.context import Context, Lru
from optimizer.api.db import writing
from optimizer.api.errors import Conflict, Invalid
from optimizer.api.metrics import Metrics
from optimizer.api.planning import (
    Actuals,
    Planner,
    Solved,
    complete,
    config_field,
    fallback,
)
from optimizer.api.reads import PlanReader
from optimizer.api.runner import Runner, TimedOut
from optimizer.api.settings import Settings
from optimizer.curves import from_artifact
from optimizer.errors import InputError

log = logging.getLogger("optimizer.api")
RETRIES = 5
ANSWER_SECONDS = 0.05
"""Seconds of the re-plan budget kept for what follows a re-plan stopped for time: scaling the
last plan, storing the revision and sending the answer (10-15 ms on SQLite, 2 idle cores; up
to 40 ms with both busy). At most a quarter of the budget."""


class PlanService(PlanReader):
    """What the routes call; every method answers in `schemas` types or raises `ApiError`."""

    def __init__(self, settings: Settings, engine: Engine, planner: Planner,
                 metrics: Metrics) -> None:
        super().__init__(engine)
        self.settings = settings
        self.planner = planner
        self.metrics = metrics
        self.runner = Runner(workers=4)
        self._warming = ThreadPoolExecutor(max_workers=1, thread_name_prefix="warm")
        self._contexts = Lru(settings.replanner_cache)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def close(self) -> None:
        self.runner.close()
        self._warming.shutdown(wait=False, cancel_futures=True)

    def warm_unfinished(self) -> None:
        """Build, in the background, the re-planners of the newest plans whose session still
        has minutes without actuals (after a restart the first post then needs no build)."""
        with self.engine.connect() as conn:
            rows = store.unfinished_plans(conn, self.settings.replanner_cache)
        for row in rows:
            self._warm(lambda row=row: self._context(row))

    def _warm(self, context: Context | Callable[[], Context]) -> None:
        self._warming.submit(self._build_replanner, context)

    @staticmethod
    def _build_replanner(context: Context | Callable[[], Context]) -> None:
        try:
            (context if isinstance(context, Context) else context()).warm()
        except Exception:  # noqa: BLE001 - a later post builds it again and reports it
            log.exception("building a re-planner failed")

    # -- creating -----------------------------------------------------------------------
    def create(self, body: schemas.CreatePlan) -> schemas.CreatedPlan:
        """Check the config, get its model, solve the session and store plan and revision 0."""
        campaign = self._campaign(body)
        context = self._new_context(campaign)
        solved = self._first_solve(context)
        plan_id = uuid.uuid4().hex
        config = campaign.config
        values = {"id": plan_id, "room_id": config.room_id,
                  "session_start": config.session.start, "minutes": config.session.minutes,
                  "packages": json.dumps(list(campaign.packages)),
                  "config": json.dumps(body.config), "base_dir": str(self.settings.data_dir),
                  "model_fingerprint": campaign.artifact.fingerprint,
                  "model_source": campaign.model_source, "budget": config.budget}
        first = store.revision_values(plan_id, 0, solved, views.summary(solved, config.budget))
        with writing(self.engine.connect()) as conn, conn.begin():
            store.add_model(conn, campaign.artifact.fingerprint,
                            campaign.artifact.model_dump_json(), campaign.model_source)
            store.add_plan(conn, values, first)
        self._contexts.get(plan_id, lambda: context)
        self._warm(context)  # in the background: the answer does not wait for a second solve
        self.metrics.plans.inc()
        with self.engine.connect() as conn:
            plan = self._plan_row(conn, plan_id)
            row, solved = self._revision(conn, plan_id, 0)
        info = views.plan_info(plan, row)
        return schemas.CreatedPlan(**info, replanner_ready=context.ready,
                                   revision=views.revision(row, solved, info["packages"],
                                                           plan.session_start))

    def plan(self, plan_id: str) -> schemas.PlanInfo:
        info = super().plan(plan_id)
        context = self._contexts.peek(plan_id)
        return info.model_copy(update={"replanner_ready": bool(context and context.ready)})

    def _campaign(self, body: schemas.CreatePlan) -> Campaign:
        data_dir = self.settings.data_dir
        if body.model is None:
            return from_history(parse_config(body.config, data_dir, history=True), data_dir)
        config = parse_config(body.config, data_dir, history=False)
        if body.model.path is not None:
            return from_model(config, model_file(body.model.path, data_dir),
                              f"model file {body.model.path}")
        with self.engine.connect() as conn:
            row = store.model(conn, body.model.fingerprint)
        if row is None:
            raise Invalid(f"no stored model has fingerprint {body.model.fingerprint}; upload it "
                          "to /v1/models or give model.path", "model.fingerprint")
        return from_model(config, parse_artifact(row.artifact), row.source)

    def _first_solve(self, context: Context) -> Solved:
        limit = self.settings.solve_time_limit

        def solve(_deadline: float) -> Solved:  # the problem's time limit bounds it
            return self.planner.solve(self.planner.problem(context.campaign, context.response,
                                                           limit))

        try:
            solved = self.runner.run("create", solve, time.perf_counter() + limit + 30)
        except TimedOut:
            raise Invalid(f"the planner found no plan within {limit:g} s; simplify the "
                          "session (e.g. a larger session.slot_minutes)", "config") from None
        except InputError as error:
            raise Invalid(error.message, config_field(error.where)) from None
        if not solved.valid:
            message = solved.message or "no plan meets every requirement"
            raise Invalid(f"infeasible: {message}", infeasible_field(message))
        return _with_session_notes(solved, context.campaign)

    def _new_context(self, campaign: Campaign) -> Context:
        return Context(campaign, self.planner, self.settings.solve_time_limit,
                       self._replan_seconds() * 0.8)

    def _replan_seconds(self) -> float:
        """Seconds from the start of a post that its re-plan may run: the budget less what
        a fallback answer after it takes (`ANSWER_SECONDS`)."""
        budget = self.settings.replan_time_budget
        return budget - min(ANSWER_SECONDS, budget / 4)

    # -- actuals ------------------------------------------------------------------------
    def post(self, plan_id: str, body: schemas.PostActuals,
             horizon: int | None) -> schemas.PostedActuals:
        """Store new minutes of actuals and re-plan the rest of the session (see module)."""
        lock = self._lock(plan_id)
        if not lock.acquire(timeout=self.settings.lock_timeout):
            raise Conflict("another post on this plan is still being handled; post again",
                           "plan_id")
        try:
            for _ in range(RETRIES):
                answer = self._try_post(plan_id, body, horizon)
                if answer is not None:
                    return answer
            raise Conflict("the plan kept changing under this post; post again", "plan_id")
        finally:
            lock.release()

    def _try_post(self, plan_id: str, body: schemas.PostActuals,
                  horizon: int | None) -> schemas.PostedActuals | None:
        started = time.perf_counter()
        with self.engine.connect() as conn:
            plan = self._plan_row(conn, plan_id)
            stored = store.actual_rows(conn, plan_id)
            latest_row, latest = self._revision(conn, plan_id, plan.latest_revision)
        packages = json.loads(plan.packages)
        parsed = posts.parse(body.minutes, packages, plan.minutes)
        split = posts.sort_out(parsed, stored, packages)
        self.metrics.minutes.labels("repeat").inc(len(split.repeats))
        if not split.new:
            return self._posted(plan, latest_row, latest, [], split.repeats, False, horizon)
        actuals = _merge(store.actuals_of(stored, len(packages)), split.new)
        solved = self._replan(plan, actuals, latest, started + self._replan_seconds())
        number = plan.latest_revision + 1
        row = store.revision_values(plan_id, number, solved, views.summary(solved, plan.budget))
        moment = store.now()
        new_rows = [m.row(plan_id, number, moment) for m in split.new]
        try:
            with writing(self.engine.connect()) as conn, conn.begin():
                store.commit_post(conn, plan_id, plan.version, new_rows, row, actuals.minute)
        except (store.Stale, IntegrityError):
            self.metrics.retries.inc()
            return None
        self.metrics.replan.observe(time.perf_counter() - started)
        self.metrics.minutes.labels("new").inc(len(split.new))
        with self.engine.connect() as conn:
            plan = self._plan_row(conn, plan_id)
            new_row, new = self._revision(conn, plan_id, number)
        return self._posted(plan, new_row, new, [m.minute for m in split.new], split.repeats,
                            True, horizon)

    def _posted(self, plan: Row, row: Row, solved: Solved, accepted: list[int],
                repeats: list[int], replanned: bool, horizon: int | None
                ) -> schemas.PostedActuals:
        return schemas.PostedActuals(
            plan_id=plan.id, accepted=accepted, duplicates=repeats,
            minutes_posted=plan.minutes_posted, replanned=replanned,
            revision=views.revision(row, solved, json.loads(plan.packages),
                                    plan.session_start, horizon))

    def _replan(self, plan: Row, actuals: Actuals, latest: Solved, deadline: float) -> Solved:
        """A re-plan from `actuals.minute` stopped at `deadline` (time.perf_counter seconds),
        or the fallback (see module)."""
        if actuals.minute >= plan.minutes:
            return complete(actuals, latest)
        context = self._context(plan)
        try:
            solved = self.runner.run(plan.id, partial(context.replan, actuals), deadline)
            if solved.valid:
                return _with_session_notes(solved, context.campaign)
            reason = solved.fallback or "infeasible"
            message = f"the re-plan found no plan: {solved.message}"
        except TimedOut as error:
            reason, message = "timeout", (f"{error} (the server's --replan-budget-ms, "
                                          f"{self.settings.replan_time_budget * 1000:.0f} ms)")
        except Exception as error:  # noqa: BLE001 - a failed re-plan must not lose the minute
            log.exception("re-plan of plan %s at minute %d failed", plan.id, actuals.minute)
            reason, message = "error", f"the re-plan failed ({type(error).__name__}: {error})"
        self.metrics.fallbacks.labels(reason).inc()
        return fallback(latest, actuals, plan.budget, context.limits, context.response, reason,
                        f"{message}; the last plan is scaled to the remaining budget")

    def _context(self, plan: Row) -> Context:
        def restore() -> Context:
            with self.engine.connect() as conn:
                model = store.model(conn, plan.model_fingerprint)
            config = parse_config(json.loads(plan.config), Path(plan.base_dir), history=False)
            artifact = parse_artifact(model.artifact)
            campaign = Campaign(config, from_artifact(artifact), artifact, plan.model_source,
                                tuple(json.loads(plan.packages)))
            return self._new_context(campaign)

        return self._contexts.get(plan.id, restore)

    def _lock(self, plan_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(plan_id, threading.Lock())


def _with_session_notes(solved: Solved, campaign: Campaign) -> Solved:
    """`solved` with what the fit behind it warns about the session (`session_warnings`) in its
    notes: every planned revision says it, as `spendplan plan` says it in its summary."""
    notes = pipeline.session_warnings(campaign.as_pipeline(), campaign.model)
    if not notes:
        return solved
    return replace(solved, message="; ".join(m for m in (solved.message, *notes) if m))


def _merge(stored: Actuals, new: list[posts.Minute]) -> Actuals:
    """The stored actuals with the new minutes after them."""
    return Actuals(
        spend=np.vstack([stored.spend, *[m.spend[None] for m in new]]),
        paid_gmv=np.vstack([stored.paid_gmv, *[m.paid_gmv[None] for m in new]]),
        organic_gmv=np.concatenate([stored.organic_gmv, [m.organic_gmv for m in new]]))


def infeasible_field(message: str) -> str:
    """The config key an infeasibility message is about (best guess from its words)."""
    text = message.lower()
    for words, field in ((("overall",), "config.roi.overall_min"),
                         (("paid roi", "paid_min"), "config.roi.paid_min"),
                         (("target", "gmv_target"), "config.gmv_target"),
                         (("min_spend_when_active",), "config.packages"),
                         (("budget",), "config.budget")):
        if any(word in text for word in words):
            return field
    return "config"
