"""spendplan: ad-spend planning for live-stream rooms, as a Python API.

The job, one function a step (money in yuan, spend in yuan per minute, times in minutes)::

    import optimizer as sp

    campaign = sp.load_campaign("configs/demo.yaml")  # config + checked history
    model = sp.fit_campaign(campaign)                 # response curves (statsmodels)
    plan = sp.plan_campaign(campaign, model)          # Plan: spend (T, P), exact GMV, prices
    forecast, intervals = sp.evaluate_campaign(campaign, model, plan.spend)
    spread = sp.schedule_spread(campaign, model, plan.spend)  # draws: intervals, chances
    replanner = sp.Replanner(sp.planning_problem(campaign, model))
    replanner.replan(minute, spend_so_far, paid_so_far, organic_so_far)

Simulate a room with known truth (`Scenario`, `LiveRoomSimulator`, `write_simulation`), back-test
forecasts and plans on history (`backtest`, `plot_backtest`), and run spend policies through
noisy simulated sessions (`standard_policies`, `simulate_policies`, `distribution`).

Names are imported on first use, so `import optimizer` (and the CLI) starts fast.
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "optimizer.pipeline": ("Campaign", "load_campaign", "fit_campaign", "campaign_model",
                           "session_response", "planning_problem", "plan_campaign",
                           "evaluate_campaign", "forecast_campaign", "schedule_spread",
                           "config_chances"),
    "optimizer.spread": ("Spread",),
    "optimizer.data": ("CampaignConfig", "History", "Panel", "load_config", "load_history"),
    "optimizer.data.summary": ("history_summary",),
    "optimizer.curves": ("FitOptions", "ResponseModel", "SessionResponse", "load_model",
                         "save_model", "to_artifact", "from_artifact"),
    "optimizer.curves.report": ("fit_summary", "organic_summary", "plot_curves"),
    "optimizer.planner": ("PlanningProblem", "Pacing", "PlatformRules", "Plan", "Infeasibility",
                          "Replanner", "solve", "evaluate_schedule", "write_plan_outputs"),
    "optimizer.planner.outputs": ("draw_plan",),
    "optimizer.sim": ("Scenario", "LiveRoomSimulator", "write_simulation"),
    "optimizer.sim.backtest": ("backtest", "forecast_backtest"),
    "optimizer.sim.backtest_report": ("forecast_summary", "uplift_summary", "plot_backtest"),
    "optimizer.sim.closed_loop": ("simulate_policies", "distribution", "plot_runs",
                                  "run_session", "EvenPacing", "StaticSchedule"),
    "optimizer.sim.policies": ("standard_policies", "Replanning", "NoPlan"),
    "optimizer.errors": ("InputError",),
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str):
    """Import a public name from its stage's module on first use (PEP 562)."""
    if name == "__version__":  # the installed distribution's, from its metadata
        from importlib.metadata import version

        return version("spendplan")
    if name not in _HOME:
        raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
    value = getattr(import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
