"""Callbacks booked for a half-hour window: offered, booked, listed for the desk.

A booking is a callback task (``callback_tasks``) without a work order, with the window's
bounds and the queue the caller left. The controller's task feeder
(``ivr/outbound/callback_tasks.py``) puts it in that queue when its window opens, so an
agent's call reaches the citizen inside the window; when the window ends before anybody
reached him, the task is ``missed``.

Capacity: at most ``CC_CALLBACK_WINDOW_CAPACITY`` bookings per line and window, whatever
their outcome, checked under a transaction-scoped advisory lock on the window: two callers
taking the last place at once get one place and one ``callback-window-full``. A caller's
second booking of the same call returns the first.

``CallbackNotices`` is told of every booking made and every window missed (the SMS
messages hook in there); a failing notice is logged, never undoes the booking.
SQL runs synchronously; the ``*_async`` methods move it to a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.errors import Refused
from backend.holiday_calendar.live import live_calendar
from backend.lines import LINES, LineHours, WorkingDays
from backend.localtime import zone
from backend.models.workorders import CallbackTask
from backend.settings import Settings
from backend.telephony.callback_windows import CallbackWindow, free_windows

log = logging.getLogger("backend.telephony")

WINDOW_FULL = "callback-window-full"


class WindowFull(Refused):
    """The window filled up while the caller chose it."""

    code = WINDOW_FULL


@dataclass(frozen=True)
class ScheduledCallback:
    """A booked callback, as the desk lists it and the notices receive it."""

    task_id: int
    line: str
    skill: str
    call_id: str  # the call the caller booked from
    phone_enc: str  # the citizen's number, encrypted (``PersonalDataCipher``)
    window_start: datetime  # UTC
    window_end: datetime
    status: str  # pending | done | failed | missed
    attempts: int


class CallbackNotices(Protocol):
    """Told when a window is booked and when one passed with nobody reached (SMS)."""

    def scheduled(self, callback: ScheduledCallback) -> None: ...
    def missed(self, callback: ScheduledCallback) -> None: ...


class NoNotices:
    def scheduled(self, callback: ScheduledCallback) -> None:
        pass

    def missed(self, callback: ScheduledCallback) -> None:
        pass


def scheduled_of(task: CallbackTask) -> ScheduledCallback:
    assert task.window_start is not None and task.window_end is not None
    return ScheduledCallback(
        task.id,
        task.line,
        task.skill or "",
        task.call_id or "",
        task.phone_enc,
        task.window_start,
        task.window_end,
        task.status,
        task.attempts,
    )


def tell(notify: Callable[[ScheduledCallback], None], callback: ScheduledCallback) -> None:
    """Run one notice; its failure is logged (the booking stands either way)."""
    try:
        notify(callback)
    except Exception:
        log.exception("callback notice failed for task %s", callback.task_id)


@dataclass(frozen=True)
class WindowRules:
    hours: Mapping[str, LineHours | None]  # each line's hours (None: 7×24)
    calendar: WorkingDays
    capacity: int
    choices: int
    timezone: str


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CallbackBookings:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        rules: WindowRules,
        *,
        notices: CallbackNotices | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._sessions = session_factory
        self.rules = rules
        self.notices: CallbackNotices = notices or NoNotices()
        self._zone = zone(rules.timezone)
        self._clock = clock

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        session_factory: sessionmaker[Session],
        *,
        notices: CallbackNotices | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> CallbackBookings:
        rules = WindowRules(
            hours={spec.code: spec.hours for spec in LINES},
            calendar=live_calendar(session_factory),
            capacity=settings.callback_window_capacity,
            choices=settings.callback_window_choices,
            timezone=settings.timezone,
        )
        return cls(session_factory, rules, notices=notices, clock=clock)

    def local_now(self) -> datetime:
        return self._clock().astimezone(self._zone)

    def offer(self, line: str) -> list[CallbackWindow]:
        """The next free windows of the line (none for a line the registry does not know)."""
        if line not in self.rules.hours:
            return []
        now = self.local_now()
        with self._sessions() as db:
            booked = self._booked(db, line, now)
        return free_windows(
            now,
            self.rules.hours[line],
            self.rules.calendar,
            booked,
            capacity=self.rules.capacity,
            count=self.rules.choices,
        )

    async def offer_async(self, line: str) -> list[CallbackWindow]:
        return await asyncio.to_thread(self.offer, line)

    def _booked(self, db: Session, line: str, now: datetime) -> dict[datetime, int]:
        rows = db.execute(
            select(CallbackTask.window_start, func.count())
            .where(CallbackTask.line == line, CallbackTask.window_start >= now)
            .group_by(CallbackTask.window_start)
        )
        return {start.astimezone(self._zone): count for start, count in rows if start}

    def book(
        self,
        window: CallbackWindow,
        *,
        line: str,
        skill: str,
        call_id: str,
        phone_enc: str,
        phone_hash: str,
    ) -> ScheduledCallback:
        """Book the window for the call's citizen; WindowFull when it has no room left."""
        with transaction(self._sessions) as db:
            lock = f"callback-window:{line}:{window.start.astimezone(UTC).isoformat()}"
            db.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": lock})
            earlier = db.scalar(
                select(CallbackTask).where(
                    CallbackTask.call_id == call_id, CallbackTask.window_start.is_not(None)
                )
            )
            if earlier is not None:
                return scheduled_of(earlier)
            taken = db.scalar(
                select(func.count()).where(
                    CallbackTask.line == line, CallbackTask.window_start == window.start
                )
            )
            if (taken or 0) >= self.rules.capacity:
                raise WindowFull("这个时段刚刚约满了，请选择其他时段")
            task = CallbackTask(
                phone_enc=phone_enc,
                phone_hash=phone_hash,
                line=line,
                due_at=window.start,
                status="pending",
                call_id=call_id,
                created_at=self._clock(),
                window_start=window.start,
                window_end=window.end,
                skill=skill,
            )
            db.add(task)
            db.flush()
            booked = scheduled_of(task)
        tell(self.notices.scheduled, booked)
        return booked

    async def book_async(
        self,
        window: CallbackWindow,
        *,
        line: str,
        skill: str,
        call_id: str,
        phone_enc: str,
        phone_hash: str,
    ) -> ScheduledCallback:
        return await asyncio.to_thread(
            lambda: self.book(
                window,
                line=line,
                skill=skill,
                call_id=call_id,
                phone_enc=phone_enc,
                phone_hash=phone_hash,
            )
        )

    def on_day(self, day: date) -> list[ScheduledCallback]:
        with self._sessions() as db:
            return scheduled_on(db, day, self._zone)


def scheduled_on(db: Session, day: date, tz: tzinfo) -> list[ScheduledCallback]:
    """The callbacks booked for windows starting on a local day, earliest first."""
    start = datetime.combine(day, time(), tz)
    rows = db.scalars(
        select(CallbackTask)
        .where(
            CallbackTask.window_start >= start,
            CallbackTask.window_start < start + timedelta(days=1),
        )
        .order_by(CallbackTask.window_start, CallbackTask.id)
    )
    return [scheduled_of(t) for t in rows]
