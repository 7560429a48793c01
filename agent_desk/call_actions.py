"""What the agent does to the call in hand: hold, resume, hang up, transfer (blind, or checked
before the softphone's attended transfer). Each action is audited before it is tried; the
ACD's state is checked first, so nothing is muted or moved by mistake; the PBX is driven over
AMI (``agent_desk.callcontrol``).
"""

from __future__ import annotations

import asyncio

from agent_desk.agent_status import (
    AgentRow,
    StatusOut,
    agent_id_of,
    change_state,
    current_state,
    load_agent,
    own_row,
)
from agent_desk.auth.audit import audit_now
from agent_desk.auth.guard import Caller
from agent_desk.callcontrol import CallControl
from agent_desk.state import AppState
from agent_desk.team_agents import team_agent
from agent_desk.transfers import (
    BadTransferTarget,
    TransferKind,
    TransferTarget,
    check_colleague_ready,
    find_target,
)
from backend.acd.states import AgentState
from backend.errors import Conflict, Refused

SPY_CONTEXT = "supervisor-spy"  # the dialplan that runs ChanSpy on the target's channel
SPY_MODES = {"listen": "q", "whisper": "qw", "barge": "qB"}


class NoCallToHold(Conflict):
    code = "no-call-to-hold"


async def audited(state: AppState, caller: Caller, action: str, **details: str) -> AgentRow:
    """The caller's own agent, once ``call.<action>`` is on record."""
    row = await own_row(state, caller)
    await asyncio.to_thread(
        audit_now, state.session_factory, caller.username, f"call.{action}",
        target=f"agent:{row.agent_id}", source_ip=caller.ip, details=details,
    )  # fmt: skip
    return row


async def control(state: AppState) -> CallControl:
    return CallControl(await state.ami_client())


async def toggle_hold(state: AppState, caller: Caller, on: bool) -> StatusOut:
    """Hold (``on``) or resume."""
    row = await audited(state, caller, "hold" if on else "resume")
    before, after = (
        (AgentState.ON_CALL, AgentState.ON_HOLD) if on else (AgentState.ON_HOLD, AgentState.ON_CALL)
    )
    if await current_state(state, row.agent_id) is not before:
        raise NoCallToHold("当前没有可保持的通话" if on else "当前没有被保持的通话")
    await (await control(state)).hold(row.interface, on)
    return await change_state(state, row, after, caller.actor)


async def hang_up(state: AppState, caller: Caller) -> None:
    row = await audited(state, caller, "hangup")
    await (await control(state)).hangup(row.interface)


async def transfer_target(
    state: AppState, caller: Caller, kind: TransferKind, target: str
) -> TransferTarget:
    """The target, checked: it exists, and a colleague is ready to take the caller."""
    own = agent_id_of(caller)

    def find() -> TransferTarget:
        with state.session_factory() as db:
            return find_target(db, kind, target, own)

    found = await asyncio.to_thread(find)
    if found.kind == "agent":
        async with state.acd() as acd:
            await check_colleague_ready(acd, found.extension)
    return found


async def blind_transfer(state: AppState, caller: Caller, kind: TransferKind, target: str) -> None:
    found = await transfer_target(state, caller, kind, target)
    row = await audited(state, caller, "transfer", kind=kind, target=target)
    await (await control(state)).transfer(row.interface, found.extension)


async def consultation_target(
    state: AppState, caller: Caller, kind: TransferKind, target: str
) -> TransferTarget:
    """The colleague the softphone calls for an attended transfer (then REFERs the caller)."""
    if kind != "agent":
        raise BadTransferTarget("咨询转接只能转给坐席；转技能组请使用直接转接")
    found = await transfer_target(state, caller, kind, target)
    await audited(state, caller, "consult", kind=kind, target=target)
    return found


async def listen_in(state: AppState, caller: Caller, agent_id: int, mode: str) -> str:
    """Ring the team leader's own phone into ``agent_id``'s call (ChanSpy in ``mode``:
    listen, whisper or barge); the originate's action id. Only on the leader's own team
    (``team_agents``)."""
    if caller.session.agent_id is None:
        raise Refused("监听需要班组长本人的话机（坐席工号）", code="no-own-phone")
    own = await asyncio.to_thread(load_agent, state, caller.session.agent_id)
    target = await team_agent(state, caller, agent_id, mode)
    await asyncio.to_thread(
        audit_now, state.session_factory, caller.username, "call.listen",
        target=f"agent:{target.agent_id}", source_ip=caller.ip, details={"mode": mode},
    )  # fmt: skip
    ami = await state.ami_client()
    return await ami.originate(
        own.interface,
        context=SPY_CONTEXT,
        exten="s",
        caller_id=f"监听 <{target.number}>",
        variables={"SPY_TARGET": target.interface, "SPY_MODE": SPY_MODES[mode]},
    )
