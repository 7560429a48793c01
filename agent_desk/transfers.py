"""Where an agent may send his caller: checked before anything is dialled, so a wrong target
is a clear message on the desk and the caller stays with the agent.

A skill must exist; a colleague must be an active agent other than the agent himself, signed
in and ready (the controller then reserves him for the caller). Attended transfers go to a
colleague only: the consultation is a call to his phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.acd.states import STATE_LABELS, AgentState
from backend.acd.store import AcdStore
from backend.errors import Conflict, NotFound, Refused
from backend.models.agents import Agent, Skill

TransferKind = Literal["agent", "skill"]


class NoSuchTransferTarget(NotFound):
    code = "no-such-transfer-target"


class ColleagueNotReady(Conflict):
    code = "colleague-not-ready"


class BadTransferTarget(Refused):
    code = "bad-transfer-target"


@dataclass(frozen=True)
class TransferTarget:
    kind: TransferKind
    extension: str  # what the dialplan's desk-transfer (or a consultation) dials
    label: str  # for the agent: "技能组 预约挂号", "坐席 1051 张三"


def find_target(db: Session, kind: TransferKind, target: str, own_agent_id: int) -> TransferTarget:
    """The target as stored, or NoSuchTransferTarget / BadTransferTarget."""
    if kind == "skill":
        skill = db.scalar(select(Skill).where(Skill.code == target))
        if skill is None:
            raise NoSuchTransferTarget(f"没有代码为 {target} 的技能组")
        return TransferTarget("skill", skill.code, f"技能组 {skill.name}")
    agent = db.scalar(select(Agent).where(Agent.number == target))
    if agent is None or not agent.active:
        raise NoSuchTransferTarget(f"没有工号为 {target} 的坐席")
    if agent.id == own_agent_id:
        raise BadTransferTarget("不能转接给自己")
    return TransferTarget("agent", agent.number, f"坐席 {agent.number} {agent.name}")


async def check_colleague_ready(acd: AcdStore, db_agent_number: str) -> None:
    """A colleague who is not ready now would leave the caller waiting for anyone."""
    view = await acd.agent_by_number(db_agent_number)
    state = view.status.state if view else AgentState.LOGGED_OUT
    if state is not AgentState.READY:
        raise ColleagueNotReady(
            f"坐席 {db_agent_number} 当前为{STATE_LABELS[state]}，暂不能接转接，请选择其他坐席或技能组"
        )
