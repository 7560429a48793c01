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
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvloop
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from backend.booking import booking_sql
from backend.booking.context import BookingContext
from backend.booking.demo_data import create_hospital
from backend.booking.patients import identity_columns, open_account, token_hash
from backend.migrate import migrated_database
from backend.models.booking import Booking, Patient
from backend.personal_data import PersonalDataCipher
from backend.settings import load_settings
from bench.booking.closed_loop import ClosedLoopResult, run_wrk
from bench.booking.cpu import CpuMeter, CpuSplit, children_of, postgres_backends_of, redis_servers
from bench.booking.load import LoadResult, percentile, post_request, run_load

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SLOTS_PER_SESSION = 100
# Room for this many bookings a second on either side: about twice the most either has done
# here (bench/README.md). A run that outgrew its seed would find its sessions full and its
# patients booked already, and stop.
MOST_PER_SECOND = 6000

SESSIONS_SQL = """
INSERT INTO schedules (hospital_id, department_id, doctor_id, external_id, day, session,
  starts_at, ends_at, fee, capacity, status, stop_reason, updated_at)
SELECT :hospital, :dept, NULL, :tag || i, d, 'morning',
  (d + time '08:00') AT TIME ZONE 'Asia/Shanghai', (d + time '12:00') AT TIME ZONE 'Asia/Shanghai',
  50, :slots, 'open', '', now()
FROM generate_series(1, :n) AS i,
  LATERAL (SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date + 1 + (i % 5) AS d) AS day
"""
SLOTS_SQL = """
INSERT INTO slots (schedule_id, seq, starts_at, channel, taken)
SELECT s.id, g, s.starts_at + g * interval '2 min', 'any', false
FROM schedules s, generate_series(1, :slots) AS g
"""


PATIENTS_SQL = """
INSERT INTO patients (id_hash, id_enc, id_masked, name_enc, name_masked, phone_hash, phone_enc,
  phone_masked, created_at)
SELECT 'bench-id-' || i, :id_enc, :id_masked, :name_enc, :name_masked, 'bench-phone-' || i,
  :phone_enc, :phone_masked, now()
FROM generate_series(1, :n) AS i
"""


@dataclass
class Seeded:
    token: str
    http_patients: list[int]
    http_sessions: list[int]
    pg_sessions: tuple[int, int]  # first and last id
    pg_first_patient: int
    pg_stride: int  # patients per pgbench client and round


def seed(
    url: str,
    data_key: str,
    *,
    bookings_per_side: int,
    http_patients: int,
    pg_stride: int,
    pg_blocks: int,
) -> Seeded:
    """A hospital, sessions of 100 slots enough for ``bookings_per_side`` on each side, and
    one account managing every patient. Every booking is for a patient with no bookings yet,
    on both sides, so that neither meets a longer history or another's quotas: HTTP takes the
    patients in turn, each pgbench client its own ``pg_stride`` patients of a block per round
    (``pg_blocks``)."""
    cipher = PersonalDataCipher(data_key)
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        hospital = create_hospital(session, cipher, code="bench", name="北京协和医院")
        dept = session.execute(
            text(
                "INSERT INTO departments (hospital_id, code, name, intro) "
                "VALUES (:h, 'NK', '内科', '') RETURNING id"
            ),
            {"h": hospital.id},
        ).scalar_one()
        for tag in ("H", "P"):
            session.execute(
                text(SESSIONS_SQL),
                {
                    "hospital": hospital.id,
                    "dept": dept,
                    "tag": tag,
                    "n": -(-bookings_per_side // SLOTS_PER_SESSION),
                    "slots": SLOTS_PER_SESSION,
                },
            )
        session.execute(text(SLOTS_SQL), {"slots": SLOTS_PER_SESSION})
        # Bench-only identities: one registered identity's columns for all (ciphertexts and
        # masks, as registration stores them), unique look-up hashes that no look-up uses.
        identity = identity_columns(cipher, "110105199001010011", "测试", "13800000000")
        session.execute(
            text(PATIENTS_SQL),
            {
                **{k: v for k, v in identity.items() if not k.endswith("_hash")},
                "n": pg_stride * pg_blocks + http_patients,
            },
        )
        account_id, token = open_account(session, BookingContext(cipher=cipher), "13900000000")
        session.execute(
            text(
                "INSERT INTO account_patients (account_id, patient_id) SELECT :a, id FROM patients"
            ),
            {"a": account_id},
        )
        ids = {
            tag: session.execute(
                text("SELECT id FROM schedules WHERE external_id LIKE :t ORDER BY id"),
                {"t": tag + "%"},
            )
            .scalars()
            .all()
            for tag in ("H", "P")
        }
        patient_ids = list(session.execute(select(Patient.id).order_by(Patient.id)).scalars())
    engine.dispose()
    pg_patients = pg_stride * pg_blocks
    return Seeded(
        token=token,
        http_patients=patient_ids[pg_patients:],
        http_sessions=list(ids["H"]),
        pg_sessions=(ids["P"][0], ids["P"][-1]),
        pg_first_patient=patient_ids[0],
        pg_stride=pg_stride,
    )


def pgbench_script() -> str:
    """The service's booking transaction, statement for statement, as a pgbench script.

    pgbench's ``:name`` variables are the service's bind names; ``\\gset`` carries a row into
    the next statements, as the service carries it in Python. The one change: pgbench has no
    NULL variable, so the agent column (NULL for an online booking) is written as NULL."""
    lines = [
        # Per client, the next patient of its own stride (pgbench keeps a client's variables
        # from one transaction to the next).
        "\\set n :n + 1",
        "\\set patient_id :pbase + :client_id * :stride + (:n % :stride)",
        "\\set schedule_id random(:smin, :smax)",
        "\\set code_a random(1000000000, 9999999999)",
        "\\set code_b random(1000000000, 9999999999)",
        "\\set code_c random(1000000000, 9999999999)",
        "BEGIN;",
    ]
    for sql, row_used_later in booking_sql.ONLINE_BOOKING:
        lines.append(sql.strip() + ("\n\\gset" if row_used_later else ";"))
    lines.append("COMMIT;")
    script = "\n".join(lines) + "\n"
    return script.replace("CAST(:agent_id AS integer)", "CAST(NULL AS integer)")


def run_pgbench(
    dbname: str, seeded: Seeded, clients: int, seconds: int, round_index: int
) -> tuple[float, float]:
    """Transactions per second and p99 latency (ms) of the booking transaction."""
    now = datetime.now(UTC)
    variables = {
        "n": -1,
        "pbase": seeded.pg_first_patient + round_index * clients * seeded.pg_stride,
        "stride": seeded.pg_stride,
        "smin": seeded.pg_sessions[0],
        "smax": seeded.pg_sessions[1],
        "token_hash": token_hash(seeded.token),
        "channels": "{any,online}",
        "now": now.isoformat(),
        "since_booked": (now - timedelta(days=90)).isoformat(),
        "since_visit": (now - timedelta(days=180)).date().isoformat(),
        "channel": "online",
        "actor": "pgbench",
        "source_ip": "127.0.0.1",
        "details": '{"channel": "online"}',
    }
    with tempfile.TemporaryDirectory() as logs:
        script = Path(logs, "booking.sql")
        script.write_text(pgbench_script())
        prefix = os.path.join(logs, "pgb")
        cmd = [
            "pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-M", "prepared",
            "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", str(script),
            "-l", f"--log-prefix={prefix}", dbname,
        ]  # fmt: skip
        for name, value in variables.items():
            cmd[1:1] = ["-D", f"{name}={value}"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
        if done.returncode != 0 or match is None:
            raise RuntimeError(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
        latencies = []
        for log in Path(logs).glob("pgb*"):
            for line in log.read_text().splitlines():
                latencies.append(int(line.split()[2]) / 1000)
    return float(match.group(1)), percentile(latencies, 99)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(
    url: str, port: int, workers: int, run_id: str, *, fast_path: bool
) -> subprocess.Popen[bytes]:
    """``callcenter desk``, as an operator starts it, in ``workers`` processes."""
    env = os.environ | {
        "CC_DESK_FAST_PATH": "true" if fast_path else "false",
        "CC_DATABASE_URL": url,
        "CC_ENVIRONMENT": "development",
        "CC_DESK_PORT": str(port),
        "CC_DESK_WORKERS": str(workers),
        "CC_DESK_ACCESS_LOG": "false",  # as behind a proxy that logs requests
        # Every bench client comes from 127.0.0.1: lift the per-address limit, keep the count.
        "CC_BOOKING_RATE_LIMIT_REQUESTS": "1000000000",
        "CC_BOOKING_REDIS_PREFIX": f"cc-bench-{run_id}:",
        "CC_DESK_REDIS_PREFIX": f"cc-bench-{run_id}",
        "PYTHONPATH": str(ROOT),
    }
    cmd = [sys.executable, "-m", "backend.cli.main", "desk"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


async def wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(200):
            if proc.poll() is not None:
                raise RuntimeError("the desk app exited while starting")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the desk app did not start within 20 s")


def booking_requests(
    port: int, token: str, patients: Iterator[int], sessions: list[int]
) -> Iterator[bytes]:
    """One booking per patient, taken from ``patients`` as each request is made (a patient
    booking twice would meet the quota rules)."""
    auth = {"Authorization": f"Bearer {token}"}
    rng = random.Random(1)
    for patient in patients:
        body = {"patient_id": patient, "schedule_id": rng.choice(sessions)}
        yield post_request("127.0.0.1", port, "/api/public/bookings", auth, body)


def report_closed(label: str, result: ClosedLoopResult) -> None:
    refused = f", refused {result.refused}" if result.refused else ""
    errors = f", connection errors {result.errors}" if result.errors else ""
    print(
        f"HTTP POST /api/public/bookings, {label}: {result.bookings_per_second:8.1f} "
        f"bookings/s, p50 {result.p50_ms:7.1f} ms, p99 {result.p99_ms:7.1f} ms{refused}{errors}"
    )


@dataclass
class Round:
    pg_tps: float
    pg_p99: float
    pg_cpu: CpuSplit  # over the pgbench run: the machine and pgbench itself
    closed: ClosedLoopResult
    http_cpu: CpuSplit  # over the closed loop: the machine, wrk and each server-side group


def report_cpu(number: int, pg_transactions: int, round_: Round) -> None:
    """Where each side's CPU went (``bench.booking.cpu``), in ms per transaction / booking."""
    pg = round_.pg_cpu.per_unit_ms(pg_transactions)
    http = round_.http_cpu.per_unit_ms(round_.closed.created + round_.closed.refused)
    if not pg or not http:
        return
    named = http["web"] + http["postgres"] + http["client"] + http["redis"]
    print(
        f"round {number}: CPU per pgbench transaction {pg['machine']:.3f} ms "
        f"(pgbench itself {pg['client']:.3f}); per HTTP booking {http['machine']:.3f} ms: "
        f"web workers {http['web']:.3f}, PostgreSQL {http['postgres']:.3f}, "
        f"wrk {http['client']:.3f}, Redis {http['redis']:.3f}, "
        f"rest {http['machine'] - named:.3f}"
    )


@dataclass
class PacedChunk:
    pg_tps: float  # pgbench's throughput just before; the chunk runs at a share of it
    rate: float
    result: LoadResult


def report_paced(chunk: PacedChunk) -> None:
    result, lat = chunk.result, chunk.result.latencies_ms
    print(
        f"pgbench {chunk.pg_tps:8.1f} tx/s, then HTTP paced at {chunk.rate:6.1f}/s: "
        f"{result.count('201') / result.elapsed:8.1f} bookings/s, "
        f"p50 {statistics.median(lat):7.1f} ms, p99 {percentile(lat, 99):7.1f} ms, "
        f"statuses {dict(result.statuses)}"
    )


def main() -> None:
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
    args = parser.parse_args()
    for tool, package in (("pgbench", "postgresql-client"), ("wrk", "wrk")):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: install the {package} package (make setup does)")

    run_id = uuid.uuid4().hex[:8]
    dbname = f"cc_bench_booking_{run_id}"
    proc: subprocess.Popen[bytes] | None = None
    rounds: list[Round] = []
    chunks: list[PacedChunk] = []
    closing_pg_tps = 0.0
    with migrated_database(ADMIN_URL, dbname) as url:
        try:
            settings = load_settings(database_url=url)
            print(f"seeding {dbname} ...", flush=True)
            per_second = MOST_PER_SECOND
            pg_runs = args.rounds + args.paced_chunks + 1
            seeded = seed(
                url,
                settings.data_key.get_secret_value(),
                bookings_per_side=per_second * args.seconds * pg_runs,
                http_patients=per_second * args.seconds * (pg_runs + 1) + 200,
                pg_stride=per_second * args.seconds // args.pg_clients,
                pg_blocks=pg_runs * args.pg_clients,
            )

            port = free_port()
            proc = start_app(url, port, args.workers, run_id, fast_path=not args.standard_path)
            asyncio.run(wait_ready(f"http://127.0.0.1:{port}", proc))
            patients = iter(seeded.http_patients)
            requests = booking_requests(port, seeded.token, patients, seeded.http_sessions)
            warm_up = [next(requests) for _ in range(200)]  # connections, prepared statements
            uvloop.run(run_load("127.0.0.1", port, iter(warm_up), clients=20, seconds=10))
            pg_runs_done = itertools.count()

            def pgbench() -> tuple[float, float]:
                return run_pgbench(
                    dbname, seeded, args.pg_clients, args.seconds, next(pg_runs_done)
                )

            server = proc.pid
            pgbench_meter = CpuMeter({})
            http_meter = CpuMeter(
                {
                    "web": lambda: children_of(server),
                    "postgres": lambda: postgres_backends_of(dbname),
                    "redis": redis_servers,
                }
            )

            def metered_pgbench() -> tuple[float, float, CpuSplit]:
                pgbench_meter.start()
                tps, p99 = pgbench()
                return tps, p99, pgbench_meter.stop()

            def closed_loop() -> tuple[ClosedLoopResult, CpuSplit]:
                chosen = list(itertools.islice(patients, per_second * args.seconds))
                http_meter.start()
                result = run_wrk(
                    port,
                    token=seeded.token,
                    patients=chosen,
                    sessions=seeded.http_sessions,
                    clients=args.clients,
                    seconds=args.seconds,
                )
                return result, http_meter.stop()

            # The machine is shared and its speed drifts by a third between minutes: the two
            # sides take turns, each going first in every other round (whatever a run leaves
            # behind, autovacuum for one, falls on both alike), and the figure is the median of
            # the rounds' ratios rather than one pair of runs.
            for number in range(1, args.rounds + 1):
                print(f"round {number}: pgbench, {args.pg_clients} clients, {args.seconds} s; "
                      f"HTTP closed loop, {args.clients} clients, {args.seconds} s ...", flush=True)  # fmt: skip
                if number % 2:
                    (pg_tps, pg_p99, pg_cpu), (closed, http_cpu) = metered_pgbench(), closed_loop()
                else:
                    (closed, http_cpu), (pg_tps, pg_p99, pg_cpu) = closed_loop(), metered_pgbench()
                rounds.append(Round(pg_tps, pg_p99, pg_cpu, closed, http_cpu))
            # The latency at the load the target asks for: half of pgbench's throughput, as the
            # machine runs now. Each chunk is paced at a share of the pgbench run just before it,
            # so that the load follows the machine's drift instead of a rate measured minutes ago.
            for number in range(1, args.paced_chunks + 1):
                pg_tps, _ = pgbench()
                rate = pg_tps * args.paced_fraction
                print(f"paced {number}: pgbench {pg_tps:.0f} tx/s, then HTTP at {rate:.0f}/s, "
                      f"{args.clients} clients, {args.seconds} s ...", flush=True)  # fmt: skip
                paced = uvloop.run(
                    run_load(
                        "127.0.0.1",
                        port,
                        requests,
                        clients=args.clients,
                        seconds=args.seconds,
                        rate=rate,
                    )
                )
                chunks.append(PacedChunk(pg_tps, rate, paced))
            # And once more after the last chunk: each chunk's rate is then checked against the
            # mean of the pgbench runs on either side of it, not only the one it was set from.
            closing_pg_tps, _ = pgbench()
            engine = create_engine(url)
            with engine.connect() as conn:
                booked = dict(
                    conn.execute(select(Booking.actor, func.count()).group_by(Booking.actor)).all()
                )
                repeat_patients = conn.execute(
                    text(
                        "SELECT count(*) FROM (SELECT patient_id FROM bookings GROUP BY patient_id "
                        "HAVING count(*) > 1) AS repeated"
                    )
                ).scalar_one()
            engine.dispose()
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)

    print()
    ratios = []
    for number, round_ in enumerate(rounds, 1):
        ratios.append(round_.closed.bookings_per_second / round_.pg_tps)
        print(f"round {number}: pgbench, booking transaction ({args.pg_clients} clients): "
              f"{round_.pg_tps:8.1f} tx/s, p99 {round_.pg_p99:7.1f} ms")  # fmt: skip
        report_closed(
            f"closed loop ({args.clients} clients, {args.workers} workers)", round_.closed
        )
        print(f"round {number}: ratio {ratios[-1]:.3f}")
        report_cpu(number, round(round_.pg_tps * args.seconds), round_)
    for chunk in chunks:
        report_paced(chunk)
    bracketing = [c.pg_tps for c in chunks[1:]] + [closing_pg_tps]
    shares = [
        c.rate / ((c.pg_tps + after) / 2) for c, after in zip(chunks, bracketing, strict=True)
    ]
    print(
        "paced rate / mean of the pgbench runs on either side, per chunk: "
        + ", ".join(f"{share:.3f}" for share in shares)
    )
    paced_latencies = [ms for chunk in chunks for ms in chunk.result.latencies_ms]
    print(f"patients booked for more than once: {repeat_patients}")
    print(f"bookings written: pgbench {booked.get('pgbench', 0)}, "
          f"HTTP {sum(n for actor, n in booked.items() if actor != 'pgbench')}")  # fmt: skip
    print(
        f"throughput ratio HTTP / pgbench, median of {len(ratios)} rounds: "
        f"{statistics.median(ratios):.3f}  (target >= 0.5)"
    )
    print(
        f"HTTP p99 at {args.paced_fraction:g} of pgbench's throughput ({args.clients} clients, "
        f"{len(chunks)} chunks): {percentile(paced_latencies, 99):.1f} ms  (target < 250 ms)"
    )


if __name__ == "__main__":
    main()
