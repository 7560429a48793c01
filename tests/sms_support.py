"""Text-message test helpers: the recording gateway under the test's Redis prefix, a drain
of the outbox as the worker's task runs it, and a private Redis to take down (the fake
gateway's network) without touching the machine's shared one."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import redis
from sqlalchemy.orm import Session, sessionmaker

from backend import idcard
from backend.booking.context import BookingContext
from backend.booking.demo_data import create_hospital, session_push
from backend.booking.hospital_feed import push_schedules
from backend.booking.patients import NewPatient
from backend.booking.reservations import BookRequest
from backend.booking.rules import Channel, SessionOfDay
from backend.booking.service import BookingService
from backend.booking.views import BookingReceipt
from backend.db import transaction
from backend.models.base import utcnow
from backend.notifications.sender import DrainResult, OutboxSender
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.sms import SmsGateway
from backend.sms.fake import RecordingSmsGateway
from tests.conftest import free_port


def sms_context(settings: Settings, clock: Callable[[], datetime] = utcnow) -> BookingContext:
    return BookingContext(cipher=PersonalDataCipher.of(settings), clock=clock)


def drain(
    factory: sessionmaker[Session],
    settings: Settings,
    gateway: SmsGateway,
    clock: Callable[[], datetime] = utcnow,
    name: str = "fake",
) -> DrainResult:
    """The worker's ``sms.drain_outbox`` run until nothing is due (the run's database holds
    other tests' messages too) or the gateway refuses."""
    sender = OutboxSender(factory, sms_context(settings, clock), gateway, name)
    total = DrainResult()
    while True:
        result = sender.drain()
        total.sent += result.sent
        total.skipped += result.skipped
        total.failed += result.failed
        if result.failed or result.sent + result.skipped == 0:
            return total


def texts_of(gateway: RecordingSmsGateway, phone: str, event: str) -> list[str]:
    """The texts of ``event`` (``SmsEvent`` value) that reached ``phone``."""
    return [r["text"] for r in gateway.records_to(phone) if r["purpose"] == event]


class PrivateRedis:
    """A redis-server of the test's own, on a free port, stopped and started at will."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self._dir = directory
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (Makefile APT_PACKAGES)"
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self._dir)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = self.client()
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("the private redis-server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=2)


class Booker:
    """Bookings through the booking service on a clock of the test's choosing, for new
    patients of a new hospital's session on ``visit`` (as the hospital pushes it)."""

    def __init__(
        self, settings: Settings, factory: sessionmaker[Session], visit: date, now: datetime
    ) -> None:
        self.ctx = sms_context(settings, lambda: now)
        self.factory = factory
        self.service = BookingService(factory, self.ctx)
        code = "s" + uuid.uuid4().hex[:8]
        push = session_push(f"{code}-1", ("nk", "内科"), visit, SessionOfDay.MORNING, 6)
        with transaction(factory) as db:
            hospital = create_hospital(db, self.ctx.cipher, code=code, name=f"短信医院{code}")
            pushed = push_schedules(db, self.ctx, hospital.id, [push])
        self.hospital = f"短信医院{code}"
        self.hospital_code, self.external_id = code, f"{code}-1"
        self.schedule_id = pushed.schedule_ids[f"{code}-1"]

    def book(
        self,
        channel: Channel = Channel.PHONE,
        key: str | None = None,
        caller: NewPatient | None = None,
    ) -> Booked:
        """A booking for a new caller (or ``caller`` again: a retry with ``key``)."""
        caller = caller or new_caller()
        request = BookRequest(self.schedule_id, channel, "agent:sms", id_number=caller.id_number)
        return Booked(caller, self.service.register_and_book(caller, request, key))


@dataclass(frozen=True)
class Booked:
    caller: NewPatient
    receipt: BookingReceipt

    @property
    def id_number(self) -> str:
        return self.caller.id_number

    @property
    def phone(self) -> str:
        return self.caller.phone


def new_caller() -> NewPatient:
    r = uuid.uuid4().int
    birth = date(1950, 1, 1) + timedelta(days=r % 18000)
    number = idcard.make_valid(f"110108{birth:%Y%m%d}{r // 18000 % 1000:03d}")
    return NewPatient(id_number=number, name="王五", phone=f"136{r % 10**8:08d}")
