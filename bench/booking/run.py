"""Bench: the HTTP booking endpoint at 200 concurrent clients against pgbench running the same
booking SQL transaction (``booking.pgbench.sql``) on the same database, in the same run.

Makes its own database (seeded with sessions, slots and patients by ``generate_series`` and a
bulk insert), runs pgbench for ``--seconds``, then starts the desk app with uvicorn on a free
loopback port and drives it with async httpx clients for ``--seconds``, prints throughput of
both, the ratio (target >= 0.5) and the HTTP p99 latency (target < 250 ms), and drops the
database. Usage:

    .venv/bin/python bench/booking/run.py [--clients 200] [--seconds 20] [--pg-clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.orm import Session

from backend.booking.context import BookingContext
from backend.booking.demo_data import create_hospital
from backend.booking.patients import open_account
from backend.migrate import upgrade
from backend.models.booking import Booking, Patient
from backend.personal_data import PersonalDataCipher
from backend.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("booking.pgbench.sql")
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SLOTS_PER_SESSION = 100

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


@dataclass
class Seeded:
    token: str
    patient_ids: list[int]
    http_sessions: list[int]
    pg_range: tuple[int, int]
    pg_patients: int  # pgbench books for patients 1..pg_patients; HTTP for the others


def seed(url: str, data_key: str, patients: int, http_sessions: int, pg_sessions: int) -> Seeded:
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
        for tag, n in (("H", http_sessions), ("P", pg_sessions)):
            session.execute(
                text(SESSIONS_SQL),
                {
                    "hospital": hospital.id,
                    "dept": dept,
                    "tag": tag,
                    "n": n,
                    "slots": SLOTS_PER_SESSION,
                },
            )
        session.execute(text(SLOTS_SQL), {"slots": SLOTS_PER_SESSION})
        rows = []
        for i in range(patients):
            number = f"B{i:08d}"  # bench-only identities, never validated as ID numbers
            rows.append(
                {
                    "id_hash": cipher.lookup_hash(number),
                    "id_enc": cipher.encrypt(number),
                    "name_enc": cipher.encrypt("测试"),
                    "phone_hash": cipher.lookup_hash(f"p{i}"),
                    "phone_enc": cipher.encrypt("13800000000"),
                    "created_at": datetime.now(UTC),
                }
            )
        session.execute(insert(Patient), rows)
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
    # Patient ids start at 1 in a fresh database; pgbench takes the first fifth, HTTP the rest,
    # so that neither side's bookings count against the other's quotas.
    pg_patients = len(patient_ids) // 5
    return Seeded(
        token, patient_ids[pg_patients:], list(ids["H"]), (ids["P"][0], ids["P"][-1]), pg_patients
    )


def run_pgbench(dbname: str, seeded: Seeded, clients: int, seconds: int) -> tuple[float, float]:
    """Transactions per second and p99 latency (ms) of the booking transaction."""
    with tempfile.TemporaryDirectory() as logs:
        prefix = os.path.join(logs, "pgb")
        cmd = [
            "pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-c", str(clients),
            "-j", "2", "-T", str(seconds), "-f", str(SCRIPT),
            "-D", f"npatients={seeded.pg_patients}",
            "-D", f"smin={seeded.pg_range[0]}", "-D", f"smax={seeded.pg_range[1]}",
            "-l", f"--log-prefix={prefix}", dbname,
        ]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
        if match is None:
            raise RuntimeError("pgbench printed no tps:\n" + out)
        latencies = []
        for log in Path(logs).glob("pgb*"):
            for line in log.read_text().splitlines():
                latencies.append(int(line.split()[2]) / 1000)
    return float(match.group(1)), percentile(latencies, 99)


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(url: str, port: int, workers: int, run_id: str) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "CC_DATABASE_URL": url,
        "CC_ENVIRONMENT": "development",
        # Every bench client comes from 127.0.0.1: lift the per-address limit, keep the count.
        "CC_BOOKING_RATE_LIMIT_REQUESTS": "1000000000",
        "CC_BOOKING_REDIS_PREFIX": f"cc-bench-{run_id}:",
        "PYTHONPATH": str(ROOT),
    }
    cmd = [
        sys.executable, "-m", "uvicorn", "bench.booking.serve:make_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
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


async def drive(
    base: str, seeded: Seeded, clients: int, seconds: int
) -> tuple[float, list[float], Counter[str]]:
    auth = {"Authorization": f"Bearer {seeded.token}"}
    patients = iter(seeded.patient_ids)
    rng = random.Random(1)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        for _ in range(20):  # warm up: the service, the pool, the calendar
            await client.get("/api/public/hospitals")
        deadline = time.perf_counter() + seconds

        async def one_client() -> None:
            while time.perf_counter() < deadline:
                patient = next(patients, None)
                if patient is None:
                    return
                body = {"patient_id": patient, "schedule_id": rng.choice(seeded.http_sessions)}
                started = time.perf_counter()
                response = await client.post("/api/public/bookings", json=body, headers=auth)
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code == 201:
                    statuses["201"] += 1
                else:
                    statuses[f"{response.status_code} {response.json().get('error')}"] += 1

        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return elapsed, latencies, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--pg-clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--patients", type=int, default=15000)
    args = parser.parse_args()
    if shutil.which("pgbench") is None:
        sys.exit("pgbench not found: install the postgresql-client package")

    run_id = uuid.uuid4().hex[:8]
    dbname = f"cc_bench_booking_{run_id}"
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    proc: subprocess.Popen[bytes] | None = None
    try:
        settings = load_settings(database_url=url)
        upgrade(settings)
        print(f"seeding {dbname}: {args.patients} patients ...", flush=True)
        seeded = seed(url, settings.data_key.get_secret_value(), args.patients, 300, 2000)

        print(f"pgbench: {args.pg_clients} clients, {args.seconds} s ...", flush=True)
        pg_tps, pg_p99 = run_pgbench(dbname, seeded, args.pg_clients, args.seconds)

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start_app(url, port, args.workers, run_id)
        asyncio.run(wait_ready(base, proc))
        print(f"HTTP: {args.clients} clients, {args.seconds} s ...", flush=True)
        elapsed, latencies, statuses = asyncio.run(drive(base, seeded, args.clients, args.seconds))
        engine = create_engine(url)
        with engine.connect() as conn:
            booked = dict(
                conn.execute(select(Booking.actor, func.count()).group_by(Booking.actor)).all()
            )
        engine.dispose()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()

    http_rps = statuses["201"] / elapsed
    http_p99 = percentile(latencies, 99)
    print()
    print(
        f"pgbench, booking transaction ({args.pg_clients} clients): {pg_tps:8.1f} tx/s, "
        f"p99 {pg_p99:7.1f} ms, bookings written {booked.get('pgbench', 0)}"
    )
    print(
        f"HTTP POST /api/public/bookings ({args.clients} clients, {args.workers} worker): "
        f"{http_rps:8.1f} bookings/s, p50 {statistics.median(latencies):7.1f} ms, "
        f"p99 {http_p99:7.1f} ms, statuses {dict(statuses)}"
    )
    print(f"throughput ratio HTTP / pgbench: {http_rps / pg_tps:.3f}  (target >= 0.5)")
    print(f"HTTP p99: {http_p99:.1f} ms  (target < 250 ms)")


if __name__ == "__main__":
    main()
