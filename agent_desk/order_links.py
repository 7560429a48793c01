"""The recording a call linked to a work order brings with it.

A linked call's recording plays from the order to everyone who may read the order, so it is
never a path typed in: it is the call's own recording as the index knows it, and only of a
call the user could hear anyway. A path that is not the call's is refused (422
``recording-not-of-call``); a call recorded for an agent outside the user's team (or for no
agent) is refused with 403 ``call-out-of-scope`` and audited, unless the user reads every
team's orders (``WORKORDERS_ALL_TEAMS``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.auth.errors import Forbidden
from agent_desk.workorder_access import OrderAccess
from backend.errors import Refused
from backend.models.agents import Agent
from backend.models.calls import Recording


class CallOutOfScope(Forbidden):
    code = "call-out-of-scope"


def _may_hear(db: Session, access: OrderAccess, agent_id: int | None) -> bool:
    if access.scope.all_teams:
        return True
    if agent_id is None:
        return False
    if agent_id == access.caller.session.agent_id:
        return True
    agent = db.get(Agent, agent_id)
    return bool(access.team) and agent is not None and agent.team == access.team


def linked_recording(
    db: Session, access: OrderAccess, order_id: int, call_id: str, typed: str
) -> str:
    """The path of ``call_id``'s recording ("" when it has none), checked as above."""
    recording = db.scalar(
        select(Recording).where(Recording.call_id == call_id).order_by(Recording.id.desc()).limit(1)
    )
    if typed and (recording is None or recording.path != typed):
        raise Refused("录音与通话不符：只能关联该通话自己的录音", code="recording-not-of-call")
    if recording is None:
        return ""
    if _may_hear(db, access, recording.agent_id):
        return recording.path
    details = {"purpose": "link_call", "call_id": call_id, "team": access.team}
    access.audit("workorder.refused", f"work_order:{order_id}", details)
    raise CallOutOfScope("该通话不是本班组坐席接听的，不能把它的录音关联到工单")
