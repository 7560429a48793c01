"""Who is scheduled when: the shifts of published rosters (table ``roster_shifts``).

A scheduled shift is one row of ``roster_shifts`` whose roster (``rosters``) has status
``published``: ``agent_id`` works from ``starts_at`` to ``ends_at`` (timestamptz, half-open)
under the shift template ``template_code`` (``shift_templates``). Draft rosters are plans
being edited and schedule nobody. Adherence and the wallboard read shifts through
``scheduled_shifts`` and ``on_shift_at`` only, never the tables directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models.workforce import Roster, RosterShift

PUBLISHED = "published"


@dataclass(frozen=True)
class ScheduledShift:
    """One agent's shift: from ``starts_at`` (included) to ``ends_at`` (excluded), UTC-aware."""

    shift_id: int
    roster_id: int
    agent_id: int
    template_code: str
    starts_at: datetime
    ends_at: datetime
    line: str
    skill: str


def scheduled_shifts(
    session: Session,
    since: datetime,
    until: datetime,
    *,
    agent_ids: Iterable[int] | None = None,
    line: str | None = None,
) -> list[ScheduledShift]:
    """Published shifts overlapping ``[since, until)``, by start then agent.

    ``since`` and ``until`` must be timezone-aware. ``agent_ids`` and ``line`` narrow the
    answer; ``None`` means every agent or line.
    """
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("scheduled_shifts needs timezone-aware datetimes")
    query = (
        select(RosterShift, Roster.line, Roster.skill)
        .join(Roster, Roster.id == RosterShift.roster_id)
        .where(
            Roster.status == PUBLISHED,
            RosterShift.starts_at < until,
            RosterShift.ends_at > since,
        )
        .order_by(RosterShift.starts_at, RosterShift.agent_id)
    )
    if agent_ids is not None:
        query = query.where(RosterShift.agent_id.in_(list(agent_ids)))
    if line is not None:
        query = query.where(Roster.line == line)
    return [
        ScheduledShift(
            shift_id=row.id,
            roster_id=row.roster_id,
            agent_id=row.agent_id,
            template_code=row.template_code,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            line=shift_line,
            skill=skill,
        )
        for row, shift_line, skill in session.execute(query)
    ]


def on_shift_at(session: Session, moment: datetime) -> list[ScheduledShift]:
    """The published shifts running at ``moment``: started at or before it, ending after it."""
    return scheduled_shifts(session, moment, moment + timedelta(microseconds=1))
