"""One caller's wait in a skill's queue, over AGI: music on hold in short ``WAIT FOR DIGIT``
slices, announcements, the callback key, the key to book a callback window
(``window_offer.py``), and the Dial of the agent the ACD reserved.

``ivr.acd.queue.AcdQueue`` starts one ``Waiter`` per caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from redis.exceptions import RedisError

from backend.acd.estimate import Announcer, announcement_text, rounded_minutes
from backend.acd.model import AgentProfile, CallStatus, agent_dial_options
from backend.acd.states import NotReadyReason
from backend.acd.store import AcdStore
from backend.flows.schema import PromptText
from backend.telephony.callback_bookings import CallbackBookings
from backend.telephony.callback_gate import CallbackGate, CallbackRefused
from ivr.acd.answers import Answered, AnswerWatch
from ivr.acd.dispatcher import Dispatcher
from ivr.acd.queuelog import NoQueueLog, QueueLog, QueueLogEntry, member_name
from ivr.acd.rebuild import HeldCall, HeldCalls
from ivr.acd.window_offer import WindowOffer
from ivr.agi.errors import CallHungUp
from ivr.flows.ports import CallInfo, PromptRenderer, QueueOutcome, QueueStatus

log = logging.getLogger("ivr.acd")

REJOIN_CHECK_SECONDS = 2.0
REDIS_RETRY_MS = 1000
# How long a caller's leg that left during the talk waits for a transfer's AMI event.
TRANSFER_GRACE = 0.5
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
    window_key: str | None = "#"  # books a half-hour callback window (None: not offered)
    moh_class: str = "default"


@dataclass(frozen=True)
class QueueParts:
    """What every caller's wait uses; ``AcdQueue`` builds it once."""

    store: AcdStore
    renderer: PromptRenderer
    dispatcher: Dispatcher
    settings: QueueSettings
    callbacks: CallbackGate | None
    answers: AnswerWatch | None
    clock: Callable[[], float]
    bookings: CallbackBookings | None = None  # None: no callback window is offered
    held: HeldCalls | None = None  # the callers waiting here, for a rebuild of the queues
    queue_log: QueueLog = field(default_factory=NoQueueLog)


class Waiter:
    """One caller's stay in the queue."""

    def __init__(
        self,
        parts: QueueParts,
        session: QueueChannel,
        call: CallInfo,
        entered_at: float,
        skill: str,
        priority: int,
        *,
        elderly: bool = False,
    ) -> None:
        self.store = parts.store
        self.s = parts.settings
        self.renderer = parts.renderer
        self.dispatcher = parts.dispatcher
        self.callbacks = parts.callbacks  # None: no callback is offered
        self.bookings = parts.bookings
        self.held = parts.held
        self.answers = parts.answers
        self.clock = parts.clock
        self.session = session
        self.call = call
        self.entered_at = entered_at
        self.skill = skill
        self.priority = priority
        # 敬老 mode is the call's own flag: a high priority (a repeat caller, a transfer) is
        # not old age, and an elderly caller's announcements stay slow whatever his priority.
        self.elderly = elderly
        self.announcer = Announcer()
        self.agent_id: int | None = None
        self.answered_at: float | None = None
        self.talk = 0.0
        self.hold = 0.0
        self.agent_channel = ""
        self.rings_missed = 0
        self.final = ""
        self.queue_log = parts.queue_log
        self.orig_position = 1  # place on entering, as app_queue's queue_log reports it
        self.dial_started = 0.0
        self.transferred = False  # sent on by the agent: his part ends there

    def now(self) -> float:
        return self.clock()

    async def log(self, event: str, *data: object, agent_id: int | None = None) -> None:
        """One queue_log line for this caller, now."""
        entry = QueueLogEntry(
            self.now(), self.call.call_id, self.skill, member_name(agent_id), event, data
        )
        await self.queue_log.write(entry)

    async def entered(self) -> None:
        """Log the entry (app_queue's ENTERQUEUE: url|caller number|position; the number is
        personal data and stays out)."""
        self.orig_position = await self.position()
        await self.log("ENTERQUEUE", "", "", self.orig_position)

    async def position(self) -> int:
        """The caller's place in line; 1 when he is out of it (offered to an agent)."""
        return await self.store.position(self.call.call_id) or 1

    async def log_exit(self, event: str, position: int, *key: str) -> None:
        """ABANDON, EXITWITHTIMEOUT, EXITWITHKEY: [key|]position|origposition|waittime."""
        wait = round(self.now() - self.entered_at)
        await self.log(event, *key, position, self.orig_position, wait)

    def in_line(self, waiting: bool) -> None:
        """Whether this caller is in line (a rebuild enters him again) or not (ringing an
        agent, talking, gone: his entry is not to be made again)."""
        if self.held is None:
            return
        if waiting:
            held = HeldCall(self.call.call_id, self.skill, self.priority, self.call.line,
                            self.entered_at)  # fmt: skip
            self.held.hold(held)
        else:
            self.held.drop(self.call.call_id)

    async def serve(self) -> QueueOutcome:
        config = self.store.skills[self.skill]
        deadline = self.entered_at + config.max_wait_seconds
        next_announcement = self.now() + self.s.first_announcement_seconds
        next_check = self.now() + REJOIN_CHECK_SECONDS
        await self._music(True)
        while True:
            try:
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
                if self.now() >= deadline:
                    outcome = await self._timed_out()
                    if outcome is not None:
                        return outcome
                digit: str | None = None
                if self.now() >= next_announcement:
                    next_announcement = self.now() + self.s.announce_every_seconds
                    digit = await self._announce()
                if digit is None:
                    digit = await self.session.wait_for_digit(self.s.slice_ms)
                outcome = await self._key(digit)
                if outcome is not None:
                    return outcome
            except RedisError:
                if self.agent_id is not None:
                    raise  # ringing or talking: not a wait to resume
                # Redis away: the caller keeps his music and his place in this controller's
                # memory (``HeldCalls``); his entry is made again when Redis is back.
                log.warning("call %s: Redis unavailable, caller kept waiting", self.call.call_id)
                await self.session.wait_for_digit(REDIS_RETRY_MS)

    async def _timed_out(self) -> QueueOutcome | None:
        """The longest wait is over: off to voicemail (None when an agent got him first)."""
        position = await self.position()
        if not await self.store.abandon(self.call.call_id, CallStatus.VOICEMAIL):
            return None
        await self.log_exit("EXITWITHTIMEOUT", position)
        await self._music(False)
        self.final = "voicemail"
        return QueueOutcome(QueueStatus.NO_AGENT)

    async def _key(self, digit: str | None) -> QueueOutcome | None:
        """The caller pressed a key while waiting: a callback at his place, or a window."""
        if not digit or self.callbacks is None:
            return None
        if digit == self.s.callback_key:
            return await self._callback(self.callbacks)
        if digit == self._window_key and self.bookings is not None:
            return await self._book_window(self.callbacks, self.bookings)
        return None

    async def _still_queued(self) -> None:
        """Another controller may have taken this controller for dead (a long stall) and
        released the call; the caller is still here, so he takes his place back."""
        call = await self.store.call(self.call.call_id)
        released = call is not None and call.status == CallStatus.ABANDONED
        if released and await self.store.rejoin(self.call.call_id):
            log.warning("call %s was released while its caller waited: rejoined", self.call.call_id)
            self.dispatcher.kick()

    async def abandoned(self) -> QueueOutcome:
        if self.final == "callback":
            # Hung up during the confirmation: the callback stands, the place is kept.
            return QueueOutcome(QueueStatus.CALLBACK)
        position = await self.position()
        await self.store.abandon(self.call.call_id)
        self.dispatcher.kick()
        if not self.final:  # not once he was answered or sent on
            await self.log_exit("ABANDON", position)
        self.final = "abandoned"
        return QueueOutcome(QueueStatus.ABANDONED, agent_id=self.agent_id)

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
        text = announcement_text(position, minutes, self._callback_key, self._window_key)
        # Rendering a new text takes a moment: keep listening for a key and an agent meanwhile.
        render = asyncio.create_task(
            self.renderer.sound(PromptText(None, text), elderly=self._elderly)
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
        digit = await self.session.stream_file(sound, self._keys)
        await self._music(True)
        return digit

    @property
    def _keys(self) -> str:
        return (self._callback_key or "") + (self._window_key or "")

    @property
    def _callback_key(self) -> str | None:
        """No callback is offered to a caller whose number we would not call back (withheld,
        international, another area's fixed line, ...)."""
        gate = self.callbacks
        offered = gate is not None and gate.offered(self.call.caller_number)
        return self.s.callback_key if offered else None

    @property
    def _window_key(self) -> str | None:
        offered = self.bookings is not None and self._callback_key is not None
        return self.s.window_key if offered else None

    @property
    def _elderly(self) -> bool:
        return self.elderly

    async def _callback(self, gate: CallbackGate) -> QueueOutcome | None:
        try:
            admitted = await gate.admit_async(
                self.call.caller_number, call_id=self.call.call_id, line=self.call.line
            )
        except CallbackRefused as refusal:
            log.info("call %s: callback refused (%s)", self.call.call_id, refusal.code)
            await self._say_refusal(refusal)
            return None
        position = await self.position()
        if not await self.store.request_callback(self.call.call_id, admitted.number_enc):
            return None  # an agent was reserved meanwhile: better connect now
        await self.log_exit("EXITWITHKEY", position, self.s.callback_key or "")
        log.info("call %s left the queue for a callback, keeping its place", self.call.call_id)
        self.final = "callback"
        await self._music(False)
        sound = await self.renderer.sound(
            PromptText("acd/callback-confirm", CALLBACK_CONFIRM), elderly=self._elderly
        )
        await self.session.stream_file(sound)
        await self.session.hangup()
        return QueueOutcome(QueueStatus.CALLBACK)

    async def _book_window(
        self, gate: CallbackGate, bookings: CallbackBookings
    ) -> QueueOutcome | None:
        """Offer the next free windows; once one is booked the caller leaves the queue."""
        await self._music(False)
        offer = WindowOffer(bookings, gate)
        booked = await offer.run(self.call, self.skill, self._say, self._wait_key)
        if booked is None:
            await self._music(True)
            return None
        position = await self.position()
        await self.store.abandon(self.call.call_id)  # an agent reserved meanwhile is freed
        self.dispatcher.kick()
        await self.log_exit("EXITWITHKEY", position, self._window_key or "")
        self.final = "callback"  # a hang-up during the confirmation keeps the booking
        await self._say(booked.confirmation, "")
        await self.session.hangup()
        return QueueOutcome(QueueStatus.CALLBACK)

    async def _say(self, text: str, keys: str) -> str | None:
        sound = await self.renderer.sound(PromptText(None, text), elderly=self._elderly)
        return await self.session.stream_file(sound, keys)

    async def _wait_key(self, seconds: float, keys: str) -> str | None:
        """The first of ``keys`` pressed within ``seconds`` (other keys are ignored)."""
        deadline = self.now() + seconds
        while self.now() < deadline:
            digit = await self.session.wait_for_digit(self.s.slice_ms)
            if digit and digit in keys:
                return digit
        return None

    async def _say_refusal(self, refusal: CallbackRefused) -> None:
        text = f"{refusal.message}。请继续等待，坐席空闲时将为您接通。"
        sound = await self.renderer.sound(PromptText(None, text), elderly=self._elderly)
        await self._music(False)
        await self.session.stream_file(sound)
        await self._music(True)

    async def _connect(self, agent_id: int) -> QueueOutcome | None:
        """Ring the reserved agent; None when he did not answer (the call is back in line)."""
        view = await self.store.agent(agent_id)
        if view is None or not await self.store.ringing(self.call.call_id, agent_id):
            return None
        self.agent_id = agent_id
        self.in_line(False)
        await self._music(False)
        self.dial_started = dial_started = self.now()
        status, caller_gone, ended = await self._dial(view.profile, agent_id)
        if status == "ANSWER":
            return await self._answered(agent_id, dial_started, ended, caller_gone)
        ring_ms = round((ended - dial_started) * 1000)
        if status in NOT_REACHED:
            self.rings_missed += 1
            await self.log("RINGNOANSWER", ring_ms, agent_id=agent_id)
            log.info(
                "agent %s did not answer call %s (%s): not ready, call back at its place",
                view.profile.number,
                self.call.call_id,
                status,
            )
            await self.store.ring_no_answer(self.call.call_id, agent_id, NotReadyReason.NO_ANSWER)
            self.agent_id = None
            self.in_line(True)
            self.dispatcher.kick()
            return None
        await self.log("RINGCANCELED", ring_ms, agent_id=agent_id)
        raise CallHungUp(f"Dial ended with {status or 'hangup'}")

    async def _dial(self, profile: AgentProfile, agent_id: int) -> tuple[str, bool, float]:
        """Dial the agent, following his answer live: (DIALSTATUS, whether the caller hung
        up, when the Dial ended)."""
        channel = self.call.channel or self.session_channel
        answers = self.answers
        answered = answers.expect(channel) if answers else None
        live = asyncio.create_task(self._on_answer(answered, agent_id)) if answered else None
        caller_gone = False
        try:
            # The caller keeps hearing music, not ringing, while the agent's phone rings.
            await self.session.exec(
                "Dial",
                profile.interface,
                str(self.s.ring_timeout_seconds),
                agent_dial_options(profile),
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
            left = caller_gone or getattr(self.session, "hung_up", False)
            if left and self.answered_at is not None:
                await answers.transfer_settled((channel, self.agent_channel), TRANSFER_GRACE)
            self.hold = answers.untrack((channel, self.agent_channel))
        return status, caller_gone, ended

    async def _answered(
        self, agent_id: int, dial_started: float, ended: float, caller_gone: bool
    ) -> QueueOutcome:
        """The agent talked to the caller: the call ends for whoever holds it now."""
        if self.answered_at is None:
            log.warning("no DialEnd event for call %s: answer time unknown", self.call.call_id)
            self.answered_at = dial_started
            await self.store.connected(self.call.call_id, agent_id, at=dial_started)
            await self.log_connect(agent_id, "")
        self.talk = max(0.0, ended - self.answered_at - self.hold)
        # After an attended transfer a colleague holds the call: his call is what ends.
        held = await self.store.call(self.call.call_id)
        holder = held.agent_id if held and held.agent_id is not None else agent_id
        await self.store.call_ended(self.call.call_id, holder, handle_seconds=self.talk + self.hold)
        self.dispatcher.kick()
        on_line = not caller_gone and not getattr(self.session, "hung_up", False)
        self.final = "answered"
        # app_queue: who hung up first (holdtime|calltime|origposition), for the agent who
        # answered; a colleague who took the call over by a transfer is not in the queue's log.
        if not self.transferred:
            event = "COMPLETEAGENT" if on_line else "COMPLETECALLER"
            await self._log_end(event, (), agent_id, ended)
        return QueueOutcome(QueueStatus.ANSWERED, caller_on_line=on_line, agent_id=agent_id)

    @property
    def session_channel(self) -> str:
        env = getattr(self.session, "env", {})
        return str(env.get("channel", ""))

    async def _on_answer(self, answered: asyncio.Future[Answered], agent_id: int) -> None:
        """Live: the agent is on the call from the moment he answers; holds are followed."""
        answer = await answered
        self.answered_at = answer.at
        self.agent_channel = answer.agent_channel
        if self.answers:
            channels = (self.call.channel or self.session_channel, answer.agent_channel)
            self.answers.track(channels, self.call.call_id, agent_id, self._transferred)
        await self.store.connected(self.call.call_id, agent_id, at=answer.at)
        await self.log_connect(agent_id, answer.agent_unique_id)

    async def _transferred(self, event: str, where: tuple[str, ...]) -> None:
        """BLINDTRANSFER / ATTENDEDTRANSFER, when it happens (the answer watch tells)."""
        self.transferred = True
        if self.agent_id is not None:
            await self._log_end(event, where, self.agent_id, self.now())

    async def _log_end(self, event: str, where: tuple[str, ...], agent_id: int, at: float) -> None:
        """The agent's part of the call is over: [where|]holdtime|calltime|origposition."""
        calltime = round(at - (self.answered_at or at))
        await self.log(event, *where, self.hold_time, calltime, self.orig_position,
                       agent_id=agent_id)  # fmt: skip

    @property
    def hold_time(self) -> int:
        """app_queue's holdtime: entry to answer, whole seconds."""
        return round((self.answered_at or self.now()) - self.entered_at)

    async def log_connect(self, agent_id: int, agent_unique_id: str) -> None:
        """CONNECT: holdtime|bridged channel's uniqueid|ringtime."""
        ring = round((self.answered_at or self.now()) - self.dial_started)
        await self.log("CONNECT", self.hold_time, agent_unique_id, ring, agent_id=agent_id)

    async def _variable(self, name: str) -> str:
        # Readable even after the caller hung up: GET VARIABLE works on a dead channel.
        return await self.session.get_variable(name) or ""


def _log_failure(task: asyncio.Task[str]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("announcement could not be rendered: %s", task.exception())
