"""The caller's side of the queue over AGI: wait with music, hear honest announcements, press a
key for a callback, get connected to the agent the ACD reserved, or go to voicemail.
A callback is offered only to a number the callback gate admits
(``backend/telephony/callback_gate.py``); one it refuses is told why and keeps waiting.

``AcdQueue.enter_queue`` implements ``ivr.flows.ports.QueueHandoff``. While the caller waits
the channel plays music on hold as a generator (``SET MUSIC ON``) and the session listens for
the callback key in short ``WAIT FOR DIGIT`` slices; between slices it looks in the call's
mailbox, so an assignment made by any controller is dialled within one slice. Announcements
are skipped when an agent is already reserved: they never delay a connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from backend.acd.estimate import Announcer, announcement_text, rounded_minutes
from backend.acd.model import WITH_AGENT, CallStatus, QueuedCall, UnknownSkill, agent_dial_options
from backend.acd.policy import Priority
from backend.acd.states import NotReadyReason
from backend.acd.store import AcdStore
from backend.flows.schema import PromptText
from backend.telephony.callback_gate import CallbackGate, CallbackRefused
from ivr.acd.answers import Answered, AnswerWatch
from ivr.acd.dispatcher import Dispatcher
from ivr.agi.errors import CallHungUp
from ivr.flows.ports import (
    CallInfo,
    Channel,
    PromptRenderer,
    QueueOutcome,
    QueueStatus,
)

log = logging.getLogger("ivr.acd")

REJOIN_CHECK_SECONDS = 2.0
CALLBACK_CONFIRM = "好的，坐席空闲时将按您原来的排队顺序给您回电，请挂机。"
# Dial results after which the agent was at fault and the call goes back to its queue.
NOT_REACHED = frozenset({"NOANSWER", "BUSY", "CHANUNAVAIL", "CONGESTION"})


@runtime_checkable
class QueueChannel(Protocol):
    """What the queue needs of the AGI session beyond the flow's ``Channel``."""

    async def command(self, line: str, timeout: float = ...) -> object: ...
    async def exec(self, app: str, *args: str, timeout: float = ...) -> int: ...
    async def stream_file(self, sound: str, escape_digits: str = "") -> str | None: ...
    async def wait_for_digit(self, timeout_ms: int) -> str | None: ...
    async def get_variable(self, name: str) -> str | None: ...
    async def hangup(self) -> None: ...


@dataclass(frozen=True)
class QueueSettings:
    ring_timeout_seconds: int = 15
    announce_every_seconds: float = 30.0
    first_announcement_seconds: float = 4.0
    slice_ms: int = 200
    callback_key: str | None = "*"
    moh_class: str = "default"


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
        observer: QueueObserver | None = None,
        answers: AnswerWatch | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._answers = answers
        self._renderer = renderer
        self._dispatcher = dispatcher
        self._callbacks = callbacks  # None: no callback is offered
        self.settings = settings or QueueSettings()
        self._observer = observer
        self._clock = clock

    async def enter_queue(
        self, session: Channel, call: CallInfo, skill: str, priority: int
    ) -> QueueOutcome:
        return await self._stay(session, call, skill, priority)

    async def transfer_in(
        self,
        session: Channel,
        call: CallInfo,
        priority: int,
        *,
        skill: str | None = None,
        agent_id: int | None = None,
    ) -> QueueOutcome:
        """A caller an agent transferred: to a skill's queue, or to one colleague, in which
        case he waits in the call's own skill queue with that colleague reserved for him (a
        colleague who does not answer leaves him at his place for anyone)."""
        previous = await self._settled(call.call_id)
        skill = skill or (previous.skill if previous else None)
        if skill is None or skill not in self._store.skills:
            raise UnknownSkill(f"call {call.call_id} has no skill to wait in")
        return await self._stay(session, call, skill, priority, agent_id=agent_id)

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
    ) -> QueueOutcome:
        if not isinstance(session, QueueChannel):
            raise TypeError("the queue needs an AGI session (exec, command)")
        queued = await self._store.enqueue(call.call_id, skill, priority, line=call.line)
        if agent_id is not None and not await self._store.offer_to(call.call_id, agent_id):
            log.info("call %s: agent %s is not ready for the transfer", call.call_id, agent_id)
        self._dispatcher.kick()
        waiter = _Waiter(self, session, call, queued.entered_at, skill, priority)
        try:
            outcome = await waiter.serve()
        except CallHungUp:
            outcome = await waiter.abandoned()
        except (asyncio.CancelledError, Exception):
            # Whatever ended this session, no agent may be reserved for a caller nobody
            # serves any more: release the call, then let the error go on.
            await waiter.abandoned()
            raise
        if self._observer is not None:
            await self._observer.queue_left(waiter.report(outcome))
        return outcome


class _Waiter:
    """One caller's stay in the queue."""

    def __init__(
        self,
        queue: AcdQueue,
        session: QueueChannel,
        call: CallInfo,
        entered_at: float,
        skill: str,
        priority: int,
    ) -> None:
        self.q = queue
        self.store = queue._store
        self.s = queue.settings
        self.session = session
        self.call = call
        self.entered_at = entered_at
        self.skill = skill
        self.priority = priority
        self.announcer = Announcer()
        self.agent_id: int | None = None
        self.answered_at: float | None = None
        self.talk = 0.0
        self.hold = 0.0
        self.agent_channel = ""
        self.rings_missed = 0
        self.final = ""

    def now(self) -> float:
        return self.q._clock()

    async def serve(self) -> QueueOutcome:
        config = self.store.skills[self.skill]
        deadline = self.entered_at + config.max_wait_seconds
        next_announcement = self.now() + self.s.first_announcement_seconds
        next_check = self.now() + REJOIN_CHECK_SECONDS
        await self._music(True)
        while True:
            if self.now() >= next_check:
                next_check = self.now() + REJOIN_CHECK_SECONDS
                await self._still_queued()
            agent_id = await self.store.take_assignment(self.call.call_id)
            if agent_id is not None:
                outcome = await self._connect(agent_id)
                if outcome is not None:
                    return outcome
                await self._music(True)
                continue
            if self.now() >= deadline and await self.store.abandon(
                self.call.call_id, CallStatus.VOICEMAIL
            ):
                await self._music(False)
                self.final = "voicemail"
                return QueueOutcome(QueueStatus.NO_AGENT)
            digit: str | None = None
            if self.now() >= next_announcement:
                next_announcement = self.now() + self.s.announce_every_seconds
                digit = await self._announce()
            if digit is None:
                digit = await self.session.wait_for_digit(self.s.slice_ms)
            if digit and digit == self.s.callback_key and self.q._callbacks is not None:
                outcome = await self._callback(self.q._callbacks)
                if outcome is not None:
                    return outcome

    async def _still_queued(self) -> None:
        """Another controller may have taken this controller for dead (a long stall) and
        released the call; the caller is still here, so he takes his place back."""
        call = await self.store.call(self.call.call_id)
        released = call is not None and call.status == CallStatus.ABANDONED
        if released and await self.store.rejoin(self.call.call_id):
            log.warning("call %s was released while its caller waited: rejoined", self.call.call_id)
            self.q._dispatcher.kick()

    async def abandoned(self) -> QueueOutcome:
        if self.final == "callback":
            # Hung up during the confirmation: the callback stands, the place is kept.
            return QueueOutcome(QueueStatus.CALLBACK)
        await self.store.abandon(self.call.call_id)
        self.q._dispatcher.kick()
        self.final = "abandoned"
        return QueueOutcome(QueueStatus.ABANDONED, agent_id=self.agent_id)

    def report(self, outcome: QueueOutcome) -> QueueReport:
        return QueueReport(
            call_id=self.call.call_id,
            line=self.call.line,
            caller_number=self.call.caller_number,
            skill=self.skill,
            priority=self.priority,
            queued_at=self.entered_at,
            left_at=self.now(),
            status=self.final or outcome.status.value,
            agent_id=self.agent_id,
            answered_at=self.answered_at,
            talk_seconds=self.talk,
            hold_seconds=self.hold,
            unanswered_rings=self.rings_missed,
        )

    async def _music(self, on: bool) -> None:
        line = f"SET MUSIC ON {self.s.moh_class}" if on else "SET MUSIC OFF"
        await self.session.command(line)

    async def _announce(self) -> str | None:
        estimate = await self.store.estimate(self.call.call_id)
        if estimate is None or await self.store.has_assignment(self.call.call_id):
            return None  # an agent is reserved: connect, do not talk
        position, seconds = estimate
        position = self.announcer.position_to_announce(position)
        minutes = None if seconds is None else rounded_minutes(seconds)
        text = announcement_text(position, minutes, self._callback_key)
        # Rendering a new text takes a moment: keep listening for a key and an agent meanwhile.
        render = asyncio.create_task(
            self.q._renderer.sound(PromptText(None, text), elderly=self._elderly)
        )
        render.add_done_callback(_log_failure)
        while not render.done():
            digit = await self.session.wait_for_digit(self.s.slice_ms)
            if digit or await self.store.has_assignment(self.call.call_id):
                return digit  # the render finishes in the background, cached for others
        if render.cancelled() or render.exception() is not None:
            return None  # logged by _log_failure; the caller keeps his music
        sound = render.result()
        if await self.store.has_assignment(self.call.call_id):
            return None
        await self._music(False)
        digit = await self.session.stream_file(sound, self._callback_key or "")
        await self._music(True)
        return digit

    @property
    def _callback_key(self) -> str | None:
        """No callback is offered to a caller whose number we would not call back (withheld,
        international, another area's fixed line, ...)."""
        gate = self.q._callbacks
        offered = gate is not None and gate.offered(self.call.caller_number)
        return self.s.callback_key if offered else None

    @property
    def _elderly(self) -> bool:
        return self.priority >= Priority.ELDERLY

    async def _callback(self, gate: CallbackGate) -> QueueOutcome | None:
        try:
            admitted = await gate.admit_async(
                self.call.caller_number, call_id=self.call.call_id, line=self.call.line
            )
        except CallbackRefused as refusal:
            log.info("call %s: callback refused (%s)", self.call.call_id, refusal.code)
            await self._say_refusal(refusal)
            return None
        if not await self.store.request_callback(self.call.call_id, admitted.number_enc):
            return None  # an agent was reserved meanwhile: better connect now
        log.info("call %s left the queue for a callback, keeping its place", self.call.call_id)
        self.final = "callback"
        await self._music(False)
        sound = await self.q._renderer.sound(
            PromptText("acd/callback-confirm", CALLBACK_CONFIRM), elderly=self._elderly
        )
        await self.session.stream_file(sound)
        await self.session.hangup()
        return QueueOutcome(QueueStatus.CALLBACK)

    async def _say_refusal(self, refusal: CallbackRefused) -> None:
        text = f"{refusal.message}。请继续等待，坐席空闲时将为您接通。"
        sound = await self.q._renderer.sound(PromptText(None, text), elderly=self._elderly)
        await self._music(False)
        await self.session.stream_file(sound)
        await self._music(True)

    async def _connect(self, agent_id: int) -> QueueOutcome | None:
        """Ring the reserved agent; None when he did not answer (the call is back in line)."""
        view = await self.store.agent(agent_id)
        if view is None or not await self.store.ringing(self.call.call_id, agent_id):
            return None
        self.agent_id = agent_id
        await self._music(False)
        channel = self.call.channel or self.session_channel
        answers = self.q._answers
        answered = answers.expect(channel) if answers else None
        live = asyncio.create_task(self._on_answer(answered, agent_id)) if answered else None
        dial_started = self.now()
        caller_gone = False
        try:
            # The caller keeps hearing music, not ringing, while the agent's phone rings.
            await self.session.exec(
                "Dial",
                view.profile.interface,
                str(self.s.ring_timeout_seconds),
                agent_dial_options(view.profile),
            )
            status = await self._variable("DIALSTATUS")
        except CallHungUp:
            # Hung up during the talk (a normal end) or while the agent's phone rang.
            caller_gone = True
            status = "ANSWER" if self.answered_at is not None else "CANCEL"
        finally:
            if answers:
                answers.forget(channel)
        ended = self.now()
        if live is not None and status == "ANSWER":
            await asyncio.wait([live], timeout=2)
        elif live is not None:
            live.cancel()
        if answers:
            self.hold = answers.untrack((channel, self.agent_channel))
        if status == "ANSWER":
            if self.answered_at is None:
                log.warning("no DialEnd event for call %s: answer time unknown", self.call.call_id)
                self.answered_at = dial_started
                await self.store.connected(self.call.call_id, agent_id, at=dial_started)
            self.talk = max(0.0, ended - self.answered_at - self.hold)
            # After an attended transfer a colleague holds the call: his call is what ends.
            held = await self.store.call(self.call.call_id)
            holder = held.agent_id if held and held.agent_id is not None else agent_id
            await self.store.call_ended(
                self.call.call_id, holder, handle_seconds=self.talk + self.hold
            )
            self.q._dispatcher.kick()
            on_line = not caller_gone and not getattr(self.session, "hung_up", False)
            self.final = "answered"
            return QueueOutcome(QueueStatus.ANSWERED, caller_on_line=on_line, agent_id=agent_id)
        if status in NOT_REACHED:
            self.rings_missed += 1
            log.info(
                "agent %s did not answer call %s (%s): not ready, call back at its place",
                view.profile.number,
                self.call.call_id,
                status,
            )
            await self.store.ring_no_answer(self.call.call_id, agent_id, NotReadyReason.NO_ANSWER)
            self.agent_id = None
            self.q._dispatcher.kick()
            return None
        raise CallHungUp(f"Dial ended with {status or 'hangup'}")

    @property
    def session_channel(self) -> str:
        env = getattr(self.session, "env", {})
        return str(env.get("channel", ""))

    async def _on_answer(self, answered: asyncio.Future[Answered], agent_id: int) -> None:
        """Live: the agent is on the call from the moment he answers; holds are followed."""
        answer = await answered
        self.answered_at = answer.at
        self.agent_channel = answer.agent_channel
        if self.q._answers:
            channels = (self.call.channel or self.session_channel, answer.agent_channel)
            self.q._answers.track(channels, self.call.call_id, agent_id)
        await self.store.connected(self.call.call_id, agent_id, at=answer.at)

    async def _variable(self, name: str) -> str:
        # Readable even after the caller hung up: GET VARIABLE works on a dead channel.
        return await self.session.get_variable(name) or ""


def _log_failure(task: asyncio.Task[str]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("announcement could not be rendered: %s", task.exception())
