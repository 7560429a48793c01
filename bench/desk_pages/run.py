"""Desk page and wallboard latency with the demo data, in-process (server time only).

Creates a scratch database (dropped afterwards), seeds the booking and knowledge demo data and
a team of agents, then times each page and the wallboard API against ``/healthz`` measured in
the same run, and the delay from an agent's "ready" click to the supervisor's WebSocket
message. Prints p50 / p99 in milliseconds and ratios to the baseline.

    PYTHONPATH=. .venv/bin/python bench/desk_pages/run.py [--rounds 50]

What it printed here is in bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import date

import pyotp
import redis
from fastapi.testclient import TestClient

from agent_desk.app import create_app
from backend.booking.demo_data import seed_booking_demo
from backend.db import make_engine, make_session_factory, transaction
from backend.knowledge.demo_data import seed_knowledge_demo
from backend.migrate import migrated_database
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings, load_settings
from tests.desk_support import LOCAL, PASSWORD, desk_settings, make_user

ADMIN_URL = os.environ.get(
    "CC_TEST_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def timed(call: Callable[[], object], rounds: int) -> list[float]:
    call()  # warm caches and templates
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1] if len(samples) > 1 else samples[0]


def measure(settings: Settings, client: redis.Redis, rounds: int) -> None:
    """Seeds the demo data and times each page, then the wallboard's live update."""
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    cipher = PersonalDataCipher.of(settings)
    with transaction(factory) as db:
        seed_booking_demo(db, cipher, date.today())
        seed_knowledge_demo(db)
    agents = [make_user(factory, Role.AGENT) for _ in range(30)]
    boss = make_user(factory, Role.SUPERVISOR)
    chief = make_user(factory, Role.ADMIN)
    app = create_app(settings, session_factory=factory, redis_client=client)
    with (
        TestClient(app, client=LOCAL) as a,
        TestClient(app, client=LOCAL) as s,
        TestClient(app, client=LOCAL) as root,
    ):
        for agent in agents[1:]:
            with TestClient(app, client=LOCAL) as other:
                other.post(
                    "/api/auth/login", json={"username": agent.username, "password": PASSWORD}
                )
                other.post("/api/agent/sign-in")
        a.post("/api/auth/login", json={"username": agents[0].username, "password": PASSWORD})
        a.post("/api/agent/sign-in")
        s.post("/api/auth/login", json={"username": boss.username, "password": PASSWORD})
        s.post("/api/auth/totp", json={"code": pyotp.TOTP(boss.totp_secret or "").now()})
        root.post("/api/auth/login", json={"username": chief.username, "password": PASSWORD})
        root.post("/api/auth/totp", json={"code": pyotp.TOTP(chief.totp_secret or "").now()})
        targets: dict[str, Callable[[], object]] = {
            "/healthz (baseline)": lambda: a.get("/healthz"),
            "/desk": lambda: a.get("/desk"),
            "/supervisor": lambda: s.get("/supervisor"),
            "/supervisor/recordings": lambda: s.get("/supervisor/recordings"),
            "/admin": lambda: root.get("/admin"),
            "/api/agent/status": lambda: a.get("/api/agent/status"),
            "/api/supervisor/wallboard (31 agents)": lambda: s.get("/api/supervisor/wallboard"),
        }
        results = {label: timed(call, rounds) for label, call in targets.items()}
        baseline = p(results["/healthz (baseline)"], 50)
        print(f"{'target':42} {'p50 ms':>8} {'p99 ms':>8} {'p50/baseline':>13}")
        for label, samples in results.items():
            print(
                f"{label:42} {p(samples, 50):8.1f} {p(samples, 99):8.1f} {p(samples, 50) / baseline:13.1f}"
            )
        delays = []
        with s.websocket_connect("/ws/live") as ws:
            ws.receive_json()
            for i in range(20):
                start = time.perf_counter()
                a.post(
                    "/api/agent/ready" if i % 2 == 0 else "/api/agent/not-ready",
                    json={"reason": "break"},
                )
                while ws.receive_json().get("type") != "AgentStateChanged":
                    pass
                delays.append((time.perf_counter() - start) * 1000)
        print(f"{'state click -> wallboard event':42} {p(delays, 50):8.1f} {p(delays, 99):8.1f}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    namespace = f"bench-desk-{uuid.uuid4().hex[:6]}"
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0", decode_responses=True)
    try:
        with migrated_database(ADMIN_URL, f"cc_bench_desk_{uuid.uuid4().hex[:6]}") as url:
            base = load_settings(environment="test", database_url=url)
            measure(desk_settings(base, namespace), client, args.rounds)
    finally:
        for key in client.scan_iter(f"{namespace}*"):
            client.delete(key)


if __name__ == "__main__":
    main()
