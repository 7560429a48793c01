"""Bench: the HTTP booking endpoint at 200 concurrent clients against pgbench running the same
booking SQL transaction on the same database, in the same run.

The pgbench script is made from the very statements the service runs
(``backend/booking/booking_sql.py``, driven by ``reservations.book_for_account_steps``): the
token check, the patient lock, the session facts, the history the rules read, the slot taken
with the booking, event and audit rows written, and the receipt read back; pgbench runs them
with prepared statements. The desk app is served by ``callcenter desk`` itself
(``CC_DESK_WORKERS=2``: uvicorn with the desk's HTTP protocol in two worker processes;
``CC_DESK_ACCESS_LOG=false``) and driven by wrk in the closed loop (``closed_loop.py``: a C
client, as pgbench is) and by ``load.py`` (raw asyncio HTTP/1.1) in the paced phase:

1. ``--rounds`` rounds, each pgbench for ``--seconds`` and the HTTP endpoint in a closed
   loop (200 clients sending back to back) for as long, the two going first in turn: the
   ratio of the booking throughputs, the median over the rounds, is the figure (target
   >= 0.5). Taking turns, because this machine is shared and its speed drifts by a third
   between minutes;
2. ``--paced-chunks`` chunks, each pgbench for ``--seconds`` and then 200 HTTP clients paced
   at half the throughput pgbench just had (the throughput the target asks for, as the
   machine runs at that moment): the p99 latency over all chunks, each request's counted
   from when it was due (target < 250 ms).

Each round also prints where the CPU went (``cpu.py``, from /proc): the whole machine's per
pgbench transaction and per HTTP booking (on two busy cores their quotient is the ratio), and
the HTTP side's split between the web workers, PostgreSQL, wrk and Redis.

Why two phases: with 200 clients in a closed loop every request waits behind the other 199,
so latency is 200 / throughput by Little's law (pgbench's own transaction would show about
400 ms at 200 clients on this 2-core machine); the latency of the endpoint is measured at a
stated load. Makes and drops its own database. Usage:

    .venv/bin/python -m bench.booking.run [--clients 200] [--seconds 8] [--rounds 5]
        [--standard-path]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field

import uvloop
from sqlalchemy import create_engine, func, select, text

from backend.migrate import migrated_database
from backend.models.booking import Booking
from backend.settings import load_settings
from bench.booking.closed_loop import ClosedLoopResult, run_wrk
from bench.booking.cpu import CpuMeter, CpuSplit, children_of, postgres_backends_of, redis_servers
from bench.booking.load import run_load
from bench.booking.pgbench import run_pgbench
from bench.booking.report import (
    Outcome,
    PacedChunk,
    Round,
    report_chunks,
    report_figures,
    report_rounds,
)
from bench.booking.seed import ADMIN_URL, MOST_PER_SECOND, Seeded, seed
from bench.booking.server import booking_requests, free_port, start_app, wait_ready


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=8, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=5, help="pgbench/HTTP pairs")
    parser.add_argument("--paced-chunks", type=int, default=4, help="pgbench/paced HTTP pairs")
    parser.add_argument("--pg-clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--paced-fraction", type=float, default=0.5, help="paced rate, as a share of pgbench's"
    )
    parser.add_argument(
        "--standard-path",
        action="store_true",
        help="serve with CC_DESK_FAST_PATH=false (the desk without its performance layer)",
    )
    return parser.parse_args()


@dataclass
class Bench:
    """One run's phases against the served desk (port ``port``, process ``server``)."""

    args: argparse.Namespace
    dbname: str
    seeded: Seeded
    port: int
    server: int
    _pg_runs: itertools.count[int] = field(default_factory=itertools.count)

    def __post_init__(self) -> None:
        self.patients = iter(self.seeded.http_patients)
        self.requests = booking_requests(
            self.port, self.seeded.token, self.patients, self.seeded.http_sessions
        )
        self.pgbench_meter = CpuMeter({})
        self.http_meter = CpuMeter(
            {
                "web": lambda: children_of(self.server),
                "postgres": lambda: postgres_backends_of(self.dbname),
                "redis": redis_servers,
            }
        )

    def warm_up(self) -> None:
        """Connections and prepared statements, before anything is measured."""
        warm_up = [next(self.requests) for _ in range(200)]
        uvloop.run(run_load("127.0.0.1", self.port, iter(warm_up), clients=20, seconds=10))

    def pgbench(self) -> tuple[float, float]:
        args = self.args
        return run_pgbench(
            self.dbname, self.seeded, args.pg_clients, args.seconds, next(self._pg_runs)
        )

    def metered_pgbench(self) -> tuple[float, float, CpuSplit]:
        self.pgbench_meter.start()
        tps, p99 = self.pgbench()
        return tps, p99, self.pgbench_meter.stop()

    def closed_loop(self) -> tuple[ClosedLoopResult, CpuSplit]:
        args = self.args
        chosen = list(itertools.islice(self.patients, MOST_PER_SECOND * args.seconds))
        self.http_meter.start()
        result = run_wrk(
            self.port,
            token=self.seeded.token,
            patients=chosen,
            sessions=self.seeded.http_sessions,
            clients=args.clients,
            seconds=args.seconds,
        )
        return result, self.http_meter.stop()

    def closed_rounds(self) -> list[Round]:
        """The machine is shared and its speed drifts by a third between minutes: the two
        sides take turns, each going first in every other round (whatever a run leaves behind,
        autovacuum for one, falls on both alike), and the figure is the median of the rounds'
        ratios rather than one pair of runs."""
        args = self.args
        rounds = []
        for number in range(1, args.rounds + 1):
            print(f"round {number}: pgbench, {args.pg_clients} clients, {args.seconds} s; "
                  f"HTTP closed loop, {args.clients} clients, {args.seconds} s ...", flush=True)  # fmt: skip
            if number % 2:
                pg = self.metered_pgbench()
                http = self.closed_loop()
            else:
                http = self.closed_loop()
                pg = self.metered_pgbench()
            rounds.append(Round(*pg, *http))
        return rounds

    def paced_chunks(self) -> list[PacedChunk]:
        """The latency at the load the target asks for: a share of pgbench's throughput, as
        the machine runs now. Each chunk is paced at a share of the pgbench run just before
        it, so that the load follows the machine's drift instead of a rate measured minutes
        ago."""
        args = self.args
        chunks = []
        for number in range(1, args.paced_chunks + 1):
            pg_tps, _ = self.pgbench()
            rate = pg_tps * args.paced_fraction
            print(f"paced {number}: pgbench {pg_tps:.0f} tx/s, then HTTP at {rate:.0f}/s, "
                  f"{args.clients} clients, {args.seconds} s ...", flush=True)  # fmt: skip
            paced = uvloop.run(
                run_load(
                    "127.0.0.1",
                    self.port,
                    self.requests,
                    clients=args.clients,
                    seconds=args.seconds,
                    rate=rate,
                )
            )
            chunks.append(PacedChunk(pg_tps, rate, paced))
        return chunks

    def run(self) -> tuple[list[Round], list[PacedChunk], float]:
        """The closed-loop rounds, the paced chunks and a closing pgbench run's throughput."""
        self.warm_up()
        rounds = self.closed_rounds()
        chunks = self.paced_chunks()
        # And once more after the last chunk: each chunk's rate is then checked against the
        # mean of the pgbench runs on either side of it, not only the one it was set from.
        closing_pg_tps, _ = self.pgbench()
        return rounds, chunks, closing_pg_tps


def bookings_written(url: str) -> tuple[dict[str, int], int]:
    """Bookings by actor, and how many patients were booked for more than once."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(Booking.actor, func.count()).group_by(Booking.actor)).all()
        repeat_patients = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT patient_id FROM bookings GROUP BY patient_id "
                "HAVING count(*) > 1) AS repeated"
            )
        ).scalar_one()
    engine.dispose()
    return {actor: count for actor, count in rows}, int(repeat_patients)


def measure(args: argparse.Namespace, url: str, dbname: str, run_id: str) -> Outcome:
    """Seed the database, serve the desk on it, and run the bench's phases."""
    settings = load_settings(database_url=url)
    print(f"seeding {dbname} ...", flush=True)
    pg_runs = args.rounds + args.paced_chunks + 1
    seeded = seed(
        url,
        settings.data_key.get_secret_value(),
        bookings_per_side=MOST_PER_SECOND * args.seconds * pg_runs,
        http_patients=MOST_PER_SECOND * args.seconds * (pg_runs + 1) + 200,
        pg_stride=MOST_PER_SECOND * args.seconds // args.pg_clients,
        pg_blocks=pg_runs * args.pg_clients,
    )
    port = free_port()
    proc: subprocess.Popen[bytes] = start_app(
        url, port, args.workers, run_id, fast_path=not args.standard_path
    )
    try:
        asyncio.run(wait_ready(f"http://127.0.0.1:{port}", proc))
        measured = Bench(args, dbname, seeded, port, proc.pid).run()
        return Outcome(*measured, *bookings_written(url))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    args = parse_args()
    for tool, package in (("pgbench", "postgresql-client"), ("wrk", "wrk")):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: install the {package} package (make setup does)")
    run_id = uuid.uuid4().hex[:8]
    dbname = f"cc_bench_booking_{run_id}"
    with migrated_database(ADMIN_URL, dbname) as url:
        outcome = measure(args, url, dbname, run_id)
    print()
    ratios = report_rounds(
        outcome,
        pg_clients=args.pg_clients,
        clients=args.clients,
        workers=args.workers,
        seconds=args.seconds,
    )
    report_chunks(outcome)
    report_figures(outcome, ratios, clients=args.clients, paced_fraction=args.paced_fraction)


if __name__ == "__main__":
    main()
