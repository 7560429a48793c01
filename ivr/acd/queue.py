"""The caller's side of the queue over AGI: wait with music, hear honest announcements, press a
key for a callback, get connected to the agent the ACD reserved, or go to voicemail.
A callback is offered only to a number the callback gate admits
(``backend/telephony/callback_gate.py``); one it refuses is told why and keeps waiting.

``AcdQueue.enter_queue`` implements ``ivr.flows.ports.QueueHandoff``; each caller's wait is a
``waiter.Waiter``. While the caller waits the channel plays music on hold as a generator
(``SET MUSIC ON``) and the session listens for the callback key in short ``WAIT FOR DIGIT``
slices; between slices it looks in the call's mailbox, so an assignment made by any
controller is dialled within one slice. Announcements are skipped when an agent is already
reserved: they never delay a connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from backend.acd.model import WITH_AGENT, CallStatus, QueuedCall, UnknownSkill
from backend.acd.store import AcdStore
from backend.telephony.callback_bookings import CallbackBookings
from backend.telephony.callback_gate import CallbackGate
from ivr.acd.answers import AnswerWatch
from ivr.acd.dispatcher import Dispatcher
from ivr.acd.queuelog import NoQueueLog, QueueLog
from ivr.acd.rebuild import HeldCalls
from ivr.acd.waiter import QueueChannel, QueueParts, QueueSettings, Waiter
from ivr.agi.errors import CallHungUp
from ivr.flows.ports import CallInfo, Channel, PromptRenderer, QueueOutcome, QueueStatus

log = logging.getLogger("ivr.acd")


@dataclass(frozen=True)
class QueueReport:
    """What happened in the queue, for the call record (times are epoch seconds)."""

    call_id: str
    line: str
    caller_number: str  # personal data: for the call record only, never logged
    skill: str
    priority: int
    queued_at: float
    left_at: float
    status: str  # answered | abandoned | callback | voicemail
    agent_id: int | None = None
    answered_at: float | None = None
    talk_seconds: float = 0.0  # answered to end, holds excluded
    hold_seconds: float = 0.0
    unanswered_rings: int = 0
    # The caller stays on after the queue (the survey after the agent hung up, or the flow's
    # "no agent" branch): the call is not over, its record ends with his channel.
    caller_on_line: bool = False

    @property
    def wait_seconds(self) -> float:
        return (self.answered_at or self.left_at) - self.queued_at


class QueueObserver(Protocol):
    async def queue_left(self, report: QueueReport) -> None: ...


class AcdQueue:
    def __init__(
        self,
        store: AcdStore,
        renderer: PromptRenderer,
        dispatcher: Dispatcher,
        settings: QueueSettings | None = None,
        *,
        callbacks: CallbackGate | None = None,
        bookings: CallbackBookings | None = None,
        observer: QueueObserver | None = None,
        answers: AnswerWatch | None = None,
        clock: Callable[[], float] = time.time,
        held: HeldCalls | None = None,
        queue_log: QueueLog | None = None,
    ) -> None:
        self._store = store
        self._answers = answers
        self._renderer = renderer
        self._dispatcher = dispatcher
        self._callbacks = callbacks  # None: no callback is offered
        self.settings = settings or QueueSettings()
        self._observer = observer
        self._clock = clock
        self._parts = QueueParts(
            store, renderer, dispatcher, self.settings, callbacks, answers, clock, bookings, held,
            queue_log or NoQueueLog(),
        )  # fmt: skip

    async def enter_queue(
        self, session: Channel, call: CallInfo, skill: str, priority: int, *, elderly: bool = False
    ) -> QueueOutcome:
        return await self._stay(session, call, skill, priority, elderly=elderly)

    async def transfer_in(
        self,
        session: Channel,
        call: CallInfo,
        priority: int,
        *,
        skill: str | None = None,
        agent_id: int | None = None,
        elderly: bool = False,
    ) -> QueueOutcome:
        """A caller an agent transferred: to a skill's queue, or to one colleague, in which
        case he waits in the call's own skill queue with that colleague reserved for him (a
        colleague who does not answer leaves him at his place for anyone)."""
        previous = await self._settled(call.call_id)
        skill = skill or (previous.skill if previous else None)
        if skill is None or skill not in self._store.skills:
            raise UnknownSkill(f"call {call.call_id} has no skill to wait in")
        return await self._stay(session, call, skill, priority, agent_id=agent_id, elderly=elderly)

    async def _settled(self, call_id: str, timeout: float = 10.0) -> QueuedCall | None:
        """The call's previous stay, once the agent who transferred it has let it go.

        His controller learns of the transfer when his Dial ends, a moment after this
        session starts: entering the queue before that would find the call still his.
        """
        deadline = self._clock() + timeout
        while True:
            call = await self._store.call(call_id)
            if call is None or call.status not in (*WITH_AGENT, CallStatus.CONNECTED):
                return call
            if self._clock() >= deadline:
                log.warning("call %s still with agent %s after a transfer", call_id, call.agent_id)
                return call
            await asyncio.sleep(0.1)

    async def _stay(
        self,
        session: Channel,
        call: CallInfo,
        skill: str,
        priority: int,
        *,
        agent_id: int | None = None,
        elderly: bool = False,
    ) -> QueueOutcome:
        if not isinstance(session, QueueChannel):
            raise TypeError("the queue needs an AGI session (exec, command)")
        queued = await self._store.enqueue(call.call_id, skill, priority, line=call.line)
        if agent_id is not None and not await self._store.offer_to(call.call_id, agent_id):
            log.info("call %s: agent %s is not ready for the transfer", call.call_id, agent_id)
        self._dispatcher.kick()
        waiter = Waiter(
            self._parts, session, call, queued.entered_at, skill, priority, elderly=elderly
        )
        waiter.in_line(True)
        try:
            await waiter.entered()
            outcome = await waiter.serve()
        except CallHungUp:
            outcome = await waiter.abandoned()
        except (asyncio.CancelledError, Exception):
            # Whatever ended this session, no agent may be reserved for a caller nobody
            # serves any more: release the call, then let the error go on.
            await waiter.abandoned()
            raise
        finally:
            waiter.in_line(False)
        if self._observer is not None:
            await self._observer.queue_left(queue_report(waiter, outcome))
        return outcome


def queue_report(waiter: Waiter, outcome: QueueOutcome) -> QueueReport:
    """The call record's account of one caller's stay."""
    return QueueReport(
        call_id=waiter.call.call_id,
        line=waiter.call.line,
        caller_number=waiter.call.caller_number,
        skill=waiter.skill,
        priority=waiter.priority,
        queued_at=waiter.entered_at,
        left_at=waiter.now(),
        status=waiter.final or outcome.status.value,
        agent_id=waiter.agent_id,
        answered_at=waiter.answered_at,
        talk_seconds=waiter.talk,
        hold_seconds=waiter.hold,
        unanswered_rings=waiter.rings_missed,
        caller_on_line=outcome.caller_on_line or outcome.status is QueueStatus.NO_AGENT,
    )
