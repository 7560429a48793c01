"""The agent's own state and call: sign in/out, ready, not ready with reason, auto-answer,
hold / resume / transfer / hang up (AMI), order from the current call, wrap-up, my day.

State lives in the ACD's Redis store (the controller routes by it); every change the desk
makes is audited; wallboards see it at once through the ACD's state stream (see live.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from agent_desk.auth.audit import add_audit, audit_now
from agent_desk.auth.guard import Caller, DeskDep, require
from agent_desk.auth.permissions import Permission
from agent_desk.callcontrol import CallControl
from agent_desk.caller_history import caller_history, caller_of
from agent_desk.desk import Desk
from agent_desk.errors import ErrorBody
from agent_desk.myday import my_day
from agent_desk.phone_choice import choose_phone
from agent_desk.transfers import (
    BadTransferTarget,
    TransferTarget,
    check_colleague_ready,
    find_target,
)
from backend.db import transaction
from backend.errors import Conflict, NotFound, Refused
from backend.lines import LINE_LABELS
from backend.models.agents import Agent
from backend.models.calls import CallRecord, IvrStep
from backend.models.workorders import WorkOrder
from backend.personal_data import PersonalDataCipher, mask_phone
from backend.telephony.profiles import PhoneKind
from backend.workorders.composition import workorder_service
from backend.workorders.service import Actor, OrderDraft
from ivr.acd.states import REASON_LABELS, STATE_LABELS, AgentState, NotReadyReason
from ivr.acd.store import AcdStore, AgentProfile

INTENT_LABELS = {
    "booking": "预约挂号",
    "book": "预约挂号",
    "cancel": "取消预约",
    "query": "查询预约",
    "report": "报告查询",
    "policy": "医保政策咨询",
    "complaint": "投诉建议",
    "agent": "人工服务",
}
BREAKS = Literal["break", "training", "meal", "meeting"]
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422)
}


AgentCaller = Annotated[Caller, Depends(require(Permission.DESK))]
CallCaller = Annotated[Caller, Depends(require(Permission.CALL_CONTROL))]
OrderCaller = Annotated[Caller, Depends(require(Permission.WORKORDER_DESK))]


class NoCallToHold(Conflict):
    code = "no-call-to-hold"


class NotAnAgent(Refused):
    code = "not-an-agent"


class StatusOut(BaseModel):
    agent_id: int
    number: str
    name: str
    state: str
    state_label: str
    reason: str = ""
    reason_label: str = ""
    since: float = 0.0  # epoch seconds
    call_id: str = ""
    auto_answer: bool = False
    server_time: float


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


class DayItem(BaseModel):
    label: str
    value: str


class DayOut(BaseModel):
    items: list[DayItem]


class ScreenPop(BaseModel):
    type: str = "CallOffered"
    call_id: str
    line: str
    line_label: str
    caller_number: str  # masked
    skill: str = ""
    intent: str = ""
    intent_label: str = ""
    elderly: bool = False
    ivr_path: list[str] = Field(default_factory=list)
    history: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)


@dataclass(frozen=True)
class AgentRow:
    agent_id: int
    number: str
    name: str
    interface: str
    auto_answer: bool
    skills: dict[str, int]

    @property
    def profile(self) -> AgentProfile:
        return AgentProfile(
            self.agent_id, self.number, self.interface, self.skills, self.auto_answer
        )


def load_agent(desk: Desk, agent_id: int) -> AgentRow:
    with desk.factory() as db:
        agent = db.get(Agent, agent_id)
        if agent is None or not agent.active:
            raise NotAnAgent("该账户没有关联的坐席工号")
        skills = {s.skill_code: s.level for s in agent.skills}
        return AgentRow(
            agent.id, agent.number, agent.name, agent.interface, agent.auto_answer, skills
        )


def agent_id_of(caller: Caller) -> int:
    if caller.session.agent_id is None:
        raise NotAnAgent("该账户没有关联的坐席工号")
    return caller.session.agent_id


async def status_of(desk: Desk, acd: AcdStore, row: AgentRow) -> StatusOut:
    view = await acd.agent(row.agent_id)
    state = view.status.state if view else AgentState.LOGGED_OUT
    reason = view.status.reason if view else ""
    return StatusOut(
        agent_id=row.agent_id,
        number=row.number,
        name=row.name,
        state=state.value,
        state_label=STATE_LABELS[state],
        reason=reason,
        reason_label=REASON_LABELS.get(reason, reason),
        since=view.status.since if view else 0.0,
        call_id=view.status.call_id if view else "",
        auto_answer=row.auto_answer,
        server_time=acd.now(),
    )


async def change_state(
    desk: Desk,
    row: AgentRow,
    to: AgentState,
    *,
    actor: str,
    source_ip: str,
    reason: str = "",
    register: bool = False,
) -> StatusOut:
    """Apply one state change in the ACD, then audit it."""
    async with desk.acd() as acd:
        if register or await acd.agent(row.agent_id) is None:
            await acd.register_agent(row.profile)
        t = await acd.change_state(row.agent_id, to, reason=reason, actor=actor)
        status = await status_of(desk, acd, row)
    if t.changed:
        # The ACD writes the change to its state stream, which /ws/live relays to wallboards.
        await asyncio.to_thread(
            audit_now,
            desk.factory,
            actor,
            "agent.state",
            target=f"agent:{row.agent_id}",
            source_ip=source_ip,
            details={"from": t.before.state.value, "to": t.after.state.value, "reason": reason},
        )
    return status


def cipher_of(desk: Desk) -> PersonalDataCipher:
    return PersonalDataCipher(desk.settings.data_key.get_secret_value())


def screen_pop(desk: Desk, record: CallRecord, extra: dict[str, Any] | None = None) -> ScreenPop:
    cipher = cipher_of(desk)
    extra = extra or {}
    with desk.factory() as db:
        history = caller_history(db, cipher, caller_of(cipher, record), exclude_call=record.call_id)
    intent = extra.get("intent", record.intent)
    line = str(extra.get("line", record.line.value))
    return ScreenPop(
        call_id=record.call_id,
        line=line,
        line_label=LINE_LABELS.get(line, line),
        caller_number=mask_phone(record.caller_number),
        skill=str(extra.get("skill", record.skill)),
        intent=intent,
        intent_label=INTENT_LABELS.get(intent, intent),
        elderly=bool(extra.get("elderly", record.elderly)),
        ivr_path=list(extra.get("ivr_path", [])),
        history=history,
    )


def pop_for_call(desk: Desk, call_id: str) -> ScreenPop | None:
    """The screen pop of a call from the controller's journal (None before it is written)."""
    with desk.factory() as db:
        record = db.scalar(select(CallRecord).where(CallRecord.call_id == call_id))
        path = list(
            db.scalars(select(IvrStep.node).where(IvrStep.call_id == call_id).order_by(IvrStep.seq))
        )
    if record is None:
        return None
    return screen_pop(desk, record, {"ivr_path": desk.ivr_labels(record.line.value, path)})


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api/agent", tags=["坐席"], responses=ERRORS)

    async def row_of(desk: Desk, caller: Caller) -> AgentRow:
        return await asyncio.to_thread(load_agent, desk, agent_id_of(caller))

    async def move(
        desk: Desk, caller: Caller, to: AgentState, reason: str = "", register: bool = False
    ) -> StatusOut:
        row = await row_of(desk, caller)
        return await change_state(
            desk, row, to, actor=caller.username, source_ip=caller.ip, reason=reason,
            register=register,
        )  # fmt: skip

    @router.get("/status", summary="我的坐席状态")
    async def get_status(desk: DeskDep, caller: AgentCaller) -> StatusOut:
        row = await row_of(desk, caller)
        async with desk.acd() as acd:
            return await status_of(desk, acd, row)

    @router.post("/sign-in", summary="签入（示忙：签入）；可同时选择话机：浏览器软电话或桌面话机")
    async def sign_in(
        desk: DeskDep, caller: AgentCaller, body: SignInBody | None = None
    ) -> StatusOut:
        if body is not None and body.phone is not None:
            await asyncio.to_thread(
                choose_phone, desk, agent_id_of(caller), body.phone, caller.username, caller.ip
            )
        return await move(desk, caller, AgentState.NOT_READY, NotReadyReason.LOGIN, register=True)

    @router.post("/sign-out", summary="签出")
    async def sign_out(desk: DeskDep, caller: AgentCaller) -> StatusOut:
        return await move(desk, caller, AgentState.LOGGED_OUT)

    @router.post("/ready", summary="置闲")
    async def ready(desk: DeskDep, caller: AgentCaller) -> StatusOut:
        return await move(desk, caller, AgentState.READY)

    @router.post("/not-ready", summary="示忙（带原因）")
    async def not_ready(body: NotReadyBody, desk: DeskDep, caller: AgentCaller) -> StatusOut:
        return await move(desk, caller, AgentState.NOT_READY, body.reason)

    @router.post("/auto-answer", summary="自动应答开关")
    async def auto_answer(body: AutoAnswerBody, desk: DeskDep, caller: AgentCaller) -> StatusOut:
        agent_id = agent_id_of(caller)

        def save() -> None:
            with transaction(desk.factory) as db:
                agent = db.get(Agent, agent_id)
                if agent is None:
                    raise NotAnAgent("该账户没有关联的坐席工号")
                agent.auto_answer = body.enabled
                add_audit(db, caller.username, "agent.auto_answer", target=f"agent:{agent_id}",
                          source_ip=caller.ip, details={"enabled": body.enabled})  # fmt: skip

        await asyncio.to_thread(save)
        row = await row_of(desk, caller)
        async with desk.acd() as acd:
            if await acd.agent(agent_id) is not None:
                await acd.register_agent(row.profile)
            return await status_of(desk, acd, row)

    # Call control ----------------------------------------------------------------------

    async def control(desk: Desk, caller: Caller, action: str, **details: str) -> AgentRow:
        row = await row_of(desk, caller)
        await asyncio.to_thread(
            audit_now, desk.factory, caller.username, f"call.{action}",
            target=f"agent:{row.agent_id}", source_ip=caller.ip, details=details,
        )  # fmt: skip
        return row

    async def toggle_hold(desk: Desk, caller: Caller, on: bool) -> StatusOut:
        """Hold or resume: the ACD state is checked first, so nothing is muted by mistake."""
        row = await control(desk, caller, "hold" if on else "resume")
        before, after = (
            (AgentState.ON_CALL, AgentState.ON_HOLD)
            if on
            else (AgentState.ON_HOLD, AgentState.ON_CALL)
        )
        async with desk.acd() as acd:
            view = await acd.agent(row.agent_id)
        if view is None or view.status.state is not before:
            raise NoCallToHold("当前没有可保持的通话" if on else "当前没有被保持的通话")
        await CallControl(await desk.ami_client()).hold(row.interface, on)
        return await change_state(desk, row, after, actor=caller.username, source_ip=caller.ip)

    @router.post("/call/hold", summary="保持")
    async def hold(desk: DeskDep, caller: CallCaller) -> StatusOut:
        return await toggle_hold(desk, caller, True)

    @router.post("/call/resume", summary="恢复（取消保持）")
    async def resume(desk: DeskDep, caller: CallCaller) -> StatusOut:
        return await toggle_hold(desk, caller, False)

    @router.post("/call/hangup", status_code=204, summary="挂断")
    async def hangup(desk: DeskDep, caller: CallCaller) -> None:
        row = await control(desk, caller, "hangup")
        await CallControl(await desk.ami_client()).hangup(row.interface)

    async def transfer_target(desk: Desk, caller: Caller, body: TransferBody) -> TransferTarget:
        def find() -> TransferTarget:
            with desk.factory() as db:
                return find_target(db, body.kind, body.target, agent_id_of(caller))

        target = await asyncio.to_thread(find)
        if target.kind == "agent":
            async with desk.acd() as acd:
                await check_colleague_ready(acd, target.extension)
        return target

    @router.post("/call/transfer", status_code=204, summary="转接到技能组或坐席（直接转接）")
    async def transfer(body: TransferBody, desk: DeskDep, caller: CallCaller) -> None:
        target = await transfer_target(desk, caller, body)
        row = await control(desk, caller, "transfer", kind=body.kind, target=body.target)
        await CallControl(await desk.ami_client()).transfer(row.interface, target.extension)

    @router.post(
        "/call/transfer-target",
        summary="咨询转接前检查目标坐席（软电话随后呼叫该坐席，再以 REFER 完成转接）",
    )
    async def consult_target(body: TransferBody, desk: DeskDep, caller: CallCaller) -> TargetOut:
        if body.kind != "agent":
            raise BadTransferTarget("咨询转接只能转给坐席；转技能组请使用直接转接")
        target = await transfer_target(desk, caller, body)
        await control(desk, caller, "consult", kind=body.kind, target=body.target)
        return TargetOut(dial=target.extension, label=target.label)

    @router.get("/current-call", summary="当前来电的弹屏信息（无来电时为 null）")
    async def current_call(desk: DeskDep, caller: AgentCaller) -> ScreenPop | None:
        agent_id = agent_id_of(caller)
        async with desk.acd() as acd:
            view = await acd.agent(agent_id)
        call_id = view.status.call_id if view else ""
        if not call_id:
            return None
        return await asyncio.to_thread(pop_for_call, desk, call_id)

    @router.post("/call/order", status_code=201, summary="由当前来电新建工单（来电信息自动带入）")
    def order_from_call(body: OrderBody, desk: DeskDep, caller: OrderCaller) -> OrderOut:
        with transaction(desk.factory) as db:
            record = None
            if body.call_id:
                record = db.scalar(select(CallRecord).where(CallRecord.call_id == body.call_id))
            draft = OrderDraft(
                title=body.title,
                category=body.category,
                description=body.description,
                line=record.line.value if record else "hotline",
                # The full number (the order stores it encrypted), not the call's masked form.
                caller_phone=caller_of(cipher_of(desk), record) if record else "",
                call_id=record.call_id if record else None,
            )
            service = workorder_service(db, desk.settings)
            order = service.create(draft, Actor(caller.username, caller.ip), datetime.now(UTC))
            return OrderOut(id=order.id, number=order.number, title=order.title, state=order.state)

    @router.post("/wrapup", summary="话后小结（处理结果、备注、关联工单或预约）")
    async def wrapup(body: WrapupBody, desk: DeskDep, caller: AgentCaller) -> StatusOut:
        row = await row_of(desk, caller)

        def save() -> None:
            with transaction(desk.factory) as db:
                record = (
                    db.scalar(select(CallRecord).where(CallRecord.call_id == body.call_id))
                    if body.call_id
                    else None
                )
                if record is not None:
                    if record.agent_id not in (None, row.agent_id):
                        raise NotFound("没有这通电话")
                    record.wrapup_code = body.code
                    record.wrapup_notes = body.notes
                if body.order_number and body.call_id:
                    order = db.scalar(
                        select(WorkOrder).where(WorkOrder.number == body.order_number)
                    )
                    if order is None:
                        raise NotFound(f"没有工单 {body.order_number}")
                    if order.call_id != body.call_id:
                        workorder_service(db, desk.settings).link_call(
                            order.id, body.call_id, "related", "",
                            Actor(caller.username, caller.ip), datetime.now(UTC),
                        )  # fmt: skip
                add_audit(db, caller.username, "call.wrapup", target=f"call:{body.call_id}",
                          source_ip=caller.ip, details=body.model_dump(exclude={"notes"}))  # fmt: skip

        await asyncio.to_thread(save)
        async with desk.acd() as acd:
            view = await acd.agent(row.agent_id)
            in_wrapup = view is not None and view.status.state is AgentState.WRAP_UP
        if in_wrapup:
            return await change_state(desk, row, AgentState.READY, actor=caller.username,
                                      source_ip=caller.ip)  # fmt: skip
        async with desk.acd() as acd:
            return await status_of(desk, acd, row)

    @router.get("/my-day", summary="我的今日：接听量、平均通话、话后、预约、满意度、各状态时长")
    def get_my_day(desk: DeskDep, caller: AgentCaller) -> DayOut:
        agent_id = agent_id_of(caller)
        with desk.factory() as db:
            items = my_day(db, [agent_id], datetime.now(UTC))
        return DayOut(items=[DayItem(**i) for i in items])

    return router
