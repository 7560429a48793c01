"""From forecast to roster: the agents each half hour needs (Erlang C), a roster solved to
meet them, and the service level a roster (as generated or as edited) gives.

The requirement is Erlang C's fewest agents reaching the line's service-level target for
the forecast calls and handle time (``reports.erlang``, as the staffing page computes it),
without shrinkage. A half hour's service level for ``n`` agents on shift is Erlang C's share
answered within the target time; a roster's overall level weighs the half hours by their
forecast calls. The agents of a roster are the active agents holding its skill (any skill
of the line when the roster is for the whole line).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.audit.records import Actor
from backend.lines import line_spec
from backend.models.agents import Agent, AgentSkill, Skill
from backend.models.workforce import Roster, RosterShift
from backend.workcalendar import WorkCalendar
from backend.workforce import availability, rosters
from backend.workforce.rules import RestRules
from reports import erlang, kpi
from reports.workforce.forecast import HalfHourForecast, forecast
from reports.workforce.solver import RosterProblem, solve_roster

HALF_HOUR = 1800


@dataclass(frozen=True)
class Target:
    level: float
    seconds: int


def needed(calls: float, aht: float, target: Target) -> int:
    load = erlang.offered_load(calls, HALF_HOUR, aht)
    return erlang.agents_needed_c(load, aht, target.seconds, target.level)


def level_with(agents: int, calls: float, aht: float, seconds: int) -> float | None:
    """Erlang C's share answered within ``seconds`` (None: no calls to answer)."""
    if calls <= 0:
        return None
    load = erlang.offered_load(calls, HALF_HOUR, aht)
    return erlang.service_level_c(agents, load, aht, seconds)


def forecast_json(
    predicted: list[HalfHourForecast], tz: ZoneInfo, target: Target
) -> list[dict[str, Any]]:
    return [
        {
            "at": p.at.replace(tzinfo=tz).astimezone(UTC).isoformat(),
            "calls": round(p.calls, 3),
            "aht": round(p.aht, 1),
            "need": needed(p.calls, p.aht, target),
            "pattern": p.pattern,
        }
        for p in predicted
    ]


def roster_agents(session: Session, line: str, skill: str) -> list[int]:
    query = (
        select(Agent.id)
        .join(AgentSkill, AgentSkill.agent_id == Agent.id)
        .join(Skill, Skill.code == AgentSkill.skill_code)
        .where(Agent.active, Skill.line == line)
        .distinct()
        .order_by(Agent.id)
    )
    if skill:
        query = query.where(AgentSkill.skill_code == skill)
    return list(session.scalars(query))


@dataclass(frozen=True)
class PlanRequest:
    line: str
    skill: str
    first_day: date
    days: int
    rules: RestRules
    target_level: float | None = None
    target_seconds: int = kpi.DEFAULT_SL_THRESHOLD_SECONDS
    time_limit: float = 20.0


def plan_roster(
    session: Session,
    request: PlanRequest,
    actor: Actor,
    now: datetime,
    *,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> Roster:
    """Forecast, requirement, solver; the roster saved as a draft (``NoRoster`` if none)."""
    target = Target(
        request.target_level or line_spec(request.line).service_level, request.target_seconds
    )
    predicted = forecast(
        session,
        request.line,
        request.skill or None,
        request.first_day,
        request.days,
        calendar=calendar,
        tz_name=tz.key,
    )
    half_hours = forecast_json(predicted, tz, target)
    last_day = request.first_day + timedelta(days=request.days - 1)
    problem = RosterProblem(
        first_day=request.first_day,
        last_day=last_day,
        requirement=[h["need"] for h in half_hours],
        agents=roster_agents(session, request.line, request.skill),
        templates=list(rosters.active_templates(session).values()),
        rules=request.rules,
        calendar=calendar,
        tz=tz,
        days_off=frozenset(availability.days_off(session, request.first_day, last_day)),
        time_limit=request.time_limit,
    )
    solution = solve_roster(problem)
    draft = rosters.RosterDraft(
        request.line,
        request.skill,
        request.first_day,
        last_day,
        request.rules,
        half_hours,
        solution.assignments,
    )
    roster = rosters.save_roster(session, draft, actor, now, tz)
    roster.rules = {
        **request.rules.as_json(),
        "target_level": target.level,
        "target_seconds": target.seconds,
    }
    return roster


@dataclass(frozen=True)
class HalfHourCover:
    at: datetime  # UTC
    calls: float
    need: int
    staffed: int
    level: float | None


@dataclass(frozen=True)
class RosterScore:
    half_hours: list[HalfHourCover]
    service_level: float | None  # weighted by forecast calls
    short_half_hours: int  # fewer agents on shift than needed
    agent_hours: float


def score(roster: Roster, shifts: list[RosterShift]) -> RosterScore:
    """The service level the roster's shifts give against the forecast it was made for."""
    seconds = int(roster.rules.get("target_seconds", kpi.DEFAULT_SL_THRESHOLD_SECONDS))
    covers, weighted, calls_total, short = [], 0.0, 0.0, 0
    for half in roster.forecast:
        at = datetime.fromisoformat(half["at"])
        staffed = sum(1 for s in shifts if s.starts_at <= at < s.ends_at)
        level = level_with(staffed, half["calls"], half["aht"], seconds)
        covers.append(HalfHourCover(at, half["calls"], half["need"], staffed, level))
        short += staffed < half["need"]
        if level is not None:
            weighted += level * half["calls"]
            calls_total += half["calls"]
    hours = sum((s.ends_at - s.starts_at).total_seconds() / 3600 for s in shifts)
    overall = weighted / calls_total if calls_total else None
    return RosterScore(covers, overall, short, hours)
