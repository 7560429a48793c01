"""``agent_desk.errors.outage_of`` on what the real clients raise when nothing listens on
their server's port: each becomes the 503 of its server, through causes and exception
groups; anything else stays what it was."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import redis
from sqlalchemy import create_engine, text

from agent_desk.errors import DatabaseUnavailable, RedisDown, outage_of
from backend.errors import NotFound, ServiceUnavailable
from tests.conftest import free_port


def raised(action: object) -> BaseException:
    with pytest.raises(Exception) as caught:
        action()  # type: ignore[operator]
    return caught.value


def test_a_refused_database_is_database_unavailable_with_retry_after() -> None:
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")

    def query() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    outage = outage_of(raised(query))
    assert isinstance(outage, DatabaseUnavailable)
    assert outage.http_status == 503 and outage.code == "database-unavailable"
    assert outage.response_headers()["Retry-After"].isdigit()


def test_a_refused_asyncpg_connection_is_database_unavailable() -> None:
    # asyncpg raises the socket's own ConnectionRefusedError: the module names the server.
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/none"
    error = raised(lambda: asyncio.run(asyncpg.connect(url, timeout=5)))
    assert isinstance(error, OSError)
    assert isinstance(outage_of(error), DatabaseUnavailable)
    unknown = outage_of(ConnectionResetError("a socket of no known client"))
    assert isinstance(unknown, ServiceUnavailable) and unknown.code == "unavailable"


def test_a_refused_redis_is_redis_unavailable_even_inside_a_group() -> None:
    client = redis.Redis(port=free_port(), socket_connect_timeout=2)
    error = raised(client.ping)
    assert isinstance(outage_of(error), RedisDown)
    try:
        raise RuntimeError("the session look-up failed") from error
    except RuntimeError as wrapped:
        grouped = BaseExceptionGroup("a task group", [ValueError("other"), wrapped])
    outage = outage_of(grouped)
    assert outage is not None and outage.code == "redis-unavailable"


def test_other_errors_are_not_outages() -> None:
    assert outage_of(ValueError("a bug")) is None
    assert outage_of(NotFound("没有这个预约")) is None
