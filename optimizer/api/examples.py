"""Example bodies shown in the OpenAPI schema (the shipped demo room, yuan and minutes)."""

from __future__ import annotations

PACKAGES = ["fans", "lookalike", "competitor", "interest", "retarget", "auto"]

CONFIG = {
    "room_id": "demo_room",
    "history": {"spend": "data/demo/spend.csv", "room": "data/demo/room.csv"},
    "session": {"start": "2026-12-01 19:00", "end": "2026-12-01 23:00", "slot_minutes": 1},
    "budget": 80000,
    "objective": "max_gmv",
    "roi": {"paid_min": 2.0},
    "packages": {"retarget": {"max_spend_per_minute": 150}},
}

CREATE_PLAN = {"config": CONFIG, "model": {"path": "models/demo.json"}}

POST_ACTUALS = {"minutes": [{
    "minute": 0,
    "spend": {"fans": 40.0, "lookalike": 95.5, "competitor": 60.0, "interest": 35.0,
              "retarget": 20.0, "auto": 110.0},
    "paid_gmv": {"fans": 180.0, "lookalike": 240.0, "competitor": 90.0, "interest": 0.0,
                 "retarget": 120.0, "auto": 310.0},
    "organic_gmv": 162.0,
}]}

MINUTE = {
    "minute": 1, "ts": "2026-12-01 19:01:00",
    "spend": {"fans": 42.1, "lookalike": 97.0, "competitor": 61.3, "interest": 36.2,
              "retarget": 21.0, "auto": 112.4},
    "expected_paid_gmv": {"fans": 150.2, "lookalike": 201.7, "competitor": 95.1,
                          "interest": 48.3, "retarget": 77.0, "auto": 265.9},
    "marginal_roi": {"fans": 2.79, "lookalike": 2.81, "competitor": 2.81, "interest": 2.80,
                     "retarget": 2.76, "auto": 2.81},
    "marginal_paid_roi": {"fans": 3.31, "lookalike": 1.74, "competitor": 2.85,
                          "interest": 2.47, "retarget": 3.74, "auto": 1.53},
}

TOTALS = {"budget": 80000.0, "spent": 320.5, "remaining_budget": 79679.5,
          "planned_remaining_spend": 79679.5, "total_spend": 80000.0,
          "expected_paid_gmv": 241000.0, "expected_organic_gmv": 98000.0,
          "expected_total_gmv": 339000.0, "paid_roi": 3.01, "overall_roi": 4.24}

REVISION_INFO = {"number": 1, "from_minute": 1, "created_at": "2026-12-01T11:01:02+00:00",
                 "status": "optimal", "fallback": None, "solve_seconds": 0.12,
                 "budget_shadow_price": 0.85, "totals": TOTALS}

REVISION = {**REVISION_INFO, "packages": PACKAGES, "allocation": [MINUTE]}

PLAN = {"id": "5f0c3b4e9a1d4c7f8e2b6a0d1c3e5f7a", "created_at": "2026-12-01T10:58:00+00:00",
        "room_id": "demo_room",
        "session": {"start": "2026-12-01 19:00:00", "end": "2026-12-01 23:00:00",
                    "minutes": 240, "slot_minutes": 1},
        "packages": PACKAGES, "budget": 80000.0, "model_fingerprint": "9e07b0f2" + "0" * 56,
        "model_source": "model file models/demo.json", "minutes_posted": 1,
        "latest_revision": REVISION_INFO, "replanner_ready": True}

ALLOCATION = {"plan_id": PLAN["id"], "revision": 1, "status": "optimal", "fallback": None,
              "posted": False, "budget_shadow_price": 0.85, "plan": MINUTE}

ERROR = {"detail": "minute 5 was posted with other values (spend.fans 40.0, not 41.0)",
         "field": "minutes[0].spend.fans",
         "errors": [{"field": "minutes[0].spend.fans",
                     "message": "minute 5 was posted with other values"}]}
