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
    # Data migrations that encrypt what was stored in clear build their cipher from these
    # (0601_totp_secret_enc); a migration never reads the environment itself.
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "heads") -> None:
    """Apply every migration. Several feature branches may exist; ``heads`` takes them all."""
    command.upgrade(alembic_config(settings), revision)


@contextmanager
def scratch_database(admin_url: str, name: str, *, keep: bool = False) -> Iterator[str]:
    """A new, empty database ``name`` on the server of ``admin_url`` (a SQLAlchemy URL of a
    database that may create others), dropped on leaving whatever happened inside, unless
    ``keep``. One of that name left by an earlier run (a bench's ``--keep``) is replaced.
    Yields its URL: the tests' and the benches' scratch databases."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    drop = text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    try:
        with admin.connect() as conn:
            conn.execute(drop)
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.rsplit("/", 1)[0] + "/" + name
        finally:
            if not keep:
                with admin.connect() as conn:
                    conn.execute(drop)
    finally:
        admin.dispose()


@contextmanager
def migrated_database(admin_url: str, name: str, *, keep: bool = False) -> Iterator[str]:
    """``scratch_database``, migrated to the newest schema."""
    with scratch_database(admin_url, name, keep=keep) as url:
        upgrade(load_settings(database_url=url))
        yield url
