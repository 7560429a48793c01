"""What the desk knows about a caller when the phone rings: earlier calls, orders, bookings.

Look-ups go by the keyed hash of the number, the same way the call records, bookings and
work orders store it (never by the masked form: two citizens share a mask); what leaves this
module is masked for people.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.booking.patients import normalize_phone
from backend.errors import CallCenterError
from backend.models.booking import Booking, Hospital, Patient
from backend.models.calls import CallRecord
from backend.models.workorders import WorkOrder
from backend.personal_data import PersonalDataCipher, normalize_number
from backend.workorders.duplicates import normalize_phone as order_phone

LIMIT = 5


def caller_history(
    db: Session,
    cipher: PersonalDataCipher,
    number: str,
    *,
    tz: ZoneInfo,
    exclude_call: str = "",
) -> dict[str, list[dict[str, Any]]]:
    """The history of the caller whose full (decrypted) ``number`` is given, times in ``tz``
    (the centre's)."""
    if not normalize_number(number):
        return {"calls": [], "orders": [], "bookings": []}
    calls = db.scalars(
        select(CallRecord)
        .where(
            CallRecord.caller_hash == cipher.lookup_hash(normalize_number(number)),
            CallRecord.call_id != exclude_call,
        )
        .order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
        .limit(LIMIT)
    )
    orders = db.scalars(
        select(WorkOrder)
        .where(WorkOrder.caller_phone_hash == cipher.lookup_hash(order_phone(number)))
        .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        .limit(LIMIT)
    )
    return {
        "calls": [
            {
                "call_id": c.call_id,
                "started_at": c.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                "line": c.line.value,
                "disposition": c.disposition.value,
                "wrapup_code": c.wrapup_code,
            }
            for c in calls
        ],
        "orders": [{"number": o.number, "title": o.title, "state": o.state} for o in orders],
        "bookings": _bookings(db, cipher, number),
    }


def caller_of(cipher: PersonalDataCipher, record: CallRecord) -> str:
    """The caller's full number, from its ciphertext ("" when the number was withheld)."""
    return cipher.decrypt(record.caller_enc) if record.caller_enc else ""


def _bookings(db: Session, cipher: PersonalDataCipher, number: str) -> list[dict[str, Any]]:
    try:
        phone_hash = cipher.lookup_hash(normalize_phone(number))
    except CallCenterError:
        return []  # not a number a patient could have registered
    rows = db.execute(
        select(Booking.code, Booking.status, Booking.visit_day, Hospital.name)
        .join(Patient, Patient.id == Booking.patient_id)
        .join(Hospital, Hospital.id == Booking.hospital_id)
        .where(Patient.phone_hash == phone_hash)
        .order_by(Booking.booked_at.desc(), Booking.id.desc())
        .limit(LIMIT)
    )
    return [
        {"code": code, "status": status, "day": day.isoformat(), "hospital_name": name}
        for code, status, day, name in rows
    ]
