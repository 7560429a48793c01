"""The web app's one state: every collaborator a route uses, built once by ``build_state`` in
``create_app`` and kept on ``app.state.app``; routes reach it through ``agent_desk.deps``.

Built once means: settings parsed, the personal-data cipher, the booking and work-order
services' configuration and the admin allow-list are made here, never per request.
Asynchronous clients (asyncpg pool, Redis for asyncio) are the exception: they belong to
the event loop that opened them and the app may be driven by several loops (uvicorn, test
clients), so they are made per loop (``agent_desk.aio``) or per use (``acd``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import redis
import redis.asyncio as aioredis
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

from agent_desk.auth.enrolment import EnrolmentLinks
from agent_desk.auth.password_history import PasswordRules
from agent_desk.auth.policy import LockoutPolicy, parse_allowlist
from agent_desk.auth.service import AuthService
from agent_desk.auth.sessions import SessionStore
from agent_desk.auth.throttle import LoginThrottle
from agent_desk.auth.totp import UsedSteps
from backend.acd.skills import skill_configs
from backend.acd.store import AcdStore
from backend.ami.client import AmiClient, AmiError
from backend.ami.users import AmiUser
from backend.booking.api_config import BookingApiConfig
from backend.booking.context import BookingContext
from backend.booking.one_time_codes import OneTimeCodes
from backend.booking.online_accounts import OnlineAccounts
from backend.booking.service import BookingService
from backend.errors import ServiceUnavailable
from backend.flows.prompts import production_flows
from backend.flows.schema import Flow
from backend.knowledge.service import KnowledgeSearch
from backend.localtime import zone
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.sms import SmsGateway
from backend.sms.gateways import gateway_from_settings
from backend.telephony.phones import AgentPhones
from backend.workorders.composition import WorkOrders, deadlines_for

AMI_CONNECT_SECONDS = 3.0
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class AppState:
    settings: Settings
    session_factory: sessionmaker[Session]
    redis: redis.Redis  # synchronous: sessions, the live feed's publisher
    cipher: PersonalDataCipher
    auth: AuthService
    phones: AgentPhones
    admin_networks: list[Network]
    knowledge_search: KnowledgeSearch
    booking_api: BookingApiConfig  # CC_BOOKING_*: the online channel's rules and limits
    online_booking: BookingService  # under booking_api's rules
    online_accounts: OnlineAccounts  # accounts and their patients, by SMS code
    phone_booking: BookingService  # the desk's bookings for callers
    workorders: WorkOrders  # CC_WORKORDER_*; .service(session) per unit of work
    ami: AmiClient | None = None
    # The ACD's clock (epoch seconds): when agents' state changes are stamped, and "now" for
    # live adherence. Tests that check times by hand set it.
    clock: Callable[[], float] = time.time
    # Asynchronous clients (``agent_desk.aio.LoopClients``) by event loop id.
    loop_clients: dict[int, Any] = field(default_factory=dict)
    _ami_lock: asyncio.Lock | None = field(default=None, repr=False)
    _opened_ami: AmiClient | None = field(default=None, repr=False)  # ours, to close
    _flows: dict[str, Flow] | None = field(default=None, repr=False)
    _acd_redis: dict[int, tuple[asyncio.AbstractEventLoop, aioredis.Redis]] = field(
        default_factory=dict, repr=False
    )

    @property
    def tz(self) -> ZoneInfo:
        """The centre's time zone (CC_TIMEZONE): local dates and times on pages and APIs."""
        return zone(self.settings.timezone)

    @property
    def prefix(self) -> str:
        return self.settings.desk_redis_prefix

    def ivr_labels(self, line: str, nodes: list[str]) -> list[str]:
        """A call's IVR path as agents read it: the flow's Chinese names of its nodes."""
        if self._flows is None:
            self._flows = production_flows(self.settings)
        flow = self._flows.get(line)
        return [flow.label(node) for node in nodes] if flow else nodes

    def async_redis(self) -> aioredis.Redis:
        """A new Redis client for the running loop (its owner closes it)."""
        return aioredis.Redis.from_url(self.settings.redis_url, decode_responses=True)

    @asynccontextmanager
    async def acd(self) -> AsyncIterator[AcdStore]:
        """The ACD store on the running loop's Redis client. The skills are read each time:
        one small query, and a skill added under a running desk (a migration, the demo data)
        must be known at once; the controller holds its own copy."""
        skills = await asyncio.to_thread(skill_configs, self.session_factory)
        yield AcdStore(
            self._loop_redis(), self.prefix, skills, controller_id="desk", clock=self.clock
        )

    def _loop_redis(self) -> aioredis.Redis:
        """The running loop's pooled asyncio Redis client, made on first use (an asyncio
        connection must not outlive the loop that opened it)."""
        loop = asyncio.get_running_loop()
        held = self._acd_redis.get(id(loop))
        if held is None:
            # The loop is held with its client, so that its id cannot be reused meanwhile.
            held = self._acd_redis[id(loop)] = (loop, self.async_redis())
        return held[1]

    async def close_loop_redis(self) -> None:
        """Close the running loop's client (the app's lifespan, as it stops)."""
        held = self._acd_redis.pop(id(asyncio.get_running_loop()), None)
        if held is not None:
            await held[1].aclose()  # type: ignore[attr-defined]

    async def ami_client(self) -> AmiClient:
        """The desk's own AMI connection, opened on first use (call control, listening)."""
        if self._ami_lock is None:
            self._ami_lock = asyncio.Lock()
        async with self._ami_lock:
            if self.ami is None:
                # Only actions are sent; the one event awaited is the reply to an asynchronous
                # Originate. Asterisk is asked for no other, so that no worker parses every
                # call event of the switch.
                client = AmiClient(self.settings, AmiUser.DESK, only_events=("OriginateResponse",))
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


def build_state(
    settings: Settings,
    session_factory: sessionmaker[Session],
    client: redis.Redis,
    *,
    ami: AmiClient | None = None,
    booking_api: BookingApiConfig | None = None,
    sms: SmsGateway | None = None,
) -> AppState:
    """``booking_api``: the settings' (``CC_BOOKING_*``) unless given; ``sms``: the gateway
    ``CC_SMS_GATEWAY`` names unless given."""
    cipher = PersonalDataCipher.of(settings)
    sessions = SessionStore(client, settings.desk_redis_prefix, settings.session_minutes)
    lockout = LockoutPolicy(settings.lockout_threshold, settings.lockout_minutes)
    throttle = LoginThrottle(
        client,
        settings.desk_redis_prefix,
        per_address=settings.login_throttle_per_address,
        per_username=settings.login_throttle_per_username,
        window_seconds=settings.login_throttle_window_seconds,
    )
    booking_api = booking_api or BookingApiConfig.from_settings(settings)
    online_ctx = BookingContext.from_settings(
        settings, booking_api.rules, session_factory=session_factory
    )
    codes = OneTimeCodes(
        client,
        booking_api.redis_prefix,
        booking_api.rules,
        cipher.lookup_hash,
        sms or gateway_from_settings(settings, client),
    )
    return AppState(
        settings=settings,
        session_factory=session_factory,
        redis=client,
        cipher=cipher,
        auth=AuthService(
            session_factory,
            sessions,
            lockout,
            throttle,
            UsedSteps(client, settings.desk_redis_prefix),
            EnrolmentLinks(client, settings.desk_redis_prefix),
            cipher=cipher,
            rules=PasswordRules(settings.password_max_age_days, settings.password_history),
            timezone=settings.timezone,
        ),
        phones=AgentPhones(cipher, settings.sip_realm),
        admin_networks=parse_allowlist(settings.admin_ip_allowlist),
        # An edit refreshes the index of the process that made it at once; with several desk
        # processes the others must look at every search, or one could answer from before the
        # edit for up to a second (the check is one small aggregate query).
        knowledge_search=KnowledgeSearch(check_every=1.0 if settings.desk_workers == 1 else 0.0),
        booking_api=booking_api,
        online_booking=BookingService(session_factory, online_ctx),
        online_accounts=OnlineAccounts(session_factory, online_ctx, codes),
        phone_booking=BookingService(
            session_factory, BookingContext.from_settings(settings, session_factory=session_factory)
        ),
        workorders=WorkOrders(cipher, deadlines_for(settings, session_factory)),
        ami=ami,
    )


def state_of(conn: HTTPConnection) -> AppState:
    state: AppState = conn.app.state.app
    return state
