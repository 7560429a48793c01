"""Rosters kept in PostgreSQL: saving a solved plan, a supervisor's edits, publishing.

Every function works in the caller's session (the route commits); each change writes an
audit record. Edits lock the roster row first, so two edits of one roster at once run one
after the other instead of failing on the unique index. An edit that breaks a rest rule is
kept (the supervisor decides) and the breaches are returned to be shown; an edit that is
impossible (a shift outside the roster's dates, on an agent's day off, overlapping another of
the agent's shifts, or of a kind not worked that day) is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.audit.records import Actor, record_audit
from backend.errors import CallCenterError, NotFound
from backend.models.agents import Agent
from backend.models.workforce import Roster, RosterShift, ShiftTemplate
from backend.workcalendar import WorkCalendar
from backend.workforce.availability import days_off
from backend.workforce.rules import PlannedShift, RestRules, breaches
from backend.workforce.schedule import PUBLISHED
from backend.workforce.templates import Template, applies_on, local_day, span

DRAFT = "draft"


class RosterRefused(CallCenterError):
    code = "roster-refused"
    http_status = 422


@dataclass(frozen=True)
class Assignment:
    """One shift of a plan: ``agent_id`` works ``template_code`` starting on local ``day``."""

    agent_id: int
    template_code: str
    day: date


@dataclass(frozen=True)
class RosterDraft:
    line: str
    skill: str
    first_day: date
    last_day: date
    rules: RestRules
    forecast: list[dict[str, Any]]  # per half hour: {"at": ISO UTC, "calls": n, "aht": s, ...}
    assignments: list[Assignment]


def active_templates(session: Session) -> dict[str, Template]:
    rows = session.scalars(
        select(ShiftTemplate).where(ShiftTemplate.active).order_by(ShiftTemplate.id)
    )
    return {r.code: Template(r.code, r.name, r.kind, r.start_time, r.minutes) for r in rows}


def save_roster(
    session: Session, draft: RosterDraft, actor: Actor, now: datetime, tz: ZoneInfo
) -> Roster:
    """A new draft roster holding ``draft``'s shifts."""
    if draft.last_day < draft.first_day:
        raise RosterRefused("结束日期不能早于开始日期")
    templates = active_templates(session)
    roster = Roster(
        line=draft.line,
        skill=draft.skill,
        first_day=draft.first_day,
        last_day=draft.last_day,
        status=DRAFT,
        rules=draft.rules.as_json(),
        forecast=draft.forecast,
        created_by=actor.username,
        created_at=now,
        updated_at=now,
    )
    session.add(roster)
    session.flush()
    for a in draft.assignments:
        start, end = span(templates[a.template_code], a.day, tz)
        session.add(
            RosterShift(
                roster_id=roster.id,
                agent_id=a.agent_id,
                template_code=a.template_code,
                starts_at=start,
                ends_at=end,
            )
        )
    session.flush()
    roster.agent_hours = _agent_hours(session, roster.id)
    record_audit(
        session,
        actor,
        "roster.create",
        f"roster:{roster.id}",
        now,
        {
            "line": draft.line,
            "first_day": draft.first_day.isoformat(),
            "last_day": draft.last_day.isoformat(),
            "shifts": len(draft.assignments),
        },
    )
    session.flush()
    return roster


def get_roster(session: Session, roster_id: int, *, lock: bool = False) -> Roster:
    roster = session.get(Roster, roster_id, with_for_update=lock)
    if roster is None:
        raise NotFound(f"没有编号为 {roster_id} 的排班表")
    return roster


def shifts_of(session: Session, roster_id: int) -> list[RosterShift]:
    query = select(RosterShift).where(RosterShift.roster_id == roster_id)
    return list(session.scalars(query.order_by(RosterShift.starts_at, RosterShift.agent_id)))


def planned(shifts: Iterable[RosterShift], tz: ZoneInfo) -> list[PlannedShift]:
    return [
        PlannedShift(s.agent_id, local_day(s.starts_at, tz), s.starts_at, s.ends_at) for s in shifts
    ]


def rule_breaches(session: Session, roster: Roster, tz: ZoneInfo) -> list[str]:
    rules = RestRules.from_json(roster.rules)
    return breaches(planned(shifts_of(session, roster.id), tz), rules, roster.first_day)


@dataclass(frozen=True)
class DayEdit:
    """Set ``agent_id``'s shift starting on ``day`` to ``template_code`` ("" = day off)."""

    agent_id: int
    day: date
    template_code: str


def set_day(
    session: Session,
    roster_id: int,
    edit: DayEdit,
    actor: Actor,
    now: datetime,
    *,
    tz: ZoneInfo,
    calendar: WorkCalendar,
) -> Roster:
    """Apply ``edit`` to the roster: the agent's shift of that day replaced, added or removed."""
    roster = get_roster(session, roster_id, lock=True)
    if not roster.first_day <= edit.day <= roster.last_day:
        raise RosterRefused(f"{edit.day} 不在排班表的日期范围内")
    agent = session.get(Agent, edit.agent_id)
    if agent is None or not agent.active:
        raise RosterRefused(f"没有编号为 {edit.agent_id} 的在岗坐席")
    # Everything is checked before anything changes, so a refused edit leaves the roster be.
    replaced = [
        s
        for s in shifts_of(session, roster_id)
        if s.agent_id == edit.agent_id and local_day(s.starts_at, tz) == edit.day
    ]
    new = _new_shift(session, roster, edit, replaced, calendar, tz) if edit.template_code else None
    for shift in replaced:
        session.delete(shift)
    session.flush()  # the unit of work inserts before it deletes: the same start would clash
    if new is not None:
        session.add(new)
    session.flush()
    roster.agent_hours = _agent_hours(session, roster.id)
    roster.updated_at = now
    record_audit(
        session,
        actor,
        "roster.edit",
        f"roster:{roster.id}",
        now,
        {"agent_id": edit.agent_id, "day": edit.day.isoformat(), "template": edit.template_code},
    )
    session.flush()
    return roster


def _new_shift(
    session: Session,
    roster: Roster,
    edit: DayEdit,
    replaced: list[RosterShift],
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> RosterShift:
    template = active_templates(session).get(edit.template_code)
    if template is None:
        raise RosterRefused(f"没有代码为 {edit.template_code} 的班次")
    if not applies_on(template.kind, edit.day, calendar):
        raise RosterRefused(f"{template.name}不能排在{edit.day}")
    if (edit.agent_id, edit.day) in days_off(session, edit.day, edit.day):
        raise RosterRefused(f"坐席#{edit.agent_id} {edit.day} 请假，不能排班")
    start, end = span(template, edit.day, tz)
    for other in shifts_of(session, roster.id):
        if other in replaced or other.agent_id != edit.agent_id:
            continue
        if other.starts_at < end and start < other.ends_at:
            raise RosterRefused(f"该班次与坐席#{edit.agent_id}的另一班次时间重叠")
    return RosterShift(
        roster_id=roster.id,
        agent_id=edit.agent_id,
        template_code=template.code,
        starts_at=start,
        ends_at=end,
    )


def _agent_hours(session: Session, roster_id: int) -> float:
    return sum(
        (s.ends_at - s.starts_at).total_seconds() / 3600 for s in shifts_of(session, roster_id)
    )


def publish(session: Session, roster_id: int, actor: Actor, now: datetime) -> Roster:
    """Make the roster the schedule: refused while another published roster of the same line
    and skill covers any of its dates."""
    roster = get_roster(session, roster_id, lock=True)
    # Two rosters of one line published at once: the second waits and then sees the first.
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"roster:{roster.line}"))))
    clash = session.scalar(
        select(Roster.id).where(
            Roster.id != roster.id,
            Roster.status == PUBLISHED,
            Roster.line == roster.line,
            Roster.skill == roster.skill,
            Roster.first_day <= roster.last_day,
            Roster.last_day >= roster.first_day,
        )
    )
    if clash is not None:
        raise RosterRefused(f"排班表#{clash}已发布并覆盖这些日期，请先撤回它")
    roster.status = PUBLISHED
    roster.updated_at = now
    record_audit(session, actor, "roster.publish", f"roster:{roster.id}", now)
    session.flush()
    return roster


def withdraw(session: Session, roster_id: int, actor: Actor, now: datetime) -> Roster:
    """Back to draft: its shifts schedule nobody any more."""
    roster = get_roster(session, roster_id, lock=True)
    roster.status = DRAFT
    roster.updated_at = now
    record_audit(session, actor, "roster.withdraw", f"roster:{roster.id}", now)
    session.flush()
    return roster
