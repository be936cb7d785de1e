"""`spendplan serve`: the API under uvicorn (one process; see `serve`)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from optimizer.api.app import create_app
from optimizer.api.settings import Settings, database_url
from optimizer.errors import InputError


def serve(host: str = "127.0.0.1", port: int = 8000, db: str | None = None,
          replan_budget_ms: float | None = None, max_body_bytes: int | None = None,
          data_dir: Path | None = None, log_level: str = "info") -> None:
    """Serve the API until stopped (Ctrl-C or SIGTERM finish the requests in flight).

    db: a SQLAlchemy URL, or a file path meaning SQLite (default `spendplan.db` here, created
    with its tables); replan_budget_ms: time a re-plan may take before the fallback (ms,
    default 500); data_dir: folder that history and model paths in requests are relative to
    (default: the current folder). `SPENDPLAN_*` variables set what is not given here.
    """
    settings = Settings.from_env(
        db_url=database_url(db) if db else None,
        replan_time_budget=replan_budget_ms / 1000 if replan_budget_ms else None,
        max_body_bytes=max_body_bytes, data_dir=data_dir)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run(build_app(settings), host=host, port=port, log_level=log_level,
                timeout_graceful_shutdown=10)


def build_app(settings: Settings) -> FastAPI:
    """`create_app`, with a bad or unreachable database as an `InputError` naming --db."""
    shown = make_url_safe(settings.db_url)
    try:
        return create_app(settings)
    except (ArgumentError, NoSuchModuleError) as error:
        raise InputError(f"{shown} is not a database URL this service can use ({error})",
                         where="--db", fix="give postgresql+psycopg://USER@HOST/DB or a "
                                           "SQLite file path") from None
    except OperationalError as error:
        raise InputError(f"cannot open the database {shown}: {error.orig}", where="--db",
                         fix="check that the server runs and the URL, user and password "
                             "are right") from None


def make_url_safe(url: str) -> str:
    """The URL with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def main(argv: list[str] | None = None) -> None:
    """`python -m optimizer.api.server --host H --port P --db URL`."""
    parser = argparse.ArgumentParser(description=serve.__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--replan-budget-ms", type=float, default=None)
    parser.add_argument("--max-body-bytes", type=int, default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.db, args.replan_budget_ms, args.max_body_bytes,
          args.data_dir, args.log_level)


if __name__ == "__main__":
    main()
