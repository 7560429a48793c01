"""The desk's collaborators, built once in the composition root and reached through ``Desk``.

Redis clients for asyncio (ACD store, live events) are opened per use: the app may be driven
by several event loops (uvicorn, test clients), and an asyncio connection must not outlive
the loop that opened it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis
from sqlalchemy.orm import Session, sessionmaker

from agent_desk.auth.policy import LockoutPolicy, parse_allowlist
from agent_desk.auth.service import AuthService
from agent_desk.auth.sessions import SessionStore
from backend.booking.context import BookingContext
from backend.booking.service import BookingService
from backend.errors import ServiceUnavailable
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.phones import AgentPhones
from ivr.acd.policy import SkillConfig
from ivr.acd.skills import skill_configs
from ivr.acd.store import AcdStore
from ivr.ami.client import AmiClient, AmiError
from ivr.flows.schema import Flow
from ivr.prompts import production_flows

STATIC_DIR = Path(__file__).resolve().parent / "static"
AMI_CONNECT_SECONDS = 3.0


@dataclass
class Desk:
    settings: Settings
    factory: sessionmaker[Session]
    redis: redis.Redis
    auth: AuthService
    phones: AgentPhones
    ami: AmiClient | None = None
    _ami_lock: asyncio.Lock | None = field(default=None, repr=False)
    _opened_ami: AmiClient | None = field(default=None, repr=False)  # the desk's own, to close
    _booking: BookingService | None = field(default=None, repr=False)
    _flows: dict[str, Flow] | None = field(default=None, repr=False)

    def ivr_labels(self, line: str, nodes: list[str]) -> list[str]:
        """A call's IVR path as agents read it: the flow's Chinese names of its nodes."""
        if self._flows is None:
            self._flows = production_flows(self.settings)
        flow = self._flows.get(line)
        return [flow.label(node) for node in nodes] if flow else nodes

    def booking(self) -> BookingService:
        """The booking service (phone channel), built on first use."""
        if self._booking is None:
            self._booking = BookingService(
                self.factory, BookingContext.from_settings(self.settings)
            )
        return self._booking

    @property
    def prefix(self) -> str:
        return self.settings.desk_redis_prefix

    @property
    def admin_networks(self) -> list[Any]:
        return parse_allowlist(self.settings.admin_ip_allowlist)

    def skill_configs(self) -> list[SkillConfig]:
        return skill_configs(self.factory)

    def async_redis(self) -> aioredis.Redis:
        return aioredis.Redis.from_url(self.settings.redis_url, decode_responses=True)

    @asynccontextmanager
    async def acd(self) -> AsyncIterator[AcdStore]:
        skills = await asyncio.to_thread(self.skill_configs)
        client = self.async_redis()
        try:
            yield AcdStore(client, self.prefix, skills, controller_id="desk")
        finally:
            await client.aclose()  # type: ignore[attr-defined]

    async def ami_client(self) -> AmiClient:
        """The desk's own AMI connection, opened on first use (call control, listening)."""
        if self._ami_lock is None:
            self._ami_lock = asyncio.Lock()
        async with self._ami_lock:
            if self.ami is None:
                # Only actions are sent; the one event awaited is the reply to an asynchronous
                # Originate. Asterisk is asked for no other, so that no worker parses every
                # call event of the switch.
                client = AmiClient(self.settings, only_events=("OriginateResponse",))
                try:
                    await client.connect(timeout=AMI_CONNECT_SECONDS)
                except AmiError:
                    raise ServiceUnavailable("电话系统暂时无法连接，请稍后再试") from None
                self.ami = self._opened_ami = client
        return self.ami

    def close_ami(self) -> None:
        """Close the AMI connection the desk opened (one handed to it is its giver's)."""
        if self._opened_ami is not None:
            self._opened_ami.close()
            self.ami = self._opened_ami = None


def build_desk(
    settings: Settings,
    factory: sessionmaker[Session],
    client: redis.Redis,
    *,
    ami: AmiClient | None = None,
) -> Desk:
    sessions = SessionStore(client, settings.desk_redis_prefix, settings.session_minutes)
    lockout = LockoutPolicy(settings.lockout_threshold, settings.lockout_minutes)
    phones = AgentPhones(
        PersonalDataCipher(settings.data_key.get_secret_value()), settings.sip_realm
    )
    auth = AuthService(factory, sessions, lockout)
    return Desk(settings, factory, client, auth, phones, ami=ami)
