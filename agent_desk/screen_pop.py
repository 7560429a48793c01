"""The screen pop: what the agent sees when a call rings — line, masked number, the intent the
caller gave the IVR, the IVR path in the flow's own words, and the caller's history.

Built from the controller's call journal (``pop_for_call``) or from a published
``CallOffered`` event (``pop_of_offer``); the history is looked up here, on the server, by
the keyed hash of the full number, which never leaves unmasked.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select

from agent_desk.caller_history import caller_history, caller_of
from agent_desk.state import AppState
from backend import events
from backend.lines import LINE_LABELS
from backend.models.calls import CallRecord, IvrStep
from backend.personal_data import mask_phone

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


def _pop(
    state: AppState, call_id: str, line: str, number: str, masked: str, **fields: Any
) -> ScreenPop:
    """``number``: the caller's full number (decrypted), for the history look-up only."""
    with state.session_factory() as db:
        history = caller_history(db, state.cipher, number, tz=state.tz, exclude_call=call_id)
    intent = str(fields.pop("intent", ""))
    return ScreenPop(
        call_id=call_id,
        line=line,
        line_label=LINE_LABELS.get(line, line),
        caller_number=mask_phone(masked),
        intent=intent,
        intent_label=INTENT_LABELS.get(intent, intent),
        history=history,
        **fields,
    )


def pop_for_call(state: AppState, call_id: str) -> ScreenPop | None:
    """The screen pop of a call from the controller's journal (None before it is written)."""
    with state.session_factory() as db:
        record = db.scalar(select(CallRecord).where(CallRecord.call_id == call_id))
        path = list(
            db.scalars(select(IvrStep.node).where(IvrStep.call_id == call_id).order_by(IvrStep.seq))
        )
    if record is None:
        return None
    line = record.line.value
    return _pop(
        state, record.call_id, line, caller_of(state.cipher, record), record.caller_number,
        skill=record.skill, intent=record.intent, elderly=record.elderly,
        ivr_path=state.ivr_labels(line, path),
    )  # fmt: skip


def pop_of_offer(state: AppState, event: events.CallOffered) -> dict[str, Any]:
    """The pop of a published offer, as the live feed sends it."""
    pop = _pop(
        state, event.call_id, event.line, event.caller_number, event.caller_number,
        skill=event.skill, intent=event.intent, elderly=event.elderly,
        ivr_path=list(event.ivr_path),
    )  # fmt: skip
    return {**pop.model_dump(), "at": event.at}
