"""The signed-in agent's own phone: the credentials the browser softphone registers with
(the choice of phone itself is made at login or sign-in: ``agent_desk.phone_choice``).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from agent_desk.agent_status import agent_id_of, not_an_agent
from agent_desk.api.admin_agents import NO_STORE
from agent_desk.api.agent import ERRORS
from agent_desk.auth.audit import add_audit
from agent_desk.deps import DeskUser, StateDep
from backend.db import transaction
from backend.models.agents import Agent
from backend.telephony.phones import NoPhone
from backend.telephony.profiles import PhoneKind


class PhoneOut(BaseModel):
    number: str
    username: str
    password: str
    domain: str
    ws_url: str
    kind: PhoneKind
    auto_answer: bool


router = APIRouter(prefix="/api/agent", tags=["坐席"], responses=ERRORS)


@router.get("/phone", summary="我的话机账号（浏览器软电话注册用）")
def my_phone(state: StateDep, user: DeskUser, response: Response) -> PhoneOut:
    response.headers["Cache-Control"] = NO_STORE
    agent_id = agent_id_of(user)
    with transaction(state.session_factory) as db:
        agent = db.get(Agent, agent_id)
        if agent is None or not agent.active:
            raise not_an_agent()
        credentials = state.phones.credentials(db, agent)
        if credentials is None:
            raise NoPhone(f"工号 {agent.number} 尚未开通话机，请联系管理员")
        # Handing out a secret is recorded, like every other read of one.
        add_audit(db, user.username, "agent.phone_credentials", target=f"agent:{agent_id}",
                  source_ip=user.ip)  # fmt: skip
        return PhoneOut(
            number=credentials.number,
            username=credentials.username,
            password=credentials.password,
            domain=state.settings.effective_phone_domain,
            ws_url=state.settings.effective_phone_ws_url,
            kind=credentials.kind,
            auto_answer=agent.auto_answer,
        )
