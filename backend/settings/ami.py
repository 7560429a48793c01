"""Asterisk's manager interface (AMI) users: one for the controller, one for the desk, each
with its own secret and the networks it may log in from (asterisk_conf/manager.conf gets a
section per user with only the rights its process needs, ivr/pbx/manager_users.py)."""

from __future__ import annotations

from pydantic import SecretStr, model_validator

from backend.errors import ConfigError
from backend.settings.addresses import CidrList
from backend.settings.base import DEV_SECRET, SettingsGroup

# The single user of earlier releases, split in two: a clear error if a deployment still sets it.
SPLIT_SETTINGS = {
    "ami_username": "CC_AMI_CONTROLLER_USERNAME and CC_AMI_DESK_USERNAME",
    "ami_secret": "CC_AMI_CONTROLLER_SECRET and CC_AMI_DESK_SECRET",
}


class AmiSettings(SettingsGroup):
    ami_controller_username: str = "cc-controller"
    ami_controller_secret: SecretStr = SecretStr(DEV_SECRET)
    ami_controller_permit: CidrList = "127.0.0.1/32"
    ami_desk_username: str = "cc-desk"
    ami_desk_secret: SecretStr = SecretStr(DEV_SECRET)
    ami_desk_permit: CidrList = "127.0.0.1/32"
    # Read only to name them in the error below; nothing logs in with them.
    ami_username: str | None = None
    ami_secret: SecretStr | None = None

    @model_validator(mode="after")
    def _two_distinct_users(self) -> AmiSettings:
        for old, new in SPLIT_SETTINGS.items():
            if getattr(self, old) is not None:
                raise ConfigError(
                    old,
                    f"the shared AMI user is split into a controller and a desk user: set {new} "
                    "instead",
                )
        for field in ("ami_controller_username", "ami_desk_username"):
            name = getattr(self, field)
            if not name or not all(c.isalnum() or c in "-_" for c in name):
                raise ConfigError(field, "may only contain letters, digits, '-' and '_'")
        if self.ami_controller_username == self.ami_desk_username:
            raise ConfigError(
                "ami_desk_username", "must differ from CC_AMI_CONTROLLER_USERNAME (two users)"
            )
        return self

    def check_ami_secrets(self) -> None:
        """Production: real secrets, and not one secret for both users."""
        controller = self.ami_controller_secret.get_secret_value()
        desk = self.ami_desk_secret.get_secret_value()
        for name, value in (("ami_controller_secret", controller), ("ami_desk_secret", desk)):
            if value == DEV_SECRET:
                raise ConfigError(name, "still has its development default; set a real secret")
        if controller == desk:
            raise ConfigError(
                "ami_desk_secret", "must differ from CC_AMI_CONTROLLER_SECRET (each user its own)"
            )
