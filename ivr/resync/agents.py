"""Agents the ACD shows on a call Asterisk no longer has: released.

An agent stays "on call" until the controller holding the call says it ended. When that
controller was killed, or Asterisk restarted under it and the events were missed, nobody
would: he would wait for calls forever. He is released when neither his call nor any channel
of his phone exists, the call's talk counted to now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from backend.acd.model import CallStatus
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.errors import CallCenterError
from ivr.resync.view import AsteriskView

log = logging.getLogger("ivr.resync")

TALKING = frozenset({AgentState.ON_CALL, AgentState.ON_HOLD})
# An agent whose state is this recent may be on a call the view was taken too early to show.
SETTLE_SECONDS = 2.0


async def release_stale_agents(
    store: AcdStore, view: AsteriskView, clock: Callable[[], float]
) -> Sequence[int]:
    """Release every agent stuck on a call Asterisk does not have; the agents released."""
    released = []
    for agent in await store.agents():
        status = agent.status
        if (
            status.state not in TALKING
            or status.since > view.taken_at - SETTLE_SECONDS
            or view.has_call(status.call_id)
            or view.phone_busy(agent.profile.interface)
        ):
            continue
        try:
            if await _release(store, agent.profile.agent_id, status.call_id, clock):
                released.append(agent.profile.agent_id)
        except CallCenterError as exc:  # changed meanwhile: the next round sees it again
            log.info("agent %s not released: %s", agent.profile.agent_id, exc.message)
    if released:
        log.warning("released agents %s: their calls are gone from Asterisk", released)
    return released


async def _release(
    store: AcdStore, agent_id: int, call_id: str, clock: Callable[[], float]
) -> bool:
    call = await store.call(call_id) if call_id else None
    if call is not None and call.status == CallStatus.CONNECTED and call.agent_id == agent_id:
        talk = clock() - (call.answered_at or clock())
        return await store.call_ended(call_id, agent_id, handle_seconds=max(0.0, talk))
    # An outbound call, or a call the ACD no longer holds: the agent alone is stuck.
    await store.change_state(agent_id, AgentState.READY, actor="resync")
    return True
