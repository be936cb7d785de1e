"""Alembic migrations of the service's database (`alembic.ini` lives here too)."""
