"""The ``outbound`` AGI script: a number dialled from an agent's phone, or by the desk for him.

Two ways in, one route:

* the phone dials (``[agents]`` sends every number to ``AGI(${CONTROLLER}/outbound)``): the
  agent is the phone's PJSIP endpoint, the number the dialled extension, the line his own;
* the desk asks (dial box, 回访 of a work order, a callback task previewed): it stores a
  ``DialRequest`` and rings the agent's phone into ``outbound,<token>``; the request says
  who, which number and line, and what the call is for.

Then: the dial policy (a refusal is spoken to the agent, answered with SIP 403 on a phone
that is still ringing out, shown on his desk, and kept on record); the agent goes on the call
in the ACD at once, so no inbound call is offered to him meanwhile; the call is recorded like
an inbound one (MixMonitor, indexed by ``recordings/``) and gets its call record (direction
outbound, the number protected as callers' are); the line's caller ID is presented and the
carrier is dialled. When it ends: the result on the record, the agent to wrap-up, and for a
回访 or a callback task the result on the work order, an answered call linked with its
recording. Any failure ends in the dialplan's ``outbound-failed`` context, never in the
inbound fallback (which would ring the fallback agents).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from backend.acd.states import CannotDialOut
from backend.acd.store import AcdStore
from backend.errors import CallCenterError, NotFound
from backend.events import OutboundRefused
from backend.flows.schema import PromptText
from backend.models.calls import Disposition
from backend.personal_data import normalize_number
from backend.telephony.dial_policy import DialPolicy, DialRefused
from backend.telephony.dial_requests import DialRequest, DialRequests, Purpose
from backend.workorders.calls import CallAttempt
from ivr.acd.answers import Answered, AnswerWatch
from ivr.agi.errors import AgiError, CallHungUp
from ivr.agi.session import AgiSession
from ivr.call_lifecycle import RECORDING_VARIABLE, UNRECORDED_VARIABLE, CallLifecycle
from ivr.flows.ports import CallInfo, PromptRenderer
from ivr.outbound.records import AgentPhone, OutboundCall, OutboundRecords, OutboundResult
from recordings.index import RecordingIndex
from recordings.pause import DISK_FULL, recordings_paused

log = logging.getLogger("ivr.outbound")

OUTBOUND_SCRIPT = "outbound"
FAILED_CONTEXT = ("outbound-failed", "s")
VAR_ENDPOINT = "CHANNEL(endpoint)"
# Hangup cause 21 (call rejected): chan_pjsip answers a phone still dialling with 403.
REJECTED_CAUSE = "21"

DIAL_RESULTS: dict[str, Disposition] = {
    "ANSWER": Disposition.ANSWERED,
    "NOANSWER": Disposition.NO_ANSWER,
    "BUSY": Disposition.BUSY,
    "CANCEL": Disposition.CANCELLED,
    "CHANUNAVAIL": Disposition.FAILED,
    "CONGESTION": Disposition.FAILED,
}
RESULT_LABELS: dict[Disposition, str] = {
    Disposition.ANSWERED: "已接通",
    Disposition.NO_ANSWER: "无人接听",
    Disposition.BUSY: "对方忙",
    Disposition.FAILED: "无法接通",
    Disposition.CANCELLED: "坐席未等接通即挂断",
}
# Which relation an answered call gets on its work order, by what it was placed for.
ORDER_RELATIONS = {Purpose.REVISIT: "callback"}

EventPublisher = Callable[[object], Awaitable[None]]


class OutboundRefusal(CallCenterError):
    """The call cannot be placed (not an agent's phone, an expired desk request)."""

    code = "outbound-refused"


@dataclass(frozen=True)
class OutboundSettings:
    recordings_dir: str  # as Asterisk sees it: settings.effective_asterisk_recordings_dir
    dial_template: str  # settings.callback_dial_template: how the carrier is reached
    policy: DialPolicy = field(default_factory=DialPolicy)
    caller_ids: Mapping[str, str] = field(default_factory=dict)  # line -> number presented
    ring_seconds: int = 45
    wrapup_seconds: float = 15.0


@dataclass
class _Dialled:
    status: str
    answered: Answered | None
    ended_at: float
    hold_seconds: float


class OutboundRoute:
    def __init__(
        self,
        store: AcdStore,
        requests: DialRequests,
        records: OutboundRecords,
        recordings: RecordingIndex,
        lifecycle: CallLifecycle,
        renderer: PromptRenderer,
        settings: OutboundSettings,
        *,
        answers: AnswerWatch | None = None,
        publish: EventPublisher | None = None,
        kick: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._requests = requests
        self._records = records
        self._recordings = recordings
        self._lifecycle = lifecycle
        self._renderer = renderer
        self.settings = settings
        self._answers = answers
        self._publish = publish
        self._kick = kick

    async def __call__(self, session: AgiSession) -> None:
        try:
            await self._serve(session)
        except CallHungUp:
            raise
        except Exception:
            # Handled here: the server's own fallback is the inbound one.
            log.exception("outbound call %s failed", session.call_id)
            if not session.hung_up:
                with contextlib.suppress(AgiError):
                    await session.goto(*FAILED_CONTEXT)

    async def _serve(self, session: AgiSession) -> None:
        token = session.env.get("arg_1", "")
        from_desk = bool(token)
        agent: AgentPhone | None = None
        try:
            request, agent = await self._who_dials(session, token)
            number = request.number if request else session.env.get("extension", "")
            line = request.line if request else agent.line
            call = await self._planned(session, agent, number, line, request)
        except (OutboundRefusal, DialRefused, CannotDialOut) as refusal:
            await self._refuse(session, refusal, agent, early=not from_desk)
            return
        await self._place(session, call, request)

    async def _who_dials(
        self, session: AgiSession, token: str
    ) -> tuple[DialRequest | None, AgentPhone]:
        if token:
            request = await self._requests.take(token)
            if request is None:
                raise OutboundRefusal("外呼请求已过期，请重新拨打", code="dial-request-expired")
            agent = await self._records.agent_by_id(request.agent_id)
        else:
            request = None
            endpoint = await session.get_variable(VAR_ENDPOINT) or ""
            agent = await self._records.agent_by_number(endpoint) if endpoint else None
        if agent is None:
            raise OutboundRefusal("只有坐席本人的话机可以拨打外线", code="not-an-agent-phone")
        return request, agent

    async def _planned(
        self,
        session: AgiSession,
        agent: AgentPhone,
        number: str,
        line: str,
        request: DialRequest | None,
    ) -> OutboundCall:
        """The call as it will be placed, once the policy allowed it and the agent is on it
        in the ACD; a refused number is kept on record."""
        parent = None
        if request is not None and request.order_id is not None:
            line, parent = await self._records.order_call(request.order_id)
        call_id = session.linked_id
        caller_id = self.settings.caller_ids.get(line, "")
        try:
            target = self.settings.policy.check(number)
        except DialRefused:
            kept = OutboundCall(call_id, agent, line, normalize_number(number), caller_id, parent)
            await self._records.refused(kept)
            await self._refused_recording(session, kept)
            raise
        try:
            await self._store.dial_out(agent.agent_id, call_id)
        except NotFound:  # never signed in since the ACD started: not in its store at all
            raise OutboundRefusal(
                "请先在工作台签入，再拨打外呼电话", code="agent-signed-out"
            ) from None
        return OutboundCall(call_id, agent, line, target.national, caller_id, parent, target.dial)

    async def _place(
        self, session: AgiSession, call: OutboundCall, request: DialRequest | None
    ) -> None:
        started = datetime.now(UTC)
        recording, own = await self._recording(session, started)
        dialled: _Dialled | None = None
        try:
            await self._records.opened(call)
            await self._record(session, call, recording, own=own)
            if call.caller_id:
                await session.set_variable("CALLERID(num)", call.caller_id)
            # No name: the agent's name (or the desk's "外呼 138****8000") is not the citizen's
            # business; the line's number says who calls.
            await session.set_variable("CALLERID(name)", "")
            dialled = await self._dial(session, call)
        finally:
            await self._finish(session, call, request, started, recording, dialled)

    async def _recording(self, session: AgiSession, started: datetime) -> tuple[str, bool]:
        """(the call's recording as Asterisk writes it, whether this script must start it):
        the dialplan's (``[outbound]`` and ``[desk-outbound]`` record from the first second,
        so a refused attempt is on file too), none when it kept the call off file (paused),
        else one of our own, unless recordings are paused."""
        path = await session.get_variable(RECORDING_VARIABLE)
        if path:
            return path, False
        if await session.get_variable(UNRECORDED_VARIABLE):
            return "", False
        if recordings_paused(self._recordings.root):  # the disk is nearly full (ivr/disk_watch)
            return "", False
        day = started.strftime("%Y/%m/%d")
        return f"{self.settings.recordings_dir.rstrip('/')}/{day}/{session.call_id}.wav", True

    async def _record(
        self, session: AgiSession, call: OutboundCall, recording: str, *, own: bool
    ) -> None:
        """Index the call's recording (started here when ``own``); without one (paused),
        flag its record so."""
        if not recording:
            log.warning("outbound call %s not recorded: recordings paused", call.call_id)
            await asyncio.to_thread(self._lifecycle.mark_unrecorded, call.call_id, DISK_FULL)
            return
        await asyncio.to_thread(self._recordings.register, call.call_id, recording, call.line)
        if own:
            await session.exec("MixMonitor", recording)

    async def _refused_recording(self, session: AgiSession, call: OutboundCall) -> None:
        """A refused attempt's recording (the dialplan's: the agent hearing why) indexed
        with its record, and completed once the channel is gone."""
        recording, own = await self._recording(session, datetime.now(UTC))
        if not recording or own:
            return
        await asyncio.to_thread(self._recordings.register, call.call_id, recording, call.line)
        await self._lifecycle.ended(CallInfo(call.call_id, session.call_id, call.line, "", ""))

    async def _dial(self, session: AgiSession, call: OutboundCall) -> _Dialled:
        channel = session.env.get("channel", "")
        answers = self._answers
        answered = answers.expect(channel) if answers else None
        live = asyncio.create_task(self._on_answer(answered, call, channel)) if answered else None
        target = self.settings.dial_template.format(number=call.dial)
        try:
            await session.exec("Dial", target, str(self.settings.ring_seconds))
            status = await session.get_variable("DIALSTATUS") or ""
        except CallHungUp:
            # The agent hung up: during the talk (the normal end) or while it rang.
            status = "ANSWER" if answered is not None and answered.done() else "CANCEL"
        finally:
            if answers:
                answers.forget(channel)
        ended = time.time()
        if live is not None:
            if status == "ANSWER":
                await asyncio.wait([live], timeout=2)
            live.cancel()
        answer = (
            answered.result()
            if answered is not None and answered.done() and not answered.cancelled()
            else None
        )
        hold = answers.untrack((channel, answer.agent_channel)) if answers and answer else 0.0
        if status == "ANSWER" and answer is None:
            log.warning("outbound call %s: no DialEnd event, answer time unknown", call.call_id)
        return _Dialled(status, answer, ended, hold)

    async def _on_answer(
        self, answered: asyncio.Future[Answered], call: OutboundCall, channel: str
    ) -> None:
        """Holds on either leg of the answered call put the agent on hold and back."""
        answer = await answered
        if self._answers:
            # Answered.agent_channel is the dialled leg: here the citizen's.
            channels = (channel, answer.agent_channel)
            self._answers.track(channels, call.call_id, call.agent.agent_id)

    async def _finish(
        self,
        session: AgiSession,
        call: OutboundCall,
        request: DialRequest | None,
        started: datetime,
        recording: str,
        dialled: _Dialled | None,
    ) -> None:
        ended = datetime.now(UTC)
        status = dialled.status if dialled else ""
        disposition = DIAL_RESULTS.get(status, Disposition.FAILED)
        answered_at = None
        talk = hold = 0.0
        if dialled is not None and disposition == Disposition.ANSWERED:
            at = dialled.answered.at if dialled.answered else started.timestamp()
            answered_at = datetime.fromtimestamp(at, UTC)
            hold = dialled.hold_seconds
            talk = max(0.0, dialled.ended_at - at - hold)
        wrapup = self.settings.wrapup_seconds
        result = OutboundResult(disposition, answered_at, ended, talk, hold, wrapup)
        log.info("outbound call %s by agent %s: %s", call.call_id, call.agent.number, disposition)
        try:
            await self._records.closed(call.call_id, result)
        finally:
            await self._store.outbound_ended(call.agent.agent_id, call.call_id, wrapup)
            self._kick()
        await self._lifecycle.ended(
            CallInfo(call.call_id, session.call_id, call.line, "", call.caller_id)
        )
        if request is not None and request.order_id is not None:
            answered = disposition == Disposition.ANSWERED
            attempt = CallAttempt(
                call.call_id,
                ORDER_RELATIONS.get(request.purpose, "follow_up"),
                answered,
                RESULT_LABELS.get(disposition, "无法接通"),
                self._recordings.relative(recording) if answered and recording else "",
            )
            await self._records.call_attempted(request.order_id, attempt, request.actor)

    async def _refuse(
        self,
        session: AgiSession,
        refusal: CallCenterError,
        agent: AgentPhone | None,
        *,
        early: bool,
    ) -> None:
        """Say why, on the phone and on the desk; a phone still dialling gets SIP 403."""
        log.info("outbound call %s refused: %s", session.call_id, refusal.code)
        if agent is not None and self._publish is not None:
            try:
                await self._publish(OutboundRefused(agent.agent_id, refusal.code, refusal.message))
            except Exception:  # the desk's notice is a courtesy; the phone still hears why
                log.exception("could not tell agent %s's desk", agent.number)
        with contextlib.suppress(AgiError):
            if early:
                await session.exec("Progress")  # early media: the message without answering
            sound = await self._renderer.sound(PromptText(None, refusal.message), elderly=False)
            await session.stream_file(sound)
            await session.exec("Hangup", REJECTED_CAUSE)
