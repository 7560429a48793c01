"""The emergency message switch (``backend/emergency.py``): a supervisor switches a message on
for a line, a hospital or a queue, from now (or a start time) for some minutes (or to an end
time), and off again. Switching on is audited, alerts every desk and wallboard over the live
feed, and the controller's next caller hears it; the list shows what runs or is to come."""

# No ``from __future__ import annotations``: FastAPI evaluates these annotations at runtime.

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from agent_desk.deps import EmergencyUser, StateDep, WallboardUser
from agent_desk.errors import error_responses
from backend import events
from backend.db import transaction
from backend.emergency import (
    MODE_LABELS,
    SCOPE_LABELS,
    EmergencyDraft,
    activate,
    cancel,
    current_messages,
)
from backend.models.emergency import EmergencyMessage

router = APIRouter(
    prefix="/api/emergency-messages",
    tags=["紧急通知"],
    responses=error_responses(401, 403, 404, 422),
)


class EmergencyIn(BaseModel):
    scope: Literal["line", "hospital", "queue"]
    target: str = Field(min_length=1, max_length=64)
    mode: Literal["continue", "end", "divert"] = "continue"
    text: str = Field(default="", max_length=500)
    recording: str = Field(default="", max_length=256, pattern=r"^[A-Za-z0-9_/-]*$")
    divert_skill: str = Field(default="", max_length=32)
    starts_at: datetime | None = None  # None: now
    ends_at: datetime | None = None
    minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)  # instead of ends_at

    @model_validator(mode="after")
    def _one_end(self) -> "EmergencyIn":
        if (self.ends_at is None) == (self.minutes is None):
            raise ValueError("give either ends_at or minutes")
        for moment in (self.starts_at, self.ends_at):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("times need their time zone")
        return self


class EmergencyOut(BaseModel):
    id: int
    scope: str
    scope_label: str
    target: str
    mode: str
    mode_label: str
    divert_skill: str
    text: str
    recording: str
    starts_at: datetime
    ends_at: datetime
    running: bool
    created_by: str


def _out(row: EmergencyMessage, now: datetime) -> EmergencyOut:
    return EmergencyOut(
        id=row.id,
        scope=row.scope,
        scope_label=SCOPE_LABELS.get(row.scope, row.scope),
        target=row.target,
        mode=row.mode,
        mode_label=MODE_LABELS.get(row.mode, row.mode),
        divert_skill=row.divert_skill,
        text=row.text,
        recording=row.recording,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        running=row.starts_at <= now < row.ends_at and row.cancelled_at is None,
        created_by=row.created_by,
    )


@router.post("", status_code=201, summary="启用紧急通知")
def switch_on(body: EmergencyIn, state: StateDep, user: EmergencyUser) -> EmergencyOut:
    now = datetime.now(UTC)
    starts = body.starts_at or now
    ends = body.ends_at or starts + timedelta(minutes=body.minutes or 0)
    draft = EmergencyDraft(
        scope=body.scope,
        target=body.target.strip(),
        mode=body.mode,
        starts_at=starts,
        ends_at=ends,
        text=body.text,
        recording=body.recording,
        divert_skill=body.divert_skill.strip(),
    )
    with transaction(state.session_factory) as db:
        row = activate(db, draft, user.actor, now)
        out = _out(row, now)
    alert = events.EmergencyActivated(
        out.id,
        out.scope,
        out.target,
        out.mode,
        out.text,
        out.starts_at.isoformat(),
        out.ends_at.isoformat(),
        user.actor.username,
    )
    events.publish(state.redis, alert, state.prefix)
    return out


@router.post("/{message_id}/cancel", summary="提前结束紧急通知")
def switch_off(message_id: int, state: StateDep, user: EmergencyUser) -> EmergencyOut:
    now = datetime.now(UTC)
    with transaction(state.session_factory) as db:
        return _out(cancel(db, message_id, user.actor, now), now)


@router.get("", summary="正在生效和将要生效的紧急通知")
def listing(state: StateDep, user: WallboardUser) -> list[EmergencyOut]:
    now = datetime.now(UTC)
    with state.session_factory() as db:
        return [_out(row, now) for row in current_messages(db, now)]
