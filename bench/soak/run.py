"""Soak under chaos: N minutes of simulated calls, desk reads and online bookings while a
chaos loop kills or restarts one part (controller, desk worker, Redis, PostgreSQL, Asterisk)
every 30-60 s; then what was lost.

The whole stack runs as `callcenter up` starts it, on a PostgreSQL and a Redis of the soak's
own (scratch directory, free ports; the machine's shared servers are never touched), with the
demo data and the booking bench's hospital, patients and online account (bench/booking/seed).

    .venv/bin/python -m bench.soak.run [--minutes 10] [--seed 1]

Prints probes OK / total (target >= 99.5 %), acknowledged bookings lost (target 0) and calls
without a record or recording (target 0). What it printed here is in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import uuid
from pathlib import Path

from backend.db import make_engine, make_session_factory
from backend.personal_data import PersonalDataCipher
from bench.booking.seed import Seeded, seed
from bench.soak.audit import Findings, audit
from bench.soak.chaos import chaos_loop
from bench.soak.probes import PHONE_AGENTS, Tally, agents_ready, bookings, calls, desk_reads
from bench.soak.stack import Stack

SETTLE_SECONDS = 45  # after the traffic stops: calls end, recordings close, the sweep runs


def seed_bookings(stack: Stack, minutes: float) -> Seeded:
    """bench/booking's hospital, sessions, patients and online account: room for two
    bookings a second. Before the demo data, as that seed expects no other sessions."""
    room = int(minutes * 60 * 2) + 200
    settings = stack.settings
    key = settings.data_key.get_secret_value()
    return seed(
        settings.database_url,
        key,
        bookings_per_side=room,
        http_patients=room,
        pg_stride=1,
        pg_blocks=1,
    )


async def soak(
    stack: Stack, seeded: Seeded, minutes: float, rng: random.Random
) -> tuple[Tally, list[str]]:
    settings = stack.settings
    await agents_ready(settings, stack.desk_url)
    print(f"agents ready: {', '.join(PHONE_AGENTS)}", flush=True)
    tally, stop = Tally(), asyncio.Event()
    log: list[str] = []
    began = tally.began
    work = [
        calls(settings, tally, stop, every=4.0),
        desk_reads(stack.desk_url, tally, stop, every=1.0),
        bookings(
            stack.desk_url,
            seeded.token,
            seeded.http_patients,
            seeded.http_sessions,
            tally,
            stop,
            every=0.5,
        ),
        chaos_loop(stack, stop, log, rng, began),
    ]
    running = asyncio.gather(*work)
    await asyncio.sleep(minutes * 60)
    stop.set()
    await running
    print(f"traffic stopped; settling {SETTLE_SECONDS} s", flush=True)
    await asyncio.sleep(SETTLE_SECONDS)
    return tally, log


def report(tally: Tally, findings: Findings, log: list[str], minutes: float) -> None:
    ok, total = sum(tally.ok.values()), sum(tally.total.values())
    print(f"\nsoak of {minutes:g} min, {len(log)} faults:")
    for line in log:
        print(f"  {line}")
    for kind in sorted(tally.total):
        print(f"  {kind:16} {tally.ok[kind]:6} / {tally.total[kind]:6} OK")
    for why, n in tally.failures.most_common():
        print(f"    failed: {why} x{n}")
    share = 100.0 * ok / total if total else 0.0
    print(f"probes OK / total: {ok} / {total} = {share:.2f} % (target >= 99.5 %)")
    acked = len(tally.acknowledged)
    print(f"acknowledged bookings lost: {findings.bookings_lost} of {acked} (target 0)")
    print(f"patients booked twice: {findings.patients_booked_twice}; refused: {tally.refused}")
    print(f"calls without a record or recording: {findings.calls_lacking} (target 0)")
    for what, n in findings.calls.most_common():
        print(f"    {what}: {n}")
    for line in findings.lacking:
        print(f"    lacking: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1, help="the chaos loop's random order")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="cc-soak-"))
    stack = Stack(base, f"soak-{uuid.uuid4().hex[:6]}")
    print(f"starting the stack in {base}", flush=True)
    try:
        stack.servers_up()
        seeded = seed_bookings(stack, args.minutes)
        stack.up()
        tally, log = asyncio.run(soak(stack, seeded, args.minutes, random.Random(args.seed)))
        engine = make_engine(stack.settings)
        findings = audit(make_session_factory(engine), PersonalDataCipher.of(stack.settings), tally)
        engine.dispose()
        report(tally, findings, log, args.minutes)
    finally:
        stack.down()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
            shutil.rmtree(stack.asterisk.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
