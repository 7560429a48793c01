"""`callcenter hospital department|doctor|show|list`: what the admin page's onboarding does,
from the command line (``backend/booking/onboarding.py``). Changes are audited as
``cli:<login>`` in their own transaction; ``show`` prints the key id (never the secret),
departments, doctors and the last pushes with their answers."""

from __future__ import annotations

import argparse
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit import Actor
from backend.booking.onboarding import DoctorDraft, add_department, add_doctor, hospital_overview
from backend.errors import Refused
from backend.models.booking import Hospital

ONBOARDING_ACTIONS = ("department", "doctor", "show", "list")


def add_onboarding_parsers(actions: argparse._SubParsersAction) -> None:
    department = actions.add_parser("department", help="add a department to a hospital")
    department.add_argument("code", help="the hospital's code")
    department.add_argument("department_code")
    department.add_argument("--name", required=True)
    department.add_argument("--intro", default="")
    doctor = actions.add_parser("doctor", help="add a doctor to a hospital's department")
    doctor.add_argument("code", help="the hospital's code")
    doctor.add_argument("doctor_code")
    doctor.add_argument("--department", required=True, help="the department's code")
    doctor.add_argument("--name", required=True)
    doctor.add_argument("--title", required=True, help="e.g. 主任医师")
    show = actions.add_parser("show", help="a hospital's key id, departments, doctors, pushes")
    show.add_argument("code")
    show.add_argument("--pushes", type=int, default=20, help="how many of the last pushes")
    actions.add_parser("list", help="every hospital with its key id")


def onboarding_work(args: argparse.Namespace, session: Session, actor: Actor, now: datetime) -> str:
    """The one action of ``args`` done in ``session``; what to print."""
    if args.action == "department":
        name = _named(args.name, "--name")
        add_department(session, args.code, args.department_code, name, args.intro, actor, now)
        return f"hospital {args.code}: department {args.department_code} {name} added"
    if args.action == "doctor":
        draft = DoctorDraft(
            args.doctor_code, _named(args.name, "--name"), _named(args.title, "--title"),
            args.department,
        )  # fmt: skip
        add_doctor(session, args.code, draft, actor, now)
        return f"hospital {args.code}: doctor {draft.code} {draft.name} added to {args.department}"
    if args.action == "show":
        return _shown(session, args.code, max(1, args.pushes))
    hospitals = session.scalars(select(Hospital).order_by(Hospital.code))
    return "\n".join(
        f"{h.code}\t{h.name}\tkey {h.api_key_id or '-'}\t{'active' if h.active else 'stopped'}"
        for h in hospitals
    )


def _named(text: str, option: str) -> str:
    if not text.strip():
        raise Refused(f"{option} must not be empty or only spaces", code="blank-name")
    return text.strip()


def _shown(session: Session, code: str, pushes: int) -> str:
    seen = hospital_overview(session, code, pushes)
    h = seen.hospital
    lines = [f"{h.code} {h.name} ({h.level}, {h.district}) key {h.api_key_id or '-'}"]
    lines += [f"department {d.code} {d.name}" for d in seen.departments]
    lines += [f"doctor {d.code} {d.name} {d.title} ({dept})" for d, dept in seen.doctors]
    lines += [
        f"push {p.at:%Y-%m-%d %H:%M:%S} {p.method} {p.path} {p.status} {p.outcome}"
        f"{' ' + p.error if p.error else ''} {p.message}".rstrip()
        for p in seen.pushes
    ]
    return "\n".join(lines)
