"""``Settings``: every group of settings in one model, read from CC_* variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.errors import ConfigError
from backend.settings.addresses import is_loopback
from backend.settings.ami import AmiSettings
from backend.settings.base import DEV_DATA_KEY, DEV_SECRET, ENV_PREFIX
from backend.settings.carrier import CarrierSettings
from backend.settings.controller import ControllerSettings
from backend.settings.desk import DeskSettings
from backend.settings.dialling import DiallingSettings
from backend.settings.mail import MailSettings
from backend.settings.metrics import MetricsSettings
from backend.settings.phones import PhoneSettings
from backend.settings.rules import RuleSettings
from backend.settings.security import SecuritySettings
from backend.settings.sms import SmsSettings
from backend.settings.storage import StorageSettings


# pydantic orders the fields from the last base to the first: storage, AMI users, Asterisk
# and phones, carrier, dialling, controller, desk, security, SMS, mail, rules (the order the first
# error of several is reported in). The model validators of each group run after those of its
# bases.
class Settings(
    RuleSettings,
    MetricsSettings,
    MailSettings,
    SmsSettings,
    SecuritySettings,
    DeskSettings,
    ControllerSettings,
    DiallingSettings,
    CarrierSettings,
    PhoneSettings,
    AmiSettings,
    StorageSettings,
    BaseSettings,
):
    # "_" nests: CC_DID_114 is did["114"] (and CC_BOOKING_QUOTA_DAY booking.quota_day), split
    # once after the field's own name.
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="ignore", env_nested_delimiter="_", env_nested_max_split=1
    )

    def check_production_secrets(self) -> None:
        if self.environment != "production":
            return
        self.check_ami_secrets()
        for name in ("secret_key", "data_key"):
            value = getattr(self, name).get_secret_value()
            # CC_DATA_KEY lists keys: the development key must not be any of them.
            if value in (DEV_SECRET, DEV_DATA_KEY) or DEV_DATA_KEY in value.split(","):
                raise ConfigError(name, "still has its development default; set a real secret")
        # The look-up hashes' key apart from the key that encrypts (an older data key may
        # serve as it while the data is rotated away from it: docs/security.md).
        lookup_key = self.lookup_key.get_secret_value()
        if not lookup_key or lookup_key == self.data_key.get_secret_value().split(",")[0]:
            raise ConfigError(
                "lookup_key", "production needs a key of its own for the look-up hashes"
            )
        if self.asterisk_verbose:
            raise ConfigError("asterisk_verbose", "must be 0 in production (numbers in logs)")
        # A softphone's SIP password and call audio set-up must not cross a network in clear:
        # plain WS is only acceptable where it never leaves the host (a TLS proxy in front).
        if not self.asterisk_tls and not is_loopback(self.asterisk_http_bind):
            raise ConfigError(
                "asterisk_tls_cert",
                "production serves softphones over WSS: set CC_ASTERISK_TLS_CERT and "
                "CC_ASTERISK_TLS_KEY, or bind CC_ASTERISK_HTTP_BIND to loopback behind a TLS proxy",
            )
