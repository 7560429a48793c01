"""Fixtures for calls over real SIP: SIPp callers into the DIDs, the SIPp carrier, baresip.

Registered in tests/conftest.py ``pytest_plugins``. The test settings make 127.0.0.30
(``tests.sip.addresses.CARRIER_HOST``) the carrier's address, so:

- ``sip_callers.call(DID_114, keys=[KeyPress("1", at=6)], tone_hz=700, stay=30)`` places a
  SIPp call from the carrier into Asterisk (see ``tests.sip.caller``); ``await
  call.finished()`` reports it. ``sip_callers.call(..., host=STRANGER_HOST)`` calls from an
  address that is not the carrier.
- ``sip_carrier`` is the PSTN behind the trunk (``tests.sip.carrier``): outbound calls to
  ``PJSIP/<number>@carrier`` reach it; ``await sip_carrier.wait_for_call(number)`` tells the
  number and the caller ID it received. Calls to ``CARRIER_BUSY`` get 486, calls to
  ``CARRIER_NO_ANSWER`` ring until cancelled. ``start_carrier(**options)`` starts one with
  other options instead.
- ``tests.sip.rtp_listener.listen(*call.media, seconds=3)`` measures what a caller hears.
- ``variant_settings`` + ``running_asterisk``: a second Asterisk instance with other carrier
  settings (credentials, TCP), beside the session's, served by the session's FastAGI server.
- ``desk_phones.new_agent(tone_hz=1500, auto_answer=True)`` creates an agent with a desk phone
  through the provisioning service (``AgentDirectory``) and registers a baresip phone with
  its secret (``tests.sip.baresip``); it returns a ``DeskAgent`` (id, number, phone).

Every process is stopped when the test ends. A missing ``sipp`` fails the test.
"""

from __future__ import annotations

import itertools
import random
import shutil
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.db import transaction
from backend.personal_data import PersonalDataCipher
from backend.settings import Settings
from backend.telephony.agents import AgentDirectory, AgentDraft
from backend.telephony.phones import AgentPhones
from ivr.pbx.instance import AsteriskInstance
from tests.conftest import free_port
from tests.sip.addresses import CARRIER_HOST
from tests.sip.baresip import BaresipPhone
from tests.sip.caller import SipCaller
from tests.sip.carrier import SipCarrier
from tests.sip.rtp import KeyPress

CARRIER_BUSY = "13900000486"
CARRIER_NO_ANSWER = "13900000408"
_numbering = itertools.count(1)


def variant_settings(settings: Settings, suffix: str, **overrides: object) -> Settings:
    """The session's settings for another Asterisk instance: its own name and ports (SIP,
    AMI, HTTP), the same database, Redis and FastAGI server; ``overrides`` validated as
    ``load_settings`` validates the environment."""
    values = settings.model_dump()
    values.update(
        asterisk_instance=f"{settings.asterisk_instance}-{suffix}",
        ami_port=free_port(),
        sip_port=free_port(),
        asterisk_http_port=free_port(),
        **overrides,
    )
    variant = type(settings).model_validate(values)
    variant.check_carrier()
    return variant


@contextmanager
def running_asterisk(settings: Settings) -> Iterator[AsteriskInstance]:
    """Start an instance for ``settings``; stopped and its directory removed on leaving."""
    instance = AsteriskInstance(settings)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(instance.dir, ignore_errors=True)


class SipCallers:
    """Places SIPp calls into the test's Asterisk; stops them all at the test's end."""

    def __init__(self, settings: Settings, workdir: Path) -> None:
        self.settings = settings
        self.workdir = workdir
        self.calls: list[SipCaller] = []

    def call(
        self,
        did: str,
        *,
        caller_id: str = "13800138000",
        tone_hz: float | None = 700,
        keys: Sequence[KeyPress] = (),
        stay: float = 20.0,
        host: str = CARRIER_HOST,
        sdp: str | None = None,
        headers: Sequence[str] = (),
        credentials: tuple[str, str] | None = None,
        transport: str = "udp",
    ) -> SipCaller:
        call = SipCaller.start(
            self.workdir / f"call-{next(_numbering)}",
            asterisk=(self.settings.sip_bind, self.settings.sip_port),
            local_host=host,
            did=did,
            caller_id=caller_id,
            tone_hz=tone_hz,
            keys=keys,
            stay=stay,
            sdp=sdp,
            headers=headers,
            credentials=credentials,
            transport=transport,
        )
        self.calls.append(call)
        return call

    def stop(self) -> None:
        for call in self.calls:
            call.stop()


@pytest.fixture()
def sip_callers(
    settings: Settings, asterisk: AsteriskInstance, tmp_path: Path
) -> Iterator[SipCallers]:
    callers = SipCallers(settings, tmp_path / "sip")
    yield callers
    callers.stop()


@pytest.fixture()
def start_carrier(
    settings: Settings, asterisk: AsteriskInstance, tmp_path: Path
) -> Iterator[Callable[..., SipCarrier]]:
    """Start the SIPp carrier at the settings' carrier address with the options given."""
    started: list[SipCarrier] = []

    def start(**options: object) -> SipCarrier:
        carrier = SipCarrier.start(
            tmp_path / f"carrier-{len(started) + 1}",
            host=settings.carrier_host,
            port=settings.carrier_port,
            **options,  # type: ignore[arg-type]
        )
        started.append(carrier)
        return carrier

    yield start
    for carrier in started:
        carrier.stop()


@pytest.fixture()
def sip_carrier(start_carrier: Callable[..., SipCarrier]) -> SipCarrier:
    return start_carrier(busy_numbers=[CARRIER_BUSY], silent_numbers=[CARRIER_NO_ANSWER])


@dataclass(frozen=True)
class DeskAgent:
    agent_id: int  # agents.id
    number: str  # 工号, the SIP user name; the ACD dials PJSIP/<number>
    phone: BaresipPhone

    @property
    def interface(self) -> str:
        return f"PJSIP/{self.number}"


@dataclass
class DeskPhones:
    """Agents with desk phones: each created through the provisioning service, its baresip
    registered with the secret the service returned; all stopped at the test's end."""

    settings: Settings
    session_factory: sessionmaker[Session]
    workdir: Path
    phones: list[BaresipPhone]

    async def new_agent(
        self,
        *,
        tone_hz: float = 1500,
        auto_answer: bool = True,
        skills: dict[str, int] | None = None,
        register: bool = True,
        registrar: tuple[str, int] | None = None,
        tls_ca: Path | None = None,
        srtp: bool = False,
        username: str | None = None,
    ) -> DeskAgent:
        """``registrar`` defaults to the session Asterisk's UDP SIP; with ``tls_ca`` the
        phone registers over TLS (``registrar`` is then a TLS port), ``srtp`` offers SRTP;
        ``username``: the desk account the agent signs in with (none by default)."""
        number = str(next(_agent_numbers))
        cipher = PersonalDataCipher(self.settings.data_key.get_secret_value())
        with transaction(self.session_factory) as db:
            directory = AgentDirectory(db, AgentPhones(cipher, self.settings.sip_realm))
            draft = AgentDraft(
                number,
                f"测试坐席{number}",
                team="114",
                skills=skills or {},
                auto_answer=auto_answer,
                username=username,
                phone_kind="desk",
            )
            agent, secret = directory.create(draft)
            agent_id = agent.id
        phone = await BaresipPhone.start(
            self.workdir / f"phone-{number}",
            number=number,
            password=secret,
            registrar=registrar or (self.settings.sip_bind, self.settings.sip_port),
            tone_hz=tone_hz,
            auto_answer=auto_answer,
            tls_ca=tls_ca,
            srtp=srtp,
        )
        self.phones.append(phone)
        if register:
            await phone.registered()
        return DeskAgent(agent_id, number, phone)


# Agent numbers of the desk phones: a block of their own for each run (4 to 6 digits).
_agent_numbers = itertools.count(random.randrange(300, 990) * 100)


@pytest.fixture()
async def desk_phones(
    settings: Settings,
    session_factory: sessionmaker[Session],
    asterisk: AsteriskInstance,
    tmp_path: Path,
) -> AsyncIterator[DeskPhones]:
    phones = DeskPhones(settings, session_factory, tmp_path / "phones", [])
    yield phones
    for phone in phones.phones:
        await phone.stop()
