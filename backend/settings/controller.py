"""The FastAGI controller (the IVR): where it listens, which Asterisk nodes may reach it, and
its speech."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, field_validator

from backend.settings.addresses import CidrList, IPNetwork, cidr_networks
from backend.settings.base import SettingsGroup


class ControllerSettings(SettingsGroup):
    # Where the controller listens (loopback or a private address, never every interface),
    # the Asterisk nodes that may connect (comma-separated CIDRs; any other peer is
    # disconnected before a byte of it is read), and the address Asterisk dials to reach it.
    agi_bind: str = "127.0.0.1"
    agi_permit: CidrList = "127.0.0.1/32"
    agi_port: int = Field(default=4573, ge=1, le=65535)
    agi_public_host: str = "127.0.0.1"

    # Speech
    tts_voice: str = "cmn"
    asr_model_path: Path | None = None

    @field_validator("agi_bind")
    @classmethod
    def _private_address(cls, value: str) -> str:
        # The controller takes calls from anyone who reaches it: it listens only where the
        # Asterisk nodes are, on loopback or a private network (AGI is plain text).
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address") from None
        if address.is_unspecified or not (address.is_loopback or address.is_private):
            raise ValueError(
                f"{value} is not a loopback or private address: the controller must not "
                "listen on every interface or a public one"
            )
        return value

    @property
    def agi_peers(self) -> tuple[IPNetwork, ...]:
        """The networks FastAGI connections are accepted from (CC_AGI_PERMIT)."""
        return cidr_networks(self.agi_permit)

    @property
    def agi_url(self) -> str:
        return f"agi://{self.agi_public_host}:{self.agi_port}"
