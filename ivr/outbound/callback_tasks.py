"""Callback tasks of messages and voicemails, dialled by the system when agents are free.

A message left out of hours (or a voicemail left instead of waiting) becomes a work order with
a callback task. In each line's hours (``backend/data/lines.yaml``; none: 7×24) the
line's pending tasks join the ACD's queue as callbacks of the line's callback skill
(``CC_CALLBACK_SKILLS``), at the place of the moment the message was left. From there the
ACD's callback dialer serves them as it serves callers who asked for a callback in the queue:
only when an agent is free and reserved for one (never more dialling than free agents), his
phone first, then the citizen's, one attempt key per try, recorded, retried up to its limit.
When the line closes, tasks nobody is dialling leave the queue and come back when it opens.
A callback booked for a half-hour window (``backend/telephony/callback_bookings.py``) joins
the queue it was booked from only once its window has started, ahead of ordinary callers
(callback priority, at the window's start), and leaves it at the window's end: a task
nobody reached by then is ``missed`` and the bookings' notices hear of it.
Each attempt's result goes on the task and on its work order, an answered call linked with
its recording.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.policy import Priority
from backend.acd.store import AcdStore
from backend.db import transaction
from backend.lines import LineHours, WorkingDays
from backend.localtime import DEFAULT_TIMEZONE, zone
from backend.models.workorders import CallbackTask
from backend.settings import Settings
from backend.telephony.callback_bookings import (
    CallbackNotices,
    NoNotices,
    ScheduledCallback,
    scheduled_of,
    tell,
)
from backend.workorders.calls import CallAttempt
from backend.workorders.composition import WorkOrders
from backend.workorders.journal import SYSTEM, Actor
from ivr.acd.callbacks import CallbackReport
from ivr.flows.ports import Clock
from recordings.index import RecordingIndex

log = logging.getLogger("ivr.outbound")

TASK_PREFIX = "task-"
ATTEMPT_LABELS = {
    "answered": "已接通",
    "unreached": "未接通，稍后重拨",
    "failed": "未接通，已停止重拨",
}


def task_call_id(task_id: int) -> str:
    """The task's id in the ACD's queue (its message's own call id is taken there already
    when the message was a queue voicemail)."""
    return f"{TASK_PREFIX}{task_id}"


def task_id_of(queue_call_id: str) -> int | None:
    rest = queue_call_id.removeprefix(TASK_PREFIX)
    return int(rest) if rest != queue_call_id and rest.isdigit() else None


@dataclass(frozen=True)
class PendingTask:
    task_id: int
    line: str
    phone_enc: str  # joins the queue as it is, decrypted only for the Dial
    created_at: datetime
    call_id: str | None  # the message's call
    attempts: int
    window_start: datetime | None = None  # a booked window; None for messages' tasks
    window_end: datetime | None = None
    skill: str | None = None  # the queue a booking was made from


class SqlCallbackTasks:
    """The tasks in PostgreSQL; SQL runs in worker threads."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        recordings: RecordingIndex,
    ) -> None:
        self._sessions = session_factory
        self._workorders = WorkOrders.from_settings(settings, session_factory)
        self._recordings = recordings

    async def pending(self) -> list[PendingTask]:
        return await asyncio.to_thread(self._pending)

    def _pending(self) -> list[PendingTask]:
        with self._sessions() as db:
            rows = db.scalars(
                select(CallbackTask)
                .where(CallbackTask.status == "pending")
                .order_by(CallbackTask.created_at, CallbackTask.id)
            )
            return [
                PendingTask(
                    t.id,
                    t.line,
                    t.phone_enc,
                    t.created_at,
                    t.call_id,
                    t.attempts,
                    t.window_start,
                    t.window_end,
                    t.skill,
                )
                for t in rows
            ]

    async def missed(self, task_id: int) -> ScheduledCallback | None:
        """The task's window passed with nobody reached: ``missed`` (None if settled)."""
        return await asyncio.to_thread(self._missed, task_id)

    def _missed(self, task_id: int) -> ScheduledCallback | None:
        with transaction(self._sessions) as db:
            task = db.get(CallbackTask, task_id, with_for_update=True)
            if task is None or task.status != "pending" or task.window_start is None:
                return None
            task.status = "missed"
            db.flush()
            return scheduled_of(task)

    async def callback_done(self, report: CallbackReport) -> None:
        """``CallbackObserver``: a task's attempt is over (other callbacks are not ours)."""
        task_id = task_id_of(report.queue_call_id)
        if task_id is not None:
            await asyncio.to_thread(self._attempted, task_id, report)

    def _attempted(self, task_id: int, report: CallbackReport) -> None:
        answered = report.status == "answered"
        recording = ""
        if answered and report.recording:
            recording = self._recordings.relative(report.recording)
        with transaction(self._sessions) as db:
            task = db.get(CallbackTask, task_id)
            if task is None:
                log.warning("callback task %s is gone; attempt %s not kept", task_id, report)
                return
            service = self._workorders.service(db)
            service.callback_task_attempted(
                task_id, answered=answered, gave_up=report.status == "failed"
            )
            if task.order_id is not None:
                attempt = CallAttempt(
                    report.unique_id,
                    "return_call",
                    answered,
                    ATTEMPT_LABELS.get(report.status, report.status),
                    recording,
                    attempt=task.attempts,
                )
                service.call_attempted(task.order_id, attempt, Actor(SYSTEM), datetime.now(UTC))


class CallbackTaskFeeder:
    def __init__(
        self,
        store: AcdStore,
        tasks: SqlCallbackTasks,
        *,
        hours: Mapping[str, LineHours | None],
        skills: Mapping[str, str],
        calendar: WorkingDays,
        clock: Clock,
        timezone: str = DEFAULT_TIMEZONE,
        kick: Callable[[], None] = lambda: None,
        every_seconds: float = 5.0,
        notices: CallbackNotices | None = None,
    ) -> None:
        """``hours``: each line's hours from the line registry (None: 7×24); ``skills``: the
        skill whose agents call each line's citizens back (a line without one is not fed);
        ``notices``: told of booked windows that passed with nobody reached."""
        self.notices: CallbackNotices = notices or NoNotices()
        self._store = store
        self._tasks = tasks
        self._hours = dict(hours)
        self._skills = dict(skills)
        self._calendar = calendar
        self._clock = clock
        self._tz = zone(timezone)
        self._kick = kick
        self._every = every_seconds

    def is_open(self, line: str) -> bool:
        hours = self._hours.get(line)
        if hours is None:
            return line in self._hours
        return hours.is_open(self._clock.now().astimezone(self._tz), self._calendar)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.feed_once()
            except Exception:
                # PostgreSQL or Redis hiccups: the next round tries again, nothing is lost.
                log.exception("feeding callback tasks failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._every)

    async def feed_once(self) -> list[str]:
        """Queue the open lines' tasks, withdraw the closed lines' ones; the ids queued."""
        open_lines = {line for line in self._skills if self.is_open(line)}
        queued: list[str] = []
        for task in await self._tasks.pending():
            call_id = task_call_id(task.task_id)
            if task.window_start is not None:
                if await self._feed_booked(task, call_id):
                    queued.append(call_id)
                continue
            skill = self._skills.get(task.line)
            if skill is None:
                continue
            if task.line not in open_lines:
                await self._store.withdraw_callback(call_id)
                continue
            if await self._store.call(call_id) is not None:
                continue  # queued already, or being dialled
            await self._store.enqueue_callback(
                call_id,
                skill,
                task.phone_enc,
                line=task.line,
                entered_at=task.created_at.timestamp(),
                parent=task.call_id or "",
                attempts=task.attempts,
            )
            queued.append(call_id)
        if queued:
            log.info("%d callback tasks joined the queue", len(queued))
            self._kick()
        return queued

    async def _feed_booked(self, task: PendingTask, call_id: str) -> bool:
        """A booked window's task: queued inside its window, missed after it; whether it
        joined the queue now."""
        assert task.window_start is not None and task.window_end is not None
        now = self._clock.now()
        if now < task.window_start:
            return False
        skill = task.skill or self._skills.get(task.line)
        if now >= task.window_end or skill not in self._store.skills:
            await self._give_up(task, call_id)
            return False
        if await self._store.call(call_id) is not None:
            return False  # queued already, or being dialled
        await self._store.enqueue_callback(
            call_id,
            skill,
            task.phone_enc,
            line=task.line,
            entered_at=task.window_start.timestamp(),
            priority=Priority.CALLBACK,
            parent=task.call_id or "",
            attempts=task.attempts,
        )
        return True

    async def _give_up(self, task: PendingTask, call_id: str) -> None:
        """Past the window: out of the queue unless somebody is dialling it right now."""
        queued = await self._store.call(call_id)
        if queued is not None and not await self._store.withdraw_callback(call_id):
            return  # being dialled (or just dialled): its attempt settles the task
        missed = await self._tasks.missed(task.task_id)
        if missed is not None:
            log.info("callback task %s: window passed, nobody reached", task.task_id)
            await asyncio.to_thread(tell, self.notices.missed, missed)
