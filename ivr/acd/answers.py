"""What happens on a dialled call, from AMI events: when the agent answered, and holds.

Over AGI, ``EXEC Dial`` only returns when the whole call is over, and Dial's ``ANSWEREDTIME``
counts from when the *calling* channel was answered (at the start of the IVR here), not the
agent. The answer moment therefore comes from AMI (``DialEnd`` with ANSWER on the caller's
channel), live: the agent shows "on call" while he talks, and wait and talk times are measured
to the answer. ``Hold``/``Unhold`` events of either leg put the agent on hold and back, and
add up the call's hold time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from backend.acd.model import AgentView
from backend.acd.states import AgentState
from backend.errors import CallCenterError

log = logging.getLogger("ivr.acd")


EventHandler = Callable[[dict[str, str]], Awaitable[None] | None]
# Told once when the call is transferred away from the agent who answered it:
# (queue_log event, its transfer fields), e.g. ("BLINDTRANSFER", (extension, context)).
TransferHook = Callable[[str, tuple[str, ...]], Awaitable[None]]
Guard = Callable[[str, EventHandler], EventHandler]


class EventSource(Protocol):
    def subscribe(
        self, pattern: str, callback: Callable[[dict[str, str]], Awaitable[None] | None]
    ) -> None: ...


class AgentStates(Protocol):
    async def change_state(
        self, agent_id: int, to: AgentState, *, call_id: str = "", actor: str = "system"
    ) -> object: ...

    async def agent_by_number(self, number: str) -> AgentView | None: ...

    async def hand_over(self, call_id: str, from_agent: int, to_agent: int) -> bool: ...


@dataclass(frozen=True)
class Answered:
    at: float
    agent_channel: str  # the dialled leg, whose Hold/Unhold events concern this call
    agent_unique_id: str = ""  # its uniqueid (the queue_log's "bridged channel")


@dataclass
class _Held:
    call_id: str
    agent_id: int
    since: float | None = None
    total: float = 0.0
    on_transfer: TransferHook | None = None
    told: asyncio.Event = field(default_factory=asyncio.Event)

    async def transferred(self, event: str, data: tuple[str, ...]) -> None:
        hook, self.on_transfer = self.on_transfer, None  # told once: the first agent's part
        if hook is not None:
            await hook(event, data)
        self.told.set()


class AnswerWatch:
    def __init__(
        self, states: AgentStates | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self._states = states  # where holds change the agent's state (the AcdStore)
        self._clock = clock
        self._waiting: dict[str, asyncio.Future[Answered]] = {}
        self._held: dict[str, _Held] = {}

    def attach(self, events: EventSource, guard: Guard | None = None) -> None:
        """Follow ``events``; ``guard`` (a supervisor's) wraps each handler so that its
        failures are logged and counted in the process's health."""
        handlers: dict[str, EventHandler] = {
            "DialEnd": self.on_dial_end,
            "Hold": self.on_hold,
            "Unhold": self.on_unhold,
            "AttendedTransfer": self.on_attended_transfer,
            "BlindTransfer": self.on_blind_transfer,
        }
        for event, handler in handlers.items():
            events.subscribe(event, guard(f"answers.{event}", handler) if guard else handler)

    def expect(self, channel: str) -> asyncio.Future[Answered]:
        """A future set when the next Dial from ``channel`` is answered."""
        future: asyncio.Future[Answered] = asyncio.get_running_loop().create_future()
        self._waiting[channel] = future
        return future

    def forget(self, channel: str) -> None:
        future = self._waiting.pop(channel, None)
        if future is not None and not future.done():
            future.cancel()

    def on_dial_end(self, event: dict[str, str]) -> None:
        if event.get("DialStatus") != "ANSWER":
            return
        future = self._waiting.get(event.get("Channel", ""))
        if future is not None and not future.done():
            future.set_result(
                Answered(self._clock(), event.get("DestChannel", ""), event.get("DestUniqueid", ""))
            )

    # Holds ---------------------------------------------------------------------------------

    def track(
        self,
        channels: tuple[str, ...],
        call_id: str,
        agent_id: int,
        on_transfer: TransferHook | None = None,
    ) -> None:
        """Follow holds (and transfers) on the legs of an answered call until ``untrack``."""
        held = _Held(call_id, agent_id, on_transfer=on_transfer)
        for channel in channels:
            if channel:
                self._held[channel] = held

    async def transfer_settled(self, channels: tuple[str, ...], timeout: float) -> None:
        """Give a transfer's AMI event ``timeout`` s to arrive: a blind transfer takes the
        caller's leg out of its AGI at the same moment, and the two race."""
        held = next((h for c in channels if (h := self._held.get(c))), None)
        if held is not None and held.on_transfer is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(held.told.wait(), timeout)

    def untrack(self, channels: tuple[str, ...]) -> float:
        """Stop following the call (every leg of it); its total hold time in seconds."""
        total = 0.0
        calls = {id(h): h for c in channels if (h := self._held.get(c))}
        for channel in [c for c, h in self._held.items() if id(h) in calls]:
            del self._held[channel]
        for held in calls.values():
            if held.since is not None:
                held.total += self._clock() - held.since
                held.since = None
            total += held.total
        return total

    async def on_attended_transfer(self, event: dict[str, str]) -> None:
        """An agent joined his caller to a colleague he had consulted (SIP REFER with
        Replaces from the softphone): the colleague's leg is the call's agent leg from now.

        Asterisk reports it as ``AttendedTransfer`` with ``OrigTransfererChannel`` the first
        agent's leg to the caller and ``TransferTargetChannel`` the colleague's phone.
        """
        held = self._held.get(event.get("OrigTransfererChannel", ""))
        target = event.get("TransferTargetChannel", "")
        if event.get("Result") != "Success" or held is None:
            return
        await held.transferred("ATTENDEDTRANSFER", attended_destination(event))
        if self._states is None:
            return
        colleague = await self._states.agent_by_number(phone_number(target))
        if colleague is None:
            log.warning(
                "call %s transferred to %s, who is no signed-in agent", held.call_id, target
            )
            return
        if held.since is not None:  # the caller waited on hold during the consultation
            held.total += self._clock() - held.since
            held.since = None
        if await self._states.hand_over(held.call_id, held.agent_id, colleague.profile.agent_id):
            held.agent_id = colleague.profile.agent_id
            self._held[target] = held

    async def on_blind_transfer(self, event: dict[str, str]) -> None:
        """The desk sent the caller on (AMI BlindTransfer of the agent's leg)."""
        held = self._held.get(event.get("TransfererChannel", ""))
        if event.get("Result") == "Success" and held is not None:
            where = (event.get("Extension", ""), event.get("Context", ""))
            await held.transferred("BLINDTRANSFER", where)

    async def on_hold(self, event: dict[str, str]) -> None:
        held = self._held.get(event.get("Channel", ""))
        if held is None or held.since is not None:
            return
        held.since = self._clock()
        await self._set(held, AgentState.ON_HOLD)

    async def on_unhold(self, event: dict[str, str]) -> None:
        held = self._held.get(event.get("Channel", ""))
        if held is None or held.since is None:
            return
        held.total += self._clock() - held.since
        held.since = None
        await self._set(held, AgentState.ON_CALL)

    async def _set(self, held: _Held, state: AgentState) -> None:
        if self._states is None:
            return
        try:
            await self._states.change_state(held.agent_id, state, call_id=held.call_id, actor="ami")
        except CallCenterError as exc:
            # The call may have ended between the event and this change.
            log.info("hold event for agent %s not applied: %s", held.agent_id, exc.message)


def phone_number(channel: str) -> str:
    """The agent number of a SIP phone's channel: ``PJSIP/1051-0000000a`` -> ``1051``."""
    tech, _, rest = channel.partition("/")
    return rest.rpartition("-")[0] if tech == "PJSIP" and "-" in rest else ""


def attended_destination(event: dict[str, str]) -> tuple[str, ...]:
    """Where an attended transfer took the caller, as app_queue's ATTENDEDTRANSFER says it."""
    kind = event.get("DestType", "").upper()
    if kind == "BRIDGE":
        return ("BRIDGE", event.get("DestBridgeUniqueid", ""))
    if kind == "APP":
        return ("APP", event.get("DestApp", ""))
    if kind == "LINK":
        return ("LINK", event.get("LocalOneChannel", ""), event.get("LocalTwoChannel", ""))
    return (kind,)
