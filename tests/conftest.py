"""Fixtures every test module may use: real PostgreSQL and Redis, fresh per test session.

Several test runs may share one machine (developers and CI), so each run gets its own database
and its own Redis key namespace; nothing a run leaves behind affects the next.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backend import migrate
from backend.db import make_engine, make_session_factory
from backend.settings import Settings, load_settings
from tests.sip.addresses import CARRIER_HOST
from tests.sip.processes import free_udp_port

# Every shared fixture module, declared once here (pytest allows it only in the root conftest).
pytest_plugins = [
    "tests.asterisk_fixtures",
    "tests.desk_browser",
    "tests.desk_support",
    "tests.desk_stack",
    "tests.softphone_support",
    "tests.sip_fixtures",
    "tests.controller_lines",  # imports the fixture modules above: after them
]

# The lines' DIDs and outbound caller IDs in the tests: not the settings' defaults, so that a
# number still written into code or config somewhere shows up as a failing call.
DID_114 = "01065114"
DID_HOTLINE = "01012393"
CALLER_ID_114 = "01065114000"
CALLER_ID_HOTLINE = "01012393000"

ADMIN_URL = os.environ.get(
    "CC_TEST_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


def migrated_database(name: str) -> AbstractContextManager[str]:
    """A new database ``name``, migrated to the newest schema, dropped on leaving."""
    return migrate.migrated_database(ADMIN_URL, name)


@pytest.fixture(scope="session")
def database_url(run_id: str) -> Iterator[str]:
    """The run's database."""
    with migrated_database(f"cc_test_{run_id}") as url:
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, run_id: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    state = tmp_path_factory.mktemp("state")
    return load_settings(
        environment="test",
        database_url=database_url,
        state_dir=state,
        asterisk_instance=f"test-{run_id}",
        ami_port=free_port(),
        sip_port=free_port(),
        agi_port=free_port(),
        desk_port=free_port(),
        controller_metrics_port=free_port(),
        worker_metrics_port=free_port(),
        asterisk_http_port=free_port(),
        **rtp_range(run_id),
        # Tests read the dialplan's steps in messages.log (tests/acceptance/test_log_privacy.py
        # shows the stack as deployed, without this trace).
        asterisk_verbose=3,
        # When the controller is down, the dialplan sends callers to this simulated agent.
        fallback_agents="Local/fallback@sim-agent",
        did_114=DID_114,
        did_hotline=DID_HOTLINE,
        caller_id_114=CALLER_ID_114,
        caller_id_hotline=CALLER_ID_HOTLINE,
        # The SIPp carrier (tests/sip_fixtures.py) answers outbound calls on this port; SIPp
        # callers come from other ports of the same address, so the identify matches the
        # whole address.
        carrier_host=CARRIER_HOST,
        carrier_port=free_udp_port(CARRIER_HOST),
        carrier_match=CARRIER_HOST,
    )


def rtp_range(run_id: str) -> dict[str, int]:
    """The run's own block of 200 RTP ports, so parallel runs' media never meet."""
    start = 20000 + (int(run_id, 16) % 200) * 200
    return {"rtp_port_start": start, "rtp_port_end": start + 199}


def free_port() -> int:
    """A loopback port nothing listens on now (each test run gets its own set)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture()
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture(scope="session")
def redis_namespace(run_id: str) -> str:
    return f"cc-test-{run_id}"


@pytest.fixture()
def redis_client(settings: Settings, redis_namespace: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(settings.redis_url, decode_responses=True)
    client.ping()
    yield client
    for key in client.scan_iter(f"{redis_namespace}*"):
        client.delete(key)
    client.close()
