"""Demo work orders for the hotline desk, one or more in each interesting state.

They are walked through the real service (timeline, deadlines, notifications), so the demo
shows what production would. Skipped when demo orders exist already.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.models.workorders import WorkOrder
from backend.personal_data import PersonalDataCipher
from backend.workcalendar import WorkCalendar
from backend.workorders.calls import CallAttempt
from backend.workorders.deadlines import Deadlines
from backend.workorders.desk_notifier import DeskNotifier
from backend.workorders.service import Actor, OrderDraft, WorkOrderService
from backend.workorders.workflow import Action, Source, Urgency

DEMO_AGENT = Actor("demo", "127.0.0.1")
DESK = Actor("demo_desk", "127.0.0.1")
DEPT = Actor("demo_dept", "127.0.0.1")
FEEDBACK = {
    "background": "市民来电反映门诊费用未能直接结算",
    "process": "经办机构核查结算记录，并与定点医院信息科联系",
    "result": "医院已补传结算数据，医保支付部分已退回市民账户",
    "follow_up": "督促医院完善接口监控，一周后回访确认",
}
Step = tuple[Action, dict[str, Any], Actor]
SIGN_AND_DISPATCH: list[Step] = [
    (Action.SIGN, {}, DESK),
    (Action.DISPATCH, {"department": "朝阳区医疗保障局", "copies": ["demo_manager"]}, DESK),
]
TO_ACCEPTED: list[Step] = [
    *SIGN_AND_DISPATCH,
    (Action.ACCEPT_ASSIGNMENT, {}, DEPT),
    (Action.SUBMIT_FEEDBACK, FEEDBACK, DEPT),
    (Action.CHECK_FEEDBACK, {"accept": True}, DESK),
]

ORDERS: list[tuple[OrderDraft, list[Step]]] = [
    (
        OrderDraft(
            title="咨询门诊报销比例",
            category="医疗保障/医保报销/门诊",
            caller_name="张建国",
            caller_phone="13801010001",
        ),
        [],
    ),
    (
        OrderDraft(
            title="异地就医备案后仍无法直接结算",
            category="医疗保障/异地就医",
            caller_name="李秀英",
            caller_phone="13901010002",
            urgency=Urgency.URGENT,
        ),
        [(Action.SIGN, {}, DESK)],
    ),
    (
        OrderDraft(
            title="定点药店拒绝刷医保卡",
            category="医疗保障/定点药店",
            address="海淀区中关村大街1号",
            caller_name="王磊",
            caller_phone="13601010003",
        ),
        SIGN_AND_DISPATCH,
    ),
    (
        OrderDraft(
            title="医保卡补办两周未收到",
            category="医疗保障/社保卡",
            source=Source.CITY_PLATFORM,
            caller_name="赵敏",
            caller_phone="13701010004",
            platform_order_id="DEMO-12345-0001",
        ),
        [
            *SIGN_AND_DISPATCH,
            (Action.RETURN, {"reason": "社保卡制卡不属于医保局职责，应转人社部门"}, DEPT),
        ],
    ),
    (
        OrderDraft(
            title="住院费用手工报销未到账",
            category="医疗保障/医保报销/住院",
            caller_name="刘洋",
            caller_phone="13501010005",
        ),
        [
            *SIGN_AND_DISPATCH,
            (Action.ACCEPT_ASSIGNMENT, {}, DEPT),
            (Action.SUBMIT_FEEDBACK, {"background": "市民反映未到账", "result": "已处理"}, DEPT),
            (Action.CHECK_FEEDBACK, {"accept": False, "note": "缺少办理过程和后续措施"}, DESK),
        ],
    ),
    (
        OrderDraft(
            title="生育津贴未发放",
            category="医疗保障/生育保险",
            caller_name="陈静",
            caller_phone="13301010006",
        ),
        [
            *TO_ACCEPTED,
            (
                Action.CALLBACK,
                {"recording": "demo/callback-6.wav", "resolved": False, "satisfied": False},
                DEMO_AGENT,
            ),
        ],
    ),
    (
        OrderDraft(
            title="灵活就业参保缴费咨询",
            category="医疗保障/参保登记",
            caller_name="孙丽",
            caller_phone="13201010007",
        ),
        [
            *TO_ACCEPTED,
            (
                Action.CALLBACK,
                {"recording": "demo/callback-7.wav", "resolved": True, "satisfied": True},
                DEMO_AGENT,
            ),
            (Action.CLOSE, {}, DESK),
        ],
    ),
]


def seed_workorder_demo(session: Session, cipher: PersonalDataCipher, now: datetime) -> int:
    """Add the demo orders (and one night message) unless they exist; returns orders added."""
    exists = session.scalar(
        select(func.count(WorkOrder.id)).where(WorkOrder.created_by == DEMO_AGENT.username)
    )
    if exists:
        return 0
    service = WorkOrderService(
        session, cipher, Deadlines(WorkCalendar.load()), DeskNotifier(session)
    )
    start = now - timedelta(days=3)
    for number, (draft, steps) in enumerate(ORDERS):
        moment = start + timedelta(hours=number)
        order = service.create(draft, DEMO_AGENT, moment)
        for action, payload, actor in steps:
            moment += timedelta(hours=2)
            if action is Action.CALLBACK:
                # The 回访 call comes first: its recording is linked when it ends.
                attempt = CallAttempt(
                    f"demo-callback-{order.id}", "callback", True, "已接通", payload["recording"]
                )
                service.call_attempted(order.id, attempt, actor, moment)
            service.act(order.id, action, payload, actor, moment)
    service.create_from_message(
        "demo-message-1",
        "hotline",
        "13101010008",
        "demo/message-1.wav",
        received_at=now - timedelta(hours=10),
        actor=DEMO_AGENT,
    )
    session.flush()
    return len(ORDERS) + 1
