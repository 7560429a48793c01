"""Deadlines of each stage of a work order, in working days by the Chinese calendar.

"No case left overnight" (案不过夜): an order taken in on a working day is dispatched before the
day's close; one taken in after hours, by the close of the next working day. Handling runs in
working days (7, complex cases 15, as the Beijing practice reports); urgent orders run in
hours. The numbers are a policy object so that operators can change them.

The calendar is the one the administrator enters (``backend/holiday_calendar``). When a
deadline runs into a year not entered (``CalendarMissing``), it is counted Monday–Friday for
the missing days (``WorkCalendar.lenient``) and logged as an error: an order must get a
deadline when it is taken in, and counting no holidays gives the earlier date, the safe side
for a citizen. The wallboard's calendar alert (``reminder.py``) asks for the year meanwhile.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from backend.errors import InvalidValue
from backend.localtime import DEFAULT_TIMEZONE, zone
from backend.workcalendar import Calendar, CalendarMissing
from backend.workorders.workflow import State, Urgency

log = logging.getLogger(__name__)


class Stage(enum.StrEnum):
    DISPATCH = "dispatch"
    HANDLE = "handle"
    CHECK = "check"
    CALLBACK = "callback"
    SUPERVISE = "supervise"


STAGE_LABELS: dict[Stage, str] = {
    Stage.DISPATCH: "派发",
    Stage.HANDLE: "办理",
    Stage.CHECK: "反馈审核",
    Stage.CALLBACK: "回访",
    Stage.SUPERVISE: "督办",
}

STAGE_OF_STATE: dict[State, Stage] = {
    State.CREATED: Stage.DISPATCH,
    State.SIGNED: Stage.DISPATCH,
    State.RETURNED: Stage.DISPATCH,
    State.DISPATCHED: Stage.HANDLE,
    State.HANDLING: Stage.HANDLE,
    State.REWORK: Stage.HANDLE,
    State.FEEDBACK_SUBMITTED: Stage.CHECK,
    State.ACCEPTED: Stage.CALLBACK,
    State.SUPERVISION: Stage.SUPERVISE,
}


@dataclass(frozen=True)
class DeadlinePolicy:
    timezone: str = DEFAULT_TIMEZONE  # settings.timezone (CC_TIMEZONE)
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    handle_working_days: int = 7
    complex_handle_working_days: int = 15
    check_working_days: int = 1
    callback_working_days: int = 1
    supervise_working_days: int = 1
    urgent_dispatch_hours: int = 2
    urgent_handle_hours: int = 24
    urgent_step_hours: int = 4  # check, callback and supervision of urgent orders
    message_callback_hours: int = 2  # after the next opening, for messages and voicemails

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, int) and value < 0:
                raise InvalidValue(item.name, "must not be negative")
        zone(self.timezone)


@dataclass(frozen=True)
class Deadlines:
    calendar: Calendar
    policy: DeadlinePolicy = DeadlinePolicy()

    def _lenient(self, missing: CalendarMissing, start: datetime) -> Deadlines:
        log.error("%s: the deadline from %s is counted Monday–Friday", missing, start)
        return replace(self, calendar=self.calendar.lenient())

    @property
    def _zone(self) -> ZoneInfo:
        return zone(self.policy.timezone)

    def _close_of(self, day: date) -> datetime:
        return datetime.combine(day, self.policy.closes, tzinfo=self._zone)

    def _open_of(self, day: date) -> datetime:
        return datetime.combine(day, self.policy.opens, tzinfo=self._zone)

    def _working_day_close(self, start: datetime, working_days: int) -> datetime:
        local = start.astimezone(self._zone)
        day = local.date()
        # A start after hours or on a rest day counts from the next working day's opening.
        if not self.calendar.is_working_day(day) or local.time() >= self.policy.closes:
            day = self.calendar.next_working_day(day)
        return self._close_of(self.calendar.add_working_days(day, working_days))

    def stage_due(
        self,
        stage: Stage,
        start: datetime,
        *,
        urgency: Urgency = Urgency.NORMAL,
        complex_case: bool = False,
        final_due: datetime | None = None,
    ) -> datetime:
        """When ``stage``, entered at ``start``, must be done (UTC), capped by ``final_due``."""
        args = (stage, start, urgency, complex_case, final_due)
        try:
            return self._stage_due(*args)
        except CalendarMissing as missing:
            return self._lenient(missing, start)._stage_due(*args)

    def _stage_due(
        self,
        stage: Stage,
        start: datetime,
        urgency: Urgency,
        complex_case: bool,
        final_due: datetime | None,
    ) -> datetime:
        p = self.policy
        urgent = urgency is Urgency.URGENT
        if stage is Stage.DISPATCH:
            due = (
                start + timedelta(hours=p.urgent_dispatch_hours)
                if urgent
                else self._working_day_close(start, 0)
            )
        elif stage is Stage.HANDLE:
            days = p.complex_handle_working_days if complex_case else p.handle_working_days
            due = (
                start + timedelta(hours=p.urgent_handle_hours)
                if urgent
                else self._working_day_close(start, days)
            )
        else:
            days = {
                Stage.CHECK: p.check_working_days,
                Stage.CALLBACK: p.callback_working_days,
                Stage.SUPERVISE: p.supervise_working_days,
            }[stage]
            due = (
                start + timedelta(hours=p.urgent_step_hours)
                if urgent
                else self._working_day_close(start, days)
            )
        if final_due is not None and final_due < due:
            due = final_due
        return due.astimezone(ZoneInfo("UTC"))

    def callback_due(self, received: datetime) -> datetime:
        """When a message or voicemail left at ``received`` must have been called back."""
        try:
            return self._callback_due(received)
        except CalendarMissing as missing:
            return self._lenient(missing, received)._callback_due(received)

    def _callback_due(self, received: datetime) -> datetime:
        local = received.astimezone(self._zone)
        in_hours = self.calendar.within_hours(local, self.policy.opens, self.policy.closes)
        start = local if in_hours else self._open_of(self._next_opening_day(local))
        due = start + timedelta(hours=self.policy.message_callback_hours)
        if in_hours and due.astimezone(self._zone).time() > self.policy.closes:
            due = self._close_of(local.date())
        return due.astimezone(ZoneInfo("UTC"))

    def _next_opening_day(self, local: datetime) -> date:
        day = local.date()
        if self.calendar.is_working_day(day) and local.time() < self.policy.opens:
            return day
        return self.calendar.next_working_day(day)


def stage_of(state: State) -> Stage | None:
    return STAGE_OF_STATE.get(state)
