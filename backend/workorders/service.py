"""Work orders in the database: intake, steps through the state machine, timeline and audit.

The service flushes and never commits: the caller (an API route, a Celery task, the IVR)
owns the transaction, so that an order, its timeline row, its audit record and its
notifications are kept or dropped together.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.models.audit import AuditRecord
from backend.models.workorders import CallbackTask, WorkOrder, WorkOrderCall, WorkOrderEvent
from backend.personal_data import PersonalDataCipher
from backend.workorders.deadlines import STAGE_LABELS, Deadlines, stage_of
from backend.workorders.duplicates import DuplicateRules, hotspot_key, normalize_phone
from backend.workorders.notifier import Notification, Notifier, department_inbox
from backend.workorders.workflow import (
    Action,
    OrderFacts,
    Source,
    State,
    Urgency,
    decide,
)

SYSTEM = "system"
# Team leaders see every overdue order, also those nobody has signed for yet.
SUPERVISORS_INBOX = "role:supervisor"


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where (for the audit trail)."""

    username: str
    source_ip: str = ""


@dataclass
class OrderDraft:
    title: str
    source: Source = Source.HOTLINE_CALL
    line: str = "hotline"
    description: str = ""
    category: str = ""
    industry: str = ""
    urgency: Urgency = Urgency.NORMAL
    complex_case: bool = False
    address: str = ""
    caller_name: str = ""
    caller_phone: str = ""
    call_id: str | None = None
    recording_path: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    platform_order_id: str | None = None
    final_due_at: datetime | None = None
    received_at: datetime | None = None


class WorkOrderService:
    def __init__(
        self,
        session: Session,
        cipher: PersonalDataCipher,
        deadlines: Deadlines,
        notifier: Notifier,
        rules: DuplicateRules | None = None,
    ) -> None:
        self._session = session
        self._cipher = cipher
        self._deadlines = deadlines
        self._notifier = notifier
        self._rules = rules or DuplicateRules()

    # Intake ------------------------------------------------------------------------------

    def create(self, draft: OrderDraft, actor: Actor, now: datetime) -> WorkOrder:
        received = draft.received_at or now
        phone = normalize_phone(draft.caller_phone)
        order = WorkOrder(
            number=f"tmp-{uuid.uuid4().hex[:28]}",
            source=draft.source.value,
            line=draft.line,
            state=State.CREATED.value,
            urgency=draft.urgency.value,
            complex_case=draft.complex_case,
            category=draft.category.strip(),
            industry=draft.industry.strip(),
            title=draft.title.strip(),
            description=draft.description,
            address=draft.address.strip(),
            caller_name_enc=self._cipher.encrypt(draft.caller_name) if draft.caller_name else "",
            caller_phone_enc=self._cipher.encrypt(phone) if phone else "",
            caller_phone_hash=self._cipher.lookup_hash(phone) if phone else "",
            call_id=draft.call_id,
            recording_path=draft.recording_path,
            platform_order_id=draft.platform_order_id,
            attachments=list(draft.attachments),
            created_by=actor.username,
            hotspot_key=hotspot_key(draft.category, draft.address, draft.title),
            final_due_at=draft.final_due_at,
            created_at=received,
            updated_at=now,
        )
        self._set_stage_due(order, received)
        self._session.add(order)
        self._session.flush()
        local_day = received.astimezone(ZoneInfo(self._deadlines.policy.timezone))
        order.number = f"GD{local_day:%Y%m%d}{order.id:06d}"
        if draft.call_id:
            self._session.add(
                WorkOrderCall(
                    order_id=order.id,
                    call_id=draft.call_id,
                    relation="intake",
                    recording_path=draft.recording_path,
                    linked_at=now,
                )
            )
        self._detect_duplicates(order)
        self._record(order, actor, "create", "", State.CREATED.value, now, note=draft.source.value)
        self._session.flush()
        return order

    def create_from_message(
        self,
        call_id: str,
        line: str,
        caller_number: str,
        recording_path: str,
        *,
        source: Source = Source.HOTLINE_MESSAGE,
        received_at: datetime,
        title: str = "",
        actor: Actor | None = None,
    ) -> tuple[WorkOrder, CallbackTask]:
        """An out-of-hours message or a queue voicemail: an order plus a callback task."""
        if source not in (Source.HOTLINE_MESSAGE, Source.QUEUE_VOICEMAIL):
            raise ValueError(f"not a message source: {source}")
        label = "非工作时间留言" if source is Source.HOTLINE_MESSAGE else "排队语音留言"
        order = self.create(
            OrderDraft(
                title=title or f"{label}，待回电",
                source=source,
                line=line,
                description=f"{label}，录音：{recording_path}",
                caller_phone=caller_number,
                call_id=call_id,
                recording_path=recording_path,
                received_at=received_at,
            ),
            actor or Actor(SYSTEM),
            received_at,
        )
        phone = normalize_phone(caller_number)
        task = CallbackTask(
            phone_enc=self._cipher.encrypt(phone),
            phone_hash=self._cipher.lookup_hash(phone),
            line=line,
            due_at=self._deadlines.callback_due(received_at),
            status="pending",
            order_id=order.id,
            call_id=call_id,
            created_at=received_at,
        )
        self._session.add(task)
        self._session.flush()
        return order, task

    def import_platform_order(
        self, draft: OrderDraft, actor: Actor, now: datetime
    ) -> tuple[WorkOrder, bool]:
        """Create the order unless the platform id is known; returns (order, created)."""
        if not draft.platform_order_id:
            raise ValueError("a platform order needs its platform_order_id")
        existing = self._session.scalar(
            select(WorkOrder).where(WorkOrder.platform_order_id == draft.platform_order_id)
        )
        if existing is not None:
            return existing, False
        # Two imports of the same id racing: the unique index lets one win; the loser retries
        # as a duplicate inside a savepoint instead of failing the whole batch.
        try:
            with self._session.begin_nested():
                order = self.create(draft, actor, now)
        except IntegrityError:
            existing = self._session.scalar(
                select(WorkOrder).where(WorkOrder.platform_order_id == draft.platform_order_id)
            )
            if existing is None:
                raise
            return existing, False
        return order, True

    # Steps -------------------------------------------------------------------------------

    def act(
        self,
        order_id: int,
        action: Action,
        payload: Mapping[str, Any],
        actor: Actor,
        now: datetime,
    ) -> WorkOrder:
        order = self._session.get(WorkOrder, order_id, with_for_update=True)
        if order is None:
            raise NotFound(f"没有编号为 {order_id} 的工单")
        facts = OrderFacts(
            state=State(order.state),
            department=order.department,
            supervision_round=order.supervision_round,
            feedback=dict(order.feedback or {}),
        )
        outcome = decide(facts, action, payload)
        for name, value in outcome.changes.items():
            setattr(order, name, value)
        if action is Action.SIGN:
            order.assignee = actor.username
        if outcome.to_state is State.CLOSED:
            order.closed_at = now
        old_stage = stage_of(outcome.from_state)
        order.state = outcome.to_state.value
        order.updated_at = now
        if stage_of(outcome.to_state) != old_stage or action is Action.SUPERVISE:
            self._set_stage_due(order, now)
        call_id = str(payload.get("call_id") or "")
        if action is Action.CALLBACK and call_id:
            self._session.add(
                WorkOrderCall(
                    order_id=order.id,
                    call_id=call_id,
                    relation="callback",
                    recording_path=order.callback_recording,
                    linked_at=now,
                )
            )
        details = {k: v for k, v in outcome.changes.items() if k != "feedback"}
        self._record(
            order,
            actor,
            action.value,
            outcome.from_state.value,
            outcome.to_state.value,
            now,
            note=outcome.note,
            details=details,
        )
        self._notify_step(order, action)
        self._session.flush()
        return order

    def link_call(
        self,
        order_id: int,
        call_id: str,
        relation: str,
        recording_path: str,
        actor: Actor,
        now: datetime,
    ) -> None:
        order = self.get(order_id)
        self._session.add(
            WorkOrderCall(
                order_id=order.id,
                call_id=call_id,
                relation=relation,
                recording_path=recording_path,
                linked_at=now,
            )
        )
        self._record(order, actor, "link_call", order.state, order.state, now, note=call_id)
        self._session.flush()

    # Reading -----------------------------------------------------------------------------

    def get(self, order_id: int) -> WorkOrder:
        order = self._session.get(WorkOrder, order_id)
        if order is None:
            raise NotFound(f"没有编号为 {order_id} 的工单")
        return order

    def timeline(self, order_id: int) -> list[WorkOrderEvent]:
        query = (
            select(WorkOrderEvent)
            .where(WorkOrderEvent.order_id == order_id)
            .order_by(WorkOrderEvent.at, WorkOrderEvent.id)
        )
        return list(self._session.scalars(query))

    def linked_calls(self, order_id: int) -> list[WorkOrderCall]:
        query = select(WorkOrderCall).where(WorkOrderCall.order_id == order_id)
        return list(self._session.scalars(query.order_by(WorkOrderCall.id)))

    def earlier_orders_of_caller(self, order: WorkOrder) -> list[WorkOrder]:
        if not order.caller_phone_hash:
            return []
        query = (
            select(WorkOrder)
            .where(
                WorkOrder.caller_phone_hash == order.caller_phone_hash,
                WorkOrder.id != order.id,
                WorkOrder.created_at <= order.created_at,
            )
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
            .limit(20)
        )
        return list(self._session.scalars(query))

    def caller_phone(self, order: WorkOrder) -> str:
        return self._cipher.decrypt(order.caller_phone_enc) if order.caller_phone_enc else ""

    def caller_name(self, order: WorkOrder) -> str:
        return self._cipher.decrypt(order.caller_name_enc) if order.caller_name_enc else ""

    # Internals ---------------------------------------------------------------------------

    def _set_stage_due(self, order: WorkOrder, start: datetime) -> None:
        stage = stage_of(State(order.state))
        order.overdue = False
        if stage is None:
            order.due_at, order.due_stage = None, ""
            return
        order.due_stage = stage.value
        order.due_at = self._deadlines.stage_due(
            stage,
            start,
            urgency=Urgency(order.urgency),
            complex_case=order.complex_case,
            final_due=order.final_due_at,
        )

    def _detect_duplicates(self, order: WorkOrder) -> None:
        if order.caller_phone_hash:
            since = order.created_at - self._rules.repeat_window
            earlier = self._session.scalars(
                select(WorkOrder.id)
                .where(
                    WorkOrder.caller_phone_hash == order.caller_phone_hash,
                    WorkOrder.id != order.id,
                    WorkOrder.created_at >= since,
                    WorkOrder.created_at <= order.created_at,
                )
                .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
            ).all()
            order.repeat_count = len(earlier)
            order.repeat_of_id = earlier[0] if earlier else None
        if order.hotspot_key:
            since = order.created_at - self._rules.hotspot_window
            in_window = (
                WorkOrder.hotspot_key == order.hotspot_key,
                WorkOrder.created_at >= since,
                WorkOrder.caller_phone_hash != "",
            )
            callers = self._session.scalar(
                select(func.count(func.distinct(WorkOrder.caller_phone_hash))).where(*in_window)
            )
            order.hotspot_callers = int(callers or 0)
            if order.hotspot_callers >= self._rules.min_callers:
                self._session.execute(
                    update(WorkOrder)
                    .where(*in_window, WorkOrder.hotspot_callers < order.hotspot_callers)
                    .values(hotspot_callers=order.hotspot_callers)
                    .execution_options(synchronize_session=False)
                )

    def _record(
        self,
        order: WorkOrder,
        actor: Actor,
        action: str,
        from_state: str,
        to_state: str,
        now: datetime,
        *,
        note: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        self._session.add(
            WorkOrderEvent(
                order_id=order.id,
                at=now,
                actor=actor.username,
                action=action,
                from_state=from_state,
                to_state=to_state,
                note=note,
                details=details or {},
            )
        )
        if actor.username != SYSTEM:
            self._session.add(
                AuditRecord(
                    at=now,
                    actor=actor.username,
                    action=f"workorder.{action}",
                    target=f"work_order:{order.id}",
                    source_ip=actor.source_ip,
                    details={"number": order.number, "from": from_state, "to": to_state},
                )
            )

    def _notify_step(self, order: WorkOrder, action: Action) -> None:
        if action is Action.DISPATCH:
            self._notifier.notify(
                Notification(
                    recipients=[department_inbox(order.department), *order.copies],
                    kind="dispatched",
                    title=f"新派工单 {order.number}：{order.title}",
                    body=f"请在期限内办理并反馈（{FEEDBACK_HINT}）",
                    order_id=order.id,
                )
            )
        elif action is Action.CALLBACK and order.state == State.SUPERVISION.value:
            self._notifier.notify(
                Notification(
                    recipients=[department_inbox(order.department), *order.copies],
                    kind="supervision",
                    title=f"工单 {order.number} 回访未解决或不满意，进入督办",
                    order_id=order.id,
                )
            )


FEEDBACK_HINT = "反馈须含背景、办理过程、办理结果、后续措施"


def mark_overdue(session: Session, now: datetime, notifier: Notifier) -> list[int]:
    """Mark open orders whose current stage is past due, once per stage, and tell people."""
    query = (
        select(WorkOrder)
        .where(
            WorkOrder.state != State.CLOSED.value,
            WorkOrder.overdue.is_(False),
            WorkOrder.due_at.is_not(None),
            WorkOrder.due_at < now,
        )
        .order_by(WorkOrder.due_at, WorkOrder.id)
        .with_for_update(skip_locked=True)
    )
    marked: list[int] = []
    for order in session.scalars(query):
        order.overdue = True
        order.overdue_count += 1
        stage = stage_of(State(order.state))
        stage_label = STAGE_LABELS[stage] if stage else order.due_stage
        session.add(
            WorkOrderEvent(
                order_id=order.id,
                at=now,
                actor=SYSTEM,
                action="overdue",
                from_state=order.state,
                to_state=order.state,
                note=f"{stage_label}已超期",
                details={"due_at": order.due_at.isoformat() if order.due_at else None},
            )
        )
        recipients = [SUPERVISORS_INBOX, order.assignee, *order.copies]
        if order.department and order.due_stage == "handle":
            recipients.append(department_inbox(order.department))
        if not order.assignee:
            recipients.append(order.created_by)
        notifier.notify(
            Notification(
                recipients=[r for r in recipients if r and r != SYSTEM],
                kind="overdue",
                title=f"工单 {order.number} {stage_label}超期",
                body=order.title,
                order_id=order.id,
            )
        )
        marked.append(order.id)
    session.flush()
    return marked
