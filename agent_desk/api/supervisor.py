"""The team leader's tools: live wallboard data, forcing an agent's state, listening to a live
call (ChanSpy), and recordings search / playback / download — every access audited."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from agent_desk.api.agent import ERRORS, DayItem, DayOut, StatusOut, change_state, load_agent
from agent_desk.auth.audit import audit_now
from agent_desk.auth.guard import Caller, DeskDep, require
from agent_desk.auth.permissions import Permission
from agent_desk.myday import my_day
from agent_desk.wallboard import (
    agent_names,
    agent_rows,
    queue_rows,
    service_level_today,
    skill_names,
)
from backend.errors import Conflict, NotFound, Refused
from backend.models.agents import Agent
from backend.models.calls import CallRecord, Recording, RecordingStatus
from backend.models.users import Role, User
from backend.personal_data import PersonalDataCipher, mask_phone, normalize_number
from ivr.acd.states import AgentState
from recordings.paths import RecordingPathRefused, contained

SelectT = TypeVar("SelectT", bound=Select)
SHANGHAI = ZoneInfo("Asia/Shanghai")
SPY_CONTEXT = "supervisor-spy"
SPY_MODES = {"listen": "q", "whisper": "qw", "barge": "qB"}

WallboardCaller = Annotated[Caller, Depends(require(Permission.WALLBOARD))]
ForceCaller = Annotated[Caller, Depends(require(Permission.FORCE_STATE))]
ListenCaller = Annotated[Caller, Depends(require(Permission.LISTEN))]
RecordingsCaller = Annotated[Caller, Depends(require(Permission.RECORDINGS))]


class AgentOnBoard(BaseModel):
    agent_id: int
    number: str
    name: str
    team: str
    state: str
    state_label: str
    reason: str
    reason_label: str
    since: float
    seconds_in_state: float
    call_id: str


class QueueOnBoard(BaseModel):
    skill: str
    name: str
    waiting: int
    longest_wait_seconds: float


class ServiceLevel(BaseModel):
    value: float | None
    offered: int
    answered_within_threshold: int
    short_abandoned: int
    formula: str


class Wallboard(BaseModel):
    agents: list[AgentOnBoard]
    queues: list[QueueOnBoard]
    service_level: ServiceLevel
    server_time: float


class ForceBody(BaseModel):
    state: Literal["ready", "not_ready", "logged_out"]
    reason: Literal["break", "training", "meal", "meeting", ""] = ""


class ListenBody(BaseModel):
    agent_id: int = Field(ge=1)
    mode: Literal["listen", "whisper", "barge"] = "listen"


class ListenOut(BaseModel):
    action_id: str


class RecordingOut(BaseModel):
    id: int
    call_id: str
    started_at: str  # local time
    line: str
    agent_number: str
    caller_number: str  # masked
    duration_seconds: float
    disposition: str
    wrapup_code: str
    status: str


class RecordingNotReady(Conflict):
    code = "recording-not-ready"


def _team_of(db: Session, caller: Caller) -> str | None:
    """A team leader sees the own team's recordings; auditors see all (None)."""
    if caller.session.role is not Role.SUPERVISOR:
        return None
    user = db.get(User, caller.session.user_id)
    return user.team if user else ""


def _scoped(query: SelectT, team: str | None) -> SelectT:
    if team is None:
        return query
    team_agents = select(Agent.id).where(Agent.team == team)
    # The recording's own agent, or the agent of its call (a recording is indexed when the
    # call starts, before anybody answers, and may never have been given one).
    return query.where(
        or_(
            Recording.agent_id.in_(team_agents),
            Recording.call_id.in_(
                select(CallRecord.call_id).where(CallRecord.agent_id.in_(team_agents))
            ),
        )
    )


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI)


def build_router() -> APIRouter:
    router = APIRouter(tags=["班组长"], responses=ERRORS)

    @router.get("/api/supervisor/wallboard", summary="实时监控：坐席状态、队列、今日服务水平")
    async def wallboard(desk: DeskDep, caller: WallboardCaller) -> Wallboard:
        async with desk.acd() as acd:
            views = await acd.agents()
            waiting = await acd.waiting_calls()
            now = acd.now()

        def load() -> tuple[dict[int, tuple[str, str]], dict[str, str], dict[str, Any]]:
            with desk.factory() as db:
                return agent_names(db), skill_names(db), service_level_today(db, datetime.now(UTC))

        names, skills, sl = await asyncio.to_thread(load)
        return Wallboard(
            agents=[AgentOnBoard(**r) for r in agent_rows(views, names, now)],
            queues=[QueueOnBoard(**q) for q in queue_rows(skills, waiting, now)],
            service_level=ServiceLevel(**sl),
            server_time=now,
        )

    @router.post(
        "/api/supervisor/agents/{agent_id}/state", summary="强制坐席状态（置闲、示忙、签出）"
    )
    async def force_state(
        agent_id: int, body: ForceBody, desk: DeskDep, caller: ForceCaller
    ) -> StatusOut:
        row = await asyncio.to_thread(load_agent, desk, agent_id)
        reason = body.reason or ("break" if body.state == "not_ready" else "")
        return await change_state(
            desk, row, AgentState(body.state), actor=caller.username, source_ip=caller.ip,
            reason=reason,
        )  # fmt: skip

    @router.post(
        "/api/supervisor/listen", status_code=202, summary="监听/耳语/强插坐席通话（ChanSpy）"
    )
    async def listen(body: ListenBody, desk: DeskDep, caller: ListenCaller) -> ListenOut:
        if caller.session.agent_id is None:
            raise Refused("监听需要班组长本人的话机（坐席工号）", code="no-own-phone")
        own = await asyncio.to_thread(load_agent, desk, caller.session.agent_id)
        target = await asyncio.to_thread(load_agent, desk, body.agent_id)
        await asyncio.to_thread(
            audit_now, desk.factory, caller.username, "call.listen",
            target=f"agent:{target.agent_id}", source_ip=caller.ip, details={"mode": body.mode},
        )  # fmt: skip
        ami = await desk.ami_client()
        action_id = await ami.originate(
            own.interface,
            context=SPY_CONTEXT,
            exten="s",
            caller_id=f"监听 <{target.number}>",
            variables={"SPY_TARGET": target.interface, "SPY_MODE": SPY_MODES[body.mode]},
        )
        return ListenOut(action_id=action_id)

    @router.get("/api/supervisor/team-day", summary="我的班组今日")
    def team_day(desk: DeskDep, caller: WallboardCaller) -> DayOut:
        with desk.factory() as db:
            user = db.get(User, caller.session.user_id)
            team = user.team if user else ""
            ids = list(db.scalars(select(Agent.id).where(Agent.team == team)))
            items = my_day(db, ids, datetime.now(UTC)) if ids else []
        return DayOut(items=[DayItem(**i) for i in items])

    # Recordings --------------------------------------------------------------------------

    @router.get("/api/recordings", summary="录音查询（日期、坐席、来电号码、线路、处理结果）")
    def search_recordings(
        desk: DeskDep,
        caller: RecordingsCaller,
        date_from: date | None = None,
        date_to: date | None = None,
        agent: Annotated[str, Query(max_length=16)] = "",
        caller_number: Annotated[str, Query(max_length=32)] = "",
        line: Annotated[str, Query(max_length=16)] = "",
        disposition: Annotated[
            str,
            Query(max_length=24, description="how the call ended (answered, abandoned_queue …)"),
        ] = "",
        wrapup: Annotated[
            str, Query(max_length=24, description="the agent's wrap-up (booked, order …)")
        ] = "",
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[RecordingOut]:
        with desk.factory() as db:
            query = (
                select(Recording, CallRecord, Agent.number)
                .outerjoin(CallRecord, CallRecord.call_id == Recording.call_id)
                .outerjoin(
                    Agent, Agent.id == func.coalesce(Recording.agent_id, CallRecord.agent_id)
                )
                .where(Recording.status.in_([RecordingStatus.COMPLETE, RecordingStatus.REPAIRED]))
                .order_by(Recording.started_at.desc(), Recording.id.desc())
                .limit(limit)
            )
            query = _scoped(query, _team_of(db, caller))
            if date_from:
                query = query.where(Recording.started_at >= _local_start(date_from))
            if date_to:
                query = query.where(
                    Recording.started_at
                    < _local_start(date_to).replace(hour=23, minute=59, second=59)
                )
            if agent:
                query = query.where(Agent.number == agent)
            if caller_number:
                # By the keyed hash: the stored number is only a mask, shared by many callers.
                cipher = PersonalDataCipher(desk.settings.data_key.get_secret_value())
                number_hash = cipher.lookup_hash(normalize_number(caller_number))
                query = query.where(CallRecord.caller_hash == number_hash)
            if line:
                query = query.where(Recording.line == line)
            # Two filters, because the two vocabularies share words: wrap-up "answered" is
            # 已解答 (the agent answered the question), disposition "answered" is 已接通.
            if disposition:
                query = query.where(CallRecord.disposition == disposition)
            if wrapup:
                query = query.where(CallRecord.wrapup_code == wrapup)
            rows = db.execute(query).all()
            audit_now(
                desk.factory, caller.username, "recording.search", source_ip=caller.ip,
                details={"agent": agent, "line": line, "disposition": disposition,
                         "wrapup": wrapup, "by_caller": bool(caller_number),
                         "results": len(rows)},
            )  # fmt: skip
            return [
                RecordingOut(
                    id=rec.id,
                    call_id=rec.call_id,
                    started_at=rec.started_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
                    line=rec.line,
                    agent_number=number or "",
                    caller_number=mask_phone(call.caller_number) if call else "",
                    duration_seconds=rec.duration_seconds,
                    disposition=call.disposition.value if call else "",
                    wrapup_code=call.wrapup_code if call else "",
                    status=rec.status.value,
                )
                for rec, call, number in rows
                if isinstance(rec, Recording)
            ]

    @router.get(
        "/api/recordings/{recording_id}/audio",
        summary="播放或下载录音（支持 HTTP Range 分段请求）",
        response_class=FileResponse,
        responses={206: {"description": "部分内容"}, 416: {"description": "范围无效"}},
    )
    def recording_audio(
        recording_id: int, desk: DeskDep, caller: RecordingsCaller, download: bool = False
    ) -> FileResponse:
        with desk.factory() as db:
            query = _scoped(
                select(Recording).where(Recording.id == recording_id), _team_of(db, caller)
            )
            rec = db.scalar(query)
        if rec is None or rec.status in (RecordingStatus.DELETED, RecordingStatus.MISSING):
            raise NotFound("没有这条录音")
        if rec.status is RecordingStatus.RECORDING:
            raise RecordingNotReady("录音尚未完成，请稍后再试")
        try:
            path = contained(desk.settings.effective_recordings_dir, rec.path)
        except RecordingPathRefused:
            # A row or a symlink leading out of the recordings root: an attack or a broken
            # spool; never served, and on file.
            audit_now(
                desk.factory, caller.username, "recording.refused", target=f"recording:{rec.id}",
                source_ip=caller.ip, details={"reason": "path-outside-root"},
            )  # fmt: skip
            raise
        if not path.is_file():
            raise NotFound("录音文件不存在")
        audit_now(
            desk.factory, caller.username, "recording.download" if download else "recording.play",
            target=f"recording:{rec.id}", source_ip=caller.ip, details={"call_id": rec.call_id},
        )  # fmt: skip
        # Starlette's FileResponse answers Range requests (206 / 416) itself.
        return FileResponse(
            path,
            media_type="audio/wav",
            filename=f"{rec.call_id}.wav",
            content_disposition_type="attachment" if download else "inline",
        )

    return router
