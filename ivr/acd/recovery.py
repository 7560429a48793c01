"""Releasing the calls of a controller that is gone, so that no agent waits for them forever."""

from __future__ import annotations

from backend.acd.model import CallStatus
from backend.acd.states import AgentState
from backend.acd.store import AcdStore


async def recover(
    store: AcdStore, stale_after: float = 10.0, *, restarted: bool = False
) -> list[str]:
    """Release calls whose controller is gone, so that no agent waits for them forever.

    A waiting caller's AGI session dies with its controller: its queue entry is removed
    and an agent reserved for it goes back to ready with his idle place. Callbacks have no
    session and stay in their place; one that was being dialled by a dead controller goes
    back in line (its attempt key keeps the citizen from being rung twice). With
    ``restarted`` this controller's own earlier calls count as gone too (same id, new
    process). Returns the call ids released.
    """
    live = await store.live_controllers(stale_after)
    if restarted:
        live.discard(store.controller_id)
    released = [
        c.call_id
        for c in await store.waiting_calls()
        if c.status == CallStatus.WAITING and c.owner not in live and await store.abandon(c.call_id)
    ]
    for view in await store.agents():
        if view.status.state not in (AgentState.RESERVED, AgentState.RINGING):
            continue
        held = await store.call(view.status.call_id)
        if held is None or held.agent_id != view.profile.agent_id:
            continue
        if held.callback and held.picked_by not in live:
            await store.callback_unreached(held.call_id, view.profile.agent_id)
            released.append(held.call_id)
        elif not held.callback and held.owner not in live and await store.abandon(held.call_id):
            released.append(held.call_id)
    return released
