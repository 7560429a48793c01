"""Shift templates as plain values: on which dates each kind may be worked, and when it runs.

``day`` and ``night`` shifts may fall on any date (7×24 duty); ``weekend`` shifts only on a
Saturday or Sunday that is not a working day by the Chinese calendar (an adjusted working
weekend, 调休, is worked as a weekday); ``holiday`` duty only on a public holiday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from backend.workcalendar import WorkCalendar

KINDS = ("day", "night", "weekend", "holiday")
KIND_LABELS = {"day": "白班", "night": "夜班", "weekend": "周末班", "holiday": "节假日值班"}


@dataclass(frozen=True)
class Template:
    code: str
    name: str
    kind: str
    start: time  # local wall clock
    minutes: int

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"班次类型须为 {'/'.join(KINDS)}：{self.kind}")
        if not 30 <= self.minutes <= 16 * 60 or self.minutes % 30:
            raise ValueError("班次时长须为30分钟的整数倍，且在30分钟至16小时之间")
        if self.start.minute % 30 or self.start.second:
            raise ValueError("班次须从整点或半点开始")

    @property
    def hours(self) -> float:
        return self.minutes / 60


def applies_on(kind: str, day: date, calendar: WorkCalendar) -> bool:
    """Whether a shift of ``kind`` may start on the local date ``day``."""
    if kind == "holiday":
        return day in calendar.holidays
    if kind == "weekend":
        return (
            day.weekday() >= 5
            and day not in calendar.holidays
            and (not calendar.is_working_day(day))
        )
    return True


def span(template: Template, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC start and end of ``template`` worked from the local date ``day``."""
    start = datetime.combine(day, template.start, tzinfo=tz).astimezone(UTC)
    return start, start + timedelta(minutes=template.minutes)


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    """The local date a shift starting at ``moment`` belongs to."""
    return moment.astimezone(tz).date()
