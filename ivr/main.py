"""Composition root of the call controller: FastAGI server, AMI connection, one flow per line.

Run by `callcenter controller`. Everything is built here from settings and passed in; nothing
is built at import.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket

import redis as redis_sync
import redis.asyncio as aioredis
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.skills import skill_configs
from backend.alerts import SystemAlerts
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.booking.context import BookingContext
from backend.booking.service import BookingService
from backend.db import make_engine, make_session_factory
from backend.errors import ConfigError
from backend.flows.prompts import overrides_version, production_flows
from backend.holiday_calendar.live import live_calendar
from backend.localtime import zone
from backend.notifications.callbacks import OutboxCallbackNotices
from backend.notifications.requests import SmsRequests, SmsResendLimits
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.speech.tts import TtsRenderer
from backend.supervision import HealthFile, Supervisor
from backend.telephony.callback_gate import CallbackGate
from ivr.acd.service import AcdService, build_acd
from ivr.agi.server import AgiServer, Handler
from ivr.agi.session import AgiSession
from ivr.call_lifecycle import CallLifecycle
from ivr.callers import SqlCallerDirectory, elderly_by_registration
from ivr.disk_watch import DiskWatch, postgres_data_dir
from ivr.flows.booking_adapter import ServiceBookingLookup
from ivr.flows.call import call_info
from ivr.flows.emergency_adapter import SqlEmergencyBoard
from ivr.flows.engine import FlowEngine
from ivr.flows.message_adapter import WorkOrderMessageSink
from ivr.flows.ports import Clock, FlowPorts, QueueHandoff, SystemClock
from ivr.journal import SqlCallJournal
from ivr.live_metrics import refresh_live_metrics, serve_controller_metrics
from ivr.outbound.callback_tasks import SqlCallbackTasks
from ivr.outbound.route import OUTBOUND_SCRIPT
from ivr.outbound.service import OutboundService, build_outbound, check_callback_skills
from ivr.record_spool import RecordSpool, spool_path
from ivr.resync.cards import CardSettler
from ivr.resync.reconciler import Reconciler
from ivr.resync.records import SqlOpenCalls
from ivr.resync.sessions import SessionRegistry
from ivr.speech.asr import VoskRecognizer
from ivr.speech.installed import installed_model
from ivr.transfer import TRANSFER_SCRIPT, TransferHandler
from recordings.index import RecordingIndex

log = logging.getLogger("ivr.controller")


class Controller:
    """One flow engine per line, rebuilt when an administrator edits a prompt text."""

    def __init__(self, settings: Settings, ports: FlowPorts, lifecycle: CallLifecycle) -> None:
        self._settings = settings
        self._ports = ports
        self.lifecycle = lifecycle
        self._version: tuple[int, int, int] | None = None
        self.engines: dict[str, FlowEngine] = {}
        self.refresh()

    def refresh(self) -> None:
        version = overrides_version(self._settings)
        if version != self._version:
            flows = production_flows(self._settings)
            self.engines = {
                line: FlowEngine(flow, self._ports, timezone=self._settings.timezone)
                for line, flow in flows.items()
            }
            self._version = version

    def handler(self, line: str) -> Handler:
        async def handle(session: AgiSession) -> None:
            self.refresh()  # one stat() per call: edited prompts reach the next caller
            call = await call_info(session, line)
            try:  # the record is closed even when the start failed half-way
                await self.lifecycle.started(session, call)
                await self.engines[line].run(session, call)
            finally:
                await self.lifecycle.ended(call)

        return handle

    def handlers(self) -> dict[str, Handler]:
        return {line: self.handler(line) for line in self.engines}


def build_controller(
    settings: Settings,
    session_factory: sessionmaker[Session],
    queue: QueueHandoff,
    *,
    renderer: TtsRenderer | None = None,
    clock: Clock | None = None,
    callbacks: CallbackGate | None = None,
) -> Controller:
    """The controller's flows and their ports; ``clock`` (the system's by default) decides
    opening hours, so a test can call the hotline at a chosen time; ``callbacks``: the ACD's
    callback gate (one from the settings when not given)."""
    cipher = PersonalDataCipher.of(settings)
    bookings = BookingService(
        session_factory, BookingContext.from_settings(settings, session_factory=session_factory)
    )
    ports = FlowPorts(
        renderer=renderer or TtsRenderer(settings),
        queue=queue,
        journal=SqlCallJournal(session_factory),
        calendar=live_calendar(session_factory),
        callers=SqlCallerDirectory(
            session_factory,
            cipher,
            elderly_check=elderly_by_registration(cipher, timezone=settings.timezone),
        ),
        messages=WorkOrderMessageSink(
            session_factory,
            settings,
            callbacks or CallbackGate.from_settings(settings, session_factory),
        ),
        bookings=ServiceBookingLookup(
            bookings, SmsRequests(session_factory, bookings.ctx, SmsResendLimits.of(settings))
        ),
        # The production Mandarin model (CC_ASR_MODEL_PATH or `callcenter asr install`);
        # without it menus take keys only and nobody is asked to speak.
        speech=VoskRecognizer(settings, model) if (model := installed_model(settings)) else None,
        clock=clock or SystemClock(),
        emergency=SqlEmergencyBoard(session_factory, clock),
    )
    recordings = RecordingIndex(session_factory, settings)
    spool_file = spool_path(settings.state_dir)
    lifecycle = CallLifecycle(session_factory, recordings, cipher, spool_file)
    return Controller(settings, ports, lifecycle)


def check_flow_skills(engines: dict[str, FlowEngine], configured: set[str]) -> None:
    """Every skill a flow queues to must exist, or its callers would wait for nobody."""
    for line, engine in engines.items():
        for node_id, node in engine.flow.nodes.items():
            skill = getattr(node, "skill", None)
            if skill and skill not in configured:
                raise ConfigError(
                    f"flow {line}",
                    f"node {node_id} queues to skill {skill!r}, which is not configured",
                )


def controller_id(settings: Settings) -> str:
    """Stable across restarts of the same controller: its earlier calls are released on start."""
    return f"{socket.gethostname()}:{settings.agi_port}"


def agi_server(
    settings: Settings,
    controller: Controller,
    acd: AcdService,
    transfer: TransferHandler,
    outbound: OutboundService,
    sessions: SessionRegistry | None = None,
) -> AgiServer:
    """The FastAGI server with every script the controller answers: each line's flow, the
    ACD's routes, transfers and outbound calls; ``sessions`` hears of every conversation."""
    routes: dict[str, Handler] = {
        **controller.handlers(),
        **acd.agi_routes(),
        TRANSFER_SCRIPT: transfer,
        OUTBOUND_SCRIPT: outbound.route,
    }
    return AgiServer(
        routes, settings.agi_bind, settings.agi_port, permit=settings.agi_peers, sessions=sessions
    )


def disk_watch(settings: Settings, session_factory: sessionmaker[Session]) -> DiskWatch:
    alerts = SystemAlerts(
        redis_sync.Redis.from_url(settings.redis_url, decode_responses=True),
        settings.desk_redis_prefix,
    )
    return DiskWatch(settings, alerts, postgres_data_dir(settings, session_factory))


def supervise_loops(
    supervisor: Supervisor,
    settings: Settings,
    acd: AcdService,
    outbound: OutboundService,
    resync: Reconciler,
    watch: DiskWatch,
    spool: RecordSpool,
    stop: asyncio.Event,
) -> None:
    """The controller's background loops, each restarted when it fails; their health in
    <CC_STATE_DIR>/health/controller.json (``callcenter status``)."""
    supervisor.start("dispatcher", lambda: acd.dispatcher.run(stop), stop)
    supervisor.start("agent-history", lambda: acd.history.run(stop), stop)
    supervisor.start("skill-watch", lambda: acd.skill_watch.run(stop), stop)
    supervisor.start("outbound-feeder", lambda: outbound.feeder.run(stop), stop)
    supervisor.start("resync", lambda: resync.run(stop), stop)
    supervisor.start("disk-watch", lambda: watch.run(stop), stop)
    # Call records kept while PostgreSQL was unavailable, written once it is back.
    supervisor.start("record-spool", lambda: spool.run(stop), stop)
    health = HealthFile(supervisor, settings.state_dir)
    supervisor.start("health", lambda: health.run(stop), stop)


def stop_on_signals() -> asyncio.Event:
    """An event SIGTERM or SIGINT sets: the controller's cue to finish its calls and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_controller(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    session_factory = make_session_factory(make_engine(settings))
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    supervisor = Supervisor("controller")
    # Kept up in the background, reconnecting for ever: the controller serves calls (FastAGI)
    # while Asterisk is down or restarting, and was started after it, as the chaos loop does.
    ami = AmiClient(settings, AmiUser.CONTROLLER, health=supervisor.track("ami"))
    ami.start()
    skills = skill_configs(session_factory)
    check_callback_skills(settings, {s.code for s in skills})
    renderer = TtsRenderer(settings)
    recordings = RecordingIndex(session_factory, settings)
    tasks = SqlCallbackTasks(session_factory, settings, recordings)
    acd = build_acd(
        settings,
        redis,
        session_factory,
        ami,
        renderer,
        skills,
        controller_id=controller_id(settings),
        callback_dial_template=settings.callback_dial_template,
        caller_ids=settings.caller_id,
        callback_observer=tasks,
        supervisor=supervisor,
        callback_notices=OutboxCallbackNotices(session_factory, zone(settings.timezone)),
    )
    controller = build_controller(
        settings, session_factory, acd.queue, renderer=renderer, callbacks=acd.callback_gate
    )
    check_flow_skills(controller.engines, {s.code for s in skills})
    transfer = TransferHandler(acd.queue, session_factory, {s.code for s in skills})
    outbound = build_outbound(
        settings, session_factory, redis, acd, tasks, controller.lifecycle, renderer
    )
    sessions = SessionRegistry(redis, acd.store)
    await sessions.clear()  # the conversations of this controller's previous run are gone
    server = agi_server(settings, controller, acd, transfer, outbound, sessions)
    stop = stop_on_signals()
    cards = CardSettler(session_factory, recordings, PersonalDataCipher.of(settings))
    open_calls = SqlOpenCalls(session_factory, recordings)
    resync = Reconciler(ami, acd.store, open_calls, sessions, cards=cards)
    ami.on_resync(resync.resynced)
    supervise_loops(
        supervisor,
        settings,
        acd,
        outbound,
        resync,
        disk_watch(settings, session_factory),
        controller.lifecycle.spool,
        stop,
    )
    serve_controller_metrics(settings)
    supervisor.start("live-metrics", lambda: refresh_live_metrics(acd.store, stop), stop)
    await acd.dispatcher.ready.wait()  # earlier calls released before new ones come in
    await server.start()
    log.info(
        "controller %s serving lines %s (pid %d)",
        controller_id(settings),
        ", ".join(controller.engines),
        os.getpid(),
    )
    await stop.wait()
    await server.stop()
    await supervisor.wait()
    await controller.lifecycle.drain()
    ami.close()
    await redis.aclose()  # type: ignore[attr-defined]
