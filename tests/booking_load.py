"""Online and desk bookings sent to a running desk by many clients at once, each retried the
way a careful client retries (the same ``Idempotency-Key`` until a definite answer), for the
fault tests: every attempt's status is kept, so a test can say what was answered while a
server was down, and what was acknowledged, and check the database against it.

Data comes through the real paths: a hospital's sessions pushed as the hospital pushes them,
online accounts opened and their patients registered through the booking service; desk
callers are registered by the desk's booking itself.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import idcard
from backend.booking.context import BookingContext
from backend.booking.demo_data import create_hospital, session_push
from backend.booking.hospital_feed import push_schedules
from backend.booking.patients import open_account, register_patient
from backend.booking.rules import BookingStatus, SessionOfDay
from backend.db import transaction
from backend.models.booking import Booking, Slot
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings

# Answers that are not an answer yet: the same request is sent again with the same key.
RETRIED = {502, 503, 504}
LOST = 0  # the status kept for an attempt whose connection failed (a killed worker)


@dataclass(frozen=True)
class Job:
    kind: str  # "online" or "desk"
    path: str
    body: dict[str, object]
    headers: dict[str, str]
    key: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass
class Attempt:
    sent: float  # time.monotonic()
    answered: float
    status: int  # LOST: no answer


@dataclass
class Outcome:
    job: Job
    attempts: list[Attempt] = field(default_factory=list)
    answer: dict[str, object] | None = None

    @property
    def status(self) -> int:
        return self.attempts[-1].status if self.attempts else LOST

    @property
    def acknowledged(self) -> bool:
        return self.status == 201


def _new_identity() -> tuple[str, str]:
    r = uuid.uuid4().int
    birth = date(1940, 1, 1) + timedelta(days=r % 20000)
    number = idcard.make_valid(f"110108{birth:%Y%m%d}{r // 20000 % 1000:03d}")
    return number, f"13{r // 10**7 % 10**9:09d}"


def seed_schedules(
    factory: sessionmaker[Session], settings: Settings, count: int, slots: int
) -> list[int]:
    """A hospital's ``count`` sessions two days ahead with ``slots`` slots each (half online)."""
    cipher = PersonalDataCipher.of(settings)
    code = "o" + uuid.uuid4().hex[:8]
    day = date.today() + timedelta(days=2)
    pushes = [
        session_push(f"{code}-{i}", (f"d{i}", f"科室{i}"), day, SessionOfDay.MORNING, slots)
        for i in range(count)
    ]
    with transaction(factory) as db:
        hospital = create_hospital(db, cipher, code=code, name=f"故障医院{code}")
        pushed = push_schedules(db, BookingContext(cipher=cipher), hospital.id, pushes)
    return [pushed.schedule_ids[f"{code}-{i}"] for i in range(count)]


def online_jobs(
    factory: sessionmaker[Session], settings: Settings, schedules: list[int], count: int
) -> list[Job]:
    """``count`` online bookings, each by an account of its own for a patient it manages
    (opened and registered by the functions the account service runs, in one transaction)."""
    ctx = BookingContext.from_settings(settings)
    jobs = []
    with transaction(factory) as db:
        for i in range(count):
            number, phone = _new_identity()
            account_id, token = open_account(db, ctx, phone)
            patient = register_patient(
                db, ctx, id_number=number, name="网约", phone=phone, actor="test",
                account_id=account_id,
            )  # fmt: skip
            body = {"patient_id": patient.id, "schedule_id": schedules[i % len(schedules)]}
            auth = {"Authorization": f"Bearer {token}"}
            jobs.append(Job("online", "/api/public/bookings", body, auth))
    return jobs


def desk_jobs(schedules: list[int], cookies: list[str]) -> Iterator[Job]:
    """Bookings for new callers, without end, by the agents whose session cookies are given
    (the desk registers each caller as it books)."""
    for i in itertools.count():
        number, phone = _new_identity()
        body = {"schedule_id": schedules[i % len(schedules)], "id_number": number,
                "name": "电约", "phone": phone}  # fmt: skip
        headers = {"Cookie": cookies[i % len(cookies)]}
        yield Job("desk", "/api/desk/booking/bookings", body, headers)


def alternating(online: list[Job], desk: Iterator[Job], count: int | None = None) -> Iterator[Job]:
    """An online job and a desk job in turn while online ones last, then desk jobs; ``count``
    jobs in all (None: without end)."""
    mixed = itertools.chain.from_iterable(zip(online, desk, strict=False))
    return itertools.islice(itertools.chain(mixed, desk), count)


async def _book(http: httpx.AsyncClient, job: Job, deadline: float, pause: float) -> Outcome:
    """Send ``job`` until it gets an answer (201 or a refusal), or ``deadline`` passes."""
    outcome = Outcome(job)
    headers = {**job.headers, "Idempotency-Key": job.key}
    while time.monotonic() < deadline:
        sent = time.monotonic()
        try:
            response = await http.post(job.path, json=job.body, headers=headers)
        except httpx.TransportError:
            outcome.attempts.append(Attempt(sent, time.monotonic(), LOST))
        else:
            outcome.attempts.append(Attempt(sent, time.monotonic(), response.status_code))
            outcome.answer = _json(response)
            if not _retried(response.status_code, outcome.answer):
                break
        await asyncio.sleep(pause)
    return outcome


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {"text": response.text}
    return body if isinstance(body, dict) else {"body": body}


def _retried(status: int, answer: dict[str, object]) -> bool:
    """Not an answer yet: the server was unavailable, or the key's first request still runs."""
    return status in RETRIED or (status == 409 and answer.get("error") == "idempotency-in-progress")


async def run_jobs(
    base_url: str,
    jobs: Iterator[Job],
    *,
    clients: int,
    seconds: float,
    pause: float = 0.3,
    think: float = 0.0,
) -> list[Outcome]:
    """``clients`` clients taking the jobs in turn for ``seconds`` (or until there are no
    more), each job retried every ``pause`` seconds until answered (at most a minute more),
    a client waiting ``think`` seconds between one job's answer and its next job."""
    outcomes: list[Outcome] = []
    stop_taking = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=15, limits=limits) as http:

        async def client() -> None:
            while time.monotonic() < stop_taking and (job := next(jobs, None)) is not None:
                outcomes.append(await _book(http, job, stop_taking + 60, pause))
                await asyncio.sleep(think)

        await asyncio.gather(*(client() for _ in range(clients)))
    return outcomes


def login_cookie(base_url: str, username: str, password: str) -> str:
    reply = httpx.post(
        base_url + "/api/auth/login", json={"username": username, "password": password}
    )
    assert reply.status_code == 200, reply.text
    return "; ".join(f"{name}={value}" for name, value in reply.cookies.items())


def check_bookings(
    factory: sessionmaker[Session], schedules: list[int], outcomes: list[Outcome]
) -> None:
    """Every acknowledged booking is in the database exactly once and live; no job was booked
    twice (one booking per patient: each job books for a patient of its own); no slot holds
    two live bookings, nor a live booking without its slot taken (in the test's
    ``schedules``: the database may be shared)."""
    acknowledged = [o.answer["code"] for o in outcomes if o.acknowledged and o.answer]
    assert len(set(acknowledged)) == len(acknowledged), "two jobs acknowledged with one code"
    with factory() as db:
        found = dict(
            db.execute(
                select(Booking.code, func.count())
                .where(Booking.code.in_(acknowledged))
                .group_by(Booking.code)
            ).all()
        )
        ours = (
            select(Booking.id)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(Slot.schedule_id.in_(schedules))
        )
        per_patient = db.execute(
            select(Booking.patient_id, func.count())
            .where(Booking.id.in_(ours))
            .group_by(Booking.patient_id)
            .having(func.count() > 1)
        ).all()
        per_slot = db.execute(
            select(Booking.slot_id, func.count())
            .where(Booking.id.in_(ours), Booking.status == BookingStatus.BOOKED)
            .group_by(Booking.slot_id)
            .having(func.count() > 1)
        ).all()
        untaken = db.execute(
            select(func.count())
            .select_from(Booking)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Slot.schedule_id.in_(schedules),
                Booking.status == BookingStatus.BOOKED,
                Slot.taken.is_(False),
            )
        ).scalar_one()
    lost = [code for code in acknowledged if code not in found]
    assert not lost, f"acknowledged bookings missing: {lost}"
    assert all(n == 1 for n in found.values())
    assert per_patient == [], f"patients booked more than once: {per_patient}"
    assert per_slot == [] and untaken == 0, f"slots oversold: {per_slot}, untaken {untaken}"
