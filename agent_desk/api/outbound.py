"""The desk's outbound calls: the dial box, 回访 of a work order, and the order's recordings.

Resources of a dozen lines: the checks and the dialling are ``agent_desk.outbound``'s, the
order's state and number the work-order service's. Every call placed is audited; the number
is shown masked and never written to the audit trail.
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from agent_desk.agent_status import AgentRow, agent_id_of, load_agent
from agent_desk.auth.audit import audit_now
from agent_desk.auth.guard import Caller
from agent_desk.deps import CallControlUser, StateDep
from agent_desk.errors import error_responses
from agent_desk.outbound import DeskDialer, DialingAgent, PlacedCall
from agent_desk.recording_audio import recording_audio
from agent_desk.state import AppState
from agent_desk.workorder_access import OrderAccess, OrderDesk
from backend.errors import NotFound, Refused
from backend.lines import LINE_LABELS
from backend.models.agents import AgentSkill, Skill
from backend.models.calls import Line, Recording, RecordingStatus
from backend.models.workorders import WorkOrderCall
from backend.telephony.agent_lines import line_of
from backend.telephony.dial_requests import DialRequest, Purpose
from backend.workorders.workflow import STATE_LABELS, State
from recordings.paths import RecordingPathRefused, contained
from recordings.search import RecordingNotReady

MAX_ID = 2**63 - 1
OrderId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
# Builds the dial request once the agent is known.
DialFactory = Callable[[AgentRow], Awaitable[DialRequest]]

router = APIRouter(tags=["外呼"], responses=error_responses(400, 401, 403, 404, 409, 422, 503))


class DialBody(BaseModel):
    number: str = Field(min_length=1, max_length=40)
    # The line whose number the citizen sees; the agent's own line when not given.
    line: Line | None = None  # a line code of the line registry


class PlacedOut(BaseModel):
    line: str
    line_label: str
    number: str  # masked
    purpose: str
    message: str


def placed_out(call: PlacedCall) -> PlacedOut:
    return PlacedOut(
        line=call.line,
        line_label=LINE_LABELS.get(call.line, call.line),
        number=call.number,
        purpose=call.purpose.value,
        message=f"正在呼叫您的话机，接通后将拨打 {call.number}",
    )


def agent_line(state: AppState, agent_id: int) -> str:
    with state.session_factory() as db:
        skills = db.execute(
            select(Skill.line, AgentSkill.level)
            .join(Skill, Skill.code == AgentSkill.skill_code)
            .where(AgentSkill.agent_id == agent_id)
        ).all()
    return line_of((line, level) for line, level in skills)


def order_to_revisit(access: OrderAccess, order_id: int) -> tuple[str, str]:
    """(line, the citizen's number) of an order of the user's scope waiting for its 回访."""
    with access.state.session_factory() as db:
        reader = access.state.workorders.reader(db)
        order = access.order(reader, order_id, "revisit_call")
        if order.state != State.ACCEPTED.value:
            label = STATE_LABELS[State(order.state)]
            raise Refused(
                f"工单当前状态为「{label}」，只有待回访的工单可以拨打回访电话",
                code="order-not-awaiting-callback",
            )
        number = reader.caller_phone(order)
        if not number:
            raise Refused("工单没有来电人电话，无法拨打回访电话", code="order-without-phone")
        return order.line, number


def recording_file(state: AppState, order_id: int, link_id: int) -> tuple[Path, WorkOrderCall]:
    """The recording of a call linked to the order, once Asterisk has closed it."""
    with state.session_factory() as db:
        link = db.get(WorkOrderCall, link_id)
        if link is None or link.order_id != order_id or not link.recording_path:
            raise NotFound("该工单没有这条通话录音")
        indexed = db.scalar(select(Recording).where(Recording.path == link.recording_path))
    if indexed is not None and indexed.status is RecordingStatus.RECORDING:
        raise RecordingNotReady("录音尚未完成，请稍后再试")
    if indexed is not None and indexed.status in (RecordingStatus.DELETED, RecordingStatus.MISSING):
        raise NotFound("录音已按保存期限删除或文件缺失")
    try:
        # A linked path is data an API took in: it must stay below the recordings folder.
        path = contained(state.settings.effective_recordings_dir, link.recording_path)
    except RecordingPathRefused:
        raise NotFound("录音文件不存在") from None
    if not path.is_file():
        raise NotFound("录音文件不存在")
    return path, link


async def dial_for(state: AppState, caller: Caller, request_of: DialFactory) -> PlacedOut:
    row: AgentRow = await asyncio.to_thread(load_agent, state, agent_id_of(caller))
    request = await request_of(row)
    placed = await DeskDialer(state).place(
        DialingAgent(row.agent_id, row.number, row.interface), request
    )
    await asyncio.to_thread(
        audit_now, state.session_factory, caller.username, f"call.{request.purpose.value}",
        target=f"work_order:{request.order_id}" if request.order_id else f"agent:{row.agent_id}",
        source_ip=caller.ip, details={"line": request.line, "number": placed.number},
    )  # fmt: skip
    return placed_out(placed)


@router.post("/api/agent/calls", status_code=202, summary="外呼：先呼叫坐席话机，接通后拨打号码")
async def dial(body: DialBody, state: StateDep, caller: CallControlUser) -> PlacedOut:
    async def request_of(row: AgentRow) -> DialRequest:
        if body.line is not None:
            line: str = body.line.value
        else:
            line = await asyncio.to_thread(agent_line, state, row.agent_id)
        return DialRequest(row.agent_id, body.number, line, actor=caller.username)

    return await dial_for(state, caller, request_of)


@router.post(
    "/api/workorders/{order_id}/revisit-call",
    status_code=202,
    summary="回访：呼叫坐席话机，接通后拨打来电人，录音自动关联工单",
)
async def revisit(
    order_id: OrderId, state: StateDep, caller: CallControlUser, access: OrderDesk
) -> PlacedOut:
    async def request_of(row: AgentRow) -> DialRequest:
        line, number = await asyncio.to_thread(order_to_revisit, access, order_id)
        return DialRequest(
            row.agent_id, number, line, Purpose.REVISIT, order_id, actor=caller.username
        )

    return await dial_for(state, caller, request_of)


@router.get(
    "/api/workorders/{order_id}/calls/{link_id}/recording",
    summary="播放工单关联通话的录音（支持 HTTP Range 分段请求）",
    response_class=Response,
)
def order_call_recording(
    order_id: OrderId,
    link_id: OrderId,
    request: Request,
    state: StateDep,
    access: OrderDesk,
) -> Response:
    with state.session_factory() as db:
        access.order(state.workorders.reader(db), order_id, "recording")
    caller = access.caller
    path, link = recording_file(state, order_id, link_id)
    answer = recording_audio(
        state, path, filename=f"{link.call_id}.wav", download=False,
        range_header=request.headers.get("range"),
    )  # fmt: skip
    audit_now(
        state.session_factory, caller.username, "recording.play", target=f"work_order:{order_id}",
        source_ip=caller.ip, details={"call_id": link.call_id, "relation": link.relation},
    )  # fmt: skip
    return answer
