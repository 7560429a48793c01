"""bench/booking's baseline: pgbench running the service's own booking transaction."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backend.booking import booking_sql
from backend.booking.patients import token_hash
from bench.booking.load import percentile
from bench.booking.seed import Seeded


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


def _variables(seeded: Seeded, clients: int, round_index: int) -> dict[str, object]:
    """The script's variables for one run: the round's block of patients, the sessions, and
    the values the service binds."""
    now = datetime.now(UTC)
    return {
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


def run_pgbench(
    dbname: str, seeded: Seeded, clients: int, seconds: int, round_index: int
) -> tuple[float, float]:
    """Transactions per second and p99 latency (ms) of the booking transaction."""
    with tempfile.TemporaryDirectory() as logs:
        script = Path(logs, "booking.sql")
        script.write_text(pgbench_script())
        prefix = os.path.join(logs, "pgb")
        cmd = [
            "pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-M", "prepared",
            "-c", str(clients), "-j", "2", "-T", str(seconds), "-f", str(script),
            "-l", f"--log-prefix={prefix}", dbname,
        ]  # fmt: skip
        for name, value in _variables(seeded, clients, round_index).items():
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
