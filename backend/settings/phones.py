"""The agents' phones: SIP (and SIP over TLS) on Asterisk, the networks phones may use, the
digest realm, and where the browser softphone connects."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from backend.errors import ConfigError
from backend.settings.addresses import CidrList
from backend.settings.asterisk import AsteriskSettings
from backend.settings.base import require_together


class PhoneSettings(AsteriskSettings):
    sip_bind: str = "127.0.0.1"
    sip_port: int = Field(default=5060, ge=1, le=65535)
    # SIP over TLS for desk phones (on CC_SIP_BIND): the port, and the certificate (chain)
    # and private key as PEM files as Asterisk sees them (inside its root or container).
    # Without a certificate there is no TLS transport. A phone that registers over TLS may
    # offer SRTP (SDES): its keys then never cross the network in clear.
    sip_tls_port: int = Field(default=5061, ge=1, le=65535)
    sip_tls_cert: str = ""
    sip_tls_key: str = ""
    # Agent phones (PJSIP endpoints provisioned in PostgreSQL): the networks they may register
    # and call from (comma-separated CIDRs; Asterisk's named ACL "agent-phones"), and the digest
    # realm their secrets are hashed with. Changing the realm needs every secret rotated.
    phone_permit: CidrList = "127.0.0.1/32"
    sip_realm: str = "callcenter"
    # What the browser softphone connects to and the SIP domain of its URI; empty means
    # Asterisk's own WS (or, with a certificate, WSS) listener and CC_SIP_BIND. Set them to the
    # public names when a proxy or another address stands in front of Asterisk.
    phone_ws_url: str = ""
    phone_domain: str = ""

    @field_validator("phone_ws_url")
    @classmethod
    def _websocket_url(cls, value: str) -> str:
        if value and not value.startswith(("ws://", "wss://")):
            raise ValueError("must be a ws:// or wss:// URL")
        return value

    @field_validator("sip_realm")
    @classmethod
    def _realm(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "-_." for c in value):
            raise ValueError("may only contain letters, digits, '-', '_' and '.'")
        return value

    @model_validator(mode="after")
    def _sip_tls_agrees(self) -> PhoneSettings:
        require_together(self, "sip_tls_cert", "sip_tls_key")
        if self.sip_tls and self.sip_tls_port == self.sip_port:
            raise ConfigError("sip_tls_port", "must differ from CC_SIP_PORT (UDP/TCP SIP)")
        return self

    @property
    def sip_tls(self) -> bool:
        """Whether Asterisk offers SIP over TLS (desk phones) with the configured certificate."""
        return bool(self.sip_tls_cert)

    @property
    def effective_phone_ws_url(self) -> str:
        if self.phone_ws_url:
            return self.phone_ws_url
        if self.asterisk_tls:
            return f"wss://{self.asterisk_http_bind}:{self.asterisk_https_port}/ws"
        return f"ws://{self.asterisk_http_bind}:{self.asterisk_http_port}/ws"

    @property
    def effective_phone_domain(self) -> str:
        return self.phone_domain or self.sip_bind
