"""Read side: hospitals, departments, sessions and slots as a channel sees them."""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from backend.booking.context import BookingContext
from backend.booking.rules import SESSION_LABELS, Channel, channel_may_take, slot_on_sale
from backend.booking.views import DepartmentView, HospitalView, ScheduleView, SlotView
from backend.models.booking import Department, Doctor, Hospital, Schedule, Slot


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_hospitals(
    session: Session, *, text: str = "", district: str = "", level: str = ""
) -> list[HospitalView]:
    query = select(Hospital).where(Hospital.active.is_(True)).order_by(Hospital.id)
    if text.strip():
        query = query.where(
            or_(
                Hospital.name.ilike(_like(text.strip())),
                Hospital.id.in_(
                    select(Department.hospital_id).where(Department.name.ilike(_like(text.strip())))
                ),
            )
        )
    if district:
        query = query.where(Hospital.district == district)
    if level:
        query = query.where(Hospital.level == level)
    return [
        HospitalView(
            id=h.id,
            code=h.code,
            name=h.name,
            level=h.level,
            district=h.district,
            address=h.address,
            phone=h.phone,
            booking_notes=h.booking_notes,
        )
        for h in session.execute(query).scalars()
    ]


def list_departments(session: Session, hospital_id: int, text: str = "") -> list[DepartmentView]:
    query = select(Department).where(Department.hospital_id == hospital_id)
    if text.strip():
        query = query.where(Department.name.ilike(_like(text.strip())))
    return [
        DepartmentView(id=d.id, hospital_id=d.hospital_id, code=d.code, name=d.name)
        for d in session.execute(query.order_by(Department.id)).scalars()
    ]


def _channels(channel: Channel) -> list[str]:
    return [c for c in ("any", "phone", "online") if channel_may_take(c, channel)]


def list_schedules(
    session: Session,
    ctx: BookingContext,
    *,
    channel: Channel,
    hospital_id: int | None = None,
    department_id: int | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
) -> list[ScheduleView]:
    now = ctx.clock()
    free = (
        select(Slot.schedule_id, func.count().label("free"))
        .where(
            Slot.taken.is_(False),
            Slot.channel.in_(_channels(channel)),
            or_(Slot.release_at.is_(None), Slot.release_at <= now),
        )
        .group_by(Slot.schedule_id)
        .subquery()
    )
    query = (
        select(Schedule, Hospital, Department, Doctor, func.coalesce(free.c.free, 0))
        .join(Hospital, Hospital.id == Schedule.hospital_id)
        .join(Department, Department.id == Schedule.department_id)
        .outerjoin(Doctor, Doctor.id == Schedule.doctor_id)
        .outerjoin(free, free.c.schedule_id == Schedule.id)
        .where(and_(Schedule.ends_at > now))
        .order_by(Schedule.day, Schedule.starts_at, Schedule.id)
    )
    if hospital_id is not None:
        query = query.where(Schedule.hospital_id == hospital_id)
    if department_id is not None:
        query = query.where(Schedule.department_id == department_id)
    if day_from is not None:
        query = query.where(Schedule.day >= day_from)
    if day_to is not None:
        query = query.where(Schedule.day <= day_to)
    tz = ctx.rules.tz
    return [_schedule_view(tz, *row) for row in session.execute(query).all()]


def _schedule_view(
    tz: tzinfo,
    schedule: Schedule,
    hospital: Hospital,
    dept: Department,
    doctor: Doctor | None,
    available: int,
) -> ScheduleView:
    return ScheduleView(
        id=schedule.id,
        hospital_id=hospital.id,
        hospital_name=hospital.name,
        department_id=dept.id,
        department_name=dept.name,
        doctor_name=doctor.name if doctor else "",
        doctor_title=doctor.title if doctor else "",
        day=schedule.day.isoformat(),
        session=schedule.session,
        session_label=SESSION_LABELS.get(schedule.session, schedule.session),
        starts_at=schedule.starts_at.astimezone(tz).strftime("%H:%M"),
        fee=str(schedule.fee),
        status=schedule.status,
        capacity=schedule.capacity,
        available=0 if schedule.status == "stopped" else int(available),
    )


def list_slots(
    session: Session, ctx: BookingContext, schedule_id: int, channel: Channel
) -> list[SlotView]:
    """Slots of one session that this channel may see; ``available`` says which are free now.
    A cancelled slot waiting for its re-release shows as taken, so touts cannot spot it."""
    now: datetime = ctx.clock()
    tz = ctx.rules.tz
    rows = session.execute(
        select(Slot)
        .where(Slot.schedule_id == schedule_id, Slot.channel.in_(_channels(channel)))
        .order_by(Slot.seq)
    ).scalars()
    return [
        SlotView(
            id=s.id,
            seq=s.seq,
            time=s.starts_at.astimezone(tz).strftime("%H:%M"),
            channel=s.channel,
            available=not s.taken and slot_on_sale(s.release_at, now),
        )
        for s in rows
    ]
