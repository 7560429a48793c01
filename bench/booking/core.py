"""The online booking without HTTP: its CPU per booking against PostgreSQL's, in one process.

bench/booking prints the web workers' CPU per HTTP booking against the PostgreSQL backends'.
This runs the same booking (``OnlineBooking.book``: the pool, asyncpg, the rules and the
receipt) from ``--tasks`` concurrent tasks on one event loop, with no HTTP, no ASGI and no
rate limit, and prints the same kind of figure: this process's CPU per booking as a share of
the PostgreSQL backends' CPU per booking, measured over the same seconds. The difference
between the two benches' shares is what serving a booking over HTTP costs. Makes and drops its
own database.

    .venv/bin/python -m bench.booking.core [--rounds 3] [--seconds 6] [--tasks 100]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from functools import partial

import uvloop

from agent_desk.performance.fair_pool import FairPool
from backend.booking.context import BookingContext
from backend.booking.online import OnlineBooking
from backend.booking.reservations import online_request
from backend.db import libpq_url
from backend.migrate import migrated_database
from backend.settings import Settings, load_settings
from bench.booking.cpu import CpuMeter, postgres_backends_of
from bench.booking.seed import ADMIN_URL, MOST_PER_SECOND, Seeded, seed

POOL_SIZE = 16  # as one web worker's (settings.desk_concurrency)


async def one_round(
    settings: Settings,
    dbname: str,
    seeded: Seeded,
    patients: Iterator[int],
    seconds: float,
    tasks: int,
) -> tuple[int, float, float]:
    """Bookings made, this process's CPU seconds and the backends' CPU seconds."""
    pool = FairPool(libpq_url(settings.database_url), size=POOL_SIZE, idle_seconds=60)
    online = OnlineBooking(pool, BookingContext.from_settings(settings))
    rng = random.Random(1)

    async def book_one() -> None:
        request_for = partial(
            online_request,
            patient_id=next(patients),
            schedule_id=rng.choice(seeded.http_sessions),
            source_ip="127.0.0.1",
        )
        await online.book(seeded.token, request_for)

    await asyncio.gather(*(book_one() for _ in range(POOL_SIZE)))  # connections, statements
    made = 0
    deadline = time.monotonic() + seconds

    async def client() -> None:
        nonlocal made
        while time.monotonic() < deadline:
            await book_one()
            made += 1

    meter = CpuMeter({"postgres": lambda: postgres_backends_of(dbname)})
    meter.start()
    started = time.process_time()
    await asyncio.gather(*(client() for _ in range(tasks)))
    own = time.process_time() - started
    split = meter.stop()
    await pool.close()
    return made, own, split.groups["postgres"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--tasks", type=int, default=100)
    args = parser.parse_args()

    dbname = f"cc_bench_core_{uuid.uuid4().hex[:8]}"
    shares = []
    with migrated_database(ADMIN_URL, dbname) as url:
        settings = load_settings(database_url=url)
        print(f"seeding {dbname} ...", flush=True)
        bookings = MOST_PER_SECOND * args.seconds * args.rounds
        seeded = seed(
            url,
            settings.data_key.get_secret_value(),
            bookings_per_side=bookings,
            http_patients=bookings + (POOL_SIZE + args.tasks) * args.rounds,
            pg_stride=1,
            pg_blocks=1,
        )
        patients = iter(seeded.http_patients)
        for number in range(1, args.rounds + 1):
            made, own, backends = uvloop.run(
                one_round(settings, dbname, seeded, patients, args.seconds, args.tasks)
            )
            shares.append(own / backends)
            print(
                f"round {number}: {made / args.seconds:7.1f} bookings/s, this process "
                f"{1000 * own / made:.3f} ms CPU per booking, PostgreSQL "
                f"{1000 * backends / made:.3f} ms; share {shares[-1]:.3f}",
                flush=True,
            )
    print(
        f"booking without HTTP: CPU per booking as a share of PostgreSQL's, median of "
        f"{len(shares)} rounds: {statistics.median(shares):.3f}  (bench/booking's web workers: "
        f"the same share with HTTP)"
    )


if __name__ == "__main__":
    main()
