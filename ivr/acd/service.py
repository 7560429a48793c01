"""Everything the ACD needs in a controller process, built in one place for the composition root.

``build_acd`` wires the store, the routing loop, the caller-side queue, the callback dialer,
the answer watch on AMI, the agent-history writer and the call-record writer. The controller
passes ``service.queue`` to the flows as their ``QueueHandoff``, adds ``service.agi_routes()``
to its FastAGI server and runs ``service.run(stop)`` beside it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.policy import SkillConfig
from backend.acd.skills import skill_configs, sl_thresholds
from backend.acd.store import AcdStore
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.supervision import Supervisor
from backend.telephony.callback_bookings import CallbackBookings, CallbackNotices
from backend.telephony.callback_gate import CallbackGate
from ivr.acd.answers import AnswerWatch, EventSource
from ivr.acd.callbacks import (
    SCRIPT,
    CallbackDialer,
    CallbackObserver,
    CallbackObservers,
    CallbackSettings,
    Originator,
)
from ivr.acd.dispatcher import Dispatcher
from ivr.acd.history import AgentHistoryWriter
from ivr.acd.memberlog import MemberLogWriter
from ivr.acd.metrics import QueueMetrics, QueueObservers
from ivr.acd.queue import AcdQueue
from ivr.acd.queuelog import QueueLogFile
from ivr.acd.rebuild import HeldCalls, Rebuilder
from ivr.acd.records import SqlQueueRecorder
from ivr.acd.skill_watch import SkillWatch, WrapupSeconds
from ivr.acd.waiter import QueueSettings
from ivr.agi.server import Handler
from ivr.flows.ports import PromptRenderer
from recordings.index import RecordingIndex


class Ami(Originator, EventSource, Protocol):
    """The AMI client's part the ACD uses (``backend.ami.client.AmiClient``)."""


@dataclass
class AcdService:
    store: AcdStore
    dispatcher: Dispatcher
    queue: AcdQueue
    callbacks: CallbackDialer
    callback_gate: CallbackGate
    history: AgentHistoryWriter
    answers: AnswerWatch
    bookings: CallbackBookings  # callbacks booked for a half-hour window
    members: MemberLogWriter  # the agents' lines of the queue_log
    skill_watch: SkillWatch  # applies the admin page's skill settings without a restart

    def agi_routes(self) -> dict[str, Handler]:
        return {SCRIPT: self.callbacks.serve}

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(
            self.dispatcher.run(stop), self.history.run(stop), self.members.run(stop)
        )


def build_acd(
    settings: Settings,
    redis: Redis,
    session_factory: sessionmaker[Session],
    ami: Ami,
    renderer: PromptRenderer,
    skills: Sequence[SkillConfig],
    *,
    controller_id: str,
    callback_dial_template: str = "PJSIP/{number}@carrier",
    caller_ids: Mapping[str, str] | None = None,
    callback_observer: CallbackObserver | None = None,
    queue_settings: QueueSettings | None = None,
    callback_notices: CallbackNotices | None = None,
    supervisor: Supervisor | None = None,
) -> AcdService:
    """``redis`` must decode responses; ``controller_id`` must be stable across restarts of
    the same controller (its earlier calls are released when it starts again).
    ``caller_ids``: the number each line presents on callbacks; ``callback_observer`` hears
    of every callback attempt besides the call record (the callback tasks' work orders);
    ``callback_notices`` hears of every callback window booked (SMS); ``supervisor``
    counts the answer watch's failed event handlers in the health."""
    store = AcdStore(redis, settings.desk_redis_prefix, skills, controller_id=controller_id)
    gate = CallbackGate.from_settings(settings, session_factory)
    bookings = CallbackBookings.from_settings(settings, session_factory, notices=callback_notices)
    answers = AnswerWatch(store)
    answers.attach(ami, supervisor.guarded if supervisor else None)
    # Skills edited on the admin page are applied to ``store.skills`` in place (SkillWatch);
    # the records read the wrap-up time through it, so they follow too.
    records = SqlQueueRecorder(session_factory, wrapup_seconds=WrapupSeconds(store.skills))
    skill_watch = SkillWatch(
        redis, settings.desk_redis_prefix, store.skills, lambda: skill_configs(session_factory)
    )
    callbacks = CallbackDialer(
        store,
        ami,
        renderer,
        CallbackSettings(
            recordings_dir=settings.effective_asterisk_recordings_dir,
            dial_template=callback_dial_template,
            caller_ids=dict(caller_ids or {}),
        ),
        PersonalDataCipher.of(settings),
        observer=CallbackObservers(records, callback_observer) if callback_observer else records,
        answers=answers,
        recordings=RecordingIndex(session_factory, settings),
    )
    # Callers waiting on this controller, entered again if Redis comes back empty.
    held = HeldCalls()
    rebuild = Rebuilder(store, held, session_factory)
    dispatcher = Dispatcher(store, start_callback=callbacks.start, rebuild=rebuild)
    callbacks.set_kick(dispatcher.kick)
    # The same story in app_queue's queue_log format, for existing queue reports.
    queue_log = QueueLogFile(settings.state_dir / "queue_log")
    queue = AcdQueue(
        store,
        renderer,
        dispatcher,
        queue_settings,
        callbacks=gate,
        bookings=bookings,
        observer=QueueObservers(records, QueueMetrics(sl_thresholds(session_factory))),
        answers=answers,
        held=held,
        queue_log=queue_log,
    )
    history = AgentHistoryWriter(redis, store.events_key, session_factory, consumer=controller_id)
    members = MemberLogWriter(
        redis, store.events_key, queue_log, group=f"queue-log:{controller_id}"
    )
    return AcdService(
        store, dispatcher, queue, callbacks, gate, history, answers, bookings, members, skill_watch
    )
