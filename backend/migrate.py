"""Alembic driven from code, so that every process migrates with its own settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from backend.settings import Settings, load_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation treats % specially; URLs may contain %-escapes.
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "heads") -> None:
    """Apply every migration. Several feature branches may exist; ``heads`` takes them all."""
    command.upgrade(alembic_config(settings), revision)


@contextmanager
def migrated_database(admin_url: str, name: str) -> Iterator[str]:
    """A new database ``name`` on the server of ``admin_url`` (a SQLAlchemy URL of a database
    that may create others), migrated to the newest schema and dropped on leaving, whatever
    happened inside: the tests' and the benches' scratch databases. Yields its URL."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(load_settings(database_url=url))
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
