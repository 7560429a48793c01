"""Desk phones over TLS with SRTP, on an Asterisk of their own given a certificate (made
here, self-signed) through CC_SIP_TLS_CERT/CC_SIP_TLS_KEY: two baresip phones register over
TLS and talk over SRTP (SDES keys inside the TLS signalling) — Asterisk says both legs are
secure and each phone hears the other's tone. A plain UDP phone without SRTP still gets its
call from a secure one (SRTP is offered, never forced on a phone that cannot)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backend.ami.client import AmiClient
from backend.ami.users import AmiUser
from backend.settings import Settings
from ivr.pbx import rootfs
from ivr.pbx.instance import AsteriskInstance
from tests.conftest import free_port
from tests.sip.baresip import BaresipPhone
from tests.sip.certificates import self_signed
from tests.sip.tones import band_rms, tone_rms
from tests.sip_fixtures import DeskPhones, running_asterisk, variant_settings

pytestmark = pytest.mark.asterisk

TONE_A, TONE_B = 1500, 700
EMPTY_BAND = (1900, 1980)


@dataclass
class TlsAsterisk:
    settings: Settings
    instance: AsteriskInstance
    ami: AmiClient
    ca: Path  # the certificate the phones trust

    @property
    def tls(self) -> tuple[str, int]:
        return self.settings.sip_bind, self.settings.sip_tls_port

    @property
    def udp(self) -> tuple[str, int]:
        return self.settings.sip_bind, self.settings.sip_port

    async def leg(self, number: str) -> str:
        """The channel of the agent's phone in the call that is up."""
        for line in self.instance.cli("core show channels concise").splitlines():
            if line.startswith(f"PJSIP/{number}-"):
                return line.split("!", 1)[0]
        raise AssertionError(f"no channel of {number}: {self.instance.cli('core show channels')}")

    async def channel_value(self, channel: str, function: str) -> str:
        reply = await self.ami.action("Getvar", Channel=channel, Variable=function)
        return reply.get("Value", "")


@pytest.fixture(scope="module")
async def tls_asterisk(settings: Settings) -> AsyncIterator[TlsAsterisk]:
    """A second instance of the built-in Asterisk, on ports of its own, with a TLS
    transport; it reads the same agents' phones from the same database."""
    rootfs.build(settings.asterisk_root)
    keys_in_chroot = f"/srv/callcenter/{settings.asterisk_instance}-tls/keys"
    cert, key = self_signed(settings.host_path(keys_in_chroot), settings.sip_bind)
    tls_settings = variant_settings(
        settings,
        "tls",
        sip_tls_port=free_port(),
        sip_tls_cert=f"{keys_in_chroot}/{cert.name}",
        sip_tls_key=f"{keys_in_chroot}/{key.name}",
    )
    with running_asterisk(tls_settings) as instance:
        ami = AmiClient(tls_settings, AmiUser.TOOLS)
        try:
            await ami.connect()
            yield TlsAsterisk(tls_settings, instance, ami, cert)
        finally:
            ami.close()


async def talk(caller: BaresipPhone, callee: BaresipPhone) -> None:
    """``caller`` dials ``callee`` (which answers by itself); both are up on return."""
    await caller.dial(callee.number)
    await callee.wait_event("CALL_ESTABLISHED")
    await caller.wait_event("CALL_ESTABLISHED")


def hears(phone: BaresipPhone, hz: float) -> bool:
    heard = phone.heard_wav()
    return tone_rms(heard, hz) > 20 * band_rms(heard, *EMPTY_BAND)


async def test_desk_phones_register_over_tls_and_talk_over_srtp(
    tls_asterisk: TlsAsterisk, desk_phones: DeskPhones
) -> None:
    secure = {"registrar": tls_asterisk.tls, "tls_ca": tls_asterisk.ca, "srtp": True}
    a = (await desk_phones.new_agent(tone_hz=TONE_A, **secure)).phone  # type: ignore[arg-type]
    b = (await desk_phones.new_agent(tone_hz=TONE_B, **secure)).phone  # type: ignore[arg-type]
    for phone in (a, b):
        contact = tls_asterisk.instance.cli(f"pjsip show aor {phone.number}")
        assert ";transport=tls" in contact.lower(), contact

    await talk(a, b)
    for phone in (a, b):
        leg = await tls_asterisk.leg(phone.number)
        assert await tls_asterisk.channel_value(leg, "CHANNEL(pjsip,secure)") == "1"
        assert await tls_asterisk.channel_value(leg, "CHANNEL(rtp,secure)") == "1"
    await asyncio.sleep(2)  # talk: some audio each way, encrypted
    await a.hangup()
    await b.wait_event("CALL_CLOSED")
    assert hears(a, TONE_B) and hears(b, TONE_A)


async def test_a_plain_udp_phone_still_gets_a_call_from_a_secure_one(
    tls_asterisk: TlsAsterisk, desk_phones: DeskPhones
) -> None:
    a = await desk_phones.new_agent(
        tone_hz=TONE_A, registrar=tls_asterisk.tls, tls_ca=tls_asterisk.ca, srtp=True
    )
    plain = await desk_phones.new_agent(tone_hz=TONE_B, registrar=tls_asterisk.udp)
    await talk(a.phone, plain.phone)
    secure_leg = await tls_asterisk.leg(a.number)
    plain_leg = await tls_asterisk.leg(plain.number)
    assert await tls_asterisk.channel_value(secure_leg, "CHANNEL(rtp,secure)") == "1"
    assert await tls_asterisk.channel_value(plain_leg, "CHANNEL(rtp,secure)") == "0"
    assert await tls_asterisk.channel_value(plain_leg, "CHANNEL(pjsip,secure)") == "0"
    await asyncio.sleep(2)
    await plain.phone.hangup()
    await a.phone.wait_event("CALL_CLOSED")
    assert hears(a.phone, TONE_B) and hears(plain.phone, TONE_A)
