"""The FastAGI controller (the IVR): where it listens, which Asterisk nodes may reach it, and
its speech."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from pydantic import Field, field_validator

from backend.settings.addresses import CidrList, IPNetwork, cidr_networks
from backend.settings.base import SettingsGroup

# agi://host:port, the form the dialplan's AGI() takes; a dialplan-special character in a
# host would change the dialplan line it is written into.
AGI_URL = re.compile(r"agi://[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}")


class ControllerSettings(SettingsGroup):
    # Where the controller listens (loopback or a private address, never every interface),
    # the Asterisk nodes that may connect (comma-separated CIDRs; any other peer is
    # disconnected before a byte of it is read), and the address Asterisk dials to reach it.
    agi_bind: str = "127.0.0.1"
    agi_permit: CidrList = "127.0.0.1/32"
    agi_port: int = Field(default=4573, ge=1, le=65535)
    agi_public_host: str = "127.0.0.1"
    # Further controllers (comma-separated agi://host:port), tried in order by the dialplan
    # when the one before is unreachable or its conversation ends without the controller
    # finishing it (killed, socket closed); after the last, the fallback agents.
    agi_backup_urls: str = ""

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

    @field_validator("agi_backup_urls")
    @classmethod
    def _agi_urls(cls, value: str) -> str:
        urls = [part.strip().rstrip("/") for part in value.split(",") if part.strip()]
        for url in urls:
            if not AGI_URL.fullmatch(url):
                raise ValueError(f"{url!r} is not a FastAGI address such as agi://10.1.0.5:4573")
        return ",".join(urls)

    @property
    def agi_backups(self) -> tuple[str, ...]:
        """The backup controllers' FastAGI addresses, in the order Asterisk tries them."""
        return tuple(filter(None, self.agi_backup_urls.split(",")))

    @property
    def agi_peers(self) -> tuple[IPNetwork, ...]:
        """The networks FastAGI connections are accepted from (CC_AGI_PERMIT)."""
        return cidr_networks(self.agi_permit)

    @property
    def agi_url(self) -> str:
        return f"agi://{self.agi_public_host}:{self.agi_port}"
