"""Shift templates kept in ``shift_templates``: the team leaders add and change them.

A template is never deleted (shifts refer to it by code); it is retired (``active`` false)
and then offered neither to the solver nor to edits. Changing a template's start or length
changes the shifts planned from then on; shifts already in a roster keep the times they were
given.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from backend.audit.records import Actor, record_audit
from backend.errors import CallCenterError
from backend.models.workforce import ShiftTemplate
from backend.workforce.templates import Template


class BadTemplate(CallCenterError):
    code = "bad-shift-template"
    http_status = 422


def all_templates(session: Session) -> list[ShiftTemplate]:
    return list(session.scalars(select(ShiftTemplate).order_by(ShiftTemplate.id)))


def save_template(
    session: Session, template: Template, active: bool, actor: Actor, now: datetime
) -> None:
    """Add ``template`` or replace the one with its code (one row either way)."""
    if not template.code.isascii() or not template.code.replace("_", "").isalnum():
        raise BadTemplate("班次代码只能由字母、数字和下划线组成")
    values = {
        "name": template.name,
        "kind": template.kind,
        "start_time": template.start,
        "minutes": template.minutes,
        "active": active,
    }
    statement = insert(ShiftTemplate).values(code=template.code, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["code"], set_=values))
    details = {**values, "start_time": template.start.isoformat()}
    record_audit(session, actor, "roster.template", f"shift_template:{template.code}", now, details)


def checked_template(code: str, name: str, kind: str, start: str, minutes: int) -> Template:
    """A template from a form's fields, or ``BadTemplate`` saying what is wrong."""
    try:
        begins = datetime.strptime(start, "%H:%M").time()
    except ValueError:
        raise BadTemplate("开始时间须为“时:分”，如 08:00") from None
    try:
        return Template(code, name, kind, begins, minutes)
    except ValueError as exc:  # the template's own checks, in words for the supervisor
        raise BadTemplate(str(exc)) from None
