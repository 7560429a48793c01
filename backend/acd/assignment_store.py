"""An agent and the call he holds, changed together: reservation, ringing, answer, end,
transfers, and the dial attempts of one reservation."""

from __future__ import annotations

import contextlib

from backend.acd.agent_store import AgentStore
from backend.acd.model import IN_QUEUE, WITH_AGENT, CallStatus, ms_text
from backend.acd.states import AgentState, IllegalTransition, NotReadyReason
from backend.acd.store_core import FINISHED_CALL_TTL, MAX_RETRIES
from backend.errors import Conflict, NotFound


class AssignmentStore(AgentStore):
    """An agent with the call he holds: both change in one atomic write."""

    async def offer_to(self, call_id: str, agent_id: int, actor: str = "transfer") -> bool:
        """Reserve one chosen agent for a waiting call (a transfer to that agent), as PICK
        reserves the best one; False when he is not ready or the call no longer waits."""
        for _ in range(MAX_RETRIES):
            call = await self.call(call_id)
            if call is None or call.status not in IN_QUEUE:
                return False
            try:
                view, t = await self._plan(agent_id, AgentState.RESERVED, None, "", call_id, 0.0)
            except (NotFound, IllegalTransition):
                return False  # signed out, or not ready: the call waits for anyone
            fields = {
                "status": CallStatus.RESERVED,
                "agent_id": str(agent_id),
                "reserved_at": ms_text(self.now()),
                "picked_by": self.controller_id,
            }
            call_op = self._call_op(call_id, IN_QUEUE, None, fields, queue="remove")
            call_op["mailbox"] = str(agent_id)
            result = await self._apply(agent=self._transition_op(view, t, actor), call=call_op)
            if result == "ok":
                return True
            if result == "call-conflict":
                return False
        raise Conflict(f"call {call_id} changed too often")

    async def hand_over(self, call_id: str, from_agent: int, to_agent: int) -> bool:
        """The talking agent joined the caller to a colleague (attended transfer): the
        colleague holds the call from now on, the first agent goes to wrap-up.

        False when ``from_agent`` no longer held the call. A colleague who was not ready
        (the consultation reached him on a break) still gets the call, but his own state is
        left as it was: the state machine has no edge for it.
        """
        call = await self.call(call_id)
        if call is None or call.status != CallStatus.CONNECTED or call.agent_id != from_agent:
            return False
        config = self.skills.get(call.skill)
        wrapup = config.wrapup_seconds if config else 0.0
        taken = False
        with contextlib.suppress(NotFound, IllegalTransition):
            taken = (
                await self.change_state(to_agent, AgentState.RESERVED, call_id=call_id)
            ).changed
        for _ in range(MAX_RETRIES):
            agent_op = None
            if taken:
                view, t = await self._plan(to_agent, AgentState.ON_CALL, None, "", call_id, 0.0)
                agent_op = self._transition_op(view, t, "transfer")
            call_op = self._call_op(
                call_id, (CallStatus.CONNECTED,), from_agent, {"agent_id": str(to_agent)}
            )
            result = await self._apply(agent=agent_op, call=call_op)
            if result == "call-conflict":
                return False
            if result == "ok":
                break
        else:
            raise Conflict(f"call {call_id} changed too often")
        # If he signed out meanwhile there is nothing of his to close.
        with contextlib.suppress(IllegalTransition):
            await self.change_state(
                from_agent,
                AgentState.WRAP_UP if wrapup > 0 else AgentState.READY,
                call_id=call_id,
                actor="transfer",
                wrapup_seconds=wrapup,
            )
        return True

    async def wait_for_agent(self, call_id: str, timeout: float) -> int | None:
        """Block up to ``timeout`` s until a controller assigns an agent to this call."""
        got = await self._redis.blpop([self.key("mailbox", call_id)], timeout=timeout)
        return int(got[1]) if got else None

    async def take_assignment(self, call_id: str) -> int | None:
        """The agent assigned to this call, if one was (without waiting)."""
        got = await self._redis.lpop(self.key("mailbox", call_id))
        return int(got) if got else None

    async def has_assignment(self, call_id: str) -> bool:
        return bool(await self._redis.llen(self.key("mailbox", call_id)))

    async def ringing(self, call_id: str, agent_id: int) -> bool:
        return await self._with_call(
            call_id, agent_id, AgentState.RINGING, WITH_AGENT, {"status": CallStatus.RINGING}
        )

    async def connected(self, call_id: str, agent_id: int, *, at: float | None = None) -> bool:
        """The agent answered (``at``: when, if learnt afterwards from ANSWEREDTIME)."""
        at = self.now() if at is None else at
        return await self._with_call(
            call_id,
            agent_id,
            AgentState.ON_CALL,
            WITH_AGENT,
            {"status": CallStatus.CONNECTED, "answered": ms_text(at)},
            at=at,
        )

    async def ring_no_answer(
        self, call_id: str, agent_id: int, reason: str = NotReadyReason.NO_ANSWER
    ) -> bool:
        """Agent to not ready (未接); the call back into its queue at its first entry score."""
        call = await self.call(call_id)
        if call is None:
            return False
        back = CallStatus.CALLBACK if call.callback else CallStatus.WAITING
        return await self._with_call(
            call_id,
            agent_id,
            AgentState.NOT_READY,
            WITH_AGENT,
            {"status": back, "agent_id": "", "dial_key": ""},
            reason=reason,
            queue="add",
            clear_mailbox=True,
        )

    async def call_ended(self, call_id: str, agent_id: int, handle_seconds: float) -> bool:
        """The agent's call is over: wrap-up on the call skill's timer, handle time recorded."""
        call = await self.call(call_id)
        config = self.skills.get(call.skill) if call else None
        wrapup = config.wrapup_seconds if config else 0.0
        return await self._with_call(
            call_id,
            agent_id,
            AgentState.WRAP_UP if wrapup > 0 else AgentState.READY,
            (CallStatus.CONNECTED,),
            {"status": CallStatus.DONE, "ended": ms_text(self.now())},
            wrapup_seconds=wrapup,
            expire=FINISHED_CALL_TTL,
            handle_seconds=handle_seconds,
        )

    async def begin_dial(self, call_id: str, agent_id: int) -> str | None:
        """The key of this reservation's dial attempt: the same key until it is settled."""
        key = await self._dial(args=[self._prefix, call_id, str(agent_id)])
        return str(key) if key else None

    async def claim_dial(self, attempt_key: str, ttl_seconds: int = 3600) -> bool:
        """True exactly once per attempt key: only the claimer may send the originate."""
        return bool(
            await self._redis.set(self.key("dial", attempt_key), "1", nx=True, ex=ttl_seconds)
        )

    async def callback_unreached(
        self, call_id: str, agent_id: int, max_attempts: int = 3
    ) -> CallStatus | None:
        """The citizen did not answer the callback: back in place, or given up after N tries.

        Returns the call's new status (CALLBACK: waits again at its place; CALLBACK_FAILED),
        None if the agent no longer held it. The agent did nothing wrong: he goes back to
        ready keeping his idle place.
        """
        call = await self.call(call_id)
        if call is None:
            return None
        status = CallStatus.CALLBACK if call.attempts < max_attempts else CallStatus.CALLBACK_FAILED
        applied = await self._with_call(
            call_id,
            agent_id,
            AgentState.READY,
            (*WITH_AGENT, CallStatus.CONNECTED),
            {"status": status, "agent_id": "", "dial_key": ""},
            queue="add" if status == CallStatus.CALLBACK else None,
            clear_mailbox=True,
        )
        return status if applied else None
