"""The emergency message switch: tell every caller of a line, a hospital or a queue at once.

A supervisor switches a message on (``agent_desk/api/emergency.py``) with a start and an end
time and a mode:

* ``continue`` — the caller hears it, then the line's flow as usual;
* ``end`` — the caller hears it and the call ends (the text says goodbye politely);
* ``divert`` — the caller hears it and goes straight to ``divert_skill``'s queue.

What is heard is the text, spoken by the TTS as every prompt is (espeak-ng,
``backend/speech``), or a recorded sound (an Asterisk sound name, as uploaded prompts are).
Where it plays: a ``line`` message when the call starts, before the flow's first node; a
``queue`` message when the flow hands the caller to that skill's queue; a ``hospital``
message when the caller's booking at that hospital is found by the IVR. The controller reads
the active messages per call from PostgreSQL (``active_message``), so the next caller hears a
message the moment it is switched on, with no restart, and nobody hears it after its end:
it expires by itself. When several apply, the newest wins.

Switching on and off is audited (``emergency.activated`` / ``emergency.cancelled``); the
desk raises the alert (a live event every desk and wallboard shows).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from backend.audit import Actor, record_audit
from backend.errors import NotFound, Refused
from backend.lines import is_line
from backend.models.agents import Skill
from backend.models.booking import Hospital
from backend.models.emergency import EmergencyMessage

Scope = Literal["line", "hospital", "queue"]
Mode = Literal["continue", "end", "divert"]
SCOPE_LABELS = {"line": "热线", "hospital": "医院", "queue": "队列"}
MODE_LABELS = {"continue": "播放后继续", "end": "播放后挂机", "divert": "播放后转技能组"}
LONGEST = timedelta(days=7)  # a switch left on by mistake still ends within a week


class EmergencyRefused(Refused):
    code = "emergency-invalid"


@dataclass(frozen=True)
class EmergencyDraft:
    scope: Scope
    target: str
    mode: Mode
    starts_at: datetime
    ends_at: datetime
    text: str = ""
    recording: str = ""
    divert_skill: str = ""


@dataclass(frozen=True)
class ActiveMessage:
    """What the controller needs of a message to play it."""

    id: int
    scope: str
    target: str
    text: str
    recording: str
    mode: str
    divert_skill: str
    ends_at: datetime


def _active(row: EmergencyMessage) -> ActiveMessage:
    return ActiveMessage(
        row.id,
        row.scope,
        row.target,
        row.text,
        row.recording,
        row.mode,
        row.divert_skill,
        row.ends_at,
    )


def check_draft(db: Session, draft: EmergencyDraft, now: datetime) -> None:
    """EmergencyRefused naming what is wrong; nothing is written before this passes."""
    if not draft.text.strip() and not draft.recording.strip():
        raise EmergencyRefused("请填写通知内容或选择录音", code="emergency-no-message")
    if draft.ends_at <= draft.starts_at or draft.ends_at <= now:
        raise EmergencyRefused("结束时间须晚于开始时间和当前时间", code="emergency-bad-times")
    if draft.ends_at - max(draft.starts_at, now) > LONGEST:
        raise EmergencyRefused("紧急通知最长生效 7 天", code="emergency-too-long")
    if not _target_exists(db, draft.scope, draft.target):
        label = SCOPE_LABELS[draft.scope]
        raise EmergencyRefused(f"没有这个{label}：{draft.target}", code="emergency-no-target")
    if draft.mode == "divert" and not _target_exists(db, "queue", draft.divert_skill):
        raise EmergencyRefused("请选择要转入的技能组", code="emergency-no-skill")


def _target_exists(db: Session, scope: str, code: str) -> bool:
    if scope == "line":
        return is_line(code)
    model = Hospital if scope == "hospital" else Skill
    return db.scalar(select(model.id).where(model.code == code)) is not None


def activate(db: Session, draft: EmergencyDraft, actor: Actor, now: datetime) -> EmergencyMessage:
    """Switch a message on (audited); the caller's transaction commits it."""
    check_draft(db, draft, now)
    row = EmergencyMessage(
        scope=draft.scope,
        target=draft.target,
        text=draft.text.strip(),
        recording=draft.recording.strip(),
        mode=draft.mode,
        divert_skill=draft.divert_skill if draft.mode == "divert" else "",
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        created_by=actor.username,
        created_at=now,
    )
    db.add(row)
    db.flush()
    details = {
        "scope": row.scope,
        "target": row.target,
        "mode": row.mode,
        "divert_skill": row.divert_skill,
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "text": row.text,
        "recording": row.recording,
    }
    record_audit(db, actor, "emergency.activated", f"emergency:{row.id}", now, details)
    return row


def cancel(db: Session, message_id: int, actor: Actor, now: datetime) -> EmergencyMessage:
    """Switch a message off before its end (audited); cancelling twice changes nothing."""
    row = db.get(EmergencyMessage, message_id, with_for_update=True)
    if row is None:
        raise NotFound(f"没有编号为 {message_id} 的紧急通知")
    if row.cancelled_at is None and row.ends_at > now:
        row.cancelled_at, row.cancelled_by = now, actor.username
        record_audit(db, actor, "emergency.cancelled", f"emergency:{row.id}", now, {})
    return row


def _running(now: datetime) -> list[ColumnElement[bool]]:
    return [
        EmergencyMessage.starts_at <= now,
        EmergencyMessage.ends_at > now,
        EmergencyMessage.cancelled_at.is_(None),
    ]


def active_message(db: Session, scope: str, target: str, now: datetime) -> ActiveMessage | None:
    """The newest message running now for this line, hospital or skill."""
    row = db.scalar(
        select(EmergencyMessage)
        .where(EmergencyMessage.scope == scope, EmergencyMessage.target == target, *_running(now))
        .order_by(EmergencyMessage.starts_at.desc(), EmergencyMessage.id.desc())
        .limit(1)
    )
    return None if row is None else _active(row)


def current_messages(db: Session, now: datetime) -> list[EmergencyMessage]:
    """Messages running now or still to start (the wallboard's and the switch's list)."""
    return list(
        db.scalars(
            select(EmergencyMessage)
            .where(EmergencyMessage.ends_at > now, EmergencyMessage.cancelled_at.is_(None))
            .order_by(EmergencyMessage.starts_at, EmergencyMessage.id)
        )
    )
