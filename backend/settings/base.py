"""What every group of settings shares: the variables' prefix, the development secrets and
the environment the process runs in."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from backend.errors import ConfigError

ENV_PREFIX = "CC_"
DEV_SECRET = "change-me-in-production"
# A Fernet key (urlsafe base64 of 32 bytes) that is only acceptable in development.
DEV_DATA_KEY = "ZGV2LWRhdGEta2V5LWRvLW5vdC11c2UtaW4tcHJvZCE="


class SettingsGroup(BaseModel):
    """One group of settings; ``Settings`` (backend/settings/model.py) composes them all and
    reads them from CC_* variables."""

    environment: Literal["development", "test", "production"] = "development"


def setting_env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def require_together(group: BaseModel, first: str, second: str) -> None:
    """Two settings given both or neither (a certificate and its key): ConfigError names the
    one missing. It passes through pydantic unwrapped, naming the variable to fix."""
    if bool(getattr(group, first)) != bool(getattr(group, second)):
        missing = second if getattr(group, first) else first
        together = f"{setting_env_name(first)} and {setting_env_name(second)} go together"
        raise ConfigError(missing, together)
