"""Administration of agents and their phones: create (the SIP secret shown once), edit,
disable (the phone stops at once, the agent is signed out of the ACD), rotate the secret.

Every change is audited under the administrator's name; the secret never is. The ACD's copy
of the agent's profile (interface, skills, auto-answer in Redis) follows each edit.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from agent_desk.agent_status import refresh_profile
from agent_desk.auth.audit import add_audit
from agent_desk.auth.guard import Caller
from agent_desk.deps import AdminUser, StateDep
from agent_desk.errors import error_responses
from agent_desk.state import AppState
from backend.acd.states import STATE_LABELS, AgentState
from backend.db import transaction
from backend.errors import Conflict
from backend.settings import Settings
from backend.telephony.agents import (
    AgentChanges,
    AgentDirectory,
    AgentDraft,
    AgentEntry,
    find_agent,
    list_agents,
)
from backend.telephony.profiles import PhoneKind

Number = Annotated[str, Path(min_length=1, max_length=16)]
SkillLevels = dict[
    Annotated[str, Field(min_length=1, max_length=32)], Annotated[int, Field(ge=1, le=10)]
]
# A response holding a SIP secret is kept by no cache, the browser's included.
NO_STORE = "no-store"
# An agent may be disabled only where the ACD can sign them out: never in the middle of
# offering or talking to a caller.
DISABLE_ALLOWED = frozenset(
    {AgentState.LOGGED_OUT, AgentState.READY, AgentState.NOT_READY, AgentState.WRAP_UP}
)


router = APIRouter(
    prefix="/api/admin/agents",
    tags=["系统管理"],
    responses=error_responses(400, 401, 403, 404, 409, 422),
)


class AgentBusy(Conflict):
    code = "agent-busy"


class AgentOut(BaseModel):
    id: int
    number: str
    name: str
    team: str
    interface: str
    skills: dict[str, int]
    auto_answer: bool
    active: bool
    username: str | None = None
    phone_kind: str | None = None  # None: no provisioned phone (a simulated agent)


class PhoneSecretOut(BaseModel):
    """The phone's credentials, returned once: the secret is not shown again."""

    number: str
    username: str
    password: str
    domain: str
    ws_url: str


class AgentCreated(AgentOut):
    phone: PhoneSecretOut


class AgentCreate(BaseModel):
    # Checked by the service, so a bad 工号 gets its own clear refusal (bad-agent-number).
    number: str = Field(min_length=1, max_length=16)
    name: str = Field(min_length=1, max_length=64)
    team: str = Field(default="", max_length=64)
    skills: SkillLevels = Field(default_factory=dict)
    auto_answer: bool = False
    username: str | None = Field(default=None, min_length=1, max_length=64)
    phone_kind: PhoneKind = "browser"


class AgentUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=64)
    team: str | None = Field(default=None, max_length=64)
    skills: SkillLevels | None = None
    auto_answer: bool | None = None
    active: bool | None = None


def agent_out(entry: AgentEntry) -> AgentOut:
    agent = entry.agent
    return AgentOut(
        id=agent.id,
        number=agent.number,
        name=agent.name,
        team=agent.team,
        interface=agent.interface,
        skills={s.skill_code: s.level for s in agent.skills},
        auto_answer=agent.auto_answer,
        active=agent.active,
        username=entry.username,
        phone_kind=entry.phone.kind if entry.phone else None,
    )


def secret_out(settings: Settings, number: str, secret: str) -> PhoneSecretOut:
    return PhoneSecretOut(
        number=number,
        username=number,
        password=secret,
        domain=settings.effective_phone_domain,
        ws_url=settings.effective_phone_ws_url,
    )


def described(state: AppState, number: str) -> AgentOut:
    with state.session_factory() as db:
        return agent_out(find_agent(db, number))


@router.get("", summary="坐席列表")
def list_all(state: StateDep, user: AdminUser) -> list[AgentOut]:
    with state.session_factory() as db:
        return [agent_out(entry) for entry in list_agents(db)]


@router.post("", status_code=201, summary="新建坐席并开通话机（话机密码只显示这一次）")
def create_agent(
    body: AgentCreate, state: StateDep, user: AdminUser, response: Response
) -> AgentCreated:
    response.headers["Cache-Control"] = NO_STORE
    draft = AgentDraft(**body.model_dump())
    with transaction(state.session_factory) as db:
        agent, secret = AgentDirectory(db, state.phones).create(draft)
        add_audit(db, user.username, "admin.agent_create", target=f"agent:{agent.id}",
                  source_ip=user.ip, details={"number": agent.number, "skills": body.skills,
                  "phone_kind": body.phone_kind, "username": body.username})  # fmt: skip
    created = described(state, agent.number)
    phone = secret_out(state.settings, agent.number, secret)
    return AgentCreated(**created.model_dump(), phone=phone)


@router.patch("/{number}", summary="修改坐席（姓名、班组、技能、自动应答、启用/停用）")
async def update_agent(
    number: Number, body: AgentUpdate, state: StateDep, user: AdminUser
) -> AgentOut:
    changes = AgentChanges(**body.model_dump())
    if body.active is False:
        await sign_out_for_good(state, number, user)
    out = await asyncio.to_thread(save_changes, state, number, changes, user)
    if out.active:
        await follow_in_acd(state, out.id)
    return out


@router.post("/{number}/phone-secret", summary="重置话机密码（新密码只显示这一次）")
def rotate_secret(
    number: Number, state: StateDep, user: AdminUser, response: Response
) -> PhoneSecretOut:
    response.headers["Cache-Control"] = NO_STORE
    with transaction(state.session_factory) as db:
        agent, secret = AgentDirectory(db, state.phones).rotate_secret(number)
        add_audit(db, user.username, "admin.agent_phone_secret", target=f"agent:{agent.id}",
                  source_ip=user.ip, details={"number": number})  # fmt: skip
    return secret_out(state.settings, number, secret)


def save_changes(state: AppState, number: str, changes: AgentChanges, user: Caller) -> AgentOut:
    with transaction(state.session_factory) as db:
        agent = AgentDirectory(db, state.phones).update(number, changes)
        add_audit(db, user.username, "admin.agent_update", target=f"agent:{agent.id}",
                  source_ip=user.ip, details=changes.changed())  # fmt: skip
    return described(state, number)


async def sign_out_for_good(state: AppState, number: str, user: Caller) -> None:
    """Sign a soon-disabled agent out of the ACD, so no call is routed to a phone that is
    about to stop; refused while a caller is being offered or talking to them."""

    def agent_id() -> int:
        with state.session_factory() as db:
            return find_agent(db, number).agent.id

    agent = await asyncio.to_thread(agent_id)
    async with state.acd() as acd:
        view = await acd.agent(agent)
        if view is None:
            return
        current = view.status.state
        if current not in DISABLE_ALLOWED:
            raise AgentBusy(f"坐席 {number} 正在{STATE_LABELS[current]}，请在通话结束后再停用")
        await acd.change_state(agent, AgentState.LOGGED_OUT, actor=user.username)


async def follow_in_acd(state: AppState, agent_id: int) -> None:
    """Give the ACD the edited profile of a signed-in agent (an agent the ACD has never seen
    gets it at sign-in)."""
    await refresh_profile(state, agent_id)
