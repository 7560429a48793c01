"""Work orders in the database: intake and steps through the state machine (the timeline and
audit of each step: ``journal``; reading: ``reading``; the overdue check: ``overdue``).

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

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import NotFound
from backend.localtime import zone
from backend.models.workorders import CallbackTask, WorkOrder, WorkOrderCall
from backend.personal_data import PersonalDataCipher
from backend.sms.outbox import SmsEvent, is_mobile, queue_message
from backend.workorders.calls import (
    CallAttempt,
    record_attempt,
    task_attempted,
    with_callback_recording,
)
from backend.workorders.deadlines import Deadlines, stage_of
from backend.workorders.duplicates import DuplicateRules, hotspot_key, normalize_phone
from backend.workorders.hotspots import mark_duplicates
from backend.workorders.journal import SYSTEM, Actor, Step, record_step
from backend.workorders.notifier import Notification, Notifier, department_inbox
from backend.workorders.reading import WorkOrderReader
from backend.workorders.workflow import (
    Action,
    OrderFacts,
    Source,
    State,
    Urgency,
    decide,
)


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
    team: str = ""  # the filer's desk team ("" for the intake: backend.workorders.scope)


class WorkOrderService(WorkOrderReader):
    """Writes orders, and reads them as ``WorkOrderReader`` does."""

    def __init__(
        self,
        session: Session,
        cipher: PersonalDataCipher,
        deadlines: Deadlines,
        notifier: Notifier,
        rules: DuplicateRules | None = None,
    ) -> None:
        super().__init__(session, cipher)
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
            team=draft.team,
            hotspot_key=hotspot_key(draft.category, draft.address, draft.title),
            final_due_at=draft.final_due_at,
            created_at=received,
            updated_at=now,
        )
        self._set_stage_due(order, received)
        self._session.add(order)
        self._session.flush()
        local_day = received.astimezone(zone(self._deadlines.policy.timezone))
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
        mark_duplicates(self._session, order, self._rules)
        if is_mobile(phone) and not draft.platform_order_id:
            # The caller's copy of the order's number, queued with the order itself; orders
            # the 12345 platform hands over are the platform's to acknowledge.
            values = {"number": order.number}
            subject = f"workorder:{order.id}"
            queue_message(self._session, SmsEvent.WORKORDER_FILED, subject,
                          order.caller_phone_enc, values, now)  # fmt: skip
        step = Step("create", "", State.CREATED.value, note=draft.source.value)
        record_step(self._session, order, actor, step, now)
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
        no_callback: str = "",
    ) -> tuple[WorkOrder, CallbackTask | None]:
        """An out-of-hours message or a queue voicemail: an order plus a callback task.
        ``no_callback``: why no task goes with it (the callback gate refused the number),
        written in the order's description instead."""
        if source not in (Source.HOTLINE_MESSAGE, Source.QUEUE_VOICEMAIL):
            raise ValueError(f"not a message source: {source}")
        label = "非工作时间留言" if source is Source.HOTLINE_MESSAGE else "排队语音留言"
        description = f"{label}，录音：{recording_path}"
        if no_callback:
            description += f"。未安排自动回电：{no_callback}"
        order = self.create(
            OrderDraft(
                title=title or (label if no_callback else f"{label}，待回电"),
                source=source,
                line=line,
                description=description,
                caller_phone=caller_number,
                call_id=call_id,
                recording_path=recording_path,
                received_at=received_at,
            ),
            actor or Actor(SYSTEM),
            received_at,
        )
        if no_callback:
            return order, None
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
        *,
        team: str = "",
    ) -> WorkOrder:
        """One step; signing for an order (SIGN) also puts it in the signer's ``team``
        (a signer without a team leaves it where it is)."""
        order = self._session.get(WorkOrder, order_id, with_for_update=True)
        if order is None:
            raise NotFound(f"没有编号为 {order_id} 的工单")
        facts = OrderFacts(
            state=State(order.state),
            department=order.department,
            supervision_round=order.supervision_round,
            feedback=dict(order.feedback or {}),
        )
        if action is Action.CALLBACK:
            payload = with_callback_recording(self._session, order, payload)
        outcome = decide(facts, action, payload)
        for name, value in outcome.changes.items():
            setattr(order, name, value)
        if action is Action.SIGN:
            order.assignee = actor.username
            order.team = team or order.team
        if outcome.to_state is State.CLOSED:
            order.closed_at = now
        old_stage = stage_of(outcome.from_state)
        order.state = outcome.to_state.value
        order.updated_at = now
        if stage_of(outcome.to_state) != old_stage or action is Action.SUPERVISE:
            self._set_stage_due(order, now)
        details = {k: v for k, v in outcome.changes.items() if k != "feedback"}
        moved = (outcome.from_state.value, outcome.to_state.value)
        step = Step(action.value, *moved, note=outcome.note, details=details)
        record_step(self._session, order, actor, step, now)
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
        step = Step("link_call", order.state, order.state, note=call_id)
        record_step(self._session, order, actor, step, now)
        self._session.flush()

    def call_attempted(
        self, order_id: int, attempt: CallAttempt, actor: Actor, now: datetime
    ) -> WorkOrder:
        """A call to the citizen about this order ended (``calls.record_attempt``)."""
        order = self.get(order_id)
        record_attempt(self._session, order, attempt, actor, now)
        self._session.flush()
        return order

    def callback_task_attempted(self, task_id: int, *, answered: bool, gave_up: bool) -> None:
        task_attempted(self._session, task_id, answered=answered, gave_up=gave_up)
        self._session.flush()

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
