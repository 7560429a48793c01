"""The agent's own state and call: sign in/out, ready, not ready with reason, auto-answer,
hold / resume / transfer / hang up (AMI), order from the current call, wrap-up, my day.

Thin: the agent's presence is ``agent_desk.agent_status``, the call actions
``agent_desk.call_actions``, the call's wrap-up and orders ``agent_desk.calls``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agent_desk import call_actions
from agent_desk.agent_status import (
    StatusOut,
    agent_id_of,
    call_in_hand,
    change_state,
    current_state,
    current_status,
    own_row,
    refresh_profile,
    save_auto_answer,
)
from agent_desk.auth.guard import Caller
from agent_desk.calls import CallOrder, CallTaker, WrapUp, open_order, record_wrapup
from agent_desk.deps import CallControlUser, DeskUser, StateDep
from agent_desk.errors import error_responses
from agent_desk.myday import DayOut, day_out
from agent_desk.phone_choice import choose_phone
from agent_desk.screen_pop import ScreenPop, pop_for_call
from agent_desk.state import AppState
from agent_desk.workorder_access import OrderDesk, scope_of
from backend.acd.states import AgentState, NotReadyReason
from backend.telephony.profiles import PhoneKind

BREAKS = Literal["break", "training", "meal", "meeting"]
ERRORS = error_responses(400, 401, 403, 404, 409, 422)
router = APIRouter(prefix="/api/agent", tags=["坐席"], responses=ERRORS)


class SignInBody(BaseModel):
    phone: PhoneKind | None = None  # "browser" softphone or "desk" SIP phone


class NotReadyBody(BaseModel):
    reason: BREAKS = "break"


class AutoAnswerBody(BaseModel):
    enabled: bool


class TransferBody(BaseModel):
    kind: Literal["agent", "skill"]
    target: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")


class TargetOut(BaseModel):
    dial: str  # the extension the softphone calls for the consultation
    label: str


class OrderBody(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    category: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=20000)
    call_id: str | None = Field(default=None, max_length=64)


class OrderOut(BaseModel):
    id: int
    number: str
    title: str
    state: str


class WrapupBody(BaseModel):
    call_id: str = Field(default="", max_length=64)
    code: str = Field(min_length=1, max_length=32)
    notes: str = Field(default="", max_length=1000)
    order_number: str = Field(default="", max_length=32)
    booking_code: str = Field(default="", max_length=32)


async def move(
    state: AppState, user: Caller, to: AgentState, reason: str = "", register: bool = False
) -> StatusOut:
    row = await own_row(state, user)
    return await change_state(state, row, to, user.actor, reason=reason, register=register)


@router.get("/status", summary="我的坐席状态")
async def get_status(state: StateDep, user: DeskUser) -> StatusOut:
    return await current_status(state, await own_row(state, user))


@router.post("/sign-in", summary="签入（示忙：签入）；可同时选择话机：浏览器软电话或桌面话机")
async def sign_in(state: StateDep, user: DeskUser, body: SignInBody | None = None) -> StatusOut:
    if body is not None and body.phone is not None:
        await asyncio.to_thread(
            choose_phone, state, agent_id_of(user), body.phone, user.username, user.ip
        )
    return await move(state, user, AgentState.NOT_READY, NotReadyReason.LOGIN, register=True)


@router.post("/sign-out", summary="签出")
async def sign_out(state: StateDep, user: DeskUser) -> StatusOut:
    return await move(state, user, AgentState.LOGGED_OUT)


@router.post("/ready", summary="置闲")
async def ready(state: StateDep, user: DeskUser) -> StatusOut:
    return await move(state, user, AgentState.READY)


@router.post("/not-ready", summary="示忙（带原因）")
async def not_ready(body: NotReadyBody, state: StateDep, user: DeskUser) -> StatusOut:
    return await move(state, user, AgentState.NOT_READY, body.reason)


@router.post("/auto-answer", summary="自动应答开关")
async def auto_answer(body: AutoAnswerBody, state: StateDep, user: DeskUser) -> StatusOut:
    agent_id = agent_id_of(user)
    await asyncio.to_thread(save_auto_answer, state, agent_id, body.enabled, user.actor)
    return await refresh_profile(state, agent_id)


# Call control ---------------------------------------------------------------------------


@router.post("/call/hold", summary="保持")
async def hold(state: StateDep, user: CallControlUser) -> StatusOut:
    return await call_actions.toggle_hold(state, user, True)


@router.post("/call/resume", summary="恢复（取消保持）")
async def resume(state: StateDep, user: CallControlUser) -> StatusOut:
    return await call_actions.toggle_hold(state, user, False)


@router.post("/call/hangup", status_code=204, summary="挂断")
async def hangup(state: StateDep, user: CallControlUser) -> None:
    await call_actions.hang_up(state, user)


@router.post("/call/transfer", status_code=204, summary="转接到技能组或坐席（直接转接）")
async def transfer(body: TransferBody, state: StateDep, user: CallControlUser) -> None:
    await call_actions.blind_transfer(state, user, body.kind, body.target)


@router.post(
    "/call/transfer-target",
    summary="咨询转接前检查目标坐席（软电话随后呼叫该坐席，再以 REFER 完成转接）",
)
async def consult_target(body: TransferBody, state: StateDep, user: CallControlUser) -> TargetOut:
    target = await call_actions.consultation_target(state, user, body.kind, body.target)
    return TargetOut(dial=target.extension, label=target.label)


@router.get("/current-call", summary="当前来电的弹屏信息（无来电时为 null）")
async def current_call(state: StateDep, user: DeskUser) -> ScreenPop | None:
    call_id = await call_in_hand(state, agent_id_of(user))
    if not call_id:
        return None
    return await asyncio.to_thread(pop_for_call, state, call_id)


@router.post("/call/order", status_code=201, summary="由本人的来电新建工单（来电信息自动带入）")
async def order_from_call(body: OrderBody, state: StateDep, access: OrderDesk) -> OrderOut:
    user = access.caller
    agent_id = user.session.agent_id
    taker = CallTaker(user.actor, agent_id, await call_in_hand(state, agent_id), access.scope)
    order = await asyncio.to_thread(open_order, state, CallOrder(**body.model_dump()), taker)
    return OrderOut(id=order.id, number=order.number, title=order.title, state=order.state)


@router.post("/wrapup", summary="话后小结（处理结果、备注、关联工单或预约）")
async def wrapup(body: WrapupBody, state: StateDep, user: DeskUser) -> StatusOut:
    row = await own_row(state, user)
    scope = await asyncio.to_thread(scope_of, state, user)
    taker = CallTaker(user.actor, row.agent_id, await call_in_hand(state, row.agent_id), scope)
    await asyncio.to_thread(record_wrapup, state, WrapUp(**body.model_dump()), taker)
    if await current_state(state, row.agent_id) is AgentState.WRAP_UP:
        return await change_state(state, row, AgentState.READY, user.actor)
    return await current_status(state, row)


@router.get("/my-day", summary="我的今日：接听量、平均通话、话后、预约、满意度、各状态时长")
def get_my_day(state: StateDep, user: DeskUser) -> DayOut:
    with state.session_factory() as db:
        return day_out(db, [agent_id_of(user)], datetime.now(UTC), state.tz)
