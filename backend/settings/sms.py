"""The SMS gateway (``backend.sms``): the recording fake for development and tests, or a
provider's HTTP interface (``docs/sms-gateway.md``)."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from backend.errors import ConfigError
from backend.settings.base import SettingsGroup


class SmsSettings(SettingsGroup):
    # "fake" records messages in Redis and sends nothing (refused in production).
    sms_gateway: Literal["fake", "http", "smpp", "cmpp"] = "fake"
    sms_fake_redis_prefix: str = "cc:sms:"
    sms_http_url: str = ""
    sms_http_token: SecretStr = SecretStr("")
    sms_http_sign: str = ""  # the registered signature (短信签名) the provider prints
    sms_http_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # A carrier's SMPP 3.4 gateway (backend/sms/smpp_gateway.py).
    sms_smpp_host: str = ""
    sms_smpp_port: int = Field(default=2775, ge=1, le=65535)
    sms_smpp_system_id: str = ""
    sms_smpp_password: SecretStr = SecretStr("")
    sms_smpp_system_type: str = ""
    # A carrier's CMPP 2.0 gateway (ISMG; backend/sms/cmpp_gateway.py).
    sms_cmpp_host: str = ""
    sms_cmpp_port: int = Field(default=7890, ge=1, le=65535)
    sms_cmpp_sp_id: str = ""  # the SP's enterprise code (Source_Addr), six characters
    sms_cmpp_secret: SecretStr = SecretStr("")
    sms_cmpp_service_id: str = ""
    # The number messages come from: SMPP's source_addr, CMPP's Src_Id (the SP access code).
    sms_source_number: str = "114"
    sms_carrier_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Booking and callback notices (docs/sms-notifications.md).
    sms_reminder_time: time = time(18, 0)  # local time the evening-before reminders go out
    sms_resend_per_day: int = Field(default=3, ge=1, le=20)  # per booking
    sms_resend_interval_seconds: int = Field(default=60, ge=0, le=3600)

    @model_validator(mode="after")
    def _http_needs_an_address(self) -> SmsSettings:
        if self.sms_gateway == "http" and not self.sms_http_url.startswith("https://"):
            raise ConfigError("sms_http_url", "the HTTP SMS gateway needs an https:// address")
        if self.sms_gateway == "smpp" and not (self.sms_smpp_host and self.sms_smpp_system_id):
            raise ConfigError("sms_smpp_host", "the SMPP gateway needs a host and a system id")
        if len(self.sms_smpp_password.get_secret_value()) > 8:
            raise ConfigError("sms_smpp_password", "SMPP passwords have at most 8 characters")
        if self.sms_gateway == "cmpp" and not (self.sms_cmpp_host and self.sms_cmpp_sp_id):
            raise ConfigError("sms_cmpp_host", "the CMPP gateway needs a host and an SP id")
        return self
