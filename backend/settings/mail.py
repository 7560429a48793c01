"""E-mail: the SMTP server the scheduled report editions are sent through, and who gets them
(``reports.mailing``; docs/billing-sheet.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from backend.errors import ConfigError
from backend.settings.base import SettingsGroup


class MailSettings(SettingsGroup):
    # Empty: no e-mail is sent (the editions are still kept for download).
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    # "starttls" upgrades a plain connection, "ssl" connects over TLS (port 465).
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    mail_from: str = "callcenter-reports@localhost"
    # Comma-separated addresses each scheduled edition (PDF and XLSX) is mailed to.
    report_mail_to: str = ""
    # Attempts per edition and recipient before the mailing is marked failed (and logged).
    report_mail_attempts: int = Field(default=8, ge=1, le=50)

    @field_validator("report_mail_to")
    @classmethod
    def _addresses(cls, value: str) -> str:
        for address in _split(value):
            local, at, domain = address.partition("@")
            if not (local and at and domain) or any(c.isspace() for c in address):
                raise ConfigError("report_mail_to", f"not an e-mail address: {address!r}")
        return value

    @model_validator(mode="after")
    def _recipients_need_a_server(self) -> MailSettings:
        if self.report_mail_to and not self.smtp_host:
            raise ConfigError("smtp_host", "CC_REPORT_MAIL_TO needs an SMTP server (CC_SMTP_HOST)")
        if self.smtp_password.get_secret_value() and not self.smtp_user:
            raise ConfigError("smtp_user", "CC_SMTP_PASSWORD needs CC_SMTP_USER")
        return self

    @property
    def report_recipients(self) -> list[str]:
        return _split(self.report_mail_to)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
