"""Adherence over a period from the database: published shifts (read through
``backend.workforce.schedule``, never the roster tables) against ``agent_state_changes``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from backend.adherence.measure import ShiftAdherence, Totals, measure_shift, totals_of
from backend.adherence.timeline import StateChange
from backend.models.agents import Agent
from backend.workforce.schedule import scheduled_shifts

# Each agent's changes in the span, and the last one before it (the state the span opens in).
CHANGES_SQL = text(
    """
    (SELECT DISTINCT ON (agent_id) agent_id, at, state, reason, id FROM agent_state_changes
      WHERE agent_id = ANY(:ids) AND at <= :start ORDER BY agent_id, at DESC, id DESC)
    UNION ALL
    (SELECT agent_id, at, state, reason, id FROM agent_state_changes
      WHERE agent_id = ANY(:ids) AND at > :start AND at < :end)
    ORDER BY agent_id, at, id
    """
)


@dataclass(frozen=True)
class AgentInfo:
    number: str
    name: str
    team: str


@dataclass
class Adherence:
    shifts: list[ShiftAdherence]
    agents: dict[int, AgentInfo]
    by_agent: dict[int, Totals] = field(default_factory=dict)
    by_team: dict[str, Totals] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for shift in self.shifts:
            team = self.agents[shift.agent_id].team
            self.by_agent[shift.agent_id] = self.by_agent.get(shift.agent_id, Totals()) + (
                totals_of(shift)
            )
            self.by_team[team] = self.by_team.get(team, Totals()) + totals_of(shift)


def state_changes(
    session: Session, agent_ids: Collection[int], start: datetime, end: datetime
) -> dict[int, list[StateChange]]:
    found: dict[int, list[StateChange]] = defaultdict(list)
    params = {"ids": list(agent_ids), "start": start, "end": end}
    for row in session.execute(CHANGES_SQL, params):
        found[row.agent_id].append(StateChange(row.at, row.state, row.reason))
    return found


def agents_of(
    session: Session, agent_ids: Collection[int], team: str | None
) -> dict[int, AgentInfo]:
    query = select(Agent.id, Agent.number, Agent.name, Agent.team).where(
        Agent.id.in_(list(agent_ids))
    )
    if team is not None:
        query = query.where(Agent.team == team)
    return {r.id: AgentInfo(r.number, r.name, r.team) for r in session.execute(query)}


def adherence(
    session: Session,
    since: datetime,
    until: datetime,
    now: datetime,
    *,
    team: str | None = None,
    agent_id: int | None = None,
) -> Adherence:
    """The shifts overlapping ``[since, until)`` measured up to ``now`` (aware datetimes)."""
    ids = None if agent_id is None else [agent_id]
    shifts = scheduled_shifts(session, since, until, agent_ids=ids)
    agents = agents_of(session, {s.agent_id for s in shifts}, team)
    shifts = [s for s in shifts if s.agent_id in agents]
    if not shifts:
        return Adherence([], agents)
    start = min(min(s.starts_at for s in shifts), since)
    end = min(max(max(s.ends_at for s in shifts), until), now)
    changes = state_changes(session, agents, start, end)
    measured = [
        measure_shift(
            s.agent_id, s.starts_at, s.ends_at, changes.get(s.agent_id, []), since, until, now
        )
        for s in shifts
    ]
    return Adherence(measured, agents)
