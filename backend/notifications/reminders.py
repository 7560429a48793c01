"""The evening-before reminders: at ``CC_SMS_REMINDER_TIME`` (Beijing time) every booking
still held for tomorrow gets one reminder queued, except for numbers that opted out.

The beat runs the job every few minutes; the first run after the reminder time queues the
day's reminders and leaves a mark row in the outbox (``reminder-run`` for that day) in the
same transaction, so later runs that evening scan nothing, and ``(event, subject)``
uniqueness would keep a second reminder out even if they did. Bookings made after the run for
tomorrow are not reminded: their booking message is a few hours old.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.sms.outbox import SmsEvent

_MARK = """
INSERT INTO sms_outbox (event, subject, params, status, attempts, next_attempt_at, created_at)
VALUES ('reminder-run', :subject, CAST('{}' AS json), 'skipped', 0, :now, :now)
ON CONFLICT (event, subject) DO NOTHING
RETURNING id
"""

_QUEUE = """
INSERT INTO sms_outbox (event, subject, booking_id, params, status, attempts, next_attempt_at,
                        created_at)
SELECT :event, 'booking:' || b.id, b.id, CAST('{}' AS json), 'queued', 0, :now, :now
FROM bookings b
JOIN patients p ON p.id = b.patient_id
WHERE b.visit_day = :visit_day AND b.status = 'booked'
  AND NOT EXISTS (SELECT 1 FROM sms_opt_outs o WHERE o.phone_hash = p.phone_hash)
ON CONFLICT (event, subject) DO NOTHING
RETURNING id
"""


def reminders_due_day(now: datetime, at: time, tz: ZoneInfo) -> datetime | None:
    """The visit day to remind of at ``now`` (tomorrow, once today's reminder time has
    passed), as local midnight; None before the reminder time."""
    local = now.astimezone(tz)
    if local.time() < at:
        return None
    tomorrow = local.date() + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=tz)


def queue_reminders(
    session_factory: sessionmaker[Session], now: datetime, at: time, tz: ZoneInfo
) -> int:
    """Queue tomorrow's reminders if it is time and not done yet; how many were queued."""
    day = reminders_due_day(now, at, tz)
    if day is None:
        return 0
    visit_day = day.date()
    with transaction(session_factory) as session:
        params = {"subject": f"day:{visit_day.isoformat()}", "now": now}
        if session.execute(text(_MARK), params).first() is None:
            return 0
        queued = session.execute(
            text(_QUEUE), {"event": SmsEvent.REMINDER.value, "now": now, "visit_day": visit_day}
        )
        return len(queued.all())
