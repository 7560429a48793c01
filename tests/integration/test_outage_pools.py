"""The online booking's asynchronous pools across a PostgreSQL restart, with the performance
layer on (``FairPool``) and off (asyncpg's own pool): 503 ``database-unavailable`` while the
server is down, a booking again once it is back, in the same app (no restart).

The app runs in-process on a private cluster (``tests.private_servers``); the booking is
unkeyed, so it runs on the loop's pool, not the synchronous engine."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.app import create_app
from backend.db import make_engine, make_session_factory
from backend.settings import Settings
from tests.booking_load import online_jobs, seed_schedules
from tests.desk_support import LOCAL
from tests.private_servers import PrivatePostgres, private_postgres


@dataclasses.dataclass
class Cluster:
    server: PrivatePostgres
    settings: Settings
    factory: sessionmaker[Session]


@pytest.fixture(scope="module")
def cluster(settings: Settings, run_id: str) -> Iterator[Cluster]:
    with private_postgres(f"cc_outage_pools_{run_id}") as (server, url):
        own = settings.model_copy(update={"database_url": url})
        engine = make_engine(own, pool_size=2)
        yield Cluster(server, own, make_session_factory(engine))
        engine.dispose()


@pytest.mark.parametrize("fast_path", [True, False], ids=["fair-pool", "asyncpg-pool"])
def test_the_online_booking_pool_comes_back_after_a_restart(
    cluster: Cluster, fast_path: bool, run_id: str
) -> None:
    schedules = seed_schedules(cluster.factory, cluster.settings, count=1, slots=20)
    first, second = online_jobs(cluster.factory, cluster.settings, schedules, 2)
    settings = cluster.settings.model_copy(
        update={
            "desk_fast_path": fast_path,
            "booking_redis_prefix": f"pools-{run_id}-{fast_path}:",
            "booking": dataclasses.replace(cluster.settings.booking, rate_limit_requests=10_000),
        }
    )
    app = create_app(settings)
    with TestClient(app, client=LOCAL) as client:
        booked = client.post(first.path, json=first.body, headers=first.headers)
        assert booked.status_code == 201, booked.text  # the pool holds a connection now
        cluster.server.stop()
        try:
            down = client.post(second.path, json=second.body, headers=second.headers)
            assert down.status_code == 503, down.text
            assert down.json()["error"] == "database-unavailable"
            assert down.headers["Retry-After"].isdigit()
        finally:
            cluster.server.start()
        started = time.monotonic()
        while (
            again := client.post(second.path, json=second.body, headers=second.headers)
        ).status_code == 503:
            assert time.monotonic() - started < 10, again.text
            time.sleep(0.2)
        assert again.status_code == 201, again.text
