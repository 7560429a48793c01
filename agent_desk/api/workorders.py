"""Work orders on the desk: create, list, see with timeline, act; hot spots; notifications.

Routes ask for ``WORKORDER_READ`` to read and ``WORKORDER_WORK`` to change an order, and see
only the orders of the user's scope, every read audited (``agent_desk.workorder_access``);
the schemas and how an order is shown are in ``workorder_schemas``.
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from agent_desk.api.workorder_schemas import (
    MAX_ID,
    HotspotPublic,
    LinkedCallCreate,
    NotificationPublic,
    NotificationsRead,
    OrderViews,
    RepeatCallerPublic,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderPublic,
    WorkOrderUpdate,
)
from agent_desk.auth.guard import Caller
from agent_desk.deps import SessionDep, StateDep
from agent_desk.errors import error_responses
from agent_desk.order_links import linked_recording
from agent_desk.workorder_access import OrderReader, OrderWorker
from backend.workorders.desk_notifier import mark_read, unread_for
from backend.workorders.hotspots import hotspots, repeat_callers
from backend.workorders.reading import OrderListFilter
from backend.workorders.service import OrderDraft, WorkOrderService
from backend.workorders.workflow import Action, State

router = APIRouter(tags=["工单"], responses=error_responses(400, 401, 403, 404, 409, 422))
OrderId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def get_service(state: StateDep, session: SessionDep) -> WorkOrderService:
    return state.workorders.service(session)


Service = Annotated[WorkOrderService, Depends(get_service)]


async def get_views(state: StateDep, service: Service) -> OrderViews:
    return OrderViews(service, state.workorders.rules, state.tz)


Views = Annotated[OrderViews, Depends(get_views)]


def inboxes(who: Caller) -> list[str]:
    """A person's notifications: their own, and their role's (``role:supervisor``), the
    latter only of orders of the person's scope."""
    return [who.username, f"role:{who.session.role.value}"]


@router.post("/api/workorders", status_code=201, summary="新建工单")
def create(
    body: WorkOrderCreate, service: Service, views: Views, session: SessionDep, who: OrderWorker
) -> WorkOrderDetail:
    draft = OrderDraft(**body.model_dump(), team=who.team)
    order = service.create(draft, who.caller.actor, datetime.now(UTC))
    session.commit()
    return views.detail(order, who.scope)


@router.get("/api/workorders", summary="工单列表（按状态、我的、超期筛选）")
def list_orders(
    service: Service,
    views: Views,
    who: OrderReader,
    state: Annotated[list[State] | None, Query()] = None,
    mine: bool = False,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[WorkOrderPublic]:
    mine_of = who.caller.username if mine else None
    orders = service.list_orders(OrderListFilter(state or (), mine_of, overdue, limit, who.scope))
    who.audit(
        "workorder.list",
        details={"states": [s.value for s in state or ()], "mine": mine, "overdue": overdue,
                 "orders": [o.id for o in orders]},
    )  # fmt: skip
    return [views.public(order, who.scope) for order in orders]


@router.get("/api/workorders/hotspots", summary="热点问题（多人反映同一问题同一地点）")
def list_hotspots(
    session: SessionDep,
    views: Views,
    who: OrderReader,
    days: Annotated[int, Query(ge=1, le=366)] = 7,
) -> list[HotspotPublic]:
    until = datetime.now(UTC)
    since = until - timedelta(days=days)
    found = hotspots(session, since, until, min_callers=views.rules.min_callers, scope=who.scope)
    who.audit("workorder.hotspots", details={"days": days, "results": len(found)})
    return [
        HotspotPublic(
            category=h.category,
            callers=h.callers,
            orders=h.orders,
            latest_title=h.latest_title,
            latest_at=h.latest_at.astimezone(views.zone),
        )
        for h in found
    ]


@router.get("/api/workorders/repeat-callers", summary="重复来电（同一人多次反映）")
def list_repeat_callers(
    state: StateDep,
    session: SessionDep,
    views: Views,
    who: OrderReader,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> list[RepeatCallerPublic]:
    until = datetime.now(UTC)
    since = until - timedelta(days=days)
    found = repeat_callers(session, state.workorders.cipher, since, until, scope=who.scope)
    who.audit("workorder.repeat_callers", details={"days": days, "results": len(found)})
    return [
        RepeatCallerPublic(
            phone_masked=r.phone_masked,
            orders=r.orders,
            first_at=r.first_at.astimezone(views.zone),
            latest_at=r.latest_at.astimezone(views.zone),
        )
        for r in found
    ]


@router.get("/api/workorders/{order_id}", summary="工单详情（含流转记录）")
def detail(order_id: OrderId, service: Service, views: Views, who: OrderReader) -> WorkOrderDetail:
    order = who.order(service, order_id, "view")
    who.audit("workorder.view", f"work_order:{order.id}", {"number": order.number})
    return views.detail(order, who.scope)


@router.post("/api/workorders/{order_id}/actions/{action}", summary="工单流转操作")
def act(
    order_id: OrderId,
    action: Action,
    body: WorkOrderUpdate,
    service: Service,
    views: Views,
    session: SessionDep,
    who: OrderReader,
) -> WorkOrderDetail:
    who.check_step(action)  # the office's steps for its accounts, the rest for the hotline
    who.order(service, order_id, action.value)
    payload = body.model_dump(exclude_none=True)
    now = datetime.now(UTC)
    order = service.act(order_id, action, payload, who.caller.actor, now, team=who.team)
    session.commit()
    return views.detail(order, who.scope)


@router.post("/api/workorders/{order_id}/calls", summary="关联通话（及该通话自己的录音）")
def link_call(
    order_id: OrderId,
    body: LinkedCallCreate,
    service: Service,
    views: Views,
    session: SessionDep,
    who: OrderWorker,
) -> WorkOrderDetail:
    who.order(service, order_id, "link_call")
    path = linked_recording(session, who, order_id, body.call_id, body.recording_path)
    now = datetime.now(UTC)
    service.link_call(order_id, body.call_id, body.relation, path, who.caller.actor, now)
    session.commit()
    return views.detail(service.get(order_id), who.scope)


@router.get("/api/notifications", summary="我的未读提醒")
def my_notifications(
    session: SessionDep, views: Views, who: OrderReader
) -> list[NotificationPublic]:
    return [
        NotificationPublic(
            id=n.id,
            kind=n.kind,
            title=n.title,
            body=n.body,
            order_id=n.order_id,
            created_at=n.created_at.astimezone(views.zone),
        )
        for n in unread_for(session, inboxes(who.caller), scope=who.scope)
    ]


@router.post("/api/notifications/read", summary="标记提醒为已读")
def read_notifications(
    body: NotificationsRead, session: SessionDep, who: OrderReader
) -> dict[str, int]:
    count = mark_read(session, inboxes(who.caller), body.ids, datetime.now(UTC), who.scope)
    session.commit()
    return {"read": count}
