"""What the soak found at the end, read from its PostgreSQL: acknowledged bookings that are
not there (or there twice), and calls without a closed record or a recording."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.models.booking import Booking
from backend.models.calls import CallRecord, Recording, RecordingStatus
from backend.personal_data import PersonalDataCipher
from bench.soak.probes import Tally

# A call's recording still open at the end (Asterisk was killed during it) is completed or
# repaired by the worker's sweep within minutes: not counted as lacking.
GOOD = ("recorded", "recording being completed", "unrecorded on purpose (disk)")


@dataclass
class Findings:
    bookings_lost: int = 0
    patients_booked_twice: int = 0
    calls: Counter[str] = field(default_factory=Counter)  # what each placed call has
    lacking: list[str] = field(default_factory=list)  # "<when placed>: <what it lacks>"

    @property
    def calls_lacking(self) -> int:
        return len(self.lacking)


def audit(factory: sessionmaker[Session], cipher: PersonalDataCipher, tally: Tally) -> Findings:
    found = Findings()
    with factory() as db:
        codes = [code for code, _ in tally.acknowledged]
        present = set(db.scalars(select(Booking.code).where(Booking.code.in_(codes))))
        found.bookings_lost = len(set(codes) - present)
        patients = {patient for _, patient in tally.acknowledged}
        per_patient = db.execute(
            select(Booking.patient_id, func.count())
            .where(Booking.patient_id.in_(patients))
            .group_by(Booking.patient_id)
        )
        found.patients_booked_twice = sum(1 for _, n in per_patient if n > 1)
        for number, at in tally.callers.items():
            state = _call_state(db, cipher.lookup_hash(number))
            found.calls[state] += 1
            if state not in GOOD:
                found.lacking.append(f"placed at {at:.0f} s: {state}")
    return found


def _call_state(db: Session, caller_hash: str) -> str:
    record = db.scalar(select(CallRecord).where(CallRecord.caller_hash == caller_hash))
    if record is None:
        return "no call record"
    if record.ended_at is None:
        return "call record not closed"
    if record.recording_id is None:
        return "unrecorded on purpose (disk)" if record.unrecorded else "no recording"
    recording = db.get(Recording, record.recording_id)
    if recording is None or recording.status == RecordingStatus.MISSING:
        return "recording missing"
    if recording.status == RecordingStatus.RECORDING:
        return "recording being completed"
    return "recorded"
