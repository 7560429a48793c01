"""The work-order API's schemas — one family: ``WorkOrderBase`` (what a person files and reads
back), ``WorkOrderCreate``, ``WorkOrderUpdate`` (a step's payload) and ``WorkOrderPublic`` —
and ``OrderViews``, which turns stored orders into their public form.

The limits on ``WorkOrderBase`` are the columns' own, so an order read back always fits them.
Caller names and phones leave the server masked.
"""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from backend.models.workorders import WorkOrder, WorkOrderCall, WorkOrderEvent
from backend.personal_data import mask_name, mask_phone
from backend.workorders.deadlines import STAGE_LABELS, Stage
from backend.workorders.duplicates import DuplicateRules
from backend.workorders.exchange import CleanStr
from backend.workorders.reading import WorkOrderReader
from backend.workorders.scope import EVERY_ORDER, OrderScope
from backend.workorders.workflow import (
    ACTION_LABELS,
    DEPARTMENT_ACTIONS,
    STATE_LABELS,
    Source,
    State,
    Urgency,
    allowed_actions,
)

MAX_ID = 2**63 - 1  # ids are PostgreSQL bigints; larger numbers are "not found", not errors


class WorkOrderBase(BaseModel):
    title: CleanStr = Field(min_length=1, max_length=200)
    source: Source = Source.HOTLINE_CALL
    line: CleanStr = Field(default="hotline", max_length=16)
    description: CleanStr = Field(default="", max_length=20000)
    category: CleanStr = Field(default="", max_length=200)
    industry: CleanStr = Field(default="", max_length=100)
    urgency: Urgency = Urgency.NORMAL
    complex_case: bool = False
    address: CleanStr = Field(default="", max_length=300)
    call_id: CleanStr | None = Field(default=None, max_length=64)
    recording_path: CleanStr = Field(default="", max_length=512)


class WorkOrderCreate(WorkOrderBase):
    caller_name: CleanStr = Field(default="", max_length=64)
    caller_phone: CleanStr = Field(default="", max_length=32)


class WorkOrderUpdate(BaseModel):
    """What a step may carry; each action reads its own fields (``workflow.decide``)."""

    note: CleanStr = Field(default="", max_length=2000)
    department: CleanStr = Field(default="", max_length=100)
    copies: list[CleanStr] = Field(default_factory=list, max_length=20)
    reason: CleanStr = Field(default="", max_length=500)
    background: CleanStr = Field(default="", max_length=5000)
    process: CleanStr = Field(default="", max_length=5000)
    result: CleanStr = Field(default="", max_length=5000)
    follow_up: CleanStr = Field(default="", max_length=5000)
    accept: bool | None = None
    # 回访: the answered 回访 call whose recording the step takes (the latest when not given);
    # the recording itself is never typed in.
    call_id: CleanStr = Field(default="", max_length=64)
    resolved: bool | None = None
    satisfied: bool | None = None


class WorkOrderPublic(WorkOrderBase):
    id: int
    number: str
    state: str
    state_label: str
    actions: dict[str, str]  # the steps allowed now: action -> label
    department: str
    caller_name: str  # masked
    caller_phone: str  # masked
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


class EventPublic(BaseModel):
    at: datetime
    actor: str
    action: str
    from_state: str
    to_state: str
    note: str


class LinkedCallBase(BaseModel):
    call_id: CleanStr = Field(min_length=1, max_length=64)
    # Linking takes the call's own recording (agent_desk.order_links); a path given must be it.
    recording_path: CleanStr = Field(default="", max_length=512)


class LinkedCallCreate(LinkedCallBase):
    relation: Literal["intake", "callback", "repeat", "follow_up"] = "repeat"


class LinkedCallPublic(LinkedCallBase):
    id: int
    relation: str
    recording_url: str  # plays the recording through the desk ("" without one)
    linked_at: datetime


class EarlierOrderPublic(BaseModel):
    id: int
    number: str
    title: str
    state_label: str
    created_at: datetime


class WorkOrderDetail(WorkOrderPublic):
    timeline: list[EventPublic]
    calls: list[LinkedCallPublic]
    earlier_orders: list[EarlierOrderPublic]


class HotspotPublic(BaseModel):
    category: str
    callers: int
    orders: int
    latest_title: str
    latest_at: datetime


class RepeatCallerPublic(BaseModel):
    phone_masked: str
    orders: int
    first_at: datetime
    latest_at: datetime


class NotificationPublic(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    order_id: int | None
    created_at: datetime


class NotificationsRead(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=500)


@dataclass(frozen=True)
class OrderViews:
    """Stored orders as the desk shows them, in the call centre's time zone."""

    reader: WorkOrderReader
    rules: DuplicateRules
    zone: ZoneInfo

    def local(self, moment: datetime | None) -> datetime | None:
        return moment.astimezone(self.zone) if moment is not None else None

    def public(self, order: WorkOrder, scope: OrderScope = EVERY_ORDER) -> WorkOrderPublic:
        """The order; its ``actions`` are the steps of the reader's side (a handling office's
        account: the office's steps; anyone else: the hotline's)."""
        state = State(order.state)
        stage_label = STAGE_LABELS[Stage(order.due_stage)] if order.due_stage else ""
        fields = {name: getattr(order, name) for name in STORED_AS_IS}
        return WorkOrderPublic(
            **fields,
            state_label=STATE_LABELS[state],
            actions={
                a.value: ACTION_LABELS[a]
                for a in allowed_actions(state)
                if (a in DEPARTMENT_ACTIONS) == (scope.department is not None)
            },
            caller_name=mask_name(self.reader.caller_name(order)),
            caller_phone=mask_phone(self.reader.caller_phone(order)),
            copies=list(order.copies or []),
            feedback=dict(order.feedback or {}),
            is_hotspot=order.hotspot_callers >= self.rules.min_callers,
            due_at=self.local(order.due_at),
            due_stage_label=stage_label,
            created_at=order.created_at.astimezone(self.zone),
            updated_at=order.updated_at.astimezone(self.zone),
            closed_at=self.local(order.closed_at),
        )

    def detail(self, order: WorkOrder, scope: OrderScope = EVERY_ORDER) -> WorkOrderDetail:
        """The order with its timeline, linked calls and the caller's earlier orders (those
        of ``scope``)."""
        return WorkOrderDetail(
            **self.public(order, scope).model_dump(),
            timeline=[self.event(e) for e in self.reader.timeline(order.id)],
            calls=[self.call(c) for c in self.reader.linked_calls(order.id)],
            earlier_orders=[
                EarlierOrderPublic(
                    id=o.id,
                    number=o.number,
                    title=o.title,
                    state_label=STATE_LABELS[State(o.state)],
                    created_at=o.created_at.astimezone(self.zone),
                )
                for o in self.reader.earlier_orders_of_caller(order, scope)
            ],
        )

    def event(self, e: WorkOrderEvent) -> EventPublic:
        return EventPublic(
            at=e.at.astimezone(self.zone),
            actor=e.actor,
            action=e.action,
            from_state=e.from_state,
            to_state=e.to_state,
            note=e.note,
        )

    def call(self, c: WorkOrderCall) -> LinkedCallPublic:
        url = f"/api/workorders/{c.order_id}/calls/{c.id}/recording" if c.recording_path else ""
        return LinkedCallPublic(
            id=c.id,
            call_id=c.call_id,
            relation=c.relation,
            recording_path=c.recording_path,
            recording_url=url,
            linked_at=c.linked_at.astimezone(self.zone),
        )


# Columns shown exactly as stored.
STORED_AS_IS = (
    *WorkOrderBase.model_fields,
    "id",
    "number",
    "state",
    "department",
    "platform_order_id",
    "assignee",
    "return_reason",
    "supervision_round",
    "resolved",
    "satisfied",
    "repeat_count",
    "repeat_of_id",
    "hotspot_callers",
    "due_stage",
    "overdue",
)
