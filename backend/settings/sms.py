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
    sms_gateway: Literal["fake", "http"] = "fake"
    sms_fake_redis_prefix: str = "cc:sms:"
    sms_http_url: str = ""
    sms_http_token: SecretStr = SecretStr("")
    sms_http_sign: str = ""  # the registered signature (短信签名) the provider prints
    sms_http_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Booking and callback notices (docs/sms-notifications.md).
    sms_reminder_time: time = time(18, 0)  # local time the evening-before reminders go out
    sms_resend_per_day: int = Field(default=3, ge=1, le=20)  # per booking
    sms_resend_interval_seconds: int = Field(default=60, ge=0, le=3600)

    @model_validator(mode="after")
    def _http_needs_an_address(self) -> SmsSettings:
        if self.sms_gateway == "http" and not self.sms_http_url.startswith("https://"):
            raise ConfigError("sms_http_url", "the HTTP SMS gateway needs an https:// address")
        return self
