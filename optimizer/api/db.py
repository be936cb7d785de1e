"""Database engines and schema migrations.

SQLite (the default, a file needing no set-up) runs in WAL mode with full fsync, foreign keys
on and a busy timeout; SQLAlchemy emits BEGIN itself so a writing transaction can take the
write lock up front (`BEGIN IMMEDIATE`, see `writing`). PostgreSQL is used as it is. Migrations
are Alembic's, with `alembic.ini` shipped inside the package, so they run from an installed
package: `upgrade(url)`.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_MS = 30_000


def make_engine(url: str) -> Engine:
    """An engine for `url` with the settings above (SQLite folders are created)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000,
                                              "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (see _begin)
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                       f"busy_timeout={SQLITE_BUSY_MS}"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get("single_read", False):
            return  # one SELECT reads a consistent snapshot by itself
        connection.exec_driver_sql("BEGIN IMMEDIATE" if options.get("sqlite_immediate", False)
                                   else "BEGIN")

    return engine


def single_read(connection: Connection) -> Connection:
    """`connection` set for one SELECT outside any transaction (no BEGIN / ROLLBACK round
    trips); use it only for reads of one statement."""
    if connection.dialect.name == "sqlite":
        return connection.execution_options(single_read=True)
    return connection.execution_options(isolation_level="AUTOCOMMIT")


def writing(connection: Connection) -> Connection:
    """`connection` set to take SQLite's write lock when its transaction begins."""
    return connection.execution_options(sqlite_immediate=True)


def alembic_config(url: str) -> Config:
    """The packaged Alembic config pointed at `url`."""
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest schema)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def head_revision() -> str:
    """The newest migration's id."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None before the first)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
