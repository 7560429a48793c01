"""Report filters and periods in Beijing local time, as plain values."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from backend.errors import CallCenterError
from backend.lines import LINE_LABELS, is_line
from backend.localtime import DEFAULT_TIMEZONE, zone

MAX_RANGE_DAYS = 400


class ReportInputError(CallCenterError):
    code = "bad-report-filter"


class Grain(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class GroupBy(enum.StrEnum):
    PERIOD = "period"  # by the filter's grain
    HALF_HOUR = "half_hour"  # staffing intervals
    HOUR_OF_DAY = "hour_of_day"
    DAY_OF_WEEK = "day_of_week"
    NIGHT = "night"
    AGENT = "agent"
    LINE = "line"
    SKILL = "skill"
    TOTAL = "total"


GRAIN_LABELS = {Grain.HOUR: "小时", Grain.DAY: "日", Grain.WEEK: "周", Grain.MONTH: "月"}
WEEKDAY_LABELS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}


@dataclass(frozen=True)
class ReportFilter:
    """What a report covers: local dates ``first``..``last`` inclusive, and optional scopes."""

    first: date
    last: date
    line: str | None = None  # a line's code (backend/data/lines.yaml)
    skill: str | None = None
    agent_id: int | None = None
    team: str | None = None
    grain: Grain = Grain.DAY
    tz_name: str = DEFAULT_TIMEZONE  # settings.timezone

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ReportInputError("结束日期不能早于开始日期")
        if (self.last - self.first).days >= MAX_RANGE_DAYS:
            raise ReportInputError(f"统计区间不能超过{MAX_RANGE_DAYS}天")
        if self.line is not None and not is_line(self.line):
            raise ReportInputError(f"未知线路：{self.line}")

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.tz_name)

    @property
    def agent_scoped(self) -> bool:
        return self.agent_id is not None or self.team is not None

    def utc_range(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of ``first`` to local midnight after ``last``."""
        start = datetime.combine(self.first, time.min, tzinfo=self.tz)
        end = datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def describe(self) -> str:
        parts = [f"{self.first.isoformat()} 至 {self.last.isoformat()}"]
        if self.line:
            parts.append(LINE_LABELS[self.line])
        if self.skill:
            parts.append(f"技能组 {self.skill}")
        if self.agent_id is not None:
            parts.append(f"坐席 #{self.agent_id}")
        if self.team:
            parts.append(f"班组 {self.team}")
        parts.append(f"按{GRAIN_LABELS[self.grain]}")
        return "，".join(parts)


def period_label(start: datetime, grain: Grain) -> str:
    """A local period start as people read it."""
    if grain is Grain.HOUR:
        return start.strftime("%Y-%m-%d %H:00")
    if grain is Grain.DAY:
        return start.strftime("%Y-%m-%d")
    if grain is Grain.WEEK:
        return f"{start:%Y-%m-%d}起一周"
    return start.strftime("%Y-%m")


def half_year(year: int, half: int) -> tuple[date, date]:
    if half not in (1, 2):
        raise ReportInputError("半年度须为1（上半年）或2（下半年）")
    if half == 1:
        return date(year, 1, 1), date(year, 6, 30)
    return date(year, 7, 1), date(year, 12, 31)


def floor_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class Edition(enum.StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEAR = "half_year"
    ANNUAL = "annual"


EDITION_LABELS = {
    Edition.WEEKLY: "周报",
    Edition.MONTHLY: "月报",
    Edition.QUARTERLY: "季度分析",
    Edition.HALF_YEAR: "半年分析",
    Edition.ANNUAL: "年度分析",
}


def edition_range(edition: Edition, day: date) -> tuple[date, date]:
    """The period of that edition that contains ``day`` (weeks run Monday to Sunday)."""
    if edition is Edition.WEEKLY:
        first = day - timedelta(days=day.weekday())
        return first, first + timedelta(days=6)
    if edition is Edition.ANNUAL:
        return date(day.year, 1, 1), date(day.year, 12, 31)
    months = {Edition.MONTHLY: 1, Edition.QUARTERLY: 3, Edition.HALF_YEAR: 6}[edition]
    first_month = (day.month - 1) // months * months + 1
    first = date(day.year, first_month, 1)
    next_month = first_month + months
    after = date(day.year + 1, 1, 1) if next_month > 12 else date(day.year, next_month, 1)
    return first, after - timedelta(days=1)
