"""What each hospital's data-changing calls came to, for its page on the admin side.

A call (schedule push, stop, attendance) is written here when its answer is known: accepted
with what changed, or refused with the answer's error id and reason. It is the hospital's
when the key it names is the hospital's current key or the one its last rotation retired (so
an integrator still signing with the old key shows up as refused); a key nobody holds names
no hospital and is not kept. The newest ``KEPT_PER_HOSPITAL`` of each hospital are kept:
enough to see a day's pushes and what went wrong, never a growing table.

Nothing personal is kept: an accepted call keeps only its counts (the stop's answer lists
patients; they stay out), a refused one the reason the API gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from backend.models.booking import Hospital, HospitalPush

KEPT_PER_HOSPITAL = 200
# Counts of an accepted call's answer worth showing (never its patients).
SUMMARY_FIELDS = ("created", "updated", "slots_added", "cancelled")


@dataclass(frozen=True)
class PushOutcome:
    method: str
    path: str
    key_id: str
    status: int
    error: str = ""
    message: str = ""

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


def accepted_summary(answer: object) -> str:
    """``created=1 updated=0 slots_added=4`` from an accepted call's JSON answer."""
    if not isinstance(answer, dict):
        return ""
    return " ".join(f"{name}={answer[name]}" for name in SUMMARY_FIELDS if name in answer)


def record_push(session: Session, outcome: PushOutcome, now: datetime) -> HospitalPush | None:
    """Keep ``outcome`` under the hospital whose current or retired key it names (None when
    no hospital has that key), dropping that hospital's oldest beyond the kept number."""
    if not outcome.key_id:
        return None
    hospital = session.execute(
        select(Hospital.id, Hospital.api_key_id).where(
            or_(Hospital.api_key_id == outcome.key_id, Hospital.retired_key_id == outcome.key_id)
        )
    ).first()
    if hospital is None:
        return None
    message = outcome.message
    if hospital.api_key_id != outcome.key_id:
        message = f"（以已轮换的旧密钥签名）{message}"
    row = HospitalPush(
        hospital_id=hospital.id,
        at=now,
        method=outcome.method[:8],
        path=outcome.path[:300],
        key_id=outcome.key_id[:64],
        status=outcome.status,
        outcome="accepted" if outcome.accepted else "refused",
        error=outcome.error[:64],
        message=message[:500],
    )
    session.add(row)
    session.flush()
    _drop_beyond_kept(session, hospital.id)
    return row


def _drop_beyond_kept(session: Session, hospital_id: int) -> None:
    oldest_kept = (
        select(HospitalPush.id)
        .where(HospitalPush.hospital_id == hospital_id)
        .order_by(HospitalPush.id.desc())
        .offset(KEPT_PER_HOSPITAL - 1)
        .limit(1)
        .scalar_subquery()
    )
    session.execute(
        delete(HospitalPush).where(
            HospitalPush.hospital_id == hospital_id, HospitalPush.id < oldest_kept
        )
    )


def recent_pushes(session: Session, hospital_id: int, limit: int = 50) -> Sequence[HospitalPush]:
    """The hospital's newest calls first."""
    return session.scalars(
        select(HospitalPush)
        .where(HospitalPush.hospital_id == hospital_id)
        .order_by(HospitalPush.id.desc())
        .limit(limit)
    ).all()
