"""Callbacks: dialled only when an agent is reserved for them, once per attempt, recorded.

The queue keeps a callback at the place of the call it came from; when the dispatcher picks
it, an agent is already reserved, so there are never more callbacks dialling than free
agents. The agent's phone is rung first (Originate into the ``acd-callback`` dialplan, which
runs our FastAGI script of that name); once he answers, the script records the call and dials
the citizen. Every attempt has a key
claimed once in Redis before the originate: a retried originate never rings anybody twice.
The citizen's number waits in Redis only encrypted; it is decrypted just before the Dial.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from backend.acd.model import Assignment, CallStatus, QueuedCall
from backend.acd.store import AcdStore
from backend.flows.schema import PromptText
from backend.personal_data import PersonalDataCipher
from ivr.acd.answers import AnswerWatch
from ivr.agi.errors import CallHungUp
from ivr.call_lifecycle import RECORDING_VARIABLE, UNRECORDED_VARIABLE
from ivr.flows.ports import PromptRenderer
from recordings.index import RecordingIndex

log = logging.getLogger("ivr.acd")

AGENT_NOTICE = "这是一通回拨电话，正在为您接通来电者。"
SCRIPT = "acd-callback"
# The dialplan that runs SCRIPT on the agent's answered phone (asterisk_conf/extensions.conf).
CALLBACK_CONTEXT = "acd-callback"


class Originator(Protocol):
    async def originate(
        self,
        channel: str,
        *,
        context: str | None = None,
        caller_id: str = "",
        variables: dict[str, str] | None = None,
        timeout_ms: int = 30000,
        action_id: str | None = None,
    ) -> str: ...


class CallbackChannel(Protocol):
    env: dict[str, str]

    async def exec(self, app: str, *args: str, timeout: float = ...) -> int: ...
    async def stream_file(self, sound: str, escape_digits: str = "") -> str | None: ...
    async def get_variable(self, name: str) -> str | None: ...
    async def set_variable(self, name: str, value: str) -> None: ...
    async def hangup(self) -> None: ...


@dataclass(frozen=True)
class CallbackSettings:
    recordings_dir: str  # as Asterisk sees it: settings.effective_asterisk_recordings_dir
    dial_template: str = "PJSIP/{number}@carrier"  # how a citizen's number is dialled
    agent_ring_seconds: int = 15
    citizen_ring_seconds: int = 30
    max_attempts: int = 3
    # The number each line presents to the citizen (line -> caller ID), as its outbound calls.
    caller_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CallbackReport:
    """One callback attempt, for a call record linked to the original call."""

    parent_call_id: str  # the call the caller left the queue from
    unique_id: str  # the agent leg's channel id: the callback's own call id
    attempt_key: str
    agent_id: int
    status: str  # answered | unreached | failed
    started_at: float
    answered_at: float | None
    talk_seconds: float
    recording: str  # path as Asterisk wrote it, "" when nothing was recorded
    ended_at: float
    queue_call_id: str = ""  # the callback's id in the queue, when not the parent's


class CallbackObserver(Protocol):
    async def callback_done(self, report: CallbackReport) -> None: ...


class CallbackObservers:
    """Several observers as one (the call record, and the callback task's work order)."""

    def __init__(self, *observers: CallbackObserver) -> None:
        self._observers = observers

    async def callback_done(self, report: CallbackReport) -> None:
        for observer in self._observers:
            await observer.callback_done(report)


class CallbackDialer:
    def __init__(
        self,
        store: AcdStore,
        originator: Originator,
        renderer: PromptRenderer,
        settings: CallbackSettings,
        cipher: PersonalDataCipher,
        *,
        kick: Callable[[], None] = lambda: None,
        observer: CallbackObserver | None = None,
        answers: AnswerWatch | None = None,
        recordings: RecordingIndex | None = None,
    ) -> None:
        self._store = store
        self._recordings = recordings
        self._finishing: set[asyncio.Task[bool]] = set()
        self._answers = answers
        self._originator = originator
        self._renderer = renderer
        self.settings = settings
        self._cipher = cipher
        self._kick = kick
        self._observer = observer

    def set_kick(self, kick: Callable[[], None]) -> None:
        """Wire the dispatcher built after this dialer (it needs ``start`` first)."""
        self._kick = kick

    async def start(self, assignment: Assignment) -> None:
        """Ring the reserved agent for a picked callback (the Dispatcher's callback starter)."""
        call_id, agent_id = assignment.call_id, assignment.agent_id
        key = await self._store.begin_dial(call_id, agent_id)
        if key is None or not await self._store.claim_dial(key):
            return  # settled meanwhile, or this attempt was already sent
        if not await self._store.ringing(call_id, agent_id):
            return
        await self._originator.originate(
            assignment.interface,
            context=CALLBACK_CONTEXT,
            variables={"CC_CALLBACK_CALL": call_id, "CC_CALLBACK_KEY": key},
            caller_id='"回拨" <callback>',
            timeout_ms=self.settings.agent_ring_seconds * 1000,
            action_id=key,
        )
        # The AGI only starts when the agent answers; if it has not by then, he did not.
        await asyncio.sleep(self.settings.agent_ring_seconds + 3)
        call = await self._store.call(call_id)
        unanswered = (
            call is not None and call.status == CallStatus.RINGING and call.agent_id == agent_id
        )
        if unanswered and await self._store.ring_no_answer(call_id, agent_id):
            log.info("agent %s did not answer callback %s", agent_id, call_id)
            self._kick()

    async def serve(self, session: CallbackChannel) -> None:
        """The ``acd-callback`` AGI script, run on the agent's answered channel."""
        call_id, key = session.env.get("arg_1", ""), session.env.get("arg_2", "")
        call = await self._store.call(call_id)
        started = self._store.now()
        if call is None or call.agent_id is None or not call.callback:
            await session.hangup()
            return
        agent_id = call.agent_id
        if not await self._store.connected(call_id, agent_id):
            await session.hangup()  # given up as unanswered just before he picked up
            return
        unique_id = session.env.get("uniqueid", key)
        recording, own = await self._recording(session, unique_id, started)
        await self._index(unique_id, recording, call.line)
        status, talk, answered_at = await self._talk(session, call, recording if own else "")
        if status == "answered":
            await self._store.call_ended(call_id, agent_id, handle_seconds=talk)
        else:
            after = await self._store.callback_unreached(
                call_id, agent_id, self.settings.max_attempts
            )
            status = "unreached" if after == CallStatus.CALLBACK else "failed"
        self._kick()
        log.info("callback %s attempt %s: %s", call_id, key, status)
        if self._observer is not None:
            await self._observer.callback_done(
                CallbackReport(
                    call.parent or call_id,
                    unique_id,
                    key,
                    agent_id,
                    status,
                    started,
                    answered_at,
                    talk,
                    recording,
                    ended_at=self._store.now(),
                    queue_call_id=call_id,
                )
            )
        await self._recorded(unique_id, recording, call.line, agent_id)

    async def _recording(
        self, session: CallbackChannel, unique_id: str, started: float
    ) -> tuple[str, bool]:
        """(the recording's path as Asterisk writes it, whether this script must start it):
        the dialplan's (``[acd-callback]`` records from the answer, as inbound calls), none
        when it kept the call off file (recordings paused), else one of our own."""
        path = await session.get_variable(RECORDING_VARIABLE)
        if path:
            return path, False
        if await session.get_variable(UNRECORDED_VARIABLE):
            return "", False
        day = datetime.fromtimestamp(started, UTC).strftime("%Y/%m/%d")
        return f"{self.settings.recordings_dir}/{day}/{unique_id}.wav", True

    async def _index(self, call_id: str, recording: str, line: str) -> bool:
        """The callback's recording in the index, linked to its record once that exists."""
        if not recording or self._recordings is None:
            return False
        try:
            await asyncio.to_thread(self._recordings.register, call_id, recording, line, "callback")
        except ValueError as exc:  # a path outside the recordings: say so, keep the call
            log.error("callback %s: recording not indexed: %s", call_id, exc)
            return False
        return True

    async def _recorded(self, call_id: str, recording: str, line: str, agent_id: int) -> None:
        """After the attempt's record is written: its recording linked to it (registered
        again, which links), and completed once Asterisk closes it (not awaited: the channel
        goes only once this conversation is over)."""
        if self._recordings is None or not await self._index(call_id, recording, line):
            return
        finish = self._recordings.finish
        task = asyncio.create_task(asyncio.to_thread(finish, call_id, agent_id, 15.0))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def _talk(
        self, session: CallbackChannel, call: QueuedCall, recording: str
    ) -> tuple[str, float, float | None]:
        """Record (``recording``: a file this script must start), tell the agent, dial the
        citizen: (status, talk seconds, answered at)."""
        status, talk, answered_at = "failed", 0.0, None
        try:
            if recording:
                await session.exec("MixMonitor", recording)
            notice = await self._renderer.sound(
                PromptText("acd/callback-agent", AGENT_NOTICE), elderly=False
            )
            await session.stream_file(notice)
            number = self._cipher.decrypt(call.callback_number_enc)
            target = self.settings.dial_template.format(number=number)
            caller_id = self.settings.caller_ids.get(call.line, "")
            if caller_id:
                await session.set_variable("CALLERID(num)", caller_id)
                await session.set_variable("CALLERID(name)", "")  # not the agent's "回拨"
            channel = session.env.get("channel", "")
            answered = self._answers.expect(channel) if self._answers else None
            dial_started = self._store.now()
            await session.exec("Dial", target, str(self.settings.citizen_ring_seconds))
            dial_status = await session.get_variable("DIALSTATUS") or ""
            if dial_status == "ANSWER":
                answered_at = answered.result().at if answered and answered.done() else dial_started
                talk = max(0.0, self._store.now() - answered_at)
                status = "answered"
        except CallHungUp:
            pass  # the agent hung up: the attempt ends as far as it got
        finally:
            if self._answers:
                self._answers.forget(session.env.get("channel", ""))
        return status, talk, answered_at
