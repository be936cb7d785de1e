"""Fixtures of the API tests: both databases, live servers on loopback, HTTP clients.

PostgreSQL runs when `SPENDPLAN_TEST_PG_URL` points at a reachable server (`.ci/postgres.sh
start` prints one); each test gets its own schema there. Without it the PostgreSQL leg is
skipped with the reason, unless `SPENDPLAN_REQUIRE_PG=1` (CI), where it fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import FakePlanner, LiveServer, make_data_dir
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from optimizer.api import Settings
from optimizer.api.settings import sqlite_url

PG_URL = os.environ.get("SPENDPLAN_TEST_PG_URL")
REQUIRE_PG = os.environ.get("SPENDPLAN_REQUIRE_PG") == "1"


def _pg_problem() -> str | None:
    """Why PostgreSQL cannot be used (None when it can)."""
    if not PG_URL:
        return "SPENDPLAN_TEST_PG_URL is not set (start one with `.ci/postgres.sh start`)"
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means: not reachable
        return f"PostgreSQL at {PG_URL} is not reachable ({type(error).__name__})"
    return None


PG_PROBLEM = _pg_problem()


def pg_schema_url() -> Iterator[str]:
    """A fresh schema in the test server, as a URL whose search_path is that schema."""
    if PG_PROBLEM:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required here (SPENDPLAN_REQUIRE_PG=1): {PG_PROBLEM}")
        pytest.skip(PG_PROBLEM)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> Iterator[str]:
    """An empty database of each kind."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "spendplan.db")
    else:
        yield from pg_schema_url()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """Simulated history and its fitted model (see `api_support.make_data_dir`)."""
    return make_data_dir(tmp_path_factory.mktemp("data"))


@pytest.fixture(autouse=True)
def _model_cache(tmp_path, monkeypatch) -> None:
    """Fits the service makes are cached in the test's folder, not the user's."""
    monkeypatch.setenv("SPENDPLAN_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def app_settings(db_url, data_dir) -> Settings:
    return Settings(db_url=db_url, data_dir=data_dir, replan_time_budget=0.5)


@pytest.fixture
def sqlite_settings(tmp_path, data_dir) -> Settings:
    """Settings on SQLite only, for tests about the planner rather than the database."""
    return Settings(db_url=sqlite_url(tmp_path / "spendplan.db"), data_dir=data_dir)


@pytest.fixture
def fake() -> FakePlanner:
    return FakePlanner()


@pytest.fixture
def server(app_settings, fake) -> Iterator[LiveServer]:
    """The app with the fake planner, under uvicorn on 127.0.0.1."""
    with LiveServer(app_settings, fake) as live:
        yield live


@pytest.fixture
def client(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http
