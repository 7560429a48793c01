"""The booking rules as pure functions over plain data.

Every number a health commission or a hospital may change lives in ``BookingRules``. Each
refusal raises ``BookingRefused`` whose ``code`` names the rule, so the agent, the IVR and the
mini-program can all tell the citizen why.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

from backend.booking.errors import BookingRefused
from backend.errors import InvalidValue
from backend.localtime import DEFAULT_TIMEZONE, zone
from backend.workcalendar import Calendar, CalendarMissing

log = logging.getLogger(__name__)


class Channel(StrEnum):
    PHONE = "phone"  # a 114 agent on the phone
    IVR = "ivr"  # the caller's self-service in the IVR
    ONLINE = "online"  # WeChat, the mini-programs


class SessionOfDay(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


SESSION_LABELS = {"morning": "上午", "afternoon": "下午", "evening": "晚间"}
STATUS_LABELS = {"booked": "已预约", "cancelled": "已取消", "attended": "已就诊", "no_show": "爽约"}
CHANNEL_LABELS = {"phone": "电话人工", "ivr": "电话自助", "online": "网上"}


@dataclass(frozen=True)
class BookingRules:
    """Every configurable number of the booking rules (defaults: the common 114 practice)."""

    release_time: time = time(8, 0)  # local time slots go on sale, ``days_ahead`` days before
    days_ahead: int = 7
    max_per_department_day: int = 1  # bookings of one patient in one department on one day
    max_open_bookings: int = 5  # bookings not yet seen by a doctor
    quota_day: int = 2  # bookings one ID number may make per calendar day
    quota_week: int = 3  # ... in any 7 days
    quota_quarter: int = 5  # ... in any 90 days
    quota_counts_cancelled: bool = True  # so that book-and-cancel churn cannot hoard slots
    max_patients_per_phone: int = 2
    noshow_limit: int = 3  # this many no-shows ...
    noshow_window_days: int = 90  # ... within this many days ...
    blacklist_days: int = 90  # ... block booking for this many days
    cancel_cutoff_time: time = time(15, 0)  # on the working day before the visit
    rerelease_min_minutes: int = 60  # a cancelled slot goes back on sale at a random moment
    rerelease_max_minutes: int = 120  # in this window, so that touts cannot catch it
    rate_limit_requests: int = 100  # online API requests per client address ...
    rate_limit_window_seconds: int = 60  # ... per window
    price_online: Decimal = Decimal("0.46")  # CNY per successful booking
    price_phone: Decimal = Decimal("3.94")
    max_body_bytes: int = 16 * 1024
    signature_window_seconds: int = 300  # allowed clock skew of hospital requests
    # One-time SMS codes (opening an account, linking a patient): how long one is valid, how
    # many wrong tries destroy it, and how often codes may be sent to a phone / from an address.
    code_ttl_seconds: int = 300
    code_max_attempts: int = 5
    code_resend_seconds: int = 60
    codes_per_phone_hour: int = 5
    codes_per_address_hour: int = 20
    timezone: str = DEFAULT_TIMEZONE  # settings.timezone (CC_TIMEZONE)

    def __post_init__(self) -> None:
        if self.rerelease_min_minutes > self.rerelease_max_minutes:
            raise InvalidRule(
                "rerelease_min_minutes", "must not exceed CC_BOOKING_RERELEASE_MAX_MINUTES"
            )
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Decimal) and not value.is_finite():
                raise InvalidRule(f.name, f"must be a number, not {value}")
            if isinstance(value, int | Decimal) and not isinstance(value, bool) and value < 0:
                raise InvalidRule(f.name, "must not be negative")
        try:
            zone(self.timezone)
        except ValueError as exc:
            raise InvalidRule("timezone", str(exc)) from None

    @cached_property
    def tz(self) -> ZoneInfo:
        return zone(self.timezone)


class InvalidRule(InvalidValue):
    """A booking rule's value that cannot be: which field, and why."""


@dataclass(frozen=True)
class SessionFacts:
    """What the rules need to know about the session a slot belongs to."""

    day: date
    starts_at: datetime  # timezone-aware
    department_id: int
    stopped: bool = False


@dataclass(frozen=True)
class PastBooking:
    """One earlier booking of the same patient (any status)."""

    booked_at: datetime
    visit_day: date
    department_id: int
    status: str
    session_starts_at: datetime


def release_moment(rules: BookingRules, day: date) -> datetime:
    """When the slots of ``day`` go on sale (aware, local time zone)."""
    opens_on = day - timedelta(days=rules.days_ahead)
    return datetime.combine(opens_on, rules.release_time, tzinfo=rules.tz)


def check_session_bookable(rules: BookingRules, now: datetime, session: SessionFacts) -> None:
    if session.stopped:
        raise BookingRefused("session-stopped", "该出诊已停诊，不能预约")
    if now >= session.starts_at:
        raise BookingRefused("session-past", "该出诊时间已过，不能预约")
    opens = release_moment(rules, session.day)
    if now < opens:
        shown = opens.strftime("%Y-%m-%d %H:%M")
        raise BookingRefused("not-yet-released", f"该号源尚未放号，放号时间为{shown}")


def channel_may_take(slot_channel: str, channel: Channel) -> bool:
    """Phone slots serve agents and the IVR; online slots serve the online channel."""
    if slot_channel == "any":
        return True
    if slot_channel == "online":
        return channel is Channel.ONLINE
    return channel in (Channel.PHONE, Channel.IVR)


def check_channel(slot_channel: str, channel: Channel) -> None:
    if not channel_may_take(slot_channel, channel):
        raise BookingRefused("channel-not-allowed", "该号源不向此预约渠道开放")


def blocked_until(rules: BookingRules, no_show_days: Iterable[date]) -> date | None:
    """The day booking is allowed again after ``noshow_limit`` no-shows within the window."""
    if rules.noshow_limit <= 0:
        return None
    days = sorted(no_show_days)
    until: date | None = None
    for i in range(rules.noshow_limit - 1, len(days)):
        first = days[i - rules.noshow_limit + 1]
        if (days[i] - first).days < rules.noshow_window_days:
            candidate = days[i] + timedelta(days=rules.blacklist_days)
            until = candidate if until is None or candidate > until else until
    return until


def check_not_blacklisted(rules: BookingRules, today: date, history: Iterable[PastBooking]) -> None:
    no_shows = [b.visit_day for b in history if b.status == BookingStatus.NO_SHOW]
    until = blocked_until(rules, no_shows)
    if until is not None and today < until:
        raise BookingRefused(
            "blacklisted",
            f"近{rules.noshow_window_days}天内爽约{rules.noshow_limit}次，"
            f"{until.isoformat()}前暂停预约",
        )


def check_patient_limits(
    rules: BookingRules, now: datetime, session: SessionFacts, history: Iterable[PastBooking]
) -> None:
    """Per-department-day, open-booking and day/week/three-month quotas of one ID number."""
    past = list(history)
    live = [b for b in past if b.status != BookingStatus.CANCELLED]
    same_dept_day = [
        b for b in live if b.department_id == session.department_id and b.visit_day == session.day
    ]
    if len(same_dept_day) >= rules.max_per_department_day:
        raise BookingRefused("duplicate-department-day", "同一就诊人同一天同一科室只能预约一次")
    open_ = [b for b in live if b.status == BookingStatus.BOOKED and b.session_starts_at > now]
    if len(open_) >= rules.max_open_bookings:
        raise BookingRefused(
            "open-limit", f"待就诊的预约已达{rules.max_open_bookings}个，请就诊或取消后再约"
        )
    counted = past if rules.quota_counts_cancelled else live
    today = now.astimezone(rules.tz).date()
    day = sum(1 for b in counted if b.booked_at.astimezone(rules.tz).date() == today)
    if day >= rules.quota_day:
        raise BookingRefused("quota-day", f"同一证件每天最多预约{rules.quota_day}次")
    week = sum(1 for b in counted if b.booked_at > now - timedelta(days=7))
    if week >= rules.quota_week:
        raise BookingRefused("quota-week", f"同一证件7天内最多预约{rules.quota_week}次")
    quarter = sum(1 for b in counted if b.booked_at > now - timedelta(days=90))
    if quarter >= rules.quota_quarter:
        raise BookingRefused("quota-quarter", f"同一证件3个月内最多预约{rules.quota_quarter}次")


def check_booking(
    rules: BookingRules,
    now: datetime,
    session: SessionFacts,
    history: Iterable[PastBooking],
) -> None:
    """All patient- and session-level rules, in the order a citizen would want to hear them."""
    past = list(history)
    check_session_bookable(rules, now, session)
    check_not_blacklisted(rules, now.astimezone(rules.tz).date(), past)
    check_patient_limits(rules, now, session, past)


def check_phone_patients(rules: BookingRules, patients_on_phone: int) -> None:
    """``patients_on_phone`` counts the other patients already registered with the number."""
    if patients_on_phone >= rules.max_patients_per_phone:
        raise BookingRefused(
            "too-many-patients", f"同一手机号最多登记{rules.max_patients_per_phone}位就诊人"
        )


def previous_working_day(calendar: Calendar, day: date) -> date:
    """The working day before ``day``. In a year nobody entered ("calendar missing") it is
    counted Monday–Friday, logged as an error, like the work orders' deadlines: the
    wallboard's calendar alert is up long before (docs/holiday-calendar.md)."""
    try:
        return _previous(calendar, day)
    except CalendarMissing as missing:
        log.error("%s: the working day before %s counted Monday–Friday", missing, day)
        return _previous(calendar.lenient(), day)


def _previous(calendar: Calendar, day: date) -> date:
    day -= timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    return day


def cancel_deadline(rules: BookingRules, calendar: Calendar, visit_day: date) -> datetime:
    """Cancelling closes at ``cancel_cutoff_time`` on the working day before the visit."""
    return datetime.combine(
        previous_working_day(calendar, visit_day), rules.cancel_cutoff_time, tzinfo=rules.tz
    )


def check_cancel(
    rules: BookingRules, calendar: Calendar, now: datetime, status: str, visit_day: date
) -> None:
    if status != BookingStatus.BOOKED:
        label = STATUS_LABELS.get(status, status)
        raise BookingRefused("not-cancellable", f"该预约状态为{label}，不能取消")
    deadline = cancel_deadline(rules, calendar, visit_day)
    if now >= deadline:
        shown = deadline.strftime("%Y-%m-%d %H:%M")
        raise BookingRefused("cancel-too-late", f"取消截止时间为{shown}，已过截止时间")


def rerelease_at(rules: BookingRules, now: datetime, rng: random.Random) -> datetime:
    """A random moment in the re-release window, to the second."""
    low = rules.rerelease_min_minutes * 60
    high = rules.rerelease_max_minutes * 60
    return now + timedelta(seconds=rng.randint(low, high))


def slot_on_sale(release_at: datetime | None, now: datetime) -> bool:
    return release_at is None or release_at <= now
