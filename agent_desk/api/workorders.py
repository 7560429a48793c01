"""Work orders on the desk: create, list, see with timeline, act; hot spots; notifications.

Who is acting comes from ``request.state.user`` (an object with ``username`` and ``role``),
which the desk's login layer sets; without it the API answers 401. Caller names and phones
are masked in every response.
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from agent_desk.auth.errors import Forbidden, NotAuthenticated
from agent_desk.deps import ClientIp, SessionDep, StateDep
from backend.models.workorders import WorkOrder, WorkOrderCall, WorkOrderEvent
from backend.personal_data import PersonalDataCipher, mask_name, mask_phone
from backend.workorders.composition import workorder_service
from backend.workorders.deadlines import STAGE_LABELS, Stage
from backend.workorders.desk_notifier import mark_read, unread_for
from backend.workorders.duplicates import DuplicateRules
from backend.workorders.exchange import CleanStr
from backend.workorders.hotspots import hotspots, repeat_callers
from backend.workorders.service import Actor, OrderDraft, WorkOrderService
from backend.workorders.workflow import (
    ACTION_LABELS,
    STATE_LABELS,
    Action,
    Source,
    State,
    Urgency,
    allowed_actions,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints; larger numbers are "not found", not errors
OrderId = Annotated[int, Path(ge=1, le=MAX_ID)]

# Authentication ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskActor:
    username: str
    role: str
    source_ip: str

    def actor(self) -> Actor:
        return Actor(self.username, self.source_ip)

    def inboxes(self) -> list[str]:
        return [self.username, f"role:{self.role}"]


def desk_actor(request: Request, ip: ClientIp) -> DeskActor:
    user = getattr(request.state, "user", None)
    username = getattr(user, "username", "")
    if not username:
        raise NotAuthenticated("请先登录")
    role = getattr(user, "role", "")
    return DeskActor(str(username), str(getattr(role, "value", role)), ip)


CurrentActor = Annotated[DeskActor, Depends(desk_actor)]
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": "错误：{error, message}"} for code in (400, 401, 403, 404, 409, 422)
}


def require_role(actor: DeskActor, *roles: str) -> None:
    if actor.role not in roles:
        raise Forbidden("当前角色无权执行此操作")


# Auditors and the commission's managers read; hospital operators see no work orders.
READ_ROLES = ("agent", "supervisor", "admin", "auditor", "manager")
WORK_ROLES = ("agent", "supervisor", "admin")


def desk_reader(who: CurrentActor) -> DeskActor:
    require_role(who, *READ_ROLES)
    return who


def desk_worker(who: CurrentActor) -> DeskActor:
    require_role(who, *WORK_ROLES)
    return who


Reader = Annotated[DeskActor, Depends(desk_reader)]
Worker = Annotated[DeskActor, Depends(desk_worker)]


# Schemas ----------------------------------------------------------------------------------


class OrderCreate(BaseModel):
    title: CleanStr = Field(min_length=1, max_length=200)
    source: Source = Source.HOTLINE_CALL
    line: CleanStr = Field(default="hotline", max_length=16)
    description: CleanStr = Field(default="", max_length=20000)
    category: CleanStr = Field(default="", max_length=200)
    industry: CleanStr = Field(default="", max_length=100)
    urgency: Urgency = Urgency.NORMAL
    complex_case: bool = False
    address: CleanStr = Field(default="", max_length=300)
    caller_name: CleanStr = Field(default="", max_length=64)
    caller_phone: CleanStr = Field(default="", max_length=32)
    call_id: CleanStr | None = Field(default=None, max_length=64)
    recording_path: CleanStr = Field(default="", max_length=512)


class ActionBody(BaseModel):
    note: CleanStr = Field(default="", max_length=2000)
    department: CleanStr = Field(default="", max_length=100)
    copies: list[CleanStr] = Field(default_factory=list, max_length=20)
    reason: CleanStr = Field(default="", max_length=500)
    background: CleanStr = Field(default="", max_length=5000)
    process: CleanStr = Field(default="", max_length=5000)
    result: CleanStr = Field(default="", max_length=5000)
    follow_up: CleanStr = Field(default="", max_length=5000)
    accept: bool | None = None
    recording: CleanStr = Field(default="", max_length=512)
    call_id: CleanStr = Field(default="", max_length=64)
    resolved: bool | None = None
    satisfied: bool | None = None


class OrderOut(BaseModel):
    id: int
    number: str
    source: str
    line: str
    state: str
    state_label: str
    actions: dict[str, str]
    urgency: str
    complex_case: bool
    category: str
    department: str
    industry: str
    title: str
    description: str
    address: str
    caller_name: str
    caller_phone: str
    call_id: str | None
    recording_path: str
    platform_order_id: str | None
    copies: list[str]
    assignee: str
    feedback: dict[str, Any]
    return_reason: str
    supervision_round: int
    resolved: bool | None
    satisfied: bool | None
    repeat_count: int
    repeat_of_id: int | None
    hotspot_callers: int
    is_hotspot: bool
    due_at: datetime | None
    due_stage: str
    due_stage_label: str
    overdue: bool
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class EventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    note: str


class LinkedCallOut(BaseModel):
    call_id: str
    relation: str
    recording_path: str


class EarlierOrderOut(BaseModel):
    id: int
    number: str
    title: str
    state_label: str
    created_at: datetime


class OrderDetail(OrderOut):
    timeline: list[EventOut]
    calls: list[LinkedCallOut]
    earlier_orders: list[EarlierOrderOut]


class HotspotOut(BaseModel):
    category: str
    callers: int
    orders: int
    latest_title: str
    latest_at: datetime


class RepeatCallerOut(BaseModel):
    phone_masked: str
    orders: int
    first_at: datetime
    latest_at: datetime


class NotificationOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    order_id: int | None
    created_at: datetime


class LinkCallBody(BaseModel):
    call_id: CleanStr = Field(min_length=1, max_length=64)
    relation: Literal["intake", "callback", "repeat", "follow_up"] = "repeat"
    recording_path: CleanStr = Field(default="", max_length=512)


class ReadBody(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=500)


def local(moment: datetime | None) -> datetime | None:
    return moment.astimezone(SHANGHAI) if moment is not None else None


def order_out(order: WorkOrder, service: WorkOrderService, rules: DuplicateRules) -> OrderOut:
    state = State(order.state)
    stage_label = STAGE_LABELS[Stage(order.due_stage)] if order.due_stage else ""
    return OrderOut(
        id=order.id,
        number=order.number,
        source=order.source,
        line=order.line,
        state=order.state,
        state_label=STATE_LABELS[state],
        actions={a.value: ACTION_LABELS[a] for a in allowed_actions(state)},
        urgency=order.urgency,
        complex_case=order.complex_case,
        category=order.category,
        department=order.department,
        industry=order.industry,
        title=order.title,
        description=order.description,
        address=order.address,
        caller_name=mask_name(service.caller_name(order)),
        caller_phone=mask_phone(service.caller_phone(order)),
        call_id=order.call_id,
        recording_path=order.recording_path,
        platform_order_id=order.platform_order_id,
        copies=list(order.copies or []),
        assignee=order.assignee,
        feedback=dict(order.feedback or {}),
        return_reason=order.return_reason,
        supervision_round=order.supervision_round,
        resolved=order.resolved,
        satisfied=order.satisfied,
        repeat_count=order.repeat_count,
        repeat_of_id=order.repeat_of_id,
        hotspot_callers=order.hotspot_callers,
        is_hotspot=order.hotspot_callers >= rules.min_callers,
        due_at=local(order.due_at),
        due_stage=order.due_stage,
        due_stage_label=stage_label,
        overdue=order.overdue,
        created_at=order.created_at.astimezone(SHANGHAI),
        updated_at=order.updated_at.astimezone(SHANGHAI),
        closed_at=local(order.closed_at),
    )


def order_detail(
    order: WorkOrder,
    service: WorkOrderService,
    rules: DuplicateRules,
    events: list[WorkOrderEvent],
    calls: list[WorkOrderCall],
) -> OrderDetail:
    return OrderDetail(
        **order_out(order, service, rules).model_dump(),
        timeline=[
            EventOut(
                at=e.at.astimezone(SHANGHAI),
                actor=e.actor,
                action=e.action,
                from_state=e.from_state,
                to_state=e.to_state,
                note=e.note,
            )
            for e in events
        ],
        calls=[
            LinkedCallOut(call_id=c.call_id, relation=c.relation, recording_path=c.recording_path)
            for c in calls
        ],
        earlier_orders=[
            EarlierOrderOut(
                id=o.id,
                number=o.number,
                title=o.title,
                state_label=STATE_LABELS[State(o.state)],
                created_at=o.created_at.astimezone(SHANGHAI),
            )
            for o in service.earlier_orders_of_caller(order)
        ],
    )


# The router -------------------------------------------------------------------------------


def build_router(rules: DuplicateRules | None = None) -> APIRouter:
    rules = rules or DuplicateRules()
    router = APIRouter(tags=["工单"], responses=ERROR_RESPONSES)

    def get_service(ctx: StateDep, session: SessionDep) -> WorkOrderService:
        return workorder_service(session, ctx.settings)

    Service = Annotated[WorkOrderService, Depends(get_service)]

    @router.post("/api/workorders", status_code=201, summary="新建工单")
    def create(
        body: OrderCreate, service: Service, session: SessionDep, who: Worker
    ) -> OrderDetail:
        draft = OrderDraft(**body.model_dump())
        order = service.create(draft, who.actor(), datetime.now(UTC))
        session.commit()
        return order_detail(order, service, rules, service.timeline(order.id), [])

    @router.get("/api/workorders", summary="工单列表（按状态、我的、超期筛选）")
    def list_orders(
        service: Service,
        session: SessionDep,
        who: Reader,
        state: Annotated[list[State] | None, Query()] = None,
        mine: bool = False,
        overdue: bool | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[OrderOut]:
        query = select(WorkOrder).order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        if state:
            query = query.where(WorkOrder.state.in_([s.value for s in state]))
        if mine:
            query = query.where(
                (WorkOrder.assignee == who.username) | (WorkOrder.created_by == who.username)
            )
        if overdue is not None:
            query = query.where(WorkOrder.overdue.is_(overdue))
        orders = session.scalars(query.limit(limit))
        return [order_out(o, service, rules) for o in orders]

    @router.get("/api/workorders/hotspots", summary="热点问题（多人反映同一问题同一地点）")
    def list_hotspots(
        session: SessionDep,
        who: Reader,
        days: Annotated[int, Query(ge=1, le=366)] = 7,
    ) -> list[HotspotOut]:
        until = datetime.now(UTC)
        found = hotspots(
            session, until - timedelta(days=days), until, min_callers=rules.min_callers
        )
        return [
            HotspotOut(
                category=h.category,
                callers=h.callers,
                orders=h.orders,
                latest_title=h.latest_title,
                latest_at=h.latest_at.astimezone(SHANGHAI),
            )
            for h in found
        ]

    @router.get("/api/workorders/repeat-callers", summary="重复来电（同一人多次反映）")
    def list_repeat_callers(
        ctx: StateDep,
        session: SessionDep,
        who: Reader,
        days: Annotated[int, Query(ge=1, le=366)] = 30,
    ) -> list[RepeatCallerOut]:
        until = datetime.now(UTC)
        cipher = PersonalDataCipher(ctx.settings.data_key.get_secret_value())
        found = repeat_callers(session, cipher, until - timedelta(days=days), until)
        return [
            RepeatCallerOut(
                phone_masked=r.phone_masked,
                orders=r.orders,
                first_at=r.first_at.astimezone(SHANGHAI),
                latest_at=r.latest_at.astimezone(SHANGHAI),
            )
            for r in found
        ]

    @router.get("/api/workorders/{order_id}", summary="工单详情（含流转记录）")
    def detail(order_id: OrderId, service: Service, who: Reader) -> OrderDetail:
        order = service.get(order_id)
        return order_detail(
            order, service, rules, service.timeline(order.id), service.linked_calls(order.id)
        )

    @router.post("/api/workorders/{order_id}/actions/{action}", summary="工单流转操作")
    def act(
        order_id: OrderId,
        action: Action,
        body: ActionBody,
        service: Service,
        session: SessionDep,
        who: Worker,
    ) -> OrderDetail:
        payload = body.model_dump(exclude_none=True)
        order = service.act(order_id, action, payload, who.actor(), datetime.now(UTC))
        session.commit()
        return order_detail(
            order, service, rules, service.timeline(order.id), service.linked_calls(order.id)
        )

    @router.post("/api/workorders/{order_id}/calls", summary="关联通话与录音")
    def link_call(
        order_id: OrderId, body: LinkCallBody, service: Service, session: SessionDep, who: Worker
    ) -> OrderDetail:
        now = datetime.now(UTC)
        service.link_call(
            order_id, body.call_id, body.relation, body.recording_path, who.actor(), now
        )
        session.commit()
        order = service.get(order_id)
        return order_detail(
            order, service, rules, service.timeline(order.id), service.linked_calls(order.id)
        )

    @router.get("/api/notifications", summary="我的未读提醒")
    def my_notifications(session: SessionDep, who: Reader) -> list[NotificationOut]:
        return [
            NotificationOut(
                id=n.id,
                kind=n.kind,
                title=n.title,
                body=n.body,
                order_id=n.order_id,
                created_at=n.created_at.astimezone(SHANGHAI),
            )
            for n in unread_for(session, who.inboxes())
        ]

    @router.post("/api/notifications/read", summary="标记提醒为已读")
    def read_notifications(body: ReadBody, session: SessionDep, who: Reader) -> dict[str, int]:
        count = mark_read(session, who.inboxes(), body.ids, datetime.now(UTC))
        session.commit()
        return {"read": count}

    return router
