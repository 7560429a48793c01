"""Engine and session factory, built from settings in a composition root."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from backend.errors import ConfigError
from backend.settings import Settings


def make_engine(settings: Settings, *, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    return create_engine(
        settings.database_url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        # A database error's message would carry the statement's values (names, numbers)
        # into the log that reports it.
        hide_parameters=True,
        future=True,
    )


def libpq_url(database_url: str) -> str:
    """``database_url`` (SQLAlchemy's, naming its driver) as libpq and asyncpg take it."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


def check_database(engine: Engine) -> None:
    """Fail with one line naming CC_DATABASE_URL when the database cannot be reached."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise ConfigError("database_url", f"cannot connect: {_first_line(exc)}") from None


def ensure_database(settings: Settings) -> bool:
    """Create the settings' database when its server is reachable but it does not exist yet
    (a fresh single-machine install). Returns True when it created it."""
    url = make_url(settings.database_url)
    name = url.database or ""
    engine = create_engine(url, pool_pre_ping=False)
    try:
        with engine.connect():
            return False
    except OperationalError as exc:
        if f'database "{name}" does not exist' not in str(exc.orig):
            raise ConfigError("database_url", f"cannot connect: {_first_line(exc)}") from None
    finally:
        engine.dispose()
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except (OperationalError, ProgrammingError) as exc:
        raise ConfigError(
            "database_url", f"cannot create database {name}: {_first_line(exc)}"
        ) from None
    finally:
        admin.dispose()
    return True


def _first_line(exc: OperationalError | ProgrammingError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        yield session
