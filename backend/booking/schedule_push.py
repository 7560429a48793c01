"""Writing a hospital's schedule push: departments, doctors, schedules and slots, by the
hospital's own codes, in one transaction.

Two identical pushes at the same moment are one push: every row is made by ``INSERT ... ON
CONFLICT DO NOTHING`` on its unique key and then read back (the second push waits for the
first to commit and finds its rows), and schedules are taken in the order of their ids, so
two pushes lock them in one order. The second answers ``updated`` where the first answered
``created``, with the same ids.

A session that patients have booked is not moved under them: a push changing its day,
session, times, department, doctor or fee, or a booked slot's time, is refused
(``SessionBooked``, HTTP 409) naming the bookings, and nothing of the push is written. We
chose the refusal over a silent move or an automatic reschedule because the patient agreed
to a day, a doctor and a price: the hospital stops the session
(``POST /api/hospital/schedules/{external_id}/stop``, which cancels and lists the patients to
notify) and pushes the new one under a new ``external_id``. Free slots, capacity and the
doctor's name and title may change at any time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from backend.booking.context import BookingContext
from backend.booking.rules import BookingStatus
from backend.booking.schedule_checks import check_push
from backend.db import transaction
from backend.errors import Conflict
from backend.models.booking import Booking, Department, Doctor, Schedule, Slot

if TYPE_CHECKING:  # hospital_feed imports this module
    from backend.booking.hospital_feed import SchedulePush


@dataclass(frozen=True)
class PushResult:
    created: int = 0
    updated: int = 0
    slots_added: int = 0
    schedule_ids: dict[str, int] = field(default_factory=dict)


class SessionBooked(Conflict):
    code = "session-booked"


# Deadlock, serialization failure, unique violation: two pushes of overlapping schedules in
# different orders can still meet; the push is then simply done again.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "23505"})
ATTEMPTS = 3


def push_in_transaction(
    factory: sessionmaker[Session], ctx: BookingContext, hospital_id: int, items: list[SchedulePush]
) -> PushResult:
    """``push_schedules`` in a transaction of its own, done again (up to ``ATTEMPTS`` times)
    when it met a concurrent push in the database."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction(factory) as session:
                return push_schedules(session, ctx, hospital_id, items)
        except DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            if attempt == ATTEMPTS or state not in RETRYABLE_SQLSTATES:
                raise
    raise AssertionError("unreachable")


# The schedule's columns by the name of the pushed field they come from.
PUSHED_AS = {
    "department_id": "department_code",
    "doctor_id": "doctor_code",
    "day": "day",
    "session": "session",
    "starts_at": "starts",
    "ends_at": "ends",
    "fee": "fee",
}


def _local(ctx: BookingContext, day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=ctx.rules.tz)


def push_schedules(
    session: Session, ctx: BookingContext, hospital_id: int, items: list[SchedulePush]
) -> PushResult:
    """Create or update schedules by the hospital's own id; slots are added by number and
    free ones updated. Raises ``BadSchedule`` or ``SessionBooked`` before writing anything."""
    now_local = ctx.clock().astimezone(ctx.rules.tz)
    check_push(items, now_local.date(), now_local)
    created = updated = added = 0
    ids: dict[str, int] = {}
    for item in sorted(items, key=lambda i: i.external_id):
        schedule, is_new = _upsert_schedule(session, ctx, hospital_id, item)
        created, updated = created + is_new, updated + (not is_new)
        added += _merge_slots(session, ctx, schedule, item)
        ids[item.external_id] = schedule.id
    session.flush()
    return PushResult(created=created, updated=updated, slots_added=added, schedule_ids=ids)


def _insert_missing(session: Session, model: Any, constraint: str, /, **values: Any) -> bool:
    """Insert the row unless its unique key exists (waiting for a concurrent insert of the
    same key to commit); whether it was inserted."""
    statement = insert(model).values(**values).on_conflict_do_nothing(constraint=constraint)
    return bool(session.execute(statement.returning(model.id)).first())


def _department(session: Session, hospital_id: int, code: str, name: str) -> Department:
    _insert_missing(
        session, Department, "uq_departments_hospital_code",
        hospital_id=hospital_id, code=code, name=name,
    )  # fmt: skip
    dept = session.execute(
        select(Department).where(Department.hospital_id == hospital_id, Department.code == code)
    ).scalar_one()
    if dept.name != name:
        dept.name = name
    return dept


def _doctor(session: Session, hospital_id: int, dept_id: int, item: SchedulePush) -> int | None:
    if not item.doctor_code:
        return None
    values = {"department_id": dept_id, "name": item.doctor_name, "title": item.doctor_title}
    _insert_missing(
        session, Doctor, "uq_doctors_hospital_code",
        hospital_id=hospital_id, code=item.doctor_code, **values,
    )  # fmt: skip
    doc = session.execute(
        select(Doctor).where(Doctor.hospital_id == hospital_id, Doctor.code == item.doctor_code)
    ).scalar_one()
    for name, value in values.items():
        if getattr(doc, name) != value:
            setattr(doc, name, value)
    return doc.id


def _upsert_schedule(
    session: Session, ctx: BookingContext, hospital_id: int, item: SchedulePush
) -> tuple[Schedule, bool]:
    """The schedule with the hospital's id ``item.external_id``, made or updated (locked);
    whether it is new."""
    dept = _department(session, hospital_id, item.department_code, item.department_name)
    values = {
        "department_id": dept.id,
        "doctor_id": _doctor(session, hospital_id, dept.id, item),
        "day": item.day,
        "session": item.session.value,
        "starts_at": _local(ctx, item.day, item.starts),
        "ends_at": _local(ctx, item.day, item.ends),
        "fee": item.fee,
    }
    is_new = _insert_missing(
        session, Schedule, "uq_schedules_hospital_external",
        hospital_id=hospital_id, external_id=item.external_id, capacity=0,
        updated_at=ctx.clock(), **values,
    )  # fmt: skip
    schedule = session.execute(
        select(Schedule)
        .where(Schedule.hospital_id == hospital_id, Schedule.external_id == item.external_id)
        .with_for_update()
    ).scalar_one()
    if not is_new:
        changed = [PUSHED_AS[n] for n, value in values.items() if getattr(schedule, n) != value]
        changed += _booked_slots_moved(session, ctx, schedule, item)
        if changed:
            _refuse_if_booked(session, schedule, changed)
        for name, value in values.items():
            setattr(schedule, name, value)
        schedule.updated_at = ctx.clock()
    return schedule, is_new


def _booked_slots_moved(
    session: Session, ctx: BookingContext, schedule: Schedule, item: SchedulePush
) -> list[str]:
    """The taken slots whose pushed time differs from the time their patient booked."""
    taken = {
        s.seq: s.starts_at
        for s in session.execute(
            select(Slot).where(Slot.schedule_id == schedule.id, Slot.taken.is_(True))
        ).scalars()
    }
    return [
        f"slot {p.seq}"
        for p in item.slots
        if p.seq in taken and taken[p.seq] != _local(ctx, item.day, p.time)
    ]


def _refuse_if_booked(session: Session, schedule: Schedule, changed: list[str]) -> None:
    codes = (
        session.execute(
            select(Booking.code)
            .where(
                Booking.schedule_id == schedule.id,
                Booking.status != BookingStatus.CANCELLED.value,
            )
            .order_by(Booking.id)
        )
        .scalars()
        .all()
    )
    if codes:
        shown = "、".join(codes[:20]) + ("等" if len(codes) > 20 else "")
        raise SessionBooked(
            f"出诊{schedule.external_id}已有{len(codes)}个预约（{shown}），不能更改"
            f"{', '.join(changed)}；请先停诊（/stop，通知患者）再以新的出诊编号上传"
        )


def _merge_slots(
    session: Session, ctx: BookingContext, schedule: Schedule, item: SchedulePush
) -> int:
    """Add the pushed slots the schedule lacks, update its free ones; how many were added."""
    added = 0
    existing = {
        s.seq: s
        for s in session.execute(select(Slot).where(Slot.schedule_id == schedule.id)).scalars()
    }
    for push in item.slots:
        slot = existing.get(push.seq)
        starts_at = _local(ctx, item.day, push.time)
        if slot is None:
            session.add(
                Slot(
                    schedule_id=schedule.id,
                    seq=push.seq,
                    starts_at=starts_at,
                    channel=push.channel,
                    taken=False,
                )
            )
            added += 1
        elif not slot.taken:
            slot.starts_at, slot.channel = starts_at, push.channel
    schedule.capacity = len(set(existing) | {p.seq for p in item.slots})
    return added
