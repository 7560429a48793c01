"""Rosters (排班): generate one from the forecast, read it with the service level it gives,
edit an agent's day, publish. Every route needs ``ROSTERS`` (team leaders)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.auth.guard import Caller, require
from agent_desk.auth.permissions import Permission
from agent_desk.deps import SessionDep, SettingsDep
from agent_desk.errors import error_responses
from backend.errors import InvalidValue
from backend.lines import is_line
from backend.localtime import zone
from backend.models.agents import Agent
from backend.models.workforce import Roster
from backend.workforce import availability, rosters, shift_templates
from backend.workforce.rosters import DayEdit, RosterRefused
from backend.workforce.rules import RestRules
from backend.workforce.templates import local_day
from backend.workorders.composition import default_calendar
from backend.workorders.exchange import CleanStr
from reports.workforce.planning import PlanRequest, plan_roster, roster_agents, score

router = APIRouter(tags=["排班"], responses=error_responses(400, 401, 403, 404, 422))
RosterEditor = Annotated[Caller, Depends(require(Permission.ROSTERS))]
RosterId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class PlanIn(BaseModel):
    line: CleanStr = Field(description="线路代码，114 或 hotline")
    skill: CleanStr = Field("", max_length=32, description="技能组；空为整条线路")
    first_day: date
    days: int = Field(7, ge=1, le=31)
    min_rest_hours: float = Field(11, ge=0, le=48)
    max_days_in_row: int = Field(6, ge=1, le=31)
    max_week_hours: float = Field(44, gt=0, le=84)
    target_level: float | None = Field(None, gt=0, lt=1)
    target_seconds: int = Field(20, ge=1, le=600)


class DayIn(BaseModel):
    agent_id: int = Field(ge=1, le=2**31 - 1)
    day: date
    template_code: CleanStr = Field("", max_length=32, description="班次代码；空为休息")


class DayOffIn(BaseModel):
    agent_id: int = Field(ge=1, le=2**31 - 1)
    day: date
    reason: CleanStr = Field("", max_length=64)


class TemplateIn(BaseModel):
    name: CleanStr = Field(min_length=1, max_length=64)
    kind: str = Field(description="day、night、weekend 或 holiday")
    start: str = Field(pattern=r"^\d{2}:\d{2}$", description="当地开始时间，如 08:00")
    minutes: int = Field(ge=30, le=960)
    active: bool = True


class TemplateOut(TemplateIn):
    code: str


class HalfHourOut(BaseModel):
    at: datetime
    label: str = Field(description="当地时间 “月-日 时:分”")
    calls: float
    need: int
    staffed: int
    level: float | None


class AgentOut(BaseModel):
    id: int
    number: str
    name: str


class RosterSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    line: str
    skill: str
    first_day: date
    last_day: date
    status: str
    agent_hours: float


class RosterOut(RosterSummary):
    rules: dict[str, float]
    service_level: float | None
    short_half_hours: int
    breaches: list[str]
    agents: list[AgentOut]
    templates: dict[str, str]
    cells: dict[str, str] = Field(description="“坐席id/日期” → 班次代码")
    days_off: list[str] = Field(description="请假的“坐席id/日期”")
    half_hours: list[HalfHourOut]


def roster_out(session: Session, roster: Roster, tz_name: str) -> RosterOut:
    tz = zone(tz_name)
    shifts = rosters.shifts_of(session, roster.id)
    scored = score(roster, shifts)
    ids = set(roster_agents(session, roster.line, roster.skill)) | {s.agent_id for s in shifts}
    agents = session.scalars(select(Agent).where(Agent.id.in_(ids)).order_by(Agent.number))
    return RosterOut(
        id=roster.id,
        line=roster.line,
        skill=roster.skill,
        first_day=roster.first_day,
        last_day=roster.last_day,
        status=roster.status,
        rules=roster.rules,
        agent_hours=scored.agent_hours,
        service_level=scored.service_level,
        short_half_hours=scored.short_half_hours,
        breaches=rosters.rule_breaches(session, roster, tz),
        agents=[AgentOut(id=a.id, number=a.number, name=a.name) for a in agents],
        templates={code: t.name for code, t in rosters.active_templates(session).items()},
        cells={f"{s.agent_id}/{local_day(s.starts_at, tz)}": s.template_code for s in shifts},
        days_off=sorted(
            f"{agent_id}/{day}"
            for agent_id, day in availability.days_off(session, roster.first_day, roster.last_day)
            if agent_id in ids
        ),
        half_hours=[
            HalfHourOut(label=f"{h.at.astimezone(tz):%m-%d %H:%M}", **vars(h))
            for h in scored.half_hours
        ],
    )


@router.post("/api/rosters", status_code=201, summary="按预测生成排班（草稿）")
def generate(
    body: PlanIn, session: SessionDep, settings: SettingsDep, who: RosterEditor
) -> RosterOut:
    if not is_line(body.line):
        raise RosterRefused(f"未知线路：{body.line}")
    try:
        rules = RestRules(body.min_rest_hours, body.max_days_in_row, body.max_week_hours)
    except InvalidValue as exc:
        raise RosterRefused(str(exc)) from None
    request = PlanRequest(
        body.line,
        body.skill,
        body.first_day,
        body.days,
        rules,
        body.target_level,
        body.target_seconds,
    )
    roster = plan_roster(
        session,
        request,
        who.actor,
        datetime.now(UTC),
        calendar=default_calendar(),
        tz=zone(settings.timezone),
    )
    session.commit()
    return roster_out(session, roster, settings.timezone)


@router.get("/api/rosters", summary="排班表列表")
def list_rosters(session: SessionDep, who: RosterEditor) -> list[RosterSummary]:
    rows = session.scalars(
        select(Roster).order_by(Roster.first_day.desc(), Roster.id.desc()).limit(100)
    )
    return [RosterSummary.model_validate(r) for r in rows]


@router.get("/api/rosters/{roster_id}", summary="排班表与其服务水平")
def read_roster(
    roster_id: RosterId, session: SessionDep, settings: SettingsDep, who: RosterEditor
) -> RosterOut:
    return roster_out(session, rosters.get_roster(session, roster_id), settings.timezone)


@router.put("/api/rosters/{roster_id}/days", summary="调整某坐席某日的班次")
def edit_day(
    roster_id: RosterId, body: DayIn, session: SessionDep, settings: SettingsDep, who: RosterEditor
) -> RosterOut:
    roster = rosters.set_day(
        session,
        roster_id,
        DayEdit(body.agent_id, body.day, body.template_code),
        who.actor,
        datetime.now(UTC),
        tz=zone(settings.timezone),
        calendar=default_calendar(),
    )
    session.commit()
    return roster_out(session, roster, settings.timezone)


STATUS_CHANGES = {"publish": rosters.publish, "withdraw": rosters.withdraw}


@router.post(
    "/api/rosters/{roster_id}/{action}",
    summary="发布排班（publish）或撤回发布、改回草稿（withdraw）",
)
def change_status(
    roster_id: RosterId,
    action: Literal["publish", "withdraw"],
    session: SessionDep,
    settings: SettingsDep,
    who: RosterEditor,
) -> RosterOut:
    roster = STATUS_CHANGES[action](session, roster_id, who.actor, datetime.now(UTC))
    session.commit()
    return roster_out(session, roster, settings.timezone)


@router.put("/api/days-off", status_code=204, summary="登记坐席请假（不排班）")
def set_day_off(body: DayOffIn, session: SessionDep, who: RosterEditor) -> None:
    availability.set_day_off(
        session, body.agent_id, body.day, body.reason, who.actor, datetime.now(UTC)
    )
    session.commit()


@router.delete("/api/days-off/{agent_id}/{day}", status_code=204, summary="取消坐席请假")
def clear_day_off(
    agent_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    day: date,
    session: SessionDep,
    who: RosterEditor,
) -> None:
    availability.clear_day_off(session, agent_id, day, who.actor, datetime.now(UTC))
    session.commit()


@router.get("/api/shift-templates", summary="班次模板")
def list_templates(session: SessionDep, who: RosterEditor) -> list[TemplateOut]:
    return [
        TemplateOut(code=t.code, name=t.name, kind=t.kind, start=f"{t.start_time:%H:%M}",
                    minutes=t.minutes, active=t.active)
        for t in shift_templates.all_templates(session)
    ]  # fmt: skip


@router.put("/api/shift-templates/{code}", status_code=204, summary="新增或修改班次模板")
def save_template(
    code: Annotated[str, Path(min_length=1, max_length=32)],
    body: TemplateIn,
    session: SessionDep,
    who: RosterEditor,
) -> None:
    template = shift_templates.checked_template(
        code, body.name, body.kind, body.start, body.minutes
    )
    shift_templates.save_template(session, template, body.active, who.actor, datetime.now(UTC))
    session.commit()
