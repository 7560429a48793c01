"""Everything outbound calls need in a controller process, built in one place for the
composition root: the ``outbound`` AGI route and the callback tasks' feeder."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.orm import Session, sessionmaker

from backend import events
from backend.errors import ConfigError
from backend.holiday_calendar.live import live_calendar
from backend.lines import LINES
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.dial_requests import DialRequests
from ivr.acd.service import AcdService
from ivr.call_lifecycle import CallLifecycle
from ivr.flows.ports import PromptRenderer, SystemClock
from ivr.outbound.callback_tasks import CallbackTaskFeeder, SqlCallbackTasks
from ivr.outbound.records import OutboundRecords
from ivr.outbound.route import OutboundRoute, OutboundSettings
from recordings.index import RecordingIndex


@dataclass
class OutboundService:
    route: OutboundRoute
    feeder: CallbackTaskFeeder


def check_callback_skills(settings: Settings, configured: set[str]) -> None:
    """Every line's callback skill must exist, or its callbacks would wait for nobody."""
    for line, skill in settings.callback_skill_of_line.items():
        if skill not in configured:
            raise ConfigError("callback_skills", f"line {line}: no skill {skill!r} is configured")


def build_outbound(
    settings: Settings,
    session_factory: sessionmaker[Session],
    redis: Redis,
    acd: AcdService,
    tasks: SqlCallbackTasks,
    lifecycle: CallLifecycle,
    renderer: PromptRenderer,
) -> OutboundService:
    """``redis`` must decode responses; ``tasks`` is also the ACD's callback observer."""
    cipher = PersonalDataCipher.of(settings)
    prefix = settings.desk_redis_prefix

    async def publish(event: object) -> None:
        await events.publish_async(redis, event, prefix)

    route = OutboundRoute(
        acd.store,
        DialRequests(redis, prefix, cipher),
        OutboundRecords(session_factory, settings),
        RecordingIndex(session_factory, settings),
        lifecycle,
        renderer,
        OutboundSettings(
            recordings_dir=settings.effective_asterisk_recordings_dir,
            dial_template=settings.callback_dial_template,
            policy=settings.dial_policy,
            caller_ids=settings.caller_id,
            ring_seconds=settings.outbound_ring_seconds,
            wrapup_seconds=settings.outbound_wrapup_seconds,
        ),
        answers=acd.answers,
        publish=publish,
        kick=acd.dispatcher.kick,
    )
    feeder = CallbackTaskFeeder(
        acd.store,
        tasks,
        hours={spec.code: spec.hours for spec in LINES},
        skills=settings.callback_skill_of_line,
        calendar=live_calendar(session_factory),
        clock=SystemClock(),
        timezone=settings.timezone,
        kick=acd.dispatcher.kick,
        notices=acd.bookings.notices,  # a booked window that passed is a missed callback
    )
    return OutboundService(route, feeder)
