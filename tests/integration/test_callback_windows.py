"""Callbacks booked for a half-hour window, on real PostgreSQL and Redis: the windows offered
skip holidays and full windows, a window's last place goes to one of two callers, the
booking joins the queue only inside its window and is missed after it, the desk lists the
day's bookings."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import pytest
from fastapi.testclient import TestClient
from redis.asyncio import Redis
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import CallStatus
from backend.acd.policy import Priority, SkillConfig
from backend.acd.store import AcdStore
from backend.lines import line_spec
from backend.localtime import zone
from backend.models.users import Role
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.callback_bookings import (
    CallbackBookings,
    ScheduledCallback,
    WindowFull,
    WindowRules,
)
from backend.telephony.callback_windows import CallbackWindow
from backend.workcalendar import WorkCalendar
from ivr.outbound.callback_tasks import CallbackTaskFeeder, SqlCallbackTasks
from recordings.index import RecordingIndex
from tests.desk_support import login, make_user
from tests.outbound_support import MovableClock, TheseCallsTasks

BEIJING = zone("Asia/Shanghai")
# Thursday 24 September 2026, 17:10: the Mid-Autumn holiday runs Friday to Sunday.
EVE = datetime(2026, 9, 24, 17, 10, tzinfo=BEIJING)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, tzinfo=BEIJING)


@dataclass
class Notices:
    scheduled_ids: list[int] = field(default_factory=list)
    missed_ids: list[int] = field(default_factory=list)

    def scheduled(self, callback: ScheduledCallback) -> None:
        self.scheduled_ids.append(callback.task_id)

    def missed(self, callback: ScheduledCallback) -> None:
        self.missed_ids.append(callback.task_id)


@pytest.fixture()
async def store(settings: Settings, redis_namespace: str) -> AsyncIterator[AcdStore]:
    prefix = f"{redis_namespace}-windows-{uuid.uuid4().hex[:6]}"
    client = Redis.from_url(settings.redis_url, decode_responses=True)
    yield AcdStore(client, prefix, [SkillConfig("policy")], controller_id="c1")
    async for key in client.scan_iter(f"{prefix}*"):
        await client.delete(key)
    await client.aclose()


def bookings_at(
    clock: MovableClock, factory: sessionmaker[Session], notices: Notices
) -> CallbackBookings:
    rules = WindowRules(
        hours={"hotline": line_spec("hotline").hours},
        calendar=WorkCalendar.load(),
        capacity=1,
        choices=3,
        timezone="Asia/Shanghai",
    )
    return CallbackBookings(factory, rules, notices=notices, clock=clock.now)


def book(
    bookings: CallbackBookings, window: CallbackWindow, call_id: str, cipher: PersonalDataCipher
) -> ScheduledCallback:
    return bookings.book(
        window,
        line="hotline",
        skill="policy",
        call_id=call_id,
        phone_enc=cipher.encrypt("13800138777"),
        phone_hash=cipher.lookup_hash("13800138777"),
    )


async def test_a_window_is_offered_booked_queued_inside_it_and_missed_after_it(
    store: AcdStore, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    clock, notices = MovableClock(EVE.astimezone(UTC)), Notices()
    bookings = bookings_at(clock, session_factory, notices)
    # Before the holiday: the last window of the day, then Monday's (never Friday–Sunday).
    offered = bookings.offer("hotline")
    assert [w.start for w in offered] == [local(24, 17, 30), local(28, 9), local(28, 9, 30)]

    first, second = f"win-{uuid.uuid4().hex[:8]}", f"win-{uuid.uuid4().hex[:8]}"
    booked = book(bookings, offered[0], first, cipher)
    assert book(bookings, offered[0], first, cipher).task_id == booked.task_id  # asked twice
    assert notices.scheduled_ids == [booked.task_id]
    with pytest.raises(WindowFull):  # capacity 1: the window is taken
        book(bookings, offered[0], second, cipher)
    assert bookings.offer("hotline")[0].start == local(28, 9)

    tasks = SqlCallbackTasks(session_factory, settings, RecordingIndex(session_factory, settings))
    feeder = CallbackTaskFeeder(
        store,
        TheseCallsTasks(tasks, {first}, session_factory),
        hours={"hotline": line_spec("hotline").hours},
        skills={"hotline": "policy"},
        calendar=WorkCalendar.load(),
        clock=clock,
        notices=notices,
    )
    queue_id = f"task-{booked.task_id}"
    assert await feeder.feed_once() == []  # 17:10: the window has not started
    clock.at = local(24, 17, 31).astimezone(UTC)
    assert await feeder.feed_once() == [queue_id]
    queued = await store.call(queue_id)
    assert queued is not None
    assert (queued.status, queued.skill, queued.parent) == (CallStatus.CALLBACK, "policy", first)
    assert queued.priority == Priority.CALLBACK
    assert queued.entered_at == local(24, 17, 30).timestamp()

    clock.at = local(24, 18).astimezone(UTC)  # the window is over, nobody took it
    assert await feeder.feed_once() == []
    assert await store.call(queue_id) is None
    assert notices.missed_ids == [booked.task_id]
    (listed,) = [b for b in bookings.on_day(date(2026, 9, 24)) if b.call_id == first]
    assert listed.status == "missed"


async def test_two_callers_taking_a_windows_last_place_at_once_get_one_place(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    bookings = bookings_at(MovableClock(EVE.astimezone(UTC)), session_factory, Notices())
    window = CallbackWindow.starting(local(28, 15))

    def attempt(call_id: str) -> str:
        try:
            book(bookings, window, call_id, cipher)
        except WindowFull as full:
            return full.code
        return "booked"

    results = await asyncio.gather(
        *(asyncio.to_thread(attempt, f"race-{uuid.uuid4().hex[:8]}") for _ in range(2))
    )
    assert sorted(results) == ["booked", "callback-window-full"]


def test_the_desk_lists_the_days_bookings_masked(
    desk_client: TestClient, settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    bookings = bookings_at(MovableClock(EVE.astimezone(UTC)), session_factory, Notices())
    call_id = f"desk-{uuid.uuid4().hex[:8]}"
    booked = book(bookings, CallbackWindow.starting(local(29, 10)), call_id, cipher)
    login(desk_client, make_user(session_factory, Role.AGENT))
    reply = desk_client.get("/api/callbacks/scheduled", params={"day": "2026-09-29"})
    assert reply.status_code == 200, reply.text
    (row,) = [r for r in reply.json() if r["task_id"] == booked.task_id]
    assert (row["window"], row["line_label"], row["number"], row["status_label"]) == (
        "10:00–10:30",
        "医保热线",
        "138****8777",
        "待回电",
    )
    assert datetime.fromisoformat(row["window_start"]).astimezone(BEIJING).time() == time(10)
    bad = desk_client.get("/api/callbacks/scheduled", params={"day": "29/09/2026"})
    assert bad.status_code == 422
