"""The flow engine: walks a flow's nodes for one call over an abstract channel.

Pure call logic: everything outside (AGI, ACD, database, TTS, ASR) comes in through
``FlowPorts``. Every node visited becomes a ``StepRecord``; the journal gets the path when
the caller leaves the IVR (queue, hang-up, message or self-service) and again after the queue
(survey).
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backend.errors import CallCenterError
from backend.flows.schema import (
    DIGITS,
    BookingCancelNode,
    BookingLookupNode,
    CallerBranchNode,
    CollectNode,
    ElderlyModeNode,
    Flow,
    HangupNode,
    MenuNode,
    MessageNode,
    Node,
    PlayNode,
    PromptText,
    QueueNode,
    SpeechNode,
    SurveyNode,
    TimeBranchNode,
)
from backend.flows.validators import InputRejected, validate_input
from backend.localtime import DEFAULT_TIMEZONE, zone
from backend.personal_data import mask_id_number
from backend.workcalendar import WorkCalendar
from ivr.agi.errors import CallHungUp
from ivr.flows.intents import grammar, option_key_for
from ivr.flows.ports import (
    BookingLookup,
    CallerDirectory,
    CallerProfile,
    CallInfo,
    CallJournal,
    CallState,
    Channel,
    Clock,
    IvrExit,
    IvrSummary,
    LeftMessage,
    MessageSink,
    PromptRenderer,
    QueueHandoff,
    QueueStatus,
    SpeechRecognizer,
    StepRecord,
)

log = logging.getLogger(__name__)

MAX_STEPS = 200


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return _time.monotonic()


@dataclass(frozen=True)
class FlowPorts:
    """The engine's collaborators; optional ones are needed only by flows that use them."""

    renderer: PromptRenderer
    queue: QueueHandoff
    journal: CallJournal
    calendar: WorkCalendar
    clock: Clock = field(default_factory=SystemClock)
    callers: CallerDirectory | None = None
    messages: MessageSink | None = None
    bookings: BookingLookup | None = None
    speech: SpeechRecognizer | None = None


class MissingPort(CallCenterError):
    """The composition root gave a flow no adapter for a node kind it uses."""

    code = "flow-port-missing"


class FlowLoopError(Exception):
    """A flow visited more nodes than any real call would: a loop in the YAML."""


class _CallerGone(Exception):
    """The caller hung up (however the channel told us)."""


@dataclass
class _Step:
    next: str | None
    input: str = ""
    outcome: str = ""
    details: dict[str, Any] = field(default_factory=dict)


class FlowEngine:
    """Runs one flow; one engine serves every call of its line (it keeps no per-call state)."""

    def __init__(self, flow: Flow, ports: FlowPorts, *, timezone: str = DEFAULT_TIMEZONE) -> None:
        """``timezone``: the centre's (settings.timezone), unless the flow names its own."""
        kinds = {node.kind for node in flow.nodes.values()}
        needs = {
            "message": ("messages", ports.messages),
            "booking_lookup": ("bookings", ports.bookings),
            "booking_cancel": ("bookings", ports.bookings),
        }
        for kind, (port, value) in needs.items():
            if kind in kinds and value is None:
                raise MissingPort(
                    f"flow {flow.name} uses '{kind}' nodes but was given no {port} port"
                )
        self.flow = flow
        self.ports = ports
        self.tz = zone(flow.timezone or timezone)

    async def run(self, channel: Channel, call: CallInfo) -> IvrSummary:
        return await _CallRun(self, channel, call).run()


class _CallRun:
    def __init__(self, engine: FlowEngine, channel: Channel, call: CallInfo) -> None:
        self.flow = engine.flow
        self.ports = engine.ports
        self.tz = engine.tz
        self.channel = channel
        self.call = call
        self.state = CallState()
        self.steps: list[StepRecord] = []
        self.after_steps: list[StepRecord] = []
        self.started = self.ports.clock.monotonic()
        self.ivr_seconds = 0.0
        self.served = False
        self.message_left = False
        self.left_ivr: IvrSummary | None = None
        self.satisfaction: int | None = None

    # -- the walk ---------------------------------------------------------------------------

    async def run(self) -> IvrSummary:
        await self._journal(self.ports.journal.call_started(self.call))
        exit_: IvrExit
        try:
            await self._walk()
            await self.channel.hangup()
            exit_ = IvrExit.MESSAGE if self.message_left else IvrExit.SELF_SERVICE
        except (CallHungUp, _CallerGone):
            if self.message_left:
                exit_ = IvrExit.MESSAGE
            elif self.served:
                exit_ = IvrExit.SELF_SERVICE
            else:
                exit_ = IvrExit.ABANDONED
        except Exception:
            if self.left_ivr is None:
                await self._leave(IvrExit.ERROR)
            raise
        finally:
            if self.left_ivr is not None and (self.after_steps or self.satisfaction):
                await self._journal(
                    self.ports.journal.after_queue(self.call, self.after_steps, self.satisfaction)
                )
        if self.left_ivr is None:
            await self._leave(exit_)
        assert self.left_ivr is not None
        return self.left_ivr

    async def _walk(self) -> None:
        name: str | None = self.flow.start
        for _ in range(MAX_STEPS):
            if name is None:
                return
            node = self.flow.nodes[name]
            at = self.ports.clock.now()
            began = self.ports.clock.monotonic()
            try:
                step = await self._visit(name, node)
            except (CallHungUp, _CallerGone):
                self._record(name, node, at, began, _Step(None, outcome="caller_hangup"))
                raise
            except Exception as exc:
                failed = _Step(None, outcome=f"error:{type(exc).__name__}")
                self._record(name, node, at, began, failed)
                raise
            self._record(name, node, at, began, step)
            name = step.next
        raise FlowLoopError(f"flow {self.flow.name} visited {MAX_STEPS} nodes in one call")

    def _record(self, name: str, node: Node, at: datetime, began: float, step: _Step) -> None:
        target = self.after_steps if self.left_ivr is not None else self.steps
        record = StepRecord(
            seq=len(self.steps) + len(self.after_steps) + 1,
            node=name,
            kind=node.kind,
            at=at,
            seconds=round(self.ports.clock.monotonic() - began, 3),
            input=step.input,
            outcome=step.outcome,
            intent=self.state.intent,
            details=step.details,
        )
        target.append(record)

    async def _visit(self, name: str, node: Node) -> _Step:
        handler: Callable[[str, Any], Awaitable[_Step]] = getattr(self, "_" + node.kind)
        return await handler(name, node)

    async def _leave(self, exit_: IvrExit, skill: str = "", priority: int = 0) -> None:
        self.ivr_seconds = round(self.ports.clock.monotonic() - self.started, 3)
        self.left_ivr = IvrSummary(
            exit=exit_,
            intent=self.state.intent,
            elderly=self.state.elderly,
            ivr_seconds=self.ivr_seconds,
            steps=tuple(self.steps),
            skill=skill,
            priority=priority,
        )
        await self._journal(self.ports.journal.ivr_left(self.call, self.left_ivr))

    async def _journal(self, work: Awaitable[None]) -> None:
        # A journal outage must not cost the caller the call: log (without personal data).
        try:
            await work
        except Exception as exc:
            log.error("call %s: journal failed: %s", self.call.unique_id, type(exc).__name__)

    # -- helpers ----------------------------------------------------------------------------

    async def _sound(self, prompt_id: str) -> str:
        text = PromptText(
            f"{self.flow.name}/{prompt_id}", self.flow.prompts[prompt_id], self.flow.voice
        )
        return await self.ports.renderer.sound(text, elderly=self.state.elderly)

    async def _say(self, prompt_id: str | None, escape_digits: str = "") -> str | None:
        if prompt_id is None:
            return None
        return await self.channel.stream_file(await self._sound(prompt_id), escape_digits)

    async def _say_text(self, text: str) -> None:
        prompt = PromptText(None, text, self.flow.voice)
        sound = await self.ports.renderer.sound(prompt, elderly=self.state.elderly)
        await self.channel.stream_file(sound, "")

    def _choose(self, menu: MenuNode, key: str, how: str, text: str = "") -> _Step:
        option = menu.options[key]
        if option.intent:
            self.state.intent = option.intent
        return _Step(option.next, input=text or key, outcome=f"{how}:{key}")

    # -- node kinds -------------------------------------------------------------------------

    async def _play(self, name: str, node: PlayNode) -> _Step:
        await self._say(node.prompt)
        if node.serves:
            self.served = True
        return _Step(node.next, outcome="played")

    async def _menu(self, name: str, node: MenuNode) -> _Step:
        pressed: list[str] = []
        for attempt in range(1, node.retries + 1):
            digit = await self._say(node.prompt, DIGITS)
            if not digit:
                digit = await self.channel.wait_for_digit(node.timeout_ms)
            if not digit:
                pressed.append("-")
                if attempt < node.retries:
                    await self._say(node.timeout_prompt)
                continue
            pressed.append(digit)
            if digit in node.options:
                step = self._choose(node, digit, "key")
                step.input = "".join(pressed)
                return step
            await self._say(node.invalid_prompt)
        return _Step(node.fallback, input="".join(pressed), outcome="retries_exhausted")

    async def _collect(self, name: str, node: CollectNode) -> _Step:
        entered: list[str] = []
        reasons: list[str] = []
        for _ in range(node.retries):
            # One digit more than needed: GET DATA stops at max_digits, so the '#' callers are
            # told to press after the last digit would otherwise end the *next* GET DATA with
            # nothing. With room for it, '#' ends this one and no digit is left over.
            reply = await self.channel.get_data(
                await self._sound(node.prompt), node.timeout_ms, node.max_digits + 1
            )
            raw = reply.digits
            entered.append(self._mask(node, raw) if raw else "-")
            try:
                if len(raw) < node.min_digits:
                    raise InputRejected("输入位数不足" if raw else "未输入")
                if len(raw) > node.max_digits:
                    raise InputRejected("输入位数过多")
                value = validate_input(node.validator, raw)
            except InputRejected as exc:
                reasons.append(str(exc))
                await self._say(node.invalid_prompt)
                continue
            self.state.variables[node.store_as] = value
            return _Step(
                node.next,
                input=",".join(entered),
                outcome="accepted",
                details={"rejected": reasons},
            )
        return _Step(
            node.fallback,
            input=",".join(entered),
            outcome="retries_exhausted",
            details={"rejected": reasons},
        )

    @staticmethod
    def _mask(node: CollectNode, raw: str) -> str:
        return mask_id_number(raw) if node.sensitive else raw

    async def _speech(self, name: str, node: SpeechNode) -> _Step:
        menu = self.flow.nodes[node.menu]
        assert isinstance(menu, MenuNode)
        recognizer = self.ports.speech
        digit = await self._say(node.prompt, DIGITS)
        if not digit and recognizer is not None:
            path = recognizer.utterance_path(self.call, name)
            result = await self.channel.record_file(
                path,
                "wav",
                escape_digits=DIGITS,
                timeout_ms=node.max_seconds * 1000,
                silence_seconds=node.silence_seconds,
            )
            if result.ended_by == "hangup":
                raise _CallerGone()
            if result.ended_by == "dtmf" and result.digit:
                digit = result.digit
            else:
                heard = await recognizer.recognize(path, grammar(menu, node.decoys))
                key = option_key_for(heard, menu, node.min_confidence)
                details = {"confidence": heard.confidence if heard else 0.0}
                text = heard.text if heard else ""
                if key is None:
                    return _Step(
                        node.fallback, input=text, outcome="not_understood", details=details
                    )
                step = self._choose(menu, key, "speech", text)
                step.details = details
                return step
        if digit and digit in menu.options:
            return self._choose(menu, digit, "key")
        return _Step(
            node.fallback, input=digit or "", outcome="no_speech" if not digit else "invalid_key"
        )

    async def _time_branch(self, name: str, node: TimeBranchNode) -> _Step:
        local = self.ports.clock.now().astimezone(self.tz)
        is_open = node.is_open(local, self.ports.calendar)
        details = {"local_time": local.isoformat(timespec="minutes")}
        if is_open:
            return _Step(node.open, outcome="open", details=details)
        return _Step(node.closed, outcome="closed", details=details)

    async def _caller_branch(self, name: str, node: CallerBranchNode) -> _Step:
        directory = self.ports.callers
        if directory is None or not self.call.caller_number:
            profile = CallerProfile()
        else:
            profile = await directory.profile(self.call)
        self.state.repeat_caller = profile.repeat_caller
        if profile.elderly:
            self.state.elderly = True
        if profile.blacklisted:
            return _Step(node.blacklisted, outcome="blacklisted")
        if profile.repeat_caller and node.repeat is not None:
            return _Step(node.repeat, outcome="repeat_caller")
        return _Step(node.otherwise, outcome="elderly" if profile.elderly else "ordinary")

    async def _elderly_mode(self, name: str, node: ElderlyModeNode) -> _Step:
        self.state.elderly = True
        await self._say(node.prompt)
        return _Step(node.next, outcome="elderly_mode")

    async def _queue(self, name: str, node: QueueNode) -> _Step:
        priority = node.priority
        if self.state.elderly and node.elderly_priority is not None:
            priority = max(priority, node.elderly_priority)
        if self.state.repeat_caller and node.repeat_priority is not None:
            priority = max(priority, node.repeat_priority)
        if node.intent and not self.state.intent:
            self.state.intent = node.intent
        await self._say(node.prompt)
        details = {"skill": node.skill, "priority": priority, "elderly": self.state.elderly}
        self._record(
            name,
            node,
            self.ports.clock.now(),
            self.ports.clock.monotonic(),
            _Step(None, outcome="handed_to_queue", details=details),
        )
        if self.left_ivr is None:
            # A second hand-off (after "no agent", back through a menu) is part of the
            # after-queue path; the IVR was left at the first.
            await self._leave(IvrExit.QUEUE, node.skill, priority)
        outcome = await self.ports.queue.enter_queue(self.channel, self.call, node.skill, priority)
        after = {"agent_id": outcome.agent_id, "caller_on_line": outcome.caller_on_line}
        following: str | None = None
        if outcome.status is QueueStatus.ANSWERED and outcome.caller_on_line:
            following = node.after_agent
        elif outcome.status is QueueStatus.NO_AGENT:
            following = node.fallback
        return _Step(following, outcome=outcome.status.value, details=after)

    async def _message(self, name: str, node: MessageNode) -> _Step:
        sink = self.ports.messages
        assert sink is not None
        path = sink.message_path(self.call)
        await self._say(node.prompt)
        began = self.ports.clock.monotonic()
        ended_by = "hangup"
        try:
            result = await self.channel.record_file(
                path,
                "wav",
                escape_digits="#",
                timeout_ms=node.max_seconds * 1000,
                silence_seconds=node.silence_seconds,
                beep=True,
            )
            ended_by = result.ended_by
        finally:
            # Keep what the caller said even when they hung up while recording.
            seconds = round(self.ports.clock.monotonic() - began, 3)
            message = LeftMessage(node.topic, path + ".wav", seconds, ended_by, self.state.intent)
            kept = await sink.message_left(self.call, message)
            self.message_left = True
        if ended_by == "hangup":
            raise _CallerGone()
        if kept.no_callback:
            await self._say_text(kept.no_callback)
        else:
            await self._say(node.saved_prompt)
        details = {"reference": kept.reference, "seconds": seconds}
        return _Step(node.next, outcome="message_left", details=details)

    async def _survey(self, name: str, node: SurveyNode) -> _Step:
        keys = "".join(str(score) for score in range(1, node.scale + 1))
        digit = await self._say(node.prompt, keys)
        if not digit:
            digit = await self.channel.wait_for_digit(node.timeout_ms)
        if digit and digit in keys:
            self.satisfaction = int(digit)
            await self._say(node.thanks_prompt)
            return _Step(node.next, input=digit, outcome="scored")
        return _Step(node.next, input=digit or "", outcome="no_score")

    async def _booking_lookup(self, name: str, node: BookingLookupNode) -> _Step:
        bookings = self.ports.bookings
        assert bookings is not None
        id_number = self.state.variables[node.id_from]
        code = self.state.variables[node.code_from]
        booking = await bookings.find_booking(self.call, id_number, code)
        if booking is None:
            await self._say(node.not_found_prompt)
            return _Step(node.not_found, outcome="not_found")
        await self._say_text(booking.speech)
        self.served = True
        details = {"reference": booking.reference, "cancellable": booking.cancellable}
        return _Step(node.found, outcome="found", details=details)

    async def _booking_cancel(self, name: str, node: BookingCancelNode) -> _Step:
        bookings = self.ports.bookings
        assert bookings is not None
        id_number = self.state.variables[node.id_from]
        code = self.state.variables[node.code_from]
        result = await bookings.cancel_booking(self.call, id_number, code)
        if result.cancelled:
            await self._say(node.done_prompt)
            self.served = True
            return _Step(node.next, outcome="cancelled")
        await self._say(node.refused_prompt)
        if result.reason:
            await self._say_text(result.reason)
        return _Step(node.next, outcome="refused", details={"reason": result.reason})

    async def _hangup(self, name: str, node: HangupNode) -> _Step:
        await self._say(node.prompt)
        return _Step(None, outcome="hangup")
