"""Secrets and the desk's access rules (MLPS level 3): the session key, the personal data
key, idle session expiry, lockout after failed logins, and where administrators may log in
from."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from backend.settings.addresses import IPNetwork, cidr_list, cidr_networks
from backend.settings.base import DEV_DATA_KEY, DEV_SECRET, SettingsGroup


class SecuritySettings(SettingsGroup):
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    data_key: SecretStr = SecretStr(DEV_DATA_KEY)
    # Personal data keys (Fernet), comma-separated, newest first: the newest encrypts, any
    # decrypts (``callcenter keys rotate`` moves stored data to the newest). The look-up
    # hashes have a key of their own (required in production); unset, the oldest data key.
    lookup_key: SecretStr = SecretStr("")

    # Agent desk security (MLPS level 3): idle session expiry, lockout after repeated failed
    # logins, and the networks administrator pages may be reached from (comma-separated CIDRs).
    session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    lockout_threshold: int = Field(default=5, ge=1, le=100)
    lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    admin_ip_allowlist: str = "127.0.0.1/32,::1/128"
    # Sign-in throttle, checked before the password: failed sign-ins allowed per client address
    # and per user name within the window, then 429 until the window ends. The address count
    # is higher: a call centre's agents may all sign in from behind one address.
    login_throttle_per_address: int = Field(default=30, ge=1, le=10_000)
    login_throttle_per_username: int = Field(default=10, ge=1, le=1_000)
    login_throttle_window_seconds: int = Field(default=600, ge=10, le=24 * 3600)
    # Passwords expire after this many days (0: never) and may not repeat the last N.
    password_max_age_days: int = Field(default=90, ge=0, le=3650)
    password_history: int = Field(default=5, ge=0, le=24)
    # The reverse proxies in front of the desk (comma-separated CIDRs, none by default): only
    # a connection from one of them may name the client in X-Forwarded-For.
    trusted_proxies: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        return cidr_list(value) if value.strip() else ""

    @property
    def proxy_networks(self) -> tuple[IPNetwork, ...]:
        """The networks X-Forwarded-For is believed from (CC_TRUSTED_PROXIES)."""
        return cidr_networks(self.trusted_proxies) if self.trusted_proxies else ()
