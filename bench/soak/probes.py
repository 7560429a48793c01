"""The soak's traffic, each request a probe: simulated calls into Asterisk, an agent's desk
reads, online bookings. A probe is retried as a client would (a caller redials, a page retries
after a 503's Retry-After, a booking is resent with its Idempotency-Key) and is OK when it
succeeds within PROBE_DEADLINE seconds of its start."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from backend.ami.client import AmiClient, AmiError
from backend.ami.users import AmiUser
from backend.demo import DEMO_PASSWORD
from backend.settings import Settings
from ivr.pbx.simulated import carrier_channel, simulated_call
from tests.conftest import DID_114

PROBE_DEADLINE = 20.0
RETRY_PAUSE = 1.0
DESK_AGENT = "a2002"  # a hotline agent: its reads do not change who takes the 114 calls
# The demo's simulated agents of the 114 line's booking skill (backend/demo.py), and how long
# their phones ring and talk.
PHONE_AGENTS = ("1002", "1003")
RING_SECONDS, TALK_SECONDS = 2, 10


@dataclass
class Tally:
    ok: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)  # kind: why, for the report
    acknowledged: list[tuple[str, int]] = field(default_factory=list)  # booking code, patient
    refused: int = 0  # bookings the service answered with a refusal (4xx)
    callers: dict[str, float] = field(default_factory=dict)  # number -> s into the soak
    began: float = field(default_factory=time.monotonic)

    def count(self, kind: str, ok: bool, why: str = "") -> None:
        self.total[kind] += 1
        if ok:
            self.ok[kind] += 1
        else:
            self.failures[f"{kind}: {why}"] += 1


async def agents_ready(settings: Settings, base_url: str) -> None:
    """The simulated agents sign in at the desk and make themselves ready, as agents do."""
    ami = AmiClient(settings, AmiUser.TOOLS)
    await ami.connect()
    try:
        for number in PHONE_AGENTS:
            await ami.db_put("simagent", f"{number}/ring", str(RING_SECONDS))
            await ami.db_put("simagent", f"{number}/talk", str(TALK_SECONDS))
    finally:
        ami.close()
    for number in PHONE_AGENTS:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            login = {"username": f"a{number}", "password": DEMO_PASSWORD}
            for path, body in (
                ("/api/auth/login", login),
                ("/api/agent/sign-in", None),
                ("/api/agent/ready", None),
            ):
                reply = await client.post(path, json=body)
                if reply.status_code >= 300:
                    raise RuntimeError(f"agent {number}: {path}: {reply.status_code} {reply.text}")


async def _until_deadline(attempt: Callable[[], Awaitable[tuple[bool, str]]]) -> tuple[bool, str]:
    """Run ``attempt`` (-> (done, why)) until it is done or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PROBE_DEADLINE
    why = ""
    while loop.time() < deadline:
        try:
            done, why = await asyncio.wait_for(attempt(), max(0.1, deadline - loop.time()))
        except (httpx.HTTPError, OSError, TimeoutError, ConnectionError, AmiError) as exc:
            # AmiError: Asterisk refused or dropped the tools' AMI login (it is restarting).
            # Left uncaught it ended the probe's task unseen, so the probe was never counted.
            done, why = False, type(exc).__name__
        if done:
            return True, ""
        await asyncio.sleep(RETRY_PAUSE)
    return False, why


async def calls(settings: Settings, tally: Tally, stop: asyncio.Event, every: float) -> None:
    """A caller every ``every`` s: presses 1 (phone booking) and waits for an agent."""
    numbers = (f"139{n:08d}" for n in itertools.count(10000001))
    pending: set[asyncio.Task[None]] = set()

    async def one(number: str) -> None:
        async def place() -> tuple[bool, str]:
            ami = AmiClient(settings, AmiUser.TOOLS)
            try:
                await ami.connect(timeout=5)
                channel = carrier_channel(DID_114)
                await simulated_call(ami, channel, caller_id=number, dtmf="1", hold=20)
                return True, ""
            finally:
                ami.close()

        ok, why = await _until_deadline(place)
        tally.count("call placed", ok, why)
        if ok:
            tally.callers[number] = time.monotonic() - tally.began

    while not stop.is_set():
        task = asyncio.create_task(one(next(numbers)))
        pending.add(task)
        task.add_done_callback(pending.discard)
        await _pause(stop, every)
    await asyncio.gather(*pending)


async def desk_reads(base_url: str, tally: Tally, stop: asyncio.Event, every: float) -> None:
    """An agent at the desk: its status and a knowledge search, signing in again if needed."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:

        async def read(path: str) -> tuple[bool, str]:
            reply = await client.get(path)
            if reply.status_code == 401:  # a session lost with Redis' keys: sign in again
                await client.post(
                    "/api/auth/login", json={"username": DESK_AGENT, "password": DEMO_PASSWORD}
                )
                reply = await client.get(path)
            return reply.status_code == 200, f"HTTP {reply.status_code}"

        paths = itertools.cycle(["/api/agent/status", "/api/knowledge/search?q=医保报销"])
        while not stop.is_set():
            ok, why = await _until_deadline(functools.partial(read, next(paths)))
            tally.count("desk read", ok, why)
            await _pause(stop, every)


async def bookings(
    base_url: str,
    token: str,
    patients: list[int],
    schedules: list[int],
    tally: Tally,
    stop: asyncio.Event,
    every: float,
) -> None:
    """Online bookings, one per patient, each sent until answered under one Idempotency-Key."""
    headers = {"Authorization": f"Bearer {token}"}
    pending: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(base_url=base_url, timeout=10, headers=headers) as client:

        async def one(patient: int, schedule: int) -> None:
            key = {"Idempotency-Key": uuid.uuid4().hex}
            body = {"patient_id": patient, "schedule_id": schedule}

            async def book() -> tuple[bool, str]:
                reply = await client.post("/api/public/bookings", json=body, headers=key)
                if reply.status_code == 201:
                    tally.acknowledged.append((reply.json()["code"], patient))
                    return True, ""
                if 400 <= reply.status_code < 500 and reply.status_code not in (408, 429):
                    tally.refused += 1  # the service answered: a refusal is an answer
                    return True, ""
                return False, f"HTTP {reply.status_code}"

            ok, why = await _until_deadline(book)
            tally.count("online booking", ok, why)

        for patient, schedule in zip(patients, itertools.cycle(schedules), strict=False):
            if stop.is_set():
                break
            task = asyncio.create_task(one(patient, schedule))
            pending.add(task)
            task.add_done_callback(pending.discard)
            await _pause(stop, every)
        await asyncio.gather(*pending)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
