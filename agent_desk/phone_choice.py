"""The agent's choice of phone for the shift, made at login or at sign-in: the browser
softphone or a desk SIP phone. It rewrites the agent's endpoint in Asterisk's realtime
tables (backend/telephony), so the ACD's ``PJSIP/<number>`` rings whichever was chosen.
"""

from __future__ import annotations

from agent_desk.auth.audit import add_audit
from agent_desk.state import AppState
from backend.db import transaction
from backend.models.agents import Agent
from backend.telephony.phones import NoPhone
from backend.telephony.profiles import PhoneKind


def choose_phone(
    state: AppState, agent_id: int, kind: PhoneKind, actor: str, source_ip: str
) -> None:
    """NoPhone when the agent has no provisioned phone (a simulated agent) or is disabled."""
    with transaction(state.session_factory) as db:
        agent = db.get(Agent, agent_id, with_for_update=True)
        if agent is None or not agent.active:
            raise NoPhone("该账户没有可用的坐席话机")
        state.phones.choose_kind(db, agent, kind)
        add_audit(db, actor, "agent.phone_kind", target=f"agent:{agent_id}",
                  source_ip=source_ip, details={"kind": kind})  # fmt: skip
