"""The bidding-service HTTP API: plans, minute actuals and re-planning (FastAPI + SQLAlchemy).

`create_app(settings)` builds the app; `server.serve(...)` runs it under uvicorn. See README.md
in this folder for the endpoints, the rules and the module layout; `planning` is the only
module that calls `optimizer.planner`.
"""

from optimizer.api.app import create_app
from optimizer.api.settings import Settings

__all__ = ["Settings", "create_app"]
