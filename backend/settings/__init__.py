"""Settings read from environment variables prefixed ``CC_``.

Every process builds its own ``Settings`` in its composition root (never at import), so tests
can point a process at another database, Redis or Asterisk by passing values explicitly.
Each module here holds one group of settings (storage, Asterisk, AMI users, phones, carrier,
dialling, controller, desk, security, rules); ``model.Settings`` composes them.
"""

from backend.settings.addresses import (
    HOST_NAME,
    IPNetwork,
    cidr_networks,
    is_host,
    is_loopback,
    match_entry_problem,
    port_is_free,
)
from backend.settings.asterisk import DEFAULT_ASTERISK_ROOT
from backend.settings.base import DEV_DATA_KEY, DEV_SECRET, ENV_PREFIX, setting_env_name
from backend.settings.carrier import CARRIER_CODECS
from backend.settings.dialling import parse_line_map
from backend.settings.loading import config_error, load_settings
from backend.settings.model import Settings

__all__ = [
    "CARRIER_CODECS",
    "DEFAULT_ASTERISK_ROOT",
    "DEV_DATA_KEY",
    "DEV_SECRET",
    "ENV_PREFIX",
    "HOST_NAME",
    "IPNetwork",
    "Settings",
    "cidr_networks",
    "config_error",
    "is_host",
    "is_loopback",
    "load_settings",
    "match_entry_problem",
    "parse_line_map",
    "port_is_free",
    "setting_env_name",
]
