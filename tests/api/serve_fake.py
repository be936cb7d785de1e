"""Run the service with the tests' fake planner, as its own process (for restart tests).

Same options as `python -m optimizer.api.server`; not a test module.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from api_support import FakePlanner

from optimizer.api import Settings, create_app
from optimizer.api.settings import database_url

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--db", required=True)
parser.add_argument("--data-dir", type=Path, required=True)
parser.add_argument("--log-level", default="warning")
parser.add_argument("--replan-budget-ms", type=float, default=500)
args = parser.parse_args()
settings = Settings(db_url=database_url(args.db), data_dir=args.data_dir,
                    replan_time_budget=args.replan_budget_ms / 1000)
uvicorn.run(create_app(settings, FakePlanner()), host=args.host, port=args.port,
            log_level=args.log_level)
