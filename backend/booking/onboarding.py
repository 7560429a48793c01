"""Departments and doctors entered for a hospital when it joins (the admin page and
``callcenter hospital department|doctor``), and what its onboarding page shows.

A hospital's pushes make departments and doctors too, naming them by code; entering them
first lets the hotline's agents and the online channel find them before the first push, and
a push naming the same code takes them over (its names win: the hospital's system is the
source of its own names). Each change is audited in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backend.audit import Actor, record_audit
from backend.booking.push_log import recent_pushes
from backend.errors import Conflict, NotFound
from backend.models.booking import Department, Doctor, Hospital, HospitalPush


@dataclass(frozen=True)
class DoctorDraft:
    code: str
    name: str
    title: str
    department_code: str


@dataclass(frozen=True)
class HospitalOverview:
    hospital: Hospital
    departments: Sequence[Department]
    doctors: Sequence[tuple[Doctor, str]]  # with the department's code
    pushes: Sequence[HospitalPush]


def hospital_by_code(session: Session, code: str, *, lock: bool = False) -> Hospital:
    query = select(Hospital).where(Hospital.code == code)
    hospital = session.scalar(query.with_for_update() if lock else query)
    if hospital is None:
        raise NotFound(f"没有代码为 {code} 的医院", code="no-hospital")
    return hospital


def _inserted(session: Session, model: type, constraint: str, **values: object) -> int | None:
    """The new row's id, or None when its unique key exists (a concurrent insert of the same
    key waits for the other to commit, then finds it)."""
    statement = insert(model).values(**values).on_conflict_do_nothing(constraint=constraint)
    return session.execute(statement.returning(model.id)).scalar()  # type: ignore[attr-defined]


def add_department(
    session: Session, hospital_code: str, code: str, name: str, intro: str, actor: Actor,
    now: datetime,
) -> Department:  # fmt: skip
    hospital = hospital_by_code(session, hospital_code)
    values = {"hospital_id": hospital.id, "code": code, "name": name, "intro": intro}
    new_id = _inserted(session, Department, "uq_departments_hospital_code", **values)
    if new_id is None:
        raise Conflict(f"医院 {hospital_code} 已有科室代码 {code}", code="department-exists")
    record_audit(session, actor, "hospital.department_add", f"hospital:{hospital.id}", now,
                 {"department": code})  # fmt: skip
    return session.get_one(Department, new_id)


def add_doctor(
    session: Session, hospital_code: str, draft: DoctorDraft, actor: Actor, now: datetime
) -> Doctor:
    hospital = hospital_by_code(session, hospital_code)
    department_id = session.scalar(
        select(Department.id).where(
            Department.hospital_id == hospital.id, Department.code == draft.department_code
        )
    )
    if department_id is None:
        raise NotFound(
            f"医院 {hospital_code} 没有科室代码 {draft.department_code}：请先添加科室",
            code="no-department",
        )
    values = {"hospital_id": hospital.id, "department_id": department_id, "code": draft.code,
              "name": draft.name, "title": draft.title}  # fmt: skip
    new_id = _inserted(session, Doctor, "uq_doctors_hospital_code", **values)
    if new_id is None:
        raise Conflict(f"医院 {hospital_code} 已有医生代码 {draft.code}", code="doctor-exists")
    record_audit(session, actor, "hospital.doctor_add", f"hospital:{hospital.id}", now,
                 {"doctor": draft.code, "department": draft.department_code})  # fmt: skip
    return session.get_one(Doctor, new_id)


def hospital_overview(session: Session, code: str, pushes: int = 50) -> HospitalOverview:
    hospital = hospital_by_code(session, code)
    departments = session.scalars(
        select(Department).where(Department.hospital_id == hospital.id).order_by(Department.code)
    ).all()
    doctors = session.execute(
        select(Doctor, Department.code)
        .join(Department, Department.id == Doctor.department_id)
        .where(Doctor.hospital_id == hospital.id)
        .order_by(Doctor.code)
    ).all()
    return HospitalOverview(
        hospital,
        departments,
        [(doctor, dept) for doctor, dept in doctors],
        recent_pushes(session, hospital.id, pushes),
    )
