"""Every booking rule, accepted and refused, with the code the citizen is told."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from backend.booking.errors import BookingRefused
from backend.booking.reservations import _details
from backend.booking.rules import (
    BookingRules,
    Channel,
    PastBooking,
    SessionFacts,
    blocked_until,
    cancel_deadline,
    channel_may_take,
    check_booking,
    check_cancel,
    check_channel,
    check_phone_patients,
    release_moment,
    rerelease_at,
    slot_on_sale,
)
from backend.errors import ConfigError
from backend.settings import load_settings
from backend.workcalendar import WorkCalendar

RULES = BookingRules()
BJ = RULES.tz
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=BJ)  # Tuesday
VISIT = date(2026, 12, 3)
SESSION = SessionFacts(VISIT, datetime(2026, 12, 3, 8, 0, tzinfo=BJ), department_id=1)


def past(
    *,
    booked: datetime = NOW - timedelta(hours=1),
    visit: date = VISIT,
    dept: int = 2,
    status: str = "booked",
) -> PastBooking:
    starts = datetime.combine(visit, time(8, 0), tzinfo=BJ)
    return PastBooking(booked, visit, dept, status, starts)


def refused(
    rules: BookingRules, now: datetime, session: SessionFacts, history: list[PastBooking]
) -> str:
    with pytest.raises(BookingRefused) as err:
        check_booking(rules, now, session, history)
    assert err.value.message  # a readable reason, never empty
    return err.value.code


def test_a_first_booking_is_accepted() -> None:
    check_booking(RULES, NOW, SESSION, [])


def test_slots_open_at_the_release_time_n_days_ahead() -> None:
    session = SessionFacts(date(2026, 12, 8), datetime(2026, 12, 8, 8, 0, tzinfo=BJ), 1)
    assert release_moment(RULES, session.day) == datetime(2026, 12, 1, 8, 0, tzinfo=BJ)
    check_booking(RULES, datetime(2026, 12, 1, 8, 0, tzinfo=BJ), session, [])
    code = refused(RULES, datetime(2026, 12, 1, 7, 59, tzinfo=BJ), session, [])
    assert code == "not-yet-released"
    later = SessionFacts(date(2026, 12, 9), datetime(2026, 12, 9, 8, 0, tzinfo=BJ), 1)
    assert refused(RULES, NOW, later, []) == "not-yet-released"


def test_past_and_stopped_sessions_are_refused() -> None:
    assert refused(RULES, SESSION.starts_at, SESSION, []) == "session-past"
    stopped = SessionFacts(SESSION.day, SESSION.starts_at, 1, stopped=True)
    assert refused(RULES, NOW, stopped, []) == "session-stopped"


def test_one_booking_per_department_per_day() -> None:
    assert refused(RULES, NOW, SESSION, [past(dept=1)]) == "duplicate-department-day"
    check_booking(
        RULES, NOW, SESSION, [past(dept=1, status="cancelled", booked=NOW - timedelta(days=20))]
    )
    check_booking(RULES, NOW, SESSION, [past(dept=1, visit=VISIT + timedelta(days=1))])


def test_open_bookings_are_capped() -> None:
    rules = BookingRules(max_open_bookings=2, quota_day=9, quota_week=9, quota_quarter=9)
    history = [
        past(dept=5, booked=NOW - timedelta(days=3)),
        past(dept=6, booked=NOW - timedelta(days=3)),
    ]
    assert refused(rules, NOW, SESSION, history) == "open-limit"
    attended = [past(dept=5, status="attended", booked=NOW - timedelta(days=3)), history[1]]
    check_booking(rules, NOW, SESSION, attended)


def test_day_week_and_three_month_quotas() -> None:
    today = [
        past(dept=d, booked=NOW - timedelta(minutes=d), visit=VISIT + timedelta(days=d))
        for d in (2, 3)
    ]
    assert refused(RULES, NOW, SESSION, today) == "quota-day"
    yesterday = [past(dept=d, booked=NOW - timedelta(days=1), status="attended") for d in (2, 3)]
    check_booking(RULES, NOW, SESSION, yesterday)
    week = [*yesterday, past(dept=4, booked=NOW - timedelta(days=6), status="attended")]
    assert refused(RULES, NOW, SESSION, week) == "quota-week"
    quarter = [
        past(dept=d, booked=NOW - timedelta(days=10 * d), status="attended") for d in range(2, 7)
    ]
    assert refused(RULES, NOW, SESSION, quarter) == "quota-quarter"
    old = [past(dept=d, booked=NOW - timedelta(days=91), status="attended") for d in range(2, 9)]
    check_booking(RULES, NOW, SESSION, old)


def test_cancelled_bookings_count_towards_quotas_only_when_configured() -> None:
    churn = [past(dept=d, status="cancelled") for d in (2, 3)]
    assert refused(RULES, NOW, SESSION, churn) == "quota-day"
    check_booking(BookingRules(quota_counts_cancelled=False), NOW, SESSION, churn)


def test_three_no_shows_in_ninety_days_block_for_ninety_days() -> None:
    days = [date(2026, 10, 1), date(2026, 11, 1), date(2026, 11, 20)]
    assert blocked_until(RULES, days) == date(2027, 2, 18)
    history = [past(visit=d, status="no_show", booked=NOW - timedelta(days=100)) for d in days]
    assert refused(RULES, NOW, SESSION, history) == "blacklisted"
    check_booking(
        RULES,
        datetime(2027, 2, 18, 9, 0, tzinfo=BJ),
        SessionFacts(date(2027, 2, 20), datetime(2027, 2, 20, 8, 0, tzinfo=BJ), 1),
        history,
    )
    spread = [date(2026, 1, 1), date(2026, 5, 1), date(2026, 11, 20)]
    assert blocked_until(RULES, spread) is None
    assert blocked_until(BookingRules(noshow_limit=0), days) is None


def test_channels_share_a_session() -> None:
    assert channel_may_take("any", Channel.IVR)
    assert channel_may_take("online", Channel.ONLINE)
    assert not channel_may_take("online", Channel.PHONE)
    assert channel_may_take("phone", Channel.IVR)
    with pytest.raises(BookingRefused) as err:
        check_channel("phone", Channel.ONLINE)
    assert err.value.code == "channel-not-allowed"


def test_patients_per_phone_number() -> None:
    check_phone_patients(RULES, 1)
    with pytest.raises(BookingRefused) as err:
        check_phone_patients(RULES, 2)
    assert err.value.code == "too-many-patients"


def test_cancel_closes_on_the_previous_working_day() -> None:
    calendar = WorkCalendar.load()
    # A Monday visit: the working day before is the Friday.
    monday = date(2026, 12, 7)
    assert cancel_deadline(RULES, calendar, monday) == datetime(2026, 12, 4, 15, 0, tzinfo=BJ)
    check_cancel(RULES, calendar, datetime(2026, 12, 4, 14, 59, tzinfo=BJ), "booked", monday)
    with pytest.raises(BookingRefused) as err:
        check_cancel(RULES, calendar, datetime(2026, 12, 4, 15, 0, tzinfo=BJ), "booked", monday)
    assert err.value.code == "cancel-too-late"
    with pytest.raises(BookingRefused) as err:
        check_cancel(RULES, calendar, NOW, "cancelled", monday)
    assert err.value.code == "not-cancellable"


def test_cancelled_slots_come_back_at_a_random_moment_in_the_window() -> None:
    rng = random.Random(1)
    moments = {rerelease_at(RULES, NOW, rng) for _ in range(50)}
    assert len(moments) > 40
    assert all(NOW + timedelta(hours=1) <= m <= NOW + timedelta(hours=2) for m in moments)
    assert not slot_on_sale(NOW + timedelta(minutes=1), NOW)
    assert slot_on_sale(None, NOW) and slot_on_sale(NOW, NOW)


def test_rules_come_from_the_environment_and_refuse_nonsense(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable, value in {
        "CC_BOOKING_QUOTA_DAY": "3",
        "CC_BOOKING_RELEASE_TIME": "07:30",
        "CC_BOOKING_PRICE_PHONE": "4.10",
        "CC_BOOKING_QUOTA_COUNTS_CANCELLED": "false",
        "CC_BOOKING_REDIS_PREFIX": "cc-two:booking:",
    }.items():
        monkeypatch.setenv(variable, value)
    settings = load_settings()
    rules = settings.booking
    assert settings.booking_redis_prefix == "cc-two:booking:"
    assert rules.quota_day == 3 and rules.release_time == time(7, 30)
    assert rules.price_phone == Decimal("4.10") and not rules.quota_counts_cancelled
    with pytest.raises(ValueError):
        BookingRules(rerelease_min_minutes=30, rerelease_max_minutes=10)
    with pytest.raises(ValueError):
        BookingRules(quota_day=-1)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"CC_BOOKING_QUOTA_DAY": "three"},
            "setting CC_BOOKING_QUOTA_DAY: not a valid value: 'three'",
        ),
        ({"CC_BOOKING_PRICE_PHONE": "4,10"}, "setting CC_BOOKING_PRICE_PHONE: not a valid value"),
        ({"CC_BOOKING_PRICE_PHONE": "NaN"}, "setting CC_BOOKING_PRICE_PHONE: not a valid value"),
        ({"CC_BOOKING_PRICE_ONLINE": "Infinity"}, "setting CC_BOOKING_PRICE_ONLINE: not a valid"),
        (
            {"CC_BOOKING_RELEASE_TIME": "25:00"},
            "setting CC_BOOKING_RELEASE_TIME: not a valid value",
        ),
        (
            {"CC_BOOKING_QUOTA_COUNTS_CANCELLED": "maybe"},
            "setting CC_BOOKING_QUOTA_COUNTS_CANCELLED:",
        ),
        ({"CC_BOOKING_QUOTA_WEEK": "-1"}, "setting CC_BOOKING_QUOTA_WEEK: must not be negative"),
        (
            {"CC_BOOKING_PRICE_ONLINE": "-0.46"},
            "setting CC_BOOKING_PRICE_ONLINE: must not be negative",
        ),
        # The centre has one time zone, CC_TIMEZONE (the rules used to have one of their own).
        ({"CC_BOOKING_TIMEZONE": "Asia/Peking"}, "setting CC_BOOKING_TIMEZONE: the centre has"),
        ({"CC_TIMEZONE": "Asia/Peking"}, "setting CC_TIMEZONE: no such time zone"),
        ({"CC_BOOKING_QUOTA_DAYS": "3"}, "setting CC_BOOKING_QUOTA_DAYS: names no field"),
        (
            {"CC_BOOKING_RERELEASE_MIN_MINUTES": "90", "CC_BOOKING_RERELEASE_MAX_MINUTES": "30"},
            "setting CC_BOOKING_RERELEASE_MIN_MINUTES: must not exceed",
        ),
    ],
)
def test_a_wrong_booking_setting_is_refused_naming_its_variable(
    environ: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable, value in environ.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.message.startswith(message)


def test_utc_and_local_clocks_agree() -> None:
    check_booking(RULES, NOW.astimezone(UTC), SESSION, [])


def test_the_audit_details_are_the_json_of_channel_and_session() -> None:
    for channel in Channel:
        assert json.loads(_details(channel, 42)) == {"channel": channel.value, "schedule_id": 42}
