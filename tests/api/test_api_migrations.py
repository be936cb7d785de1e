"""Alembic migrations: shipped inside the package, upgrade and downgrade on both databases, and
the newest schema is exactly the tables the service uses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from optimizer.api import db
from optimizer.api.tables import metadata


def test_alembic_ini_is_inside_the_package():
    assert (db.MIGRATIONS / "alembic.ini").is_file()
    assert db.MIGRATIONS.parent.name == "api"
    assert db.head_revision() == "0001"


def test_upgrade_gives_exactly_the_service_tables(db_url):
    engine = db.make_engine(db_url)
    try:
        assert db.current_revision(engine) is None
        db.upgrade(engine)
        db.upgrade(engine)  # again: nothing to do
        assert db.current_revision(engine) == db.head_revision()
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_leaves_no_tables(db_url):
    from alembic import command

    engine = db.make_engine(db_url)
    db.upgrade(engine)
    config = db.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert tables == set()
