"""A team leader acts only on the own team's agents: listening in on a call (ChanSpy: listen,
whisper, barge) and forcing an agent's state. The team is the leader's account's
(``users.team``) and the agent's (``agents.team``); a leader without a team leads nobody.

Another team's agent is refused with 403 ``agent-not-in-team`` before anything reaches the
PBX or the ACD, and the attempt is audited (``supervisor.refused``).
"""

from __future__ import annotations

import asyncio

from agent_desk.agent_status import AgentRow, load_agent, not_an_agent
from agent_desk.auth.audit import audit_now
from agent_desk.auth.errors import Forbidden
from agent_desk.auth.guard import Caller
from agent_desk.state import AppState
from backend.models.agents import Agent
from backend.models.users import User


class AgentNotInTeam(Forbidden):
    code = "agent-not-in-team"


ACTION_LABELS = {"listen": "监听", "whisper": "耳语", "barge": "强插", "force_state": "强制状态"}


def check_team(state: AppState, leader: Caller, agent_id: int, action: str) -> None:
    """Return when ``agent_id`` is on the leader's team; else audit and refuse."""
    with state.session_factory() as db:
        agent = db.get(Agent, agent_id)
        if agent is None or not agent.active:
            raise not_an_agent()
        user = db.get(User, leader.session.user_id)
        team = user.team if user else ""
        if team and agent.team == team:
            return
        agent_team = agent.team
    audit_now(
        state.session_factory, leader.username, "supervisor.refused",
        target=f"agent:{agent_id}", source_ip=leader.ip,
        details={"action": action, "reason": "agent-not-in-team", "team": team,
                 "agent_team": agent_team},
    )  # fmt: skip
    raise AgentNotInTeam(f"坐席不在您的班组（{team or '未分配班组'}），不能{ACTION_LABELS[action]}")


async def team_agent(state: AppState, leader: Caller, agent_id: int, action: str) -> AgentRow:
    """The agent, once checked to be on the leader's team (``check_team``)."""
    await asyncio.to_thread(check_team, state, leader, agent_id, action)
    return await asyncio.to_thread(load_agent, state, agent_id)
