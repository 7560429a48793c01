"""A stack of its own for fault tests: an Asterisk instance, its AMI (tools user) and
`callcenter controller` as a real process that a test may kill -9 and start again, on the
session's database and a Redis prefix of its own."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy.orm import Session, sessionmaker

from backend.acd.model import AgentProfile
from backend.acd.skills import skill_configs
from backend.acd.states import AgentState
from backend.acd.store import AcdStore
from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.settings import Settings, load_settings
from ivr.pbx.instance import AsteriskInstance
from tests.conftest import CALLER_ID_114, CALLER_ID_HOTLINE, DID_114, DID_HOTLINE
from tests.stack_process import stack_environment

FALLBACK_AGENT = "Local/fallback@sim-agent"
_numbers = itertools.count(1)


def fault_stack_environment(
    database_url: str, state_dir: Path, name: str, session: Settings
) -> dict[str, str]:
    """The CC_* variables of a test stack ``name``, shared by this process and its controller."""
    return {
        **stack_environment(database_url, state_dir, name),
        "CC_ENVIRONMENT": "test",
        "CC_ASTERISK_VERBOSE": "3",  # the dialplan's steps in messages.log, as the session's
        "CC_FALLBACK_AGENTS": FALLBACK_AGENT,
        "CC_DID_114": DID_114,
        "CC_DID_HOTLINE": DID_HOTLINE,
        "CC_CALLER_ID_114": CALLER_ID_114,
        "CC_CALLER_ID_HOTLINE": CALLER_ID_HOTLINE,
        "CC_RTP_PORT_START": str(session.rtp_port_start),
        "CC_RTP_PORT_END": str(session.rtp_port_end),
    }


def settings_of(env: dict[str, str]) -> Settings:
    return load_settings(**{k.removeprefix("CC_").lower(): v for k, v in env.items()})


@dataclass
class FaultStack:
    env: dict[str, str]
    settings: Settings
    asterisk: AsteriskInstance
    ami: AmiClient  # the tools user: places simulated calls, sees every event
    store: AcdStore
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    events: list[dict[str, str]] = field(default_factory=list)

    def start_controller(self) -> None:
        self.starts += 1
        with self.log.open("a") as out:
            out.write(f"--- controller start #{self.starts}\n")
            out.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", "callcenter.cli.main", "controller"],
                env={**os.environ, **self.env},
                stdout=out,
                stderr=out,
            )

    async def serving(self, timeout: float = 60.0) -> None:
        """Until the controller started last logs that it serves the lines."""
        marker = f"--- controller start #{self.starts}\n"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            text = self.log.read_text(errors="replace").rsplit(marker, 1)[-1]
            if "serving lines" in text:
                return
            assert self.process is not None and self.process.poll() is None, text[-3000:]
            await asyncio.sleep(0.2)
        raise AssertionError("the controller did not start:\n" + self.log_tail())

    def kill_controller(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop_controller(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def watch(self, pattern: str) -> None:
        self.ami.subscribe(pattern, self.events.append)

    def seen(self, predicate: Callable[[dict[str, str]], bool]) -> list[dict[str, str]]:
        return [e for e in self.events if predicate(e)]

    async def add_agent(self, agent_id: int, skill: str, *, talk: int) -> str:
        """A simulated agent (answers after 0.5 s, talks ``talk`` s), ready for ``skill``."""
        name = f"safe{agent_id}x{next(_numbers)}"
        await self.ami.db_put("simagent", f"{name}/ring", "0.5")
        await self.ami.db_put("simagent", f"{name}/talk", str(talk))
        interface = f"Local/{name}@sim-agent"
        profile = AgentProfile(agent_id, f"9{agent_id:05d}", interface, {skill: 5})
        await self.store.register_agent(profile)
        view = await self.store.agent(agent_id)
        if view is not None and view.status.state != AgentState.READY:
            await self.store.change_state(agent_id, AgentState.READY, actor="test")
        return interface


async def fault_stack(
    env: dict[str, str], log: Path, session_factory: sessionmaker[Session], redis: Redis
) -> FaultStack:
    """Asterisk started and AMI connected; the controller is started by the test."""
    settings = settings_of(env)
    asterisk = AsteriskInstance(settings)
    await asyncio.to_thread(asterisk.start)
    ami = AmiClient(settings, AmiUser.TOOLS)
    await ami.connect(30)
    skills = skill_configs(session_factory)
    store = AcdStore(redis, settings.desk_redis_prefix, skills, controller_id="test")
    return FaultStack(env, settings, asterisk, ami, store, log)
