"""Composition root of the call controller: FastAGI server, AMI connection, one flow per line.

Run by `callcenter controller`. Everything is built here from settings and passed in; nothing
is built at import.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from backend.db import make_engine, make_session_factory
from backend.settings import Settings
from backend.workcalendar import WorkCalendar
from ivr.agi.server import AgiServer, Handler
from ivr.agi.session import AgiSession
from ivr.ami.client import AmiClient
from ivr.flows.engine import FlowEngine, FlowPorts
from ivr.flows.loader import load_flows
from ivr.flows.ports import CallInfo, Channel, QueueHandoff, QueueOutcome, QueueStatus
from ivr.journal import SqlCallJournal
from ivr.prompts import PRODUCTION_FLOWS
from ivr.speech.tts import TtsRenderer

log = logging.getLogger("ivr.controller")


class DialplanFallbackQueue:
    """Hands the caller to the dialplan's fallback agents (used until the ACD is wired)."""

    async def enter_queue(
        self, session: Channel, call: CallInfo, skill: str, priority: int
    ) -> QueueOutcome:
        assert isinstance(session, AgiSession)
        await session.goto("incoming", "fallback")
        return QueueOutcome(QueueStatus.NO_AGENT)


def call_info(session: AgiSession, line: str) -> CallInfo:
    return CallInfo(
        call_id=session.linked_id,
        unique_id=session.call_id,
        line=line,
        caller_number=session.env.get("callerid", ""),
        did=session.env.get("dnid", "") or session.env.get("extension", ""),
        channel=session.env.get("channel", ""),
    )


def line_handler(engine: FlowEngine, line: str) -> Handler:
    async def handle(session: AgiSession) -> None:
        await engine.run(session, call_info(session, line))

    return handle


def build_engines(settings: Settings, queue: QueueHandoff) -> dict[str, FlowEngine]:
    session_factory = make_session_factory(make_engine(settings))
    ports = FlowPorts(
        renderer=TtsRenderer(settings),
        queue=queue,
        journal=SqlCallJournal(session_factory),
        calendar=WorkCalendar.load(),
    )
    flows = load_flows(names=PRODUCTION_FLOWS)
    return {line: FlowEngine(flow, ports) for line, flow in flows.items()}


async def run_controller(settings: Settings) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(call)s%(message)s"
    )
    _install_call_field()
    ami = AmiClient(settings)
    await ami.connect()
    engines = build_engines(settings, DialplanFallbackQueue())
    server = AgiServer(
        {line: line_handler(engine, line) for line, engine in engines.items()},
        settings.agi_bind,
        settings.agi_port,
    )
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("controller serving lines %s", ", ".join(engines))
    await stop.wait()
    await server.stop()
    ami.close()


def _install_call_field() -> None:
    """Log records carry the call's unique id when the session adapter supplies it."""
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if not hasattr(record, "call"):
            record.call = ""
        elif record.call:
            record.call = f"[{record.call}] "
        return record

    logging.setLogRecordFactory(factory)
