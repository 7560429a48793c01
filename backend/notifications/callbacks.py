"""The callback messages: a window booked ("we will call you between 14:00 and 14:30") and a
window that passed with nobody reached. ``CallbackBookings`` tells these notices after its
own transaction (``backend/telephony/callback_bookings.py``); each queues one outbox row,
``callback:<task id>`` per event, so a notice told twice still sends once. The number travels
as the task's own ciphertext. A crash between the callback's commit and the notice would
lose its message: the callback itself, the thing that matters, stands.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.models.base import utcnow
from backend.sms.outbox import SmsEvent, queue_message
from backend.telephony.callback_bookings import ScheduledCallback


def _clock(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.hour:02d}:{local.minute:02d}"


def window_text(callback: ScheduledCallback, tz: ZoneInfo) -> str:
    """ "12月3日14:00至14:30": the window in the caller's (the centre's) time."""
    start = callback.window_start.astimezone(tz)
    return f"{start.month}月{start.day}日{_clock(start, tz)}至{_clock(callback.window_end, tz)}"


class OutboxCallbackNotices:
    """Implements ``backend.telephony.callback_bookings.CallbackNotices``."""

    def __init__(self, session_factory: sessionmaker[Session], tz: ZoneInfo) -> None:
        self._factory = session_factory
        self._tz = tz

    def scheduled(self, callback: ScheduledCallback) -> None:
        values = {"window": window_text(callback, self._tz)}
        self._queue(SmsEvent.CALLBACK_SCHEDULED, callback, values)

    def missed(self, callback: ScheduledCallback) -> None:
        values = {"time": window_text(callback, self._tz), "line": callback.line}
        self._queue(SmsEvent.CALLBACK_MISSED, callback, values)

    def _queue(self, event: SmsEvent, callback: ScheduledCallback, values: dict[str, str]) -> None:
        if not callback.phone_enc:
            return
        with transaction(self._factory) as session:
            subject = f"callback:{callback.task_id}"
            queue_message(session, event, subject, callback.phone_enc, values, utcnow())
