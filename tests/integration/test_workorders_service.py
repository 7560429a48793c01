"""Work orders on real PostgreSQL: the full walk, refusals, overdue marking, 12345 import,
repeat callers and hot spots, messages with callback tasks."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.models.audit import AuditRecord
from backend.models.workorders import CallbackTask, DeskNotification, WorkOrder
from backend.settings import Settings
from backend.workorders.calls import CallAttempt
from backend.workorders.composition import workorder_service
from backend.workorders.desk_notifier import DeskNotifier, unread_for
from backend.workorders.overdue import mark_overdue
from backend.workorders.service import Actor, OrderDraft
from backend.workorders.workflow import Action, GuardRefused, IllegalTransition, Source, State

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, a Wednesday
AGENT = Actor("agent_li", "10.0.0.21")
DESK = Actor("desk_zhao", "10.0.0.5")
DEPT = Actor("dept_chaoyang", "10.2.0.9")
FEEDBACK = {
    "background": "市民反映门诊报销未到账",
    "process": "核查了结算记录并联系定点医院",
    "result": "医院补传结算数据，款项已到账",
    "follow_up": "三日后电话确认到账情况",
}


def phone() -> str:
    return "139" + str(uuid.uuid4().int)[:8]


def draft(**overrides: object) -> OrderDraft:
    values: dict[str, object] = {
        "title": "门诊报销未到账",
        "category": "医疗保障/医保报销/门诊",
        "caller_name": "张三",
        "caller_phone": phone(),
        "call_id": f"call-{uuid.uuid4().hex[:8]}",
        "recording_path": "2026/11/25/intake.wav",
    }
    values.update(overrides)
    return OrderDraft(**values)  # type: ignore[arg-type]


def test_a_hotline_order_goes_through_every_step_with_timeline_and_audit(
    db: Session, settings: Settings
) -> None:
    service = workorder_service(db, settings)
    order = service.create(draft(address=f"朝阳区{uuid.uuid4().hex[:6]}路"), AGENT, NOW)
    assert order.number.startswith("GD20261125")
    assert "张三" not in order.caller_name_enc and service.caller_name(order) == "张三"
    t = NOW
    steps: list[tuple[Action, dict[str, object], Actor, State]] = [
        (Action.SIGN, {}, DESK, State.SIGNED),
        (
            Action.DISPATCH,
            {"department": "朝阳区医保局", "copies": ["manager_wang"]},
            DESK,
            State.DISPATCHED,
        ),
        (Action.RETURN, {"reason": "应由海淀区办理"}, DEPT, State.RETURNED),
        (Action.DISPATCH, {"department": "朝阳区医保局"}, DESK, State.DISPATCHED),
        (Action.ACCEPT_ASSIGNMENT, {}, DEPT, State.HANDLING),
        (
            Action.SUBMIT_FEEDBACK,
            {"background": "市民反映未到账", "result": "已处理"},
            DEPT,
            State.FEEDBACK_SUBMITTED,
        ),
        (Action.CHECK_FEEDBACK, {"accept": False}, DESK, State.REWORK),
        (Action.SUBMIT_FEEDBACK, FEEDBACK, DEPT, State.FEEDBACK_SUBMITTED),
        (Action.CHECK_FEEDBACK, {"accept": True}, DESK, State.ACCEPTED),
        (
            Action.CALLBACK,
            {"recording": "cb1.wav", "call_id": "cb-call-1", "resolved": False, "satisfied": False},
            AGENT,
            State.SUPERVISION,
        ),
        (Action.SUPERVISE, {"note": "请两日内再次办理并说明到账时间"}, DESK, State.HANDLING),
        (Action.SUBMIT_FEEDBACK, FEEDBACK, DEPT, State.FEEDBACK_SUBMITTED),
        (Action.CHECK_FEEDBACK, {"accept": True}, DESK, State.ACCEPTED),
        (
            Action.CALLBACK,
            {"recording": "cb2.wav", "resolved": True, "satisfied": True},
            AGENT,
            State.CALLED_BACK,
        ),
        (Action.CLOSE, {}, DESK, State.CLOSED),
    ]
    for action, payload, actor, expected in steps:
        t += timedelta(hours=1)
        if action is Action.CALLBACK:
            # The 回访 call ends first and links its recording; the step takes it from there.
            call_id = str(payload.pop("call_id", "") or f"cb-call-{t:%H}")
            recording = str(payload.pop("recording"))
            attempt = CallAttempt(call_id, "callback", True, "已接通", recording)
            service.call_attempted(order.id, attempt, actor, t)
        order = service.act(order.id, action, payload, actor, t)
        assert order.state == expected.value, action
    db.commit()

    assert order.closed_at == t and order.resolved and order.satisfied
    assert order.supervision_round == 1 and order.assignee == "desk_zhao"
    timeline = service.timeline(order.id)
    assert [e.action for e in timeline][:4] == ["create", "sign", "dispatch", "return"]
    assert len(timeline) == len(steps) + 1 + 2  # and the two 回访 calls
    assert timeline[3].note == "应由海淀区办理"
    assert [c.recording_path for c in service.linked_calls(order.id)][-2:] == ["cb1.wav", "cb2.wav"]
    assert order.callback_recording == "cb2.wav"
    audits = db.scalars(
        select(AuditRecord).where(AuditRecord.target == f"work_order:{order.id}")
    ).all()
    assert len(audits) == len(steps) + 1 + 2
    assert {a.source_ip for a in audits if a.actor == "dept_chaoyang"} == {"10.2.0.9"}
    relations = [c.relation for c in service.linked_calls(order.id)]
    assert relations == ["intake", "callback", "callback"]
    inbox = unread_for(db, ["dept:朝阳区医保局", "manager_wang"])
    assert {n.kind for n in inbox if n.order_id == order.id} >= {"dispatched", "supervision"}


def test_the_callback_step_takes_the_recording_of_this_rounds_answered_call(
    db: Session, settings: Settings
) -> None:
    service = workorder_service(db, settings)
    order = service.create(draft(), AGENT, NOW)
    t = NOW
    to_accepted = [
        (Action.SIGN, {}, DESK),
        (Action.DISPATCH, {"department": "朝阳区医保局"}, DESK),
        (Action.ACCEPT_ASSIGNMENT, {}, DEPT),
        (Action.SUBMIT_FEEDBACK, FEEDBACK, DEPT),
        (Action.CHECK_FEEDBACK, {"accept": True}, DESK),
    ]
    for action, payload, actor in to_accepted:
        t += timedelta(minutes=10)
        service.act(order.id, action, payload, actor, t)
    answers = {"resolved": False, "satisfied": False}
    # No call yet: a typed recording path is not taken.
    with pytest.raises(GuardRefused) as refused:
        service.act(order.id, Action.CALLBACK, {**answers, "recording": "x.wav"}, AGENT, t)
    assert refused.value.code == "callback-recording-required"
    assert "回访电话" in refused.value.message
    # An unanswered 回访 call is on the timeline but links nothing.
    t += timedelta(minutes=1)
    service.call_attempted(order.id, CallAttempt("cb-a", "callback", False, "无人接听"), AGENT, t)
    with pytest.raises(GuardRefused):
        service.act(order.id, Action.CALLBACK, answers, AGENT, t)
    t += timedelta(minutes=1)
    done = CallAttempt("cb-b", "callback", True, "已接通", "2026/11/25/cb-b.wav")
    service.call_attempted(order.id, done, AGENT, t)
    order = service.act(order.id, Action.CALLBACK, answers, AGENT, t)
    assert order.state == State.SUPERVISION.value
    assert order.callback_recording == "2026/11/25/cb-b.wav"
    notes = [e.note for e in service.timeline(order.id) if e.action == "call"]
    assert notes == ["回访电话：无人接听", "回访电话：已接通"]
    # Handled again and accepted again: the first round's call does not count twice.
    for action, payload, actor in [
        (Action.SUPERVISE, {"note": "请再次办理"}, DESK),
        (Action.SUBMIT_FEEDBACK, FEEDBACK, DEPT),
        (Action.CHECK_FEEDBACK, {"accept": True}, DESK),
    ]:
        t += timedelta(minutes=10)
        service.act(order.id, action, payload, actor, t)
    with pytest.raises(GuardRefused):
        service.act(order.id, Action.CALLBACK, {"call_id": "cb-b", **answers}, AGENT, t)
    db.rollback()


def test_illegal_steps_are_refused_and_change_nothing(db: Session, settings: Settings) -> None:
    service = workorder_service(db, settings)
    order = service.create(draft(), AGENT, NOW)
    db.commit()
    with pytest.raises(IllegalTransition) as caught:
        service.act(order.id, Action.CLOSE, {}, DESK, NOW)
    db.rollback()
    assert caught.value.code == "illegal-transition"
    assert service.get(order.id).state == State.CREATED.value
    assert [e.action for e in service.timeline(order.id)] == ["create"]


def test_overdue_orders_are_marked_once_and_people_told(db: Session, settings: Settings) -> None:
    service = workorder_service(db, settings)
    order = service.create(draft(), AGENT, NOW)
    service.act(order.id, Action.SIGN, {}, DESK, NOW)
    db.commit()
    assert order.due_stage == "dispatch"
    assert order.due_at is not None
    late = order.due_at + timedelta(minutes=1)
    marked = mark_overdue(db, late, DeskNotifier(db))
    db.commit()
    assert order.id in marked
    db.refresh(order)
    assert order.overdue and order.overdue_count == 1
    assert service.timeline(order.id)[-1].action == "overdue"
    notes = db.scalars(
        select(DeskNotification)
        .where(DeskNotification.order_id == order.id)
        .order_by(DeskNotification.id)
    ).all()
    assert {n.recipient for n in notes} == {"desk_zhao", "role:supervisor"}
    assert "派发超期" in notes[0].title
    # A second run does not mark or notify again; dispatching starts a fresh stage.
    assert order.id not in mark_overdue(db, late + timedelta(hours=1), DeskNotifier(db))
    service.act(order.id, Action.DISPATCH, {"department": "西城区医保局"}, DESK, late)
    db.commit()
    assert not order.overdue and order.due_stage == "handle" and order.due_at > late


def test_importing_the_same_platform_order_twice_keeps_one(db: Session, settings: Settings) -> None:
    service = workorder_service(db, settings)
    platform_id = f"BJ12345-{uuid.uuid4().hex[:10]}"
    first, created = service.import_platform_order(
        draft(source=Source.CITY_PLATFORM, platform_order_id=platform_id), Actor("city:12345"), NOW
    )
    db.commit()
    again, created_again = service.import_platform_order(
        draft(source=Source.CITY_PLATFORM, platform_order_id=platform_id), Actor("city:12345"), NOW
    )
    db.commit()
    assert created and not created_again and again.id == first.id
    count = db.scalars(select(WorkOrder).where(WorkOrder.platform_order_id == platform_id)).all()
    assert len(count) == 1


def test_a_repeat_caller_and_a_hot_spot_are_detected(db: Session, settings: Settings) -> None:
    service = workorder_service(db, settings)
    caller = phone()
    first = service.create(draft(caller_phone=caller), AGENT, NOW)
    second = service.create(
        draft(caller_phone="+86 " + caller, title="报销还没到账"), AGENT, NOW + timedelta(days=2)
    )
    db.commit()
    assert first.repeat_count == 0
    assert second.repeat_count == 1 and second.repeat_of_id == first.id
    assert [o.id for o in service.earlier_orders_of_caller(second)] == [first.id]

    place = f"海淀区中关村{uuid.uuid4().hex[:6]}号药店"
    orders = [
        service.create(
            draft(category="医保/药店刷卡", address=place), AGENT, NOW + timedelta(hours=i)
        )
        for i in range(3)
    ]
    db.commit()
    for o in orders:
        db.refresh(o)
    assert [o.hotspot_callers for o in orders] == [3, 3, 3]


def test_an_out_of_hours_message_becomes_an_order_and_a_callback(
    db: Session, settings: Settings
) -> None:
    service = workorder_service(db, settings)
    received = datetime(2026, 11, 27, 14, 15, tzinfo=UTC)  # Friday 22:15 in Beijing
    order, task = service.create_from_message(
        "1764253000.42", "hotline", "13800138000", "2026/11/27/msg-42.wav", received_at=received
    )
    db.commit()
    assert order.source == "hotline_message" and order.call_id == "1764253000.42"
    assert order.state == State.CREATED.value
    stored = db.get(CallbackTask, task.id)
    assert stored is not None and stored.order_id == order.id and stored.status == "pending"
    assert "13800138000" not in stored.phone_enc
    assert stored.due_at == datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # Monday 11:00
