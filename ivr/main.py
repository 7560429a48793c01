"""Composition root of the call controller: FastAGI server, AMI connection, one flow per line.

Run by `callcenter controller`. Everything is built here from settings and passed in; nothing
is built at import.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from backend.booking.context import BookingContext
from backend.booking.service import BookingService
from backend.db import make_engine, make_session_factory
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.workcalendar import WorkCalendar
from ivr.agi.server import AgiServer, Handler
from ivr.agi.session import AgiSession
from ivr.ami.client import AmiClient
from ivr.call_lifecycle import CallLifecycle
from ivr.callers import SqlCallerDirectory, elderly_by_registration
from ivr.flows.booking_adapter import ServiceBookingLookup
from ivr.flows.call import call_info
from ivr.flows.engine import FlowEngine, FlowPorts
from ivr.flows.loader import load_flows
from ivr.flows.message_adapter import WorkOrderMessageSink
from ivr.flows.ports import CallInfo, Channel, QueueHandoff, QueueOutcome, QueueStatus
from ivr.journal import SqlCallJournal
from ivr.prompts import PRODUCTION_FLOWS
from ivr.speech.asr import VoskRecognizer
from ivr.speech.tts import TtsRenderer
from recordings.index import RecordingIndex

log = logging.getLogger("ivr.controller")


class DialplanFallbackQueue:
    """Hands the caller to the dialplan's fallback agents (used until the ACD is wired)."""

    async def enter_queue(
        self, session: Channel, call: CallInfo, skill: str, priority: int
    ) -> QueueOutcome:
        assert isinstance(session, AgiSession)
        await session.goto("incoming", "fallback")
        return QueueOutcome(QueueStatus.NO_AGENT)


@dataclass(frozen=True)
class Controller:
    engines: dict[str, FlowEngine]
    lifecycle: CallLifecycle

    def handler(self, line: str) -> Handler:
        engine = self.engines[line]

        async def handle(session: AgiSession) -> None:
            call = await call_info(session, line)
            await self.lifecycle.started(session, call)
            try:
                await engine.run(session, call)
            finally:
                await self.lifecycle.ended(call)

        return handle

    def handlers(self) -> dict[str, Handler]:
        return {line: self.handler(line) for line in self.engines}


def build_controller(
    settings: Settings, session_factory: sessionmaker[Session], queue: QueueHandoff
) -> Controller:
    cipher = PersonalDataCipher(settings.data_key.get_secret_value())
    bookings = BookingService(session_factory, BookingContext.from_settings(settings))
    ports = FlowPorts(
        renderer=TtsRenderer(settings),
        queue=queue,
        journal=SqlCallJournal(session_factory),
        calendar=WorkCalendar.load(),
        callers=SqlCallerDirectory(
            session_factory, cipher, elderly_check=elderly_by_registration(cipher)
        ),
        messages=WorkOrderMessageSink(session_factory, settings),
        bookings=ServiceBookingLookup(bookings),
        # The production Mandarin model is a setting; without it menus take keys only.
        speech=VoskRecognizer(settings) if settings.asr_model_path else None,
    )
    flows = load_flows(names=PRODUCTION_FLOWS)
    engines = {line: FlowEngine(flow, ports) for line, flow in flows.items()}
    lifecycle = CallLifecycle(session_factory, RecordingIndex(session_factory, settings), cipher)
    return Controller(engines, lifecycle)


async def run_controller(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    session_factory = make_session_factory(make_engine(settings))
    ami = AmiClient(settings)
    await ami.connect()
    controller = build_controller(settings, session_factory, DialplanFallbackQueue())
    server = AgiServer(controller.handlers(), settings.agi_bind, settings.agi_port)
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("controller serving lines %s", ", ".join(controller.engines))
    await stop.wait()
    await server.stop()
    await controller.lifecycle.drain()
    ami.close()
