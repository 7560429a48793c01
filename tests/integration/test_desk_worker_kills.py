"""A desk worker ``kill -9``'d every 2 s while 200 clients make online and desk bookings,
each retried with its ``Idempotency-Key`` after a lost answer: every acknowledged booking is
in the database exactly once, no job is booked twice, no slot is oversold.

The desk runs as ``callcenter desk`` does in production, in several uvicorn workers under its
supervisor, which starts a new worker for each one killed; the listening socket stays with
the supervisor, so a client meets a reset connection (its request died with the worker) or
waits in the backlog, never a refused one.

Every 2 s the killer takes a worker that is serving (not one still starting: on a busy machine
a new worker takes longer than 2 s to import the app, and killing it then would test nothing
but the backlog)."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.orm import Session, sessionmaker

from backend.models.users import Role
from backend.settings import Settings
from tests.booking_load import (
    LOST,
    Job,
    Outcome,
    alternating,
    check_bookings,
    desk_jobs,
    login_cookie,
    online_jobs,
    run_jobs,
    seed_schedules,
)
from tests.desk_process import answers, running_desk, serving_workers
from tests.desk_support import make_user

CLIENTS = 200
WORKERS = 2
KILL_EVERY = 2.0
KILLS = 3
MOST_SECONDS = 120.0  # new jobs for at most this long (the kills end them sooner)


async def kill_workers(proc: subprocess.Popen[bytes], database_port: int) -> None:
    """SIGKILL a serving worker every ``KILL_EVERY`` seconds, ``KILLS`` times."""
    killed = 0
    while killed < KILLS:
        await asyncio.sleep(KILL_EVERY)
        serving = serving_workers(proc.pid, database_port)
        if serving:
            os.kill(random.choice(serving), signal.SIGKILL)
            killed += 1


def until(done: asyncio.Future[None], jobs: Iterator[Job]) -> Iterator[Job]:
    """The jobs, until ``done``."""
    return itertools.takewhile(lambda _: not done.done(), jobs)


def test_workers_killed_under_200_clients_lose_and_double_no_booking(
    settings: Settings, session_factory: sessionmaker[Session], run_id: str, tmp_path: Path
) -> None:
    # Fewer slots than jobs on each side: the last jobs are refused, so overselling would show.
    schedules = seed_schedules(session_factory, settings, count=2, slots=40)
    agents = [make_user(session_factory, Role.AGENT) for _ in range(4)]
    online = online_jobs(session_factory, settings, schedules, 50)
    name = f"kills-{run_id}"
    with running_desk(
        settings.database_url, settings.redis_url, tmp_path, name, workers=WORKERS
    ) as (base, proc):
        cookies = [login_cookie(base, a.username, a.password) for a in agents]
        jobs = alternating(online, desk_jobs(schedules, cookies))
        database_port = make_url(settings.database_url).port or 5432

        async def under_kills() -> list[Outcome]:
            # New jobs until the last kill; then the jobs in hand are seen through.
            kills = asyncio.ensure_future(kill_workers(proc, database_port))
            load = run_jobs(base, until(kills, jobs), clients=CLIENTS, seconds=MOST_SECONDS,
                            pause=0.2, think=1.0)  # fmt: skip
            outcomes = await load
            assert kills.done(), "the load ran out of time before the kills were done"
            return outcomes

        outcomes = asyncio.run(under_kills())
        port = int(base.rsplit(":", 1)[1])
        assert proc.poll() is None and answers(port), "the supervisor did not keep the desk up"
    statuses = [a.status for o in outcomes for a in o.attempts]
    assert LOST in statuses, "no request died with a worker: the kills missed the load"
    assert not [s for s in statuses if s >= 500 and s != 503], statuses
    assert all(o.status not in (LOST, 503) for o in outcomes), "a job was never answered"
    acknowledged = [o for o in outcomes if o.acknowledged]
    refused = [o for o in outcomes if not o.acknowledged]
    assert acknowledged and refused  # the sessions filled up
    check_bookings(session_factory, schedules, outcomes)
